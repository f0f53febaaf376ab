"""Atomic publication of the marts: build everything in a temporary folder, then swap in.

Readers never see a half-written file: each file is moved into place with ``os.replace``
(atomic on POSIX) only after every output has been written and re-read. If anything fails,
the previously published marts are left exactly as they were.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import duckdb
import geopandas as gpd
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

MANIFEST = "manifest.json"


def _write_parquet(df: pd.DataFrame, path: Path, metadata: dict[str, Any]) -> None:
    table = pa.Table.from_pandas(df, preserve_index=False)
    meta = dict(table.schema.metadata or {})
    meta[b"dedi"] = json.dumps(metadata, default=str).encode()
    pq.write_table(table.replace_schema_metadata(meta), path)


def publish(marts_dir: Path, tables: dict[str, pd.DataFrame], metadata: dict[str, Any],
            geo: dict[str, gpd.GeoDataFrame] | None = None) -> dict[str, Any]:
    """Publish ``tables`` to ``marts_dir/dedi.duckdb`` and ``<name>.parquet`` atomically.

    ``geo`` frames are written as GeoParquet ``<name>.geoparquet``. ``metadata`` is stored in
    the DuckDB table ``build_metadata`` (key, value), in each parquet's key-value metadata
    under ``dedi`` and in ``manifest.json``. Returns the manifest.
    """
    marts_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".publishing-", dir=marts_dir))
    try:
        db = tmp / "dedi.duckdb"
        with duckdb.connect(str(db)) as conn:
            for name, df in tables.items():
                conn.register("_df", df)
                conn.execute(f'CREATE TABLE "{name}" AS SELECT * FROM _df')
                conn.unregister("_df")
            meta_rows = pd.DataFrame(
                [(k, json.dumps(v, default=str)) for k, v in metadata.items()],
                columns=["key", "value"])
            conn.register("_df", meta_rows)
            conn.execute("CREATE TABLE build_metadata AS SELECT * FROM _df")
            conn.unregister("_df")
            counts = {n: conn.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0]
                      for n in tables}
        files = ["dedi.duckdb"]
        for name, df in tables.items():
            _write_parquet(df, tmp / f"{name}.parquet", metadata)
            files.append(f"{name}.parquet")
        for name, gdf in (geo or {}).items():
            gdf.to_parquet(tmp / f"{name}.geoparquet", index=False)
            files.append(f"{name}.geoparquet")
        for name, n in counts.items():  # re-read before swapping in
            if pq.read_metadata(tmp / f"{name}.parquet").num_rows != n:
                raise RuntimeError(f"publish: {name}.parquet row count differs from DuckDB")
        manifest = {**metadata, "files": files, "row_counts": counts}
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, default=str), encoding="utf-8")
        for f in files + [MANIFEST]:  # manifest last: it marks a complete publication
            os.replace(tmp / f, marts_dir / f)
        return manifest
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
