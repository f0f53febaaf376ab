"""Atomic publication of the marts: a complete new release is switched in with one rename.

Layout of ``DEDI_MARTS_DIR``::

    releases/<time>-<run>/   one folder per publication (dedi.duckdb, *.parquet, maps/, ...)
    current -> releases/...  the one entry point: a symlink replaced atomically (os.replace)
    scenarios/NAME/          the same layout for each scenario

Readers open ``DEDI_MARTS_DIR/current/dedi.duckdb`` (one file, always one version). A reader
of several files resolves ``current`` **once** (``Path("data/marts/current").resolve()``, or
:func:`pipeline.outputs.warehouse.release_folder`) and reads everything from that folder: it can never
mix two releases, and a superseded release is kept for ``grace_seconds`` after it stops being
current. A release is fully written and re-read before ``current`` moves, so readers see
either the old set or the new set, never a half-written file, even if the process is killed.
Failed builds never touch ``current``. One process publishes to a marts folder at a time
(:func:`marts_lock`); ``dedi rollback`` moves ``current`` back to the previous release.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import geopandas as gpd
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.build.locks import PublishLocked, marts_lock  # noqa: F401  (re-exported)
from pipeline.config import CURRENT, RELEASES
from pipeline.errors import CurrentGuardError

MANIFEST = "manifest.json"
SUPERSEDED = ".superseded"  # written into a release when current moves away from it
GeoFrame = gpd.GeoDataFrame | Callable[[], gpd.GeoDataFrame]  # a frame, or makes one


def _write_parquet(df: pd.DataFrame, path: Path, metadata: dict[str, Any]) -> None:
    table = pa.Table.from_pandas(df, preserve_index=False)
    meta = dict(table.schema.metadata or {})
    meta[b"dedi"] = json.dumps(metadata, default=str).encode()
    pq.write_table(table.replace_schema_metadata(meta), path)


def _write_geoparquet(gdf: GeoFrame, path: Path, metadata: dict[str, Any]) -> None:
    """GeoParquet with the same ``dedi`` key-value metadata as every parquet (``gdf`` may be
    a function making the frame, so that its geometries are parsed on the writing thread)."""
    gdf = gdf() if callable(gdf) else gdf
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
                   geo: dict[str, GeoFrame], extra: Callable[[], dict[str, Path]] | dict,
                   document: Callable[[duckdb.DuckDBPyConnection], pd.DataFrame] | None
                   ) -> dict[str, Any]:
    tables = {k: _stable_types(v) for k, v in tables.items()}
    # the parquet and GeoParquet files are written on a second thread (Arrow, GEOS and the
    # file writes release the GIL) while the DuckDB file is built on this one
    with ThreadPoolExecutor(max_workers=1) as pool:
        written = [pool.submit(_write_geoparquet, gdf, folder / f"{name}.geoparquet", metadata)
                   for name, gdf in geo.items()]
        written += [pool.submit(_write_parquet, df, folder / f"{name}.parquet", metadata)
                    for name, df in tables.items()]
        with duckdb.connect(str(folder / "dedi.duckdb")) as conn:
            meta_rows = pd.DataFrame([(k, json.dumps(v, default=str))
                                      for k, v in metadata.items()], columns=["key", "value"])
            for name, df in {**tables, "build_metadata": meta_rows}.items():
                conn.register("_df", df)
                conn.execute(f'CREATE TABLE "{name}" AS SELECT * FROM _df')
                conn.unregister("_df")
            if document is not None:  # data_dictionary table, views, COMMENT ON everything
                tables["data_dictionary"] = document(conn)
                written.append(pool.submit(_write_parquet, tables["data_dictionary"],
                                           folder / "data_dictionary.parquet", metadata))
            counts = {n: conn.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0]
                      for n in tables}
        for w in written:
            w.result()  # raises what the thread raised
    files = (["dedi.duckdb"] + [f"{name}.parquet" for name in tables]
             + [f"{name}.geoparquet" for name in geo])
    extra = extra() if callable(extra) else extra  # may wait for files still being made
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
            geo: dict[str, GeoFrame] | None = None, keep: int = 3,
            extra: dict[str, Path] | Callable[[], dict[str, Path]] | None = None,
            document: Callable[[duckdb.DuckDBPyConnection], pd.DataFrame] | None = None,
            grace_seconds: float = 0.0) -> dict[str, Any]:
    """Publish ``tables`` (DuckDB + parquet), ``geo`` (GeoParquet: a frame, or a function
    making it) and ``extra`` files (release-relative name -> finished file, e.g. charts; or a
    function giving them, called once the tables are written) as a new release.

    ``metadata`` goes to the DuckDB table ``build_metadata`` (key, JSON value), to each
    parquet's (and GeoParquet's) key-value metadata under ``dedi`` and to ``manifest.json``.
    ``document(conn)`` may add the data dictionary, views and comments. Releases beyond the
    newest ``keep`` are deleted once they have not been current for ``grace_seconds``.
    Returns the manifest.
    """
    with marts_lock(marts_dir):
        releases = marts_dir / RELEASES
        releases.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        name = f"{stamp}-{str(metadata.get('run_id', 'manual'))[:8]}"
        tmp = releases / f".incomplete-{name}"
        tmp.mkdir()
        try:
            manifest = _write_release(tmp, tables, metadata, geo or {},
                                      {} if extra is None else extra, document)
            os.rename(tmp, releases / name)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        _switch(marts_dir, name)
        _prune(releases, keep, current=name, grace_seconds=grace_seconds)
    return manifest


def guard_current(marts_dir: Path, data_status: str, lsoas: int | None = None,
                  replace: bool = False, raw: Path | None = None) -> None:
    """Refuse to replace ``marts_dir/current`` with a build of another kind (``real`` or
    ``synthetic``) or, when ``lsoas`` is given, another coverage (number of LSOAs), unless
    ``replace``. Raises :class:`CurrentGuardError` naming both and what to do."""
    manifest = marts_dir / CURRENT / "manifest.json"
    if replace or not manifest.exists():
        return
    old = json.loads(manifest.read_text(encoding="utf-8"))
    old_n = int(old.get("row_counts", {}).get("lsoa_index", 0))
    if old.get("data_status") == data_status and (lsoas is None or lsoas == old_n):
        return

    def what(status: str, n: int | None) -> str:
        kind = "the synthetic demo" if status == "synthetic" else "real data"
        return kind + (f" covering {n:,} LSOAs" if n else "")
    raise CurrentGuardError(
        f"{marts_dir / CURRENT} holds {what(old.get('data_status', '?'), old_n)} (built "
        f"{old.get('built_at', '?')}); this build is {what(data_status, lsoas)}"
        + (f" (raw folder {raw})" if raw else "") + ". Refusing to replace it: pass "
        "--replace-current to replace it, or publish this build to a marts folder of its own "
        "(DEDI_MARTS_DIR=...)")


def current_release(marts_dir: Path) -> str | None:
    """Name of the release ``current`` points to (None before the first publication)."""
    link = marts_dir / CURRENT
    return Path(os.readlink(link)).name if link.is_symlink() else None


def _switch(marts_dir: Path, name: str) -> None:
    """Point ``current`` at ``releases/name`` (atomically); mark the old one superseded and
    remove per-file links left by earlier versions of DEDI (one entry point: ``current``)."""
    old = current_release(marts_dir)
    _symlink_atomic(marts_dir / CURRENT, f"{RELEASES}/{name}")  # the switch
    if old and old != name and (marts_dir / RELEASES / old).is_dir():
        (marts_dir / RELEASES / old / SUPERSEDED).write_text(str(time.time()), encoding="utf-8")
    (marts_dir / RELEASES / name / SUPERSEDED).unlink(missing_ok=True)
    for link in marts_dir.iterdir():
        if link.is_symlink() and link.name != CURRENT and os.readlink(link).startswith(
                f"{CURRENT}/"):
            link.unlink()


def rollback(marts_dir: Path) -> tuple[str, str]:
    """Point ``current`` at the release published before it; returns (from, to)."""
    with marts_lock(marts_dir):
        cur = current_release(marts_dir)
        if cur is None:
            raise LookupError(f"no published marts in {marts_dir}: nothing to roll back")
        done = sorted(p.name for p in (marts_dir / RELEASES).iterdir()
                      if p.is_dir() and not p.name.startswith(".") and p.name < cur)
        if not done:
            raise LookupError(f"{cur} is the oldest release kept in {marts_dir / RELEASES}: "
                              "nothing to roll back to")
        _switch(marts_dir, done[-1])
        return cur, done[-1]


def _prune(releases: Path, keep: int, current: str, grace_seconds: float = 0.0) -> None:
    done = sorted(p for p in releases.iterdir() if p.is_dir() and not p.name.startswith("."))
    now = time.time()
    for old in done[:-keep] if keep > 0 else []:
        marker = old / SUPERSEDED
        since = float(marker.read_text()) if marker.exists() else old.stat().st_mtime
        if old.name != current and now - since >= grace_seconds:
            shutil.rmtree(old, ignore_errors=True)
    for stale in releases.glob(".incomplete-*"):  # left by a killed process
        if stale.stat().st_mtime < now - 3600:
            shutil.rmtree(stale, ignore_errors=True)
