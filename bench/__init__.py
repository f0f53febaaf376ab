"""DEDI's benchmarks (``make bench`` runs them; results in BENCHMARKS.md)."""

from __future__ import annotations

import os
from pathlib import Path


def build_env(raw: Path, out: Path) -> dict[str, str]:
    """The environment of a ``dedi build`` of ``raw`` into ``out/staging`` and ``out/marts``,
    on the build's own Dagster instance (beside staging), never a DAGSTER_HOME one."""
    env = {**os.environ, "DEDI_RAW_DIR": str(raw), "DEDI_STAGING_DIR": str(out / "staging"),
           "DEDI_MARTS_DIR": str(out / "marts")}
    env.pop("DAGSTER_HOME", None)
    return env
