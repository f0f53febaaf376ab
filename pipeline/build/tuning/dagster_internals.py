"""The one module that uses Dagster's private APIs (``dagster._core``): what a build needs and
Dagster offers no public API for. ``tests/unit/build/test_dagster_internals.py`` fails with a
clear message when a Dagster upgrade moves or changes any of them.

- :func:`stale_assets`: Dagster's own staleness (code and data versions), as the UI shows it;
- :class:`BuildEventLogStorage`: the sqlite event log with one kept engine and no fsync per
  event (below);
- :func:`build_instance_overrides`: the build instance's settings (no compute logs, that log).

Dagster's sqlite event log, tuned for one build process.

Dagster's ``SqliteEventLogStorage`` creates a SQLAlchemy engine, opens the database file and
commits with an fsync for every event it stores (a step writes about ten). Over the ~80 steps of
a build that was ~3 s of pure bookkeeping (``bench/bench_dagster_overhead.py``). This subclass
keeps one engine (and pooled connection) per shard for the life of the process and commits in
WAL mode with ``synchronous=NORMAL``: the same tables, the same files, readable by any Dagster
process (webserver, daemon); a power cut may lose the last events, never corrupt them.

``dedi build`` uses it for the instance it keeps beside staging (``pipeline.build.run._instance``);
an instance of your own (``DAGSTER_HOME``) keeps whatever ``dagster.yaml`` says.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import dagster as dg
import sqlalchemy as db
from dagster._core.definitions.data_version import CachingStaleStatusResolver, StaleStatus
from dagster._core.loader import LoadingContext
from dagster._core.storage.event_log.schema import SqlEventLogStorageMetadata
from dagster._core.storage.event_log.sqlite import sqlite_event_log
from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    INDEX_SHARD_NAME,
    SqliteEventLogStorage,
)
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from sqlalchemy.engine import Connection, Engine


class BuildLoadingContext(LoadingContext):
    """The loading context Dagster's stale-status resolver needs: the instance and a fresh
    cache of loaders (what the webserver's request context holds)."""

    def __init__(self, instance: dg.DagsterInstance) -> None:
        self._instance = instance
        self._loaders = {}

    @property
    def instance(self) -> dg.DagsterInstance:
        return self._instance

    @property
    def loaders(self) -> dict:
        return self._loaders


def stale_assets(defs: dg.Definitions, instance: dg.DagsterInstance) -> set[dg.AssetKey]:
    """Unpartitioned assets of the ``dedi_build`` job whose code version or input data versions
    changed since their last materialisation, or never materialised (Dagster's staleness)."""
    graph = defs.resolve_asset_graph()
    resolver = CachingStaleStatusResolver(instance, graph, BuildLoadingContext(instance))
    keys = defs.resolve_job_def("dedi_build").asset_layer.executable_asset_keys
    return {k for k in keys if resolver.get_status(k) != StaleStatus.FRESH}


def _pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


class BuildEventLogStorage(SqliteEventLogStorage):
    """``SqliteEventLogStorage`` with one kept engine per shard and no fsync per event."""

    def __init__(self, base_dir: str, inst_data=None) -> None:
        self._engines: dict[str, Engine] = {}
        self._tables: set[str] = set()  # tables has_table found (never dropped meanwhile)
        super().__init__(base_dir, inst_data)

    @classmethod
    def from_config_value(cls, inst_data, config_value) -> BuildEventLogStorage:
        return cls(inst_data=inst_data, **config_value)

    def _engine(self, shard: str) -> Engine:
        engine = self._engines.get(shard)
        if engine is None:
            engine = db.create_engine(self.conn_string_for_shard(shard), connect_args={
                "timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False})
            db.event.listen(engine, "connect", _pragmas)
            if shard not in self._initialized_dbs:
                if shard == INDEX_SHARD_NAME:
                    self._initdb(engine)  # Dagster's own checks of the cross-run index
                else:
                    _init_run_shard(engine)
                self._initialized_dbs.add(shard)
            self._engines[shard] = engine
        return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        with self._db_lock:
            with self._engine(shard).connect() as conn, conn.begin():
                yield conn

    def has_table(self, table_name: str) -> bool:
        """Dagster's answer, from the kept engine and remembered once true (it asks at every
        asset event, with a new engine each time: ~5 ms per materialisation)."""
        if table_name in self._tables:
            return True
        with self._engine(INDEX_SHARD_NAME).connect() as conn:
            found = bool(conn.dialect.has_table(conn, table_name))
        if found:
            self._tables.add(table_name)
        return found

    def dispose(self) -> None:
        super().dispose()
        for engine in self._engines.values():
            engine.dispose()
        self._engines.clear()


@cache
def head_revision() -> str:
    """The alembic head of Dagster's sqlite event log schema (read once per process)."""
    from alembic.script import ScriptDirectory
    from dagster._core.storage.sql import get_alembic_config

    config = get_alembic_config(sqlite_event_log.__file__)
    return ScriptDirectory.from_config(config).as_revision_number("head")


def _init_run_shard(engine: Engine) -> None:
    """Create a run's shard as Dagster does (its tables, stamped at the alembic head), with the
    head read once per process: Dagster's ``_initdb`` loads alembic's scripts for every run
    (~0.25 s each). An existing shard is left as it is."""
    with engine.begin() as conn:
        SqlEventLogStorageMetadata.create_all(conn)
        conn.execute(db.text("CREATE TABLE IF NOT EXISTS alembic_version (version_num "
                             "VARCHAR(32) NOT NULL, CONSTRAINT alembic_version_pkc PRIMARY KEY "
                             "(version_num))"))
        conn.execute(db.text("INSERT INTO alembic_version SELECT :v WHERE NOT EXISTS "
                             "(SELECT 1 FROM alembic_version)"), {"v": head_revision()})


def event_log_config(home: Path | str) -> dict:
    """The ``event_log_storage`` entry of an instance rooted at ``home`` that uses this class
    (Dagster's own layout: ``<home>/history/runs``)."""
    return {"module": __name__, "class": BuildEventLogStorage.__name__,
            "config": {"base_dir": str(Path(home) / "history" / "runs")}}


def build_instance_overrides(home: Path | str) -> dict:
    """Instance settings of the build's own Dagster instance: no compute logs (the build prints
    its own progress) and :class:`BuildEventLogStorage` (same files as Dagster's own)."""
    return {"compute_logs": {"module": "dagster._core.storage.noop_compute_log_manager",
                             "class": "NoOpComputeLogManager"},
            "event_log_storage": event_log_config(home)}
