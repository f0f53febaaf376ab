"""Incremental builds: Dagster code and data versions decide what a rebuild runs.

What is rematerialised is tested, never how long it takes (timings: BENCHMARKS.md)."""

from __future__ import annotations

import shutil

import duckdb
import pandas as pd
import pytest
import sqlalchemy

from tests.conftest import BuildDirs, build, dedi_env

RAW_READERS_UNTOUCHED = {"stg_iod2025", "stg_census21_population", "stg_census21_age65plus",
                         "stg_lsoa21_boundaries", "stg_lsoa21_ltla24", "stg_gias_schools",
                         "stg_ofcom_postcode_coverage", "stg_gp_patients_lsoa",
                         "stg_iod2025_file8"}


@pytest.fixture(scope="module")
def incremental(tmp_path_factory):
    """A demo built once (cold), then rebuilt with nothing changed."""
    from pipeline.demo.generator import generate

    base = tmp_path_factory.mktemp("incremental")
    dirs = BuildDirs(base / "raw", base / "staging", base / "marts")
    generate(dirs.raw)
    first = build(dirs)
    assert first.success, first.failures
    release = (dirs.marts / "current").resolve()
    second = build(dirs)
    return dirs, first, second, release


def test_unchanged_inputs_publish_nothing(incremental):
    dirs, first, second, release = incremental
    assert not first.up_to_date and "published_marts" in first.materialised
    assert second.success and second.up_to_date
    assert second.materialised == []  # only the raw folders were observed
    assert (dirs.marts / "current").resolve() == release


def test_build_history_is_readable_by_a_stock_dagster_instance(incremental):
    """The build's own event log (pipeline/build/tuning/dagster_internals.py: kept connections, no fsync per
    event) writes Dagster's ordinary sqlite files: a plain instance on the same folder, as
    `dagster dev` would open it, sees every materialisation of the cold build."""
    import dagster as dg

    dirs, first, *_ = incremental
    home = dirs.staging / "dagster"
    with dg.DagsterInstance.local_temp(tempdir=str(home)) as stock:
        from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
            SqliteEventLogStorage,
        )

        assert type(stock.event_log_storage) is SqliteEventLogStorage
        seen = {k.to_user_string() for k in stock.get_asset_keys()}
        assert _assets(first) <= seen, _assets(first) - seen
        last = stock.get_latest_materialization_event(dg.AssetKey("published_marts"))
        assert last is not None and last.asset_materialization.metadata
        # each run's own shard (written without alembic's per-run stamp) reads as Dagster's
        run_events = stock.all_logs(last.run_id)
        kinds = {e.dagster_event.event_type_value for e in run_events if e.dagster_event}
        assert {"STEP_SUCCESS", "ASSET_MATERIALIZATION"} <= kinds, kinds
    from dagster._core.storage.event_log.sqlite import sqlite_event_log
    from dagster._core.storage.sql import check_alembic_revision, get_alembic_config

    shards = [f for f in (home / "history" / "runs").glob("*.db") if f.stem != "index"]
    assert shards
    for shard in shards:
        engine = sqlalchemy.create_engine(f"sqlite:///{shard}")
        with engine.connect() as conn:
            db_rev, head = check_alembic_revision(get_alembic_config(sqlite_event_log.__file__),
                                                  conn)
        engine.dispose()
        assert db_rev == head, (shard.name, db_rev, head)
    # each materialisation's data version tag is in the index,
    # where the build's has_table (its kept engine, true answers remembered) said they go
    from pipeline.build.tuning.dagster_internals import BuildEventLogStorage

    storage = BuildEventLogStorage(str(home / "history" / "runs"))
    assert storage.has_table("asset_event_tags") and not storage.has_table("no_such_table")
    assert storage.has_table("asset_event_tags")  # remembered
    storage.dispose()
    engine = sqlalchemy.create_engine(f"sqlite:///{home / 'history' / 'runs' / 'index.db'}")
    with engine.connect() as conn:
        keys = {k for (k,) in conn.execute(sqlalchemy.text(
            "SELECT DISTINCT key FROM asset_event_tags"))}
    engine.dispose()
    assert "dagster/data_version" in keys, keys


