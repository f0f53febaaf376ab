"""The index spec (``pipeline/config/index_spec.yaml``): load, override, validate, hash."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any

import yaml

from pipeline.config.schema import INDEX_SPEC as INDEX_SPEC_SCHEMA
from pipeline.config.schema import unknown_key
from pipeline.errors import SpecError  # noqa: F401  (re-exported)

SPEC_FILE = Path(__file__).resolve().parents[1] / "config" / "index_spec.yaml"
NORMALISATIONS = ("normal_scores", "ranks", "zscores")
WEIGHTINGS = ("equal", "factor_analysis")
VARIANTS = ("full_risk", "net_of_imd")
AGGREGATIONS = ("exponential", "linear")
IMD_DOMAINS = ("income", "employment", "education", "health", "crime", "barriers",
               "living_environment")



SCENARIO_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


def scenario_for(name: str | None, overrides: dict[str, Any], spec_file: str | None,
                 spec: dict[str, Any]) -> str | None:
    """Where a run publishes: None (the live ``current``) only for the unchanged spec file;
    any override or other spec file goes to a scenario (named, or ``adhoc-<spec hash>``)."""
    import re

    if name:
        if not re.match(SCENARIO_NAME, name):
            raise SpecError(f"scenario name {name!r}: use letters, digits, '_', '-' or '.' "
                            "(up to 64, starting with a letter or digit)")
        return name
    changed = spec_file not in (None, "", str(SPEC_FILE)) or any(
        v not in (None, {}, [], "") for v in overrides.values())
    return f"adhoc-{spec_hash(spec)[:8]}" if changed else None


def load_spec(path: Path | str | None = None, overrides: dict[str, Any] | None = None,
              known_columns: set[str] | None = None) -> dict[str, Any]:
    """Read, apply ``overrides`` (e.g. from Dagster run config) and validate the spec."""
    path = Path(path) if path else SPEC_FILE
    try:
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise SpecError(f"{path}: index spec not found") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise SpecError(f"{path}{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from exc
    if not isinstance(spec, dict):
        raise SpecError(f"{path}: expected a YAML mapping with sections dx, dedi, monte_carlo")
    spec = apply_overrides(spec, overrides or {})
    validate_spec(spec, known_columns, str(path))
    return spec


def _describe(value: Any) -> str:
    """A value as a user wrote it: a quoted "2" is reported as the string '2'."""
    return f"the string {value!r}" if isinstance(value, str) else repr(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def parse_assignments(items: list[str]) -> dict[str, Any]:
    """``["dedi.dx_weight=0.2", ...]`` -> ``{"dedi.dx_weight": 0.2}``; values are YAML, so
    ``0.2`` is a number and ``'"2"'`` a string."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise SpecError(f"--set {item!r}: expected KEY=VALUE, e.g. dedi.dx_weight=0.2")
        out[key.strip()] = yaml.safe_load(raw) if raw.strip() else None
    return out


