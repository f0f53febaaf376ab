"""DuckDB spatial extension, loaded offline from the ``duckdb-extension-spatial`` wheel."""

from __future__ import annotations

from pathlib import Path

import duckdb


def load_spatial(conn: duckdb.DuckDBPyConnection) -> None:
    """Load ST_* functions without network access (the extension ships in a PyPI package)."""
    import duckdb_extension_spatial

    base = Path(duckdb_extension_spatial.__file__).parent / "extensions"
    ext = base / f"v{duckdb.__version__}" / "spatial.duckdb_extension"
    if not ext.exists():
        found = sorted(base.glob("v*/spatial.duckdb_extension"))
        raise RuntimeError(f"no spatial extension for DuckDB {duckdb.__version__} in {base} "
                           f"(found {[str(f) for f in found]}); pin matching versions")
    conn.execute(f"LOAD '{ext}'")
