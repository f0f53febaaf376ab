"""Settings and paths: one documented place (``pipeline/config/settings.yaml`` + DEDI_* env vars)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

SETTINGS_FILE = Path(__file__).with_name("settings.yaml")
PROJECT_ROOT = Path(__file__).resolve().parents[2]


@lru_cache(maxsize=4)
def _load(path: str) -> dict[str, Any]:
    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def settings() -> dict[str, Any]:
    """The parsed settings file (``DEDI_SETTINGS`` may point to another copy)."""
    return _load(os.environ.get("DEDI_SETTINGS", str(SETTINGS_FILE)))


@dataclass(frozen=True)
class Paths:
    """Where raw inputs are read from, staging is built, and marts are published."""

    raw: Path
    staging: Path
    marts: Path

    @property
    def staging_db(self) -> Path:
        return self.staging / "staging.duckdb"


def paths() -> Paths:
    """Resolve paths: environment variables first, then ``settings.yaml``."""
    p = settings()["paths"]
    return Paths(
        raw=Path(os.environ.get("DEDI_RAW_DIR", p["raw_dir"])),
        staging=Path(os.environ.get("DEDI_STAGING_DIR", p["staging_dir"])),
        marts=Path(os.environ.get("DEDI_MARTS_DIR", p["marts_dir"])),
    )
