"""Vintages as Dagster partitions: IoD releases and NHS App months.

The key test: a new NHS App month file, seen by the sensor, materialises only that month's
partition and the assets downstream of it, and the published current tables move to it.
"""

from __future__ import annotations

import shutil

import dagster as dg
import duckdb
import pytest

from tests.conftest import BuildDirs, build, dedi_env

MONTHLY = dg.AssetKey("stg_nhs_app_practice_monthly")


def test_definitions_show_the_partitions():
    from pipeline.definitions import build_definitions

    defs = build_definitions()
    graph = defs.resolve_asset_graph()
    iod = graph.get(dg.AssetKey("stg_iod_release")).partitions_def
    assert isinstance(iod, dg.StaticPartitionsDefinition)
    assert iod.get_partition_keys() == ["2019", "2025"]
    months = graph.get(MONTHLY).partitions_def
    assert isinstance(months, dg.TimeWindowPartitionsDefinition)
    keys = months.get_partition_keys()
    assert keys[0] == "2022-01" and "2026-10" in keys
    # the build job holds no partitioned asset; each partition job holds one partitions def
    build_keys = set(defs.resolve_job_def("dedi_build").asset_layer.executable_asset_keys)
    assert MONTHLY not in build_keys and dg.AssetKey("stg_iod_release") not in build_keys
    assert dg.AssetKey("stg_nhs_app_practice") in build_keys


def test_key_ranges_split_at_gaps():
    from pipeline.build import key_ranges

    keys = ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05"]
    assert key_ranges(keys, ["2026-01", "2026-02", "2026-04", "2026-05"]) == [
        ("2026-01", "2026-02"), ("2026-04", "2026-05")]
    assert key_ranges(keys, []) == []
    assert key_ranges(["2019", "2025"], ["2025"]) == [("2025", "2025")]


def _materialised(result) -> list[tuple[str, str | None]]:
    return sorted((e.event_specific_data.materialization.asset_key.to_user_string(),
                   e.event_specific_data.materialization.partition)
                  for e in result.all_events if e.event_type_value == "ASSET_MATERIALIZATION")


def test_new_nhs_app_month_materialises_only_its_partition_and_downstream(
        tmp_path, monkeypatch):
    from pipeline.definitions import build_definitions
    from pipeline.defs.automation import raw_files_sensor
    from pipeline.demo import generate

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    (tmp_path / "dagster_home").mkdir()
    dirs = BuildDirs(tmp_path / "raw", tmp_path / "staging", tmp_path / "marts")
    generate(dirs.raw)
    new_file = dirs.raw / "nhs_app" / "nhs_app_practice_2026-10.csv"
    held = tmp_path / new_file.name
    shutil.move(new_file, held)
    outcome = build(dirs)  # the full build: every partition present, then the rest
    assert outcome.success, outcome.failures
    instance = dg.DagsterInstance.get()
    assert instance.get_materialized_partitions(MONTHLY) == {
        "2025-11", "2025-12", *{f"2026-{m:02d}" for m in range(1, 10)}}

    with dedi_env(dirs):
        ctx = dg.build_sensor_context(instance=instance)
        assert isinstance(raw_files_sensor(ctx), dg.SkipReason)  # first look: fingerprints
        unchanged = raw_files_sensor(dg.build_sensor_context(instance=instance,
                                                             cursor=ctx.cursor))
        assert isinstance(unchanged, dg.SkipReason)
        shutil.move(held, new_file)  # the October file lands
        after = dg.build_sensor_context(instance=instance, cursor=ctx.cursor)
        requests = raw_files_sensor(after)
        assert [(r.job_name, r.partition_key) for r in requests] == [
            ("dedi_nhs_app_month", "2026-10")]

        defs = build_definitions()
        job = defs.resolve_job_def(requests[0].job_name)
        result = job.execute_in_process(instance=instance, partition_key="2026-10",
                                        tags=requests[0].tags)
    assert result.success
    done = _materialised(result)
    graph = defs.resolve_asset_graph()
    # exactly one partition, the new one; everything else unpartitioned and downstream of it
    assert [p for a, p in done if p is not None] == ["2026-10"]
    assert [a for a, p in done if p is not None] == [MONTHLY.to_user_string()]
    names = {a for a, _ in done}
    expected = {k.to_user_string() for k in
                dg.AssetSelection.assets(MONTHLY).downstream().resolve(graph)}
    assert names == expected
    for untouched in ("stg_iod2025", "stg_census21_population", "stg_lsoa21_boundaries",
                      "stg_gp_patients_lsoa", "stg_iod_release", "stg_local_proxies"):
        assert untouched not in names
    assert {"stg_nhs_app_practice", "int_nhs_app_uptake_lsoa", "nhs_app_uptake_history",
            "lsoa_index", "published_marts"} <= names
    # earlier months were staged once, by the build, and not again
    for month in ("2025-11", "2026-09"):
        events = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=MONTHLY, asset_partitions=[month]), limit=10)
        assert len(events.records) == 1

    con = duckdb.connect(str(dirs.marts / "current" / "dedi.duckdb"), read_only=True)
    months = [r[0] for r in con.execute(
        "SELECT DISTINCT month FROM nhs_app_uptake_history ORDER BY 1").fetchall()]
    assert months[0] == "2025-11" and months[-1] == "2026-10" and len(months) == 12
    vintage = con.execute("SELECT vintage FROM coverage WHERE indicator = "
                          "'nhs_app_non_uptake_pct'").fetchone()[0]
    assert "2026-10" in vintage
    # the current indicator is October's apportioned uptake
    current = con.execute("""
        SELECT max(abs((100 - i.nhs_app_non_uptake_pct) - h.nhs_app_uptake_pct))
        FROM lsoa_indicators i JOIN nhs_app_uptake_history h USING (lsoa21_code)
        WHERE h.month = '2026-10' AND i.nhs_app_non_uptake_pct IS NOT NULL""").fetchone()[0]
    assert current is not None and current < 1e-3


def test_nhs_app_month_outside_partitions_is_one_clear_line(tmp_path):
    from pipeline.build import vintage_runs
    from pipeline.sources.common import SourceError

    (tmp_path / "nhs_app").mkdir()
    (tmp_path / "nhs_app" / "nhs_app_practice_2019-03.csv").write_text(
        "practice_code,month,registrations\nA81001,2019-03,10\n")
    with pytest.raises(SourceError, match=r"\['2019-03'\].*first_month"):
        vintage_runs(tmp_path)