def set_values(spec: dict[str, Any], assignments: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``spec`` with dotted keys (e.g. ``dx.indicators.age_75plus.weight``) set; a key
    must already exist in the spec."""
    out = copy.deepcopy(spec)
    for key, value in assignments.items():
        node, parts = out, key.split(".")
        for i, part in enumerate(parts):
            if not isinstance(node, dict) or part not in node:
                where = ".".join(parts[:i]) or "the spec"
                known = sorted(node) if isinstance(node, dict) else []
                raise SpecError(f"--set {key}: unknown key '{part}' in {where} (known: {known})")
            if i == len(parts) - 1:
                node[part] = value
            else:
                node = node[part]
    return out


def apply_overrides(spec: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Return a copy with ``dx_weight``, ``indicator_weights``, ``normalisation``, ``variant``,
    ``aggregation``,
    ``monte_carlo_draws`` or dotted ``set`` keys replaced."""
    out = set_values(spec, overrides.get("set") or {})
    if overrides.get("dx_weight") is not None:
        out["dedi"]["dx_weight"] = overrides["dx_weight"]
    if overrides.get("normalisation"):
        out["dx"]["normalisation"] = overrides["normalisation"]
    if overrides.get("variant"):
        out["dx"]["variant"] = overrides["variant"]
    if overrides.get("aggregation"):
        out["dx"]["aggregation"] = overrides["aggregation"]
    if overrides.get("monte_carlo_draws"):
        out["monte_carlo"]["draws"] = overrides["monte_carlo_draws"]
    for name, w in (overrides.get("indicator_weights") or {}).items():
        if name not in out["dx"]["indicators"]:
            raise SpecError(f"run config: unknown indicator '{name}' "
                            f"(known: {sorted(out['dx']['indicators'])})")
        out["dx"]["indicators"][name]["weight"] = w
    return out


def validate_spec(spec: dict[str, Any], known_columns: set[str] | None = None,
                  where: str = "index spec") -> None:
    """Raise :class:`SpecError` naming the offending key."""
    def fail(msg: str) -> None:
        raise SpecError(f"{where}: {msg}")

    bad = unknown_key(spec, INDEX_SPEC_SCHEMA)
    if bad:
        fail(f"unknown key {bad}; correct it or remove it")
    for key in ("dx", "dedi", "monte_carlo"):
        if key not in spec:
            fail(f"missing section '{key}'")
    inds = spec["dx"].get("indicators") or {}
    if not inds:
        fail("dx.indicators is empty")
    subs = spec["dx"].get("subdomains") or {}
    if not subs:
        fail("dx.subdomains is empty")
    for name, sd in subs.items():
        if not isinstance(sd, dict) or not _is_number(sd.get("weight")) or sd["weight"] < 0:
            fail(f"dx.subdomains.{name}.weight must be a non-negative number, got "
                 f"{_describe(sd.get('weight') if isinstance(sd, dict) else sd)}")
    if sum(sd["weight"] for sd in subs.values()) <= 0:
        fail("dx.subdomains: every route weight is 0; give at least one route a positive "
             "weight")
    if spec["dx"].get("variant", "full_risk") not in VARIANTS:
        fail(f"dx.variant must be one of {VARIANTS}, got {spec['dx'].get('variant')!r}")
    lw = (spec["dx"].get("local_layer") or {}).get("weight", 0)
    if not _is_number(lw) or not 0 <= lw < 1:
        fail(f"dx.local_layer.weight must be a number in [0, 1), got {_describe(lw)}")
    for name, ind in inds.items():
        for k in ("column", "direction", "weight"):
            if k not in ind:
                fail(f"dx.indicators.{name}: missing '{k}'")
        if known_columns is not None and ind["column"] not in known_columns:
            fail(f"dx.indicators.{name}: unknown input column '{ind['column']}' "
                 f"(lsoa_indicators has {sorted(known_columns)})")
        if ind["direction"] not in (1, -1):
            fail(f"dx.indicators.{name}.direction must be 1 or -1, got "
                 f"{_describe(ind['direction'])}")
        if not _is_number(ind["weight"]) or ind["weight"] < 0:
            fail(f"dx.indicators.{name}.weight must be a non-negative number, got "
                 f"{_describe(ind['weight'])}")
        if not ind.get("local") and ind.get("subdomain") not in subs:
            fail(f"dx.indicators.{name}.subdomain must be one of {sorted(subs)} "
                 f"(or set local: true), got {ind.get('subdomain')!r}")
        if not set(double_counts(ind)) <= set(IMD_DOMAINS):
            fail(f"dx.indicators.{name}.double_counts must be an IMD domain {IMD_DOMAINS} "
                 f"or a list of them, got {ind.get('double_counts')!r}")
    if not (spec["dx"].get("min_indicators") is None or _is_number(spec["dx"]["min_indicators"])):
        fail(f"dx.min_indicators must be a whole number, got "
             f"{_describe(spec['dx']['min_indicators'])}")
    if sum(i["weight"] for i in inds.values()) <= 0:
        fail("dx.indicators weights sum to zero")
    if spec["dx"].get("normalisation") not in NORMALISATIONS:
        fail(f"dx.normalisation must be one of {NORMALISATIONS}, got "
             f"{_describe(spec['dx'].get('normalisation'))}")
    if spec["dx"].get("aggregation", "linear") not in AGGREGATIONS:
        fail(f"dx.aggregation must be one of {AGGREGATIONS}, got "
             f"{_describe(spec['dx'].get('aggregation'))}")
    if spec["dx"].get("weighting", "equal") not in WEIGHTINGS:
        fail(f"dx.weighting must be one of {WEIGHTINGS}, got "
             f"{_describe(spec['dx'].get('weighting'))}")
    w = spec["dedi"].get("dx_weight")
    if not _is_number(w) or not 0 <= w < 1:
        fail(f"dedi.dx_weight must be a number in [0, 1), got {_describe(w)}")
    mc = spec["monte_carlo"]
    h = mc.get("dx_weight_half_width", 0)
    if not _is_number(h) or h < 0:
        fail(f"monte_carlo.dx_weight_half_width must be a non-negative number, got {_describe(h)}")
    if not isinstance(mc.get("draws"), int) or isinstance(mc.get("draws"), bool) or mc["draws"] < 1:
        fail(f"monte_carlo.draws must be a whole number >= 1, got {_describe(mc.get('draws'))}")
    bad = set(mc.get("normalisations", [])) - set(NORMALISATIONS)
    if bad:
        fail(f"monte_carlo.normalisations: unknown {sorted(bad)}")
    aggs = mc.get("aggregations", [])
    if not isinstance(aggs, list) or set(aggs) - set(AGGREGATIONS):
        fail(f"monte_carlo.aggregations must be a list of {AGGREGATIONS}, got {_describe(aggs)}")
    c = mc.get("dirichlet_concentration")
    if c is not None and (not _is_number(c) or c < 0):
        fail("monte_carlo.dirichlet_concentration must be a non-negative number or null, got "
             f"{_describe(c)}")


def double_counts(indicator: dict[str, Any]) -> list[str]:
    """The IMD domains an indicator's ``double_counts`` names (one, a list, or none)."""
    d = indicator.get("double_counts")
    return [] if d is None else [d] if isinstance(d, str) else list(d)


def spec_hash(spec: dict[str, Any]) -> str:
    """sha256 of the spec's canonical JSON."""
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()


def tidy_floats(node: Any) -> Any:
    """Floats at 12 significant digits, so that a label reads 0.15, not 0.15000000000000002."""
    if isinstance(node, float):
        return float(f"{node:.12g}")
    if isinstance(node, dict):
        return {k: tidy_floats(v) for k, v in node.items()}
    if isinstance(node, list | tuple):
        return [tidy_floats(v) for v in node]
    return node


def spec_rows(spec: dict[str, Any]) -> list[dict[str, str]]:
    """The spec flattened to (key, value) rows for the ``index_spec`` mart."""
    rows: list[dict[str, str]] = []

    def walk(prefix: str, node: Any) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                walk(f"{prefix}.{k}" if prefix else str(k), v)
        else:
            rows.append({"key": prefix, "value": json.dumps(tidy_floats(node))})

    walk("", spec)
    rows.append({"key": "sha256", "value": json.dumps(spec_hash(spec))})
    return rows
