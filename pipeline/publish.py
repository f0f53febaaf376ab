"""Atomic publication of the marts: a complete new release is switched in with one rename.

Layout of ``DEDI_MARTS_DIR``::

    releases/<time>-<run>/   one folder per publication (dedi.duckdb, *.parquet, manifest.json)
    current -> releases/...  symlink to the live release, replaced atomically (os.replace)
    dedi.duckdb -> current/dedi.duckdb, lsoa_index.parquet -> current/..., ...

Readers open ``DEDI_MARTS_DIR/dedi.duckdb`` etc. as usual. A release is fully written and
re-read before ``current`` moves, so readers see either the old set or the new set, never a
mixture or a half-written file, even if the process is killed. Failed builds never touch
``current``; the previous ``keep`` releases stay on disk.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import geopandas as gpd
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

MANIFEST = "manifest.json"
RELEASES = "releases"
CURRENT = "current"


def _write_parquet(df: pd.DataFrame, path: Path, metadata: dict[str, Any]) -> None:
    table = pa.Table.from_pandas(df, preserve_index=False)
    meta = dict(table.schema.metadata or {})
    meta[b"dedi"] = json.dumps(metadata, default=str).encode()
    pq.write_table(table.replace_schema_metadata(meta), path)


def _write_geoparquet(gdf: gpd.GeoDataFrame, path: Path, metadata: dict[str, Any]) -> None:
    """GeoParquet with the same ``dedi`` key-value metadata as every parquet."""
    gdf.to_parquet(path, index=False)
    table = pq.read_table(path)
    meta = dict(table.schema.metadata or {})
    meta[b"dedi"] = json.dumps(metadata, default=str).encode()
    pq.write_table(table.replace_schema_metadata(meta), path)


def _symlink_atomic(link: Path, target: str) -> None:
    tmp = link.with_name(f".{link.name}.tmp")
    tmp.unlink(missing_ok=True)
    os.symlink(target, tmp)
    os.replace(tmp, link)


def _stable_types(df: pd.DataFrame) -> pd.DataFrame:
    """All-NULL object columns become text (DuckDB would otherwise guess INTEGER), so a
    column's type does not depend on whether this build had values for it."""
    empty = [c for c in df.columns if df[c].dtype == object and df[c].isna().all()]
    return df.astype({c: "string" for c in empty}) if empty else df


def _write_release(folder: Path, tables: dict[str, pd.DataFrame], metadata: dict[str, Any],
                   geo: dict[str, gpd.GeoDataFrame], extra: dict[str, Path],
                   document: Callable[[duckdb.DuckDBPyConnection], pd.DataFrame] | None
                   ) -> dict[str, Any]:
    tables = {k: _stable_types(v) for k, v in tables.items()}
    with duckdb.connect(str(folder / "dedi.duckdb")) as conn:
        meta_rows = pd.DataFrame([(k, json.dumps(v, default=str)) for k, v in metadata.items()],
                                 columns=["key", "value"])
        for name, df in {**tables, "build_metadata": meta_rows}.items():
            conn.register("_df", df)
            conn.execute(f'CREATE TABLE "{name}" AS SELECT * FROM _df')
            conn.unregister("_df")
        if document is not None:  # data_dictionary table, views, COMMENT ON everything
            tables["data_dictionary"] = document(conn)
        counts = {n: conn.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in tables}
    files = ["dedi.duckdb"]
    for name, df in tables.items():
        _write_parquet(df, folder / f"{name}.parquet", metadata)
        files.append(f"{name}.parquet")
    for name, gdf in geo.items():
        _write_geoparquet(gdf, folder / f"{name}.geoparquet", metadata)
        files.append(f"{name}.geoparquet")
    for name, src in extra.items():  # charts and other finished files, copied as they are
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, folder / name)
        files.append(name)
    for name, n in counts.items():  # re-read before switching
        if pq.read_metadata(folder / f"{name}.parquet").num_rows != n:
            raise RuntimeError(f"publish: {name}.parquet row count differs from DuckDB")
    manifest = {**metadata, "files": files + [MANIFEST], "row_counts": counts}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2, default=str), encoding="utf-8")
    for f in folder.rglob("*"):  # flush to disk before the switch
        if not f.is_file():
            continue
        with open(f, "rb") as fh:
            os.fsync(fh.fileno())
    return manifest


def publish(marts_dir: Path, tables: dict[str, pd.DataFrame], metadata: dict[str, Any],
            geo: dict[str, gpd.GeoDataFrame] | None = None, keep: int = 3,
            extra: dict[str, Path] | None = None,
            document: Callable[[duckdb.DuckDBPyConnection], pd.DataFrame] | None = None
            ) -> dict[str, Any]:
    """Publish ``tables`` (DuckDB + parquet), ``geo`` (GeoParquet) and ``extra`` files
    (release-relative name -> finished file, e.g. charts) as a new release.

    ``metadata`` goes to the DuckDB table ``build_metadata`` (key, JSON value), to each
    parquet's (and GeoParquet's) key-value metadata under ``dedi`` and to ``manifest.json``.
    ``document(conn)`` may add the data dictionary, views and comments. Returns the manifest.
    """
    releases = marts_dir / RELEASES
    releases.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    name = f"{stamp}-{str(metadata.get('run_id', 'manual'))[:8]}"
    tmp = releases / f".incomplete-{name}"
    tmp.mkdir()
    try:
        manifest = _write_release(tmp, tables, metadata, geo or {}, extra or {}, document)
        os.rename(tmp, releases / name)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _symlink_atomic(marts_dir / CURRENT, f"{RELEASES}/{name}")  # the switch
    for f in dict.fromkeys(f.split("/")[0] for f in manifest["files"]):  # maps/x -> maps
        link = marts_dir / f
        if not (link.is_symlink() and os.readlink(link) == f"{CURRENT}/{f}"):
            _symlink_atomic(link, f"{CURRENT}/{f}")
    for link in marts_dir.iterdir():  # files no longer published
        if link.is_symlink() and link.name != CURRENT and not link.exists():
            link.unlink()
    _prune(releases, keep, current=name)
    return manifest


def _prune(releases: Path, keep: int, current: str) -> None:
    done = sorted(p for p in releases.iterdir() if p.is_dir() and not p.name.startswith("."))
    for old in done[:-keep] if keep > 0 else []:
        if old.name != current:
            shutil.rmtree(old, ignore_errors=True)
    for stale in releases.glob(".incomplete-*"):  # left by a killed process
        if stale.stat().st_mtime < datetime.now().timestamp() - 3600:
            shutil.rmtree(stale, ignore_errors=True)