def _assets(outcome) -> set[str]:
    return {m.split("[")[0] for m in outcome.materialised}


def test_one_new_local_proxy_file_rebuilds_only_that_source_and_downstream(incremental):
    dirs, *_ = incremental
    la = dirs.raw / "local" / "E06009901"
    codes = duckdb.connect(str(dirs.marts / "current" / "dedi.duckdb"), read_only=True).execute(
        "SELECT lsoa21_code FROM lsoa_index WHERE ltla24_code = 'E06009901' ORDER BY 1"
    ).fetchall()
    pd.DataFrame({"lsoa21_code": [c for (c,) in codes],
                  "count": [20 + 3 * i for i in range(len(codes))],
                  "denominator": 250}).to_csv(la / "pupil_premium.csv", index=False)
    import json

    prov = json.loads((la / "provenance.json").read_text())
    prov["files"]["pupil_premium.csv"] = {**prov["files"]["assisted_bin_collection.csv"]}
    (la / "provenance.json").write_text(json.dumps(prov))
    out = build(dirs)
    assert out.success, out.failures
    done = _assets(out)
    assert "stg_local_proxies" in done and "published_marts" in done
    assert {"int_local_proxy_rates", "lsoa_indicators", "int_dx_lsoa", "lsoa_index"} <= done
    assert not RAW_READERS_UNTOUCHED & done, RAW_READERS_UNTOUCHED & done
    assert not any(a.startswith("stg_nhs_app") or a.startswith("stg_census") for a in done)
    # the incremental result equals a full build of the same raw files
    full = BuildDirs(dirs.raw, dirs.staging.parent / "staging_full",
                     dirs.marts.parent / "marts_full")
    ref = build(full)
    assert ref.success and "stg_iod2025" in _assets(ref)
    q = "SELECT * EXCLUDE (data_status) FROM lsoa_index ORDER BY lsoa21_code"
    a = duckdb.connect(str(dirs.marts / "current" / "dedi.duckdb"), read_only=True).execute(q).df()
    b = duckdb.connect(str(full.marts / "current" / "dedi.duckdb"), read_only=True).execute(q).df()
    pd.testing.assert_frame_equal(a, b)
    assert a["dx_indicator_count"].max() > 0


def test_rebuild_after_rollback_republishes_without_recomputing(incremental):
    """After `dedi rollback` the published release is not the one the inputs give: a build
    with nothing changed publishes again (and only publishes)."""
    from pipeline.release.publish import rollback

    dirs, *_ = incremental
    latest = (dirs.marts / "current").resolve().name
    old, new = rollback(dirs.marts)
    assert new != latest
    out = build(dirs)
    assert out.success and not out.up_to_date
    assert _assets(out) == {"published_marts"}
    assert build(dirs).up_to_date  # and then it is up to date again


def test_new_nhs_app_month_restages_only_that_partition(incremental):
    dirs, *_ = incremental
    folder = dirs.raw / "nhs_app"
    last = folder / "nhs_app_practice_2026-10.csv"
    nov = pd.read_csv(last).assign(month="2026-11")
    nov.to_csv(folder / "nhs_app_practice_2026-11.csv", index=False)
    import json

    prov = json.loads((folder / "provenance.json").read_text())
    prov["files"]["nhs_app_practice_2026-11.csv"] = prov["files"][last.name]
    (folder / "provenance.json").write_text(json.dumps(prov))
    out = build(dirs)
    assert out.success, out.failures
    parts = [m for m in out.materialised if m.startswith("stg_nhs_app_practice_monthly[")]
    assert parts == ["stg_nhs_app_practice_monthly[2026-11]"]
    done = _assets(out)
    assert {"stg_nhs_app_practice", "nhs_app_uptake_history", "published_marts"} <= done
    assert not RAW_READERS_UNTOUCHED & done
    con = duckdb.connect(str(dirs.marts / "current" / "dedi.duckdb"), read_only=True)
    assert con.execute("SELECT max(month) FROM nhs_app_uptake_history").fetchone()[0] == "2026-11"


