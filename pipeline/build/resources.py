"""Dagster resources, all in one place: paths, the staging DuckDB and the side process."""

from __future__ import annotations

import re
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource

from pipeline.config import paths, settings


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


class SideProcessResource(dg.ConfigurableResource):
    """The run's side process (``pipeline/build/tuning/side_process.py``): GX checks, the England maps and
    DX's diagnostics run there, beside the steps. Started once per run (the in-process
    executor), or reused when ``dedi build`` already started one; stopped after the run."""

    @contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext):
        from pipeline.build.tuning.side_process import side_process

        with side_process():
            yield self


# database path -> the connection kept open for a whole `dedi build` (see keep_staging_open)
_SHARED: dict[str, duckdb.DuckDBPyConnection] = {}
_KEEP_OPEN = False


@contextmanager
def keep_staging_open():
    """Within the block, every step's staging connection is a cursor on one connection kept
    open: opening and closing (with its checkpoint) the file at each of ~75 steps cost ~3 s
    of a cold build. Closed, with one checkpoint, when the block ends."""
    global _KEEP_OPEN
    _KEEP_OPEN = True
    try:
        yield
    finally:
        _KEEP_OPEN = False
        release_staging()


def release_staging() -> None:
    """Close the kept-open staging connections (so another process may open the file)."""
    while _SHARED:
        _SHARED.popitem()[1].close()


class StagingDuckDB(DuckDBResource):
    """The private staging DuckDB. Unlike DuckDBResource it does not retry for ~100 s when
    another process holds the file: it fails at once, naming the holder."""

    @contextmanager
    def get_connection(self):
        if _KEEP_OPEN:
            if self.database not in _SHARED:
                _SHARED[self.database] = self._connect()
            cursor = _SHARED[self.database].cursor()
            try:
                yield cursor
            finally:
                cursor.close()
            return
        conn = self._connect()
        try:
            yield conn
        finally:
            conn.close()

    def _connect(self) -> duckdb.DuckDBPyConnection:
        try:
            return duckdb.connect(self.database, read_only=False,
                                  config={"custom_user_agent": "dagster", **self.connection_config})
        except duckdb.IOException as exc:
            msg = str(exc).splitlines()[0]
            holder = re.search(r"PID (\d+)", str(exc))
            raise RuntimeError(
                f"{self.database} is locked by another process"
                f"{f' (pid {holder.group(1)})' if holder else ''}: staging is private to the "
                "build; close that connection (read the published marts with `dedi sql` "
                f"instead) and run again [{msg}]") from None


def build_resources() -> dict[str, object]:
    """Resources for the current environment. The staging folder is created up front (the
    DuckDB resource otherwise retries for ~100 s on a missing folder)."""
    p = paths()
    p.staging.mkdir(parents=True, exist_ok=True)
    return {
        "dedi_paths": DediPaths(raw_dir=str(p.raw), staging_dir=str(p.staging),
                                marts_dir=str(p.marts)),
        "staging_db": StagingDuckDB(database=str(p.staging_db),
                                    connection_config=duckdb_config()),
        "side": SideProcessResource(),
    }


def duckdb_config() -> dict[str, str]:
    """DuckDB settings of the staging database (settings.yaml ``duckdb``): a memory limit
    past which DuckDB spills to disk, so large inputs stream in flat memory."""
    cfg = settings().get("duckdb") or {}
    return {k: str(v) for k, v in cfg.items() if v is not None}
