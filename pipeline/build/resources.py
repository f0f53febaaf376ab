"""Dagster resources, all in one place: paths, the staging DuckDB and the side process. Each
owns its lifecycle within a run (``setup_for_execution`` / ``teardown_after_execution``)."""

from __future__ import annotations

import re
from collections.abc import Callable
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource
from pydantic import PrivateAttr

from pipeline.build.tuning.side_process import SideProcess
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
    """The run's side process (``pipeline/build/tuning/side_process.py``): GX checks, the
    England maps and DX's diagnostics run there, on the second core, beside the steps. A run
    that Dagster launches (a schedule, the UI) starts its own when it begins and stops it when
    it ends; ``dedi build``, which makes several runs, starts one for all of them and hands it
    over (:func:`shared_side`). ``enabled: false`` (or no run, as in a notebook) runs the same
    functions in the caller's process."""

    enabled: bool = True
    _side: SideProcess | None = PrivateAttr(default=None)
    _owned: bool = PrivateAttr(default=False)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        if self._side is None and self.enabled:
            self._side, self._owned = SideProcess(), True

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._owned:
            self._side.close()
            self._side, self._owned = None, False

    def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(*args)``, in the side process when one runs (``fn``: a module-level function)."""
        return fn(*args) if self._side is None else self._side.call(fn, *args)

    def later(self, fn: Callable[..., Any], *args: Any) -> Callable[[], Any]:
        """A function giving ``fn(*args)``: started now in the side process when one runs
        (the function waits for it), else run here the first time it is called."""
        if self._side is None:
            return cache(lambda: fn(*args))
        return self._side.submit(fn, *args).result


def shared_side(side: SideProcess) -> dg.ResourceDefinition:
    """The ``side`` resource of runs that use ``side``, a process started and stopped by its
    owner (``dedi build``, for all its runs). Handed over as it is (Dagster rebuilds a
    configurable resource for each run, which would drop the running process)."""
    resource = SideProcessResource()
    resource._side = side
    return dg.ResourceDefinition.hardcoded_resource(resource, "the build's side process")


class StagingDuckDB(DuckDBResource):
    """The private staging DuckDB. Within a run, every step's connection is a cursor on one
    connection, opened by the first step that asks and closed (with one checkpoint) when the
    run ends: opening and closing the file at each of ~75 steps cost ~3 s of a cold build.
    Unlike DuckDBResource it does not retry for ~100 s when another process holds the file: it
    fails at once, naming the holder."""

    _kept: duckdb.DuckDBPyConnection | None = PrivateAttr(default=None)
    _in_run: bool = PrivateAttr(default=False)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._in_run = True

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        self._in_run = False
        if self._kept is not None:
            self._kept.close()
            self._kept = None

    @contextmanager
    def get_connection(self):
        if self._in_run:
            if self._kept is None:
                self._kept = self._connect()
            cursor = self._kept.cursor()
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


def build_resources(side: SideProcess | None = None) -> dict[str, object]:
    """Resources for the current environment (``side``: a running side process its runs use).
    The staging folder is created up front (the DuckDB resource otherwise retries for ~100 s
    on a missing folder)."""
    p = paths()
    p.staging.mkdir(parents=True, exist_ok=True)
    return {
        "dedi_paths": DediPaths(raw_dir=str(p.raw), staging_dir=str(p.staging),
                                marts_dir=str(p.marts)),
        "staging_db": StagingDuckDB(database=str(p.staging_db),
                                    connection_config=duckdb_config()),
        "side": shared_side(side) if side else SideProcessResource(),
    }


def duckdb_config() -> dict[str, str]:
    """DuckDB settings of the staging database (settings.yaml ``duckdb``): a memory limit
    past which DuckDB spills to disk, so large inputs stream in flat memory."""
    cfg = settings().get("duckdb") or {}
    return {k: str(v) for k, v in cfg.items() if v is not None}
