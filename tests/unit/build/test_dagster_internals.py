"""Dagster's private APIs that DEDI uses, all in pipeline/build/tuning/dagster_internals.py:
a Dagster upgrade that moves or changes one fails here, saying which and what to do."""

from __future__ import annotations

import ast
import importlib
import inspect

import dagster as dg

from tests.conftest import ROOT

INTERNALS = ROOT / "pipeline" / "build" / "tuning" / "dagster_internals.py"
ADVICE = ("Dagster {version} changed a private API DEDI relies on ({what}); adapt "
          "pipeline/build/tuning/dagster_internals.py, or pin the previous Dagster in pyproject.toml")


def private_imports(path) -> set[tuple[str, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {(n.module, a.name) for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)
            and (n.module or "").startswith("dagster._") for a in n.names}


def test_only_one_module_uses_dagsters_private_apis():
    users = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "pipeline").rglob("*.py")
                   if "dagster._" in p.read_text(encoding="utf-8"))
    assert users == ["pipeline/build/tuning/dagster_internals.py"], users


def test_every_private_name_still_exists_with_the_shape_dedi_uses():
    for module, name in sorted(private_imports(INTERNALS)):
        what = f"{module}.{name}"
        try:
            obj = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError) as exc:
            raise AssertionError(ADVICE.format(version=dg.__version__, what=what)) from exc
        assert obj is not None, ADVICE.format(version=dg.__version__, what=what)
    from dagster._core.definitions.data_version import CachingStaleStatusResolver
    from dagster._core.loader import LoadingContext
    from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage

    checks = {
        "CachingStaleStatusResolver(instance, asset_graph, loading_context)":
            list(inspect.signature(CachingStaleStatusResolver.__init__).parameters)[1:4]
            == ["instance", "asset_graph", "loading_context"],
        "LoadingContext.instance / .loaders": {"instance", "loaders"}
            <= set(LoadingContext.__abstractmethods__),
        "SqliteEventLogStorage._connect / _initdb / conn_string_for_shard / has_table": all(
            hasattr(SqliteEventLogStorage, a) for a in
            ("_connect", "_initdb", "conn_string_for_shard", "has_table", "_initialized_dbs")
            if a != "_initialized_dbs"),
        "noop compute log manager": hasattr(importlib.import_module(
            "dagster._core.storage.noop_compute_log_manager"), "NoOpComputeLogManager"),
    }
    broken = [what for what, ok in checks.items() if not ok]
    assert not broken, ADVICE.format(version=dg.__version__, what="; ".join(broken))


def test_the_stale_resolver_answers_on_a_fresh_instance(tmp_path):
    from pipeline.build.tuning.dagster_internals import stale_assets

    @dg.asset(code_version="1")
    def a() -> None: ...

    defs = dg.Definitions(assets=[a], jobs=[dg.define_asset_job("dedi_build")])
    with dg.DagsterInstance.ephemeral() as instance:
        assert stale_assets(defs, instance) == {dg.AssetKey("a")}
        dg.materialize([a], instance=instance)
        assert stale_assets(defs, instance) == set()
