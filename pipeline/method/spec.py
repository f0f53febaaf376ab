"""The index spec (``pipeline/index_spec.yaml``): load, override, validate, hash."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any

import yaml

SPEC_FILE = Path(__file__).resolve().parents[1] / "index_spec.yaml"
NORMALISATIONS = ("normal_scores", "ranks", "zscores")
WEIGHTINGS = ("equal", "factor_analysis")
VARIANTS = ("full_risk", "net_of_imd")
IMD_DOMAINS = ("income", "employment", "education", "health", "crime", "barriers",
               "living_environment")


class SpecError(ValueError):
    """The index spec is invalid; the message names the key."""


def load_spec(path: Path | str | None = None, overrides: dict[str, Any] | None = None,
              known_columns: set[str] | None = None) -> dict[str, Any]:
    """Read, apply ``overrides`` (e.g. from Dagster run config) and validate the spec."""
    path = Path(path) if path else SPEC_FILE
    try:
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise SpecError(f"{path}: index spec not found") from exc
    spec = apply_overrides(spec, overrides or {})
    validate_spec(spec, known_columns, str(path))
    return spec


def apply_overrides(spec: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Return a copy with ``dx_weight``, ``indicator_weights``, ``normalisation``, ``variant``
    or ``monte_carlo_draws`` replaced."""
    out = copy.deepcopy(spec)
    if overrides.get("dx_weight") is not None:
        out["dedi"]["dx_weight"] = overrides["dx_weight"]
    if overrides.get("normalisation"):
        out["dx"]["normalisation"] = overrides["normalisation"]
    if overrides.get("variant"):
        out["dx"]["variant"] = overrides["variant"]
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
        if not isinstance(sd, dict) or not isinstance(sd.get("weight"), int | float) \
                or sd["weight"] < 0:
            fail(f"dx.subdomains.{name}.weight must be a non-negative number")
    if spec["dx"].get("variant", "full_risk") not in VARIANTS:
        fail(f"dx.variant must be one of {VARIANTS}, got {spec['dx'].get('variant')!r}")
    lw = (spec["dx"].get("local_layer") or {}).get("weight", 0)
    if not isinstance(lw, int | float) or not 0 <= lw < 1:
        fail(f"dx.local_layer.weight must be in [0, 1), got {lw}")
    for name, ind in inds.items():
        for k in ("column", "direction", "weight"):
            if k not in ind:
                fail(f"dx.indicators.{name}: missing '{k}'")
        if known_columns is not None and ind["column"] not in known_columns:
            fail(f"dx.indicators.{name}: unknown input column '{ind['column']}' "
                 f"(lsoa_indicators has {sorted(known_columns)})")
        if ind["direction"] not in (1, -1):
            fail(f"dx.indicators.{name}.direction must be 1 or -1, got {ind['direction']}")
        if not isinstance(ind["weight"], int | float) or ind["weight"] < 0:
            fail(f"dx.indicators.{name}.weight must be a non-negative number, got {ind['weight']}")
        if not ind.get("local") and ind.get("subdomain") not in subs:
            fail(f"dx.indicators.{name}.subdomain must be one of {sorted(subs)} "
                 f"(or set local: true), got {ind.get('subdomain')!r}")
        if ind.get("double_counts") not in (None, *IMD_DOMAINS):
            fail(f"dx.indicators.{name}.double_counts must be an IMD domain {IMD_DOMAINS}")
    if sum(i["weight"] for i in inds.values()) <= 0:
        fail("dx.indicators weights sum to zero")
    if spec["dx"].get("normalisation") not in NORMALISATIONS:
        fail(f"dx.normalisation must be one of {NORMALISATIONS}")
    if spec["dx"].get("weighting", "equal") not in WEIGHTINGS:
        fail(f"dx.weighting must be one of {WEIGHTINGS}")
    w = spec["dedi"].get("dx_weight")
    if not isinstance(w, int | float) or not 0 <= w < 1:
        fail(f"dedi.dx_weight must be in [0, 1), got {w}")
    mc = spec["monte_carlo"]
    h = mc.get("dx_weight_half_width", 0)
    if not isinstance(h, int | float) or h < 0:
        fail(f"monte_carlo.dx_weight_half_width must be a non-negative number, got {h}")
    if int(mc.get("draws", 0)) < 1:
        fail("monte_carlo.draws must be at least 1")
    bad = set(mc.get("normalisations", [])) - set(NORMALISATIONS)
    if bad:
        fail(f"monte_carlo.normalisations: unknown {sorted(bad)}")
    c = mc.get("dirichlet_concentration")
    if c is not None and (not isinstance(c, int | float) or c < 0):
        fail("monte_carlo.dirichlet_concentration must be a non-negative number or null")


def spec_hash(spec: dict[str, Any]) -> str:
    """sha256 of the spec's canonical JSON."""
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()


def spec_rows(spec: dict[str, Any]) -> list[dict[str, str]]:
    """The spec flattened to (key, value) rows for the ``index_spec`` mart."""
    rows: list[dict[str, str]] = []

    def walk(prefix: str, node: Any) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                walk(f"{prefix}.{k}" if prefix else str(k), v)
        else:
            rows.append({"key": prefix, "value": json.dumps(node)})

    walk("", spec)
    rows.append({"key": "sha256", "value": json.dumps(spec_hash(spec))})
    return rows
