"""Settings and paths: one documented place (``pipeline/config/settings.yaml`` + DEDI_* env
vars), and the one definition of where a scenario, a release and ``current`` live:

    <marts>/current -> releases/<run>/      the live release (a symlink switched atomically)
    <marts>/scenarios/<name>/current -> ...  a scenario's own marts, laid out the same way
    <staging>/scenarios/<name>/              a scenario's own staging
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from pipeline.config.schema import SETTINGS as SETTINGS_SCHEMA
from pipeline.config.schema import unknown_key
from pipeline.errors import SettingsError

SETTINGS_FILE = Path(__file__).with_name("settings.yaml")
PROJECT_ROOT = Path(__file__).resolve().parents[2]


@lru_cache(maxsize=4)
def _load(path: str) -> dict[str, Any]:
    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def settings() -> dict[str, Any]:
    """The parsed settings file (``DEDI_SETTINGS`` may point to another copy); a key DEDI does
    not know raises :class:`~pipeline.errors.SettingsError` naming it."""
    path = os.environ.get("DEDI_SETTINGS", str(SETTINGS_FILE))
    data = _load(path)
    bad = unknown_key(data, SETTINGS_SCHEMA)
    if bad:
        raise SettingsError(f"{path}: unknown key {bad}; correct it or remove it (every key: "
                            "the comments of pipeline/config/settings.yaml)")
    return data


@dataclass(frozen=True)
class Paths:
    """Where raw inputs are read from, staging is built, and marts are published."""

    raw: Path
    staging: Path
    marts: Path

    @property
    def staging_db(self) -> Path:
        return self.staging / "staging.duckdb"

    def marts_for(self, scenario: str | None) -> Path:
        """The marts folder a build of ``scenario`` publishes to (see :func:`scenario_dir`)."""
        return scenario_dir(self.marts, scenario)

    def staging_for(self, scenario: str | None) -> Path:
        """The staging folder of ``scenario``: its own, so it never touches the live one."""
        return scenario_dir(self.staging, scenario)


CURRENT = "current"  # the symlink to the published release
RELEASES = "releases"  # the folder of every release kept
SCENARIOS = "scenarios"  # the folder of every scenario's own marts (and staging)


def is_live(scenario: str | None) -> bool:
    """True for the live marts: no scenario, or ``current`` named as one."""
    return scenario in (None, "", CURRENT)


def scenario_dir(root: Path, scenario: str | None) -> Path:
    """``root`` for the live marts, else ``root/scenarios/<scenario>``."""
    return root if is_live(scenario) else root / SCENARIOS / scenario


def current_db(marts: Path) -> Path:
    """The published DuckDB file of a marts folder (through ``current``)."""
    return marts / CURRENT / "dedi.duckdb"


DEMO_MARKER = "SYNTHETIC_DEMO_DATA.txt"  # written by `dedi demo` into the raw folder


def reader_marts() -> Path:
    """The marts folder that readers (sql, explore, report, explain, hubs, evaluate, validate)
    open by default: ``DEDI_MARTS_DIR``; else the real marts once a real build has published
    them; else the demo's (``make demo``)."""
    if os.environ.get("DEDI_MARTS_DIR"):
        return Path(os.environ["DEDI_MARTS_DIR"])
    p = settings()["paths"]
    for marts in (Path(p["marts_dir"]), Path(p["demo_marts_dir"])):
        if current_db(marts).exists():
            return marts
    return paths().marts


def paths() -> Paths:
    """Resolve paths: environment variables first, then ``settings.yaml``. A raw folder that
    holds the synthetic demo stages and publishes, by default, into folders of its own
    (``paths.demo_staging_dir``, ``paths.demo_marts_dir``) that a real build never uses."""
    p = settings()["paths"]
    raw = Path(os.environ.get("DEDI_RAW_DIR", p["raw_dir"]))
    demo = (raw / DEMO_MARKER).exists()
    return Paths(
        raw=raw,
        staging=Path(os.environ.get("DEDI_STAGING_DIR",
                                    p["demo_staging_dir"] if demo else p["staging_dir"])),
        marts=Path(os.environ.get("DEDI_MARTS_DIR", p["demo_marts_dir"] if demo else p["marts_dir"])),
    )
