"""Dagster resources, all in one place: paths and the staging DuckDB."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource

from pipeline.config import paths


class DediPaths(dg.ConfigurableResource):
    """Raw, staging and marts folders (defaults: DEDI_* env vars, then settings.yaml)."""

    raw_dir: str
    staging_dir: str
    marts_dir: str

    @property
    def raw(self) -> Path:
        return Path(self.raw_dir)

    @property
    def marts(self) -> Path:
        return Path(self.marts_dir)


def build_resources() -> dict[str, object]:
    """Resources for the current environment. The staging folder is created up front (the
    DuckDB resource otherwise retries for ~100 s on a missing folder)."""
    p = paths()
    p.staging.mkdir(parents=True, exist_ok=True)
    return {
        "dedi_paths": DediPaths(raw_dir=str(p.raw), staging_dir=str(p.staging),
                                marts_dir=str(p.marts)),
        "staging_db": DuckDBResource(database=str(p.staging_db)),
    }