def test_removed_vintage_or_other_raw_folder_starts_from_empty_staging(incremental, tmp_path):
    """A removed month must not linger in staging: the build starts fresh."""
    dirs, *_ = incremental
    (dirs.raw / "nhs_app" / "nhs_app_practice_2026-11.csv").unlink()
    out = build(dirs)
    assert out.success and "stg_iod2025" in _assets(out)  # a full build
    con = duckdb.connect(str(dirs.marts / "current" / "dedi.duckdb"), read_only=True)
    assert con.execute("SELECT max(month) FROM nhs_app_uptake_history").fetchone()[0] == "2026-10"
    con.close()
    # the same staging folder pointed at a copy of the raw folder: a fresh start, not a mix
    copy = tmp_path / "raw_copy"
    shutil.copytree(dirs.raw, copy)
    with dedi_env(BuildDirs(copy, dirs.staging, dirs.marts)):
        from pipeline.build.run import run_build

        again = run_build(quiet=True)
    assert again.success and "stg_iod2025" in _assets(again)


def test_scenario_rollback_rebuild_and_full_rebuild_under_dagster_home(tmp_path, monkeypatch):
    """A scenario: a changed file reruns its reader and downstream; after a rollback of the
    scenario's marts only publication reruns (index_spec, which holds the scenario's config,
    does not); --full under a DAGSTER_HOME that remembers the earlier builds runs all."""
    from pipeline.build.run import run_build
    from pipeline.demo.generator import generate
    from pipeline.release.publish import rollback

    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    dirs = BuildDirs(tmp_path / "raw", tmp_path / "staging", tmp_path / "marts")
    generate(dirs.raw)
    config = {"scenario": "w20", "set": {"dedi.dx_weight": "0.2"}}
    marts = dirs.marts / "scenarios" / "w20"
    with dedi_env(dirs):
        assert run_build(quiet=True, index_config=config).success
        f = next((dirs.raw / "schools").glob("gias_*.csv"))
        f.write_text(f.read_text(encoding="utf-8") + "\n", encoding="utf-8")  # new bytes
        again = run_build(quiet=True, index_config=config)
        assert again.success, again.failures
        assert "stg_gias_schools" in _assets(again) and "stg_iod2025" not in _assets(again)
        rollback(marts)
        republish = run_build(quiet=True, index_config=config)
        assert republish.success and _assets(republish) == {"published_marts"}
        assert run_build(quiet=True, index_config=config).up_to_date
        full = run_build(quiet=True, index_config=config, full=True)
    assert full.success and {"stg_iod2025", "index_spec", "published_marts"} <= _assets(full)
    con = duckdb.connect(str(marts / "current" / "dedi.duckdb"), read_only=True)
    assert "w20" in con.execute("SELECT value FROM build_metadata WHERE key = 'scenario'"
                                ).fetchone()[0]


def test_every_raw_reader_depends_on_its_raw_folder():
    """A staging asset that reads raw files without depending on its raw_<topic> source would
    never be stale when its file changes."""
    from pipeline.definitions import build_definitions

    graph = build_definitions().resolve_asset_graph()
    readers = []
    for key in graph.get_all_asset_keys():
        node, name = graph.get(key), key.to_user_string()
        if (name.startswith("stg_") and node.partitions_def is None
                and "dedi/sql_model" not in node.metadata and name != "stg_nhs_app_practice"):
            readers.append(name)
            assert any(p.to_user_string().startswith("raw_") for p in node.parent_keys), name
    assert len(readers) >= 20
