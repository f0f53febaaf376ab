"""Reading the published marts: read-only DuckDB, the manifest, the spec of a release.

Every user-facing reader (``dedi sql``, ``explore``, ``report``, ``explain``,
``compare-scenarios``, the notebook) opens the warehouse through here, **read-only**: any
number of readers can work at once, and a build never waits for them (it publishes a new
release and switches ``current``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb

from pipeline.config import CURRENT, current_db, is_live, reader_marts, scenario_dir
from pipeline.errors import WarehouseError  # noqa: F401  (re-exported)


def marts_dir(scenario: str | None = None, base: Path | None = None) -> Path:
    """The published marts folder (:func:`~pipeline.config.reader_marts`), or one of its
    ``scenarios/NAME`` (``current`` and ``None`` mean the live marts)."""
    return scenario_dir(base or reader_marts(), scenario)


def _require(folder: Path, scenario: str | None) -> Path:
    db = current_db(folder)
    if db.exists():
        return db
    if not is_live(scenario):
        known = sorted(p.name for p in folder.parent.glob("*") if current_db(p).exists())
        raise WarehouseError(f"no scenario '{scenario}' in {folder.parent} (published: "
                             f"{known or 'none'}); make one with dedi build --scenario "
                             f"{scenario} --set dedi.dx_weight=0.2")
    raise WarehouseError(f"no published marts in {folder} (no current/dedi.duckdb): run `make demo` or "
                         "`dedi build` first, or set DEDI_MARTS_DIR")


def connect(scenario: str | None = None, base: Path | None = None,
            release: Path | None = None) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the published ``dedi.duckdb`` (writes are refused); pass the
    ``release`` from :func:`release_folder` when other files of that release are read too."""
    if release is not None:
        return duckdb.connect(str(release / "dedi.duckdb"), read_only=True)
    folder = marts_dir(scenario, base)
    return duckdb.connect(str(_require(folder, scenario)), read_only=True)


def session(scenario: str | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory session with the published warehouse attached read-only as ``dedi`` (and
    in use), so a user can ``ATTACH 'mine.duckdb' AS mine`` and keep their own tables there."""
    db = _require(marts_dir(scenario), scenario)
    conn = duckdb.connect()
    conn.execute(f"ATTACH '{db.as_posix()}' AS dedi (READ_ONLY)")
    conn.execute("USE dedi")
    return conn


def metadata(conn: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """``build_metadata`` as a dict (values decoded from JSON)."""
    return {k: json.loads(v) for k, v in conn.execute("SELECT key, value FROM build_metadata"
                                                      ).fetchall()}


def release_folder(scenario: str | None = None, base: Path | None = None) -> Path:
    """The release folder ``current`` points to (for files published beside the tables)."""
    folder = marts_dir(scenario, base)
    _require(folder, scenario)
    return (folder / CURRENT).resolve()
