"""Vintages as Dagster partitions: IoD releases and NHS App months.

The key test: a new NHS App month file, seen by the sensor, materialises only that month's
partition and the assets downstream of it, and the published current tables move to it.
"""

from __future__ import annotations

import shutil

import dagster as dg
import duckdb
import pandas as pd
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
    from pipeline.build.run import key_ranges

    keys = ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05"]
    assert key_ranges(keys, ["2026-01", "2026-02", "2026-04", "2026-05"]) == [
        ("2026-01", "2026-02"), ("2026-04", "2026-05")]
    assert key_ranges(keys, []) == []
    assert key_ranges(["2019", "2025"], ["2025"]) == [("2025", "2025")]


def _dagster_home(tmp_path, monkeypatch) -> None:
    """A persistent Dagster instance for the test (runs, partitions, materialisations)."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    monkeypatch.setenv("DAGSTER_HOME", str(home))


def _materialised(result) -> list[tuple[str, str | None]]:
    return sorted((e.event_specific_data.materialization.asset_key.to_user_string(),
                   e.event_specific_data.materialization.partition)
                  for e in result.all_events if e.event_type_value == "ASSET_MATERIALIZATION")


def test_new_nhs_app_month_materialises_only_its_partition_and_downstream(
        tmp_path, monkeypatch):
    from pipeline.definitions import build_definitions
    from pipeline.defs.automation import raw_files_sensor
    from pipeline.demo.generator import generate

    _dagster_home(tmp_path, monkeypatch)
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
        requests = raw_files_sensor(after).run_requests
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
    from pipeline.build.run import vintage_runs
    from pipeline.sources.common import SourceError

    (tmp_path / "nhs_app").mkdir()
    (tmp_path / "nhs_app" / "nhs_app_practice_2019-03.csv").write_text(
        "practice_code,month,registrations\nA81001,2019-03,10\n")
    with pytest.raises(SourceError, match=r"\['2019-03'\].*first_month"):
        vintage_runs(tmp_path)


def _dated_copy(folder, name: str, new: str, adjust=None) -> None:
    """Copy a demo local file under a dated name, keeping its synthetic provenance."""
    import json

    src = folder / name
    df = pd.read_csv(src)
    if adjust:
        df = adjust(df)
    df.to_csv(folder / new, index=False)
    prov = json.loads((folder / "provenance.json").read_text())
    prov["files"][new] = prov["files"][name]
    (folder / "provenance.json").write_text(json.dumps(prov))


def test_local_periods_are_partitions_latest_current_all_in_history(tmp_path, monkeypatch):
    """Dated local files (<proxy>_<period>.csv) become dynamic partitions; the latest period
    is what the index uses; every period is published; a new period file is added as a
    partition by the sensor and materialises only that partition and its downstream."""
    from pipeline.definitions import build_definitions
    from pipeline.defs.automation import raw_files_sensor
    from pipeline.demo.generator import generate

    _dagster_home(tmp_path, monkeypatch)
    dirs = BuildDirs(tmp_path / "raw", tmp_path / "staging", tmp_path / "marts")
    generate(dirs.raw)
    la = dirs.raw / "local" / "E06009902"
    _dated_copy(la, "pupil_premium.csv", "pupil_premium_2025.csv",
                lambda d: d.assign(count=(d["count"] - 20).clip(lower=0)))
    _dated_copy(la, "pupil_premium.csv", "pupil_premium_2026.csv")
    (la / "pupil_premium.csv").unlink()
    outcome = build(dirs)
    assert outcome.success, outcome.failures
    instance = dg.DagsterInstance.get()
    period_key = dg.AssetKey("stg_local_proxies_period")
    assert instance.get_dynamic_partitions("local_period") == ["2025", "2026"]
    assert instance.get_materialized_partitions(period_key) == {"2025", "2026"}

    con = duckdb.connect(str(dirs.marts / "current" / "dedi.duckdb"), read_only=True)
    hist = con.execute("SELECT period, lsoa21_code, count FROM local_proxy_history WHERE "
                       "proxy = 'pupil_premium'").df()
    assert sorted(hist["period"].unique()) == ["2025", "2026"]
    wide = hist.pivot(index="lsoa21_code", columns="period", values="count").dropna()
    assert len(wide) > 20 and (wide["2026"] - wide["2025"] >= 19.99).all()
    cur = con.execute("SELECT lsoa21_code, pupil_premium_count FROM lsoa_indicators WHERE "
                      "pupil_premium_count IS NOT NULL").df().set_index("lsoa21_code")
    both = cur.join(wide, how="inner")
    assert len(both) > 20 and (both["pupil_premium_count"] == both["2026"]).all()
    con.close()

    with dedi_env(dirs):
        ctx = dg.build_sensor_context(instance=instance)
        raw_files_sensor(ctx)  # first look
        _dated_copy(la, "pupil_premium_2026.csv", "pupil_premium_2027.csv",
                    lambda d: d.assign(count=d["count"] + 5))
        result = raw_files_sensor(dg.build_sensor_context(instance=instance, cursor=ctx.cursor))
        assert [(r.job_name, r.partition_key) for r in result.run_requests] == [
            ("dedi_local_period", "2027")]
        assert [list(r.partition_keys) for r in result.dynamic_partitions_requests] == [["2027"]]
        instance.add_dynamic_partitions("local_period", ["2027"])  # what the daemon does
        defs = build_definitions()
        run = defs.resolve_job_def("dedi_local_period").execute_in_process(
            instance=instance, partition_key="2027")
    assert run.success
    done = _materialised(run)
    assert [(a, p) for a, p in done if p is not None] == [("stg_local_proxies_period", "2027")]
    assert {"stg_local_proxies", "int_local_proxy_rates", "local_proxy_history",
            "lsoa_indicators", "published_marts"} <= {a for a, _ in done}
    assert not {"stg_nhs_app_practice_monthly", "stg_iod2025", "stg_lsoa21_boundaries",
                "stg_census21_population"} & {a for a, _ in done}
    con = duckdb.connect(str(dirs.marts / "current" / "dedi.duckdb"), read_only=True)
    assert [r[0] for r in con.execute("SELECT DISTINCT period FROM local_proxy_history "
                                      "ORDER BY 1").fetchall()] == ["2025", "2026", "2027"]
    cur2 = con.execute("SELECT lsoa21_code, pupil_premium_count FROM lsoa_indicators WHERE "
                       "pupil_premium_count IS NOT NULL").df().set_index("lsoa21_code")
    assert (cur2.loc[both.index, "pupil_premium_count"] == both["2026"] + 5).all()


def test_local_file_with_and_without_period_is_one_clear_line(tmp_path):
    from pipeline.sources import local_proxies as lp
    from pipeline.sources.common import SourceError

    folder = tmp_path / "local" / "E06000001"
    folder.mkdir(parents=True)
    (folder / "pupil_premium.csv").write_text("lsoa21_code,count\n")
    (folder / "pupil_premium_2025.csv").write_text("lsoa21_code,count\n")
    with pytest.raises(SourceError, match=r"files with and without a period"):
        lp.discover(tmp_path)
    (folder / "pupil_premium.csv").unlink()
    (folder / "pupil_premium_20255.csv").write_text("lsoa21_code,count\n")
    with pytest.raises(SourceError, match=r"unknown proxy 'pupil_premium_20255'"):
        lp.discover(tmp_path)
