"""Scale-out: local files staged per LA (dynamic partitions ``local_la``) on Dagster's
multiprocess executor give the same national result as one process (docs/scaling.md).

On the demo area, with address-level record files (placed by spatial join) in every demo LA
beside the demo's count files."""

import dataclasses
import os

import dagster as dg
import duckdb
import pandas as pd
import pytest
import yaml

from bench.bench_inputs import records_in_las
from tests.conftest import ROOT, BuildDirs, build

LAS = ["E06009901", "E06009902", "E06009903", "E06009904"]


@pytest.fixture(scope="module")
def two_builds(tmp_path_factory):
    """The same raw folder built in one process, then per LA on the multiprocess executor."""
    from pipeline.demo.generator import generate

    base = tmp_path_factory.mktemp("scale_out")
    raw = base / "raw"
    generate(raw)
    written = records_in_las(raw, LAS, 25_000)
    single = BuildDirs(raw, base / "s1", base / "m1")
    outcome = build(single)
    assert outcome.success, outcome.failures

    cfg = yaml.safe_load((ROOT / "pipeline" / "config" / "settings.yaml").read_text())
    cfg["scale_out"].update(local_by_la=True, workers=2)
    (base / "settings.yaml").write_text(yaml.safe_dump(cfg))
    home = base / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DEDI_SETTINGS", str(base / "settings.yaml"))
        mp.setenv("DAGSTER_HOME", str(home))
        multi = BuildDirs(raw, base / "s2", base / "m2")
        outcome = build(multi)
        assert outcome.success, outcome.failures
        instance = dg.DagsterInstance.get()
        runs = instance.get_run_records(dg.RunsFilter(job_name="dedi_local_la_fanout"))
        logs = [e for r in runs for e in instance.all_logs(r.dagster_run.run_id)]
        parts = instance.get_materialized_partitions(dg.AssetKey("stg_local_la"))
        storage = multi.staging / "local_la"
    return single, multi, written, runs, logs, parts, storage


def _table(dirs: BuildDirs, sql: str) -> pd.DataFrame:
    con = duckdb.connect(str(dirs.marts / "current" / "dedi.duckdb"), read_only=True)
    try:
        return con.execute(sql).df()
    finally:
        con.close()


def test_partitions_ran_in_parallel_processes(two_builds):
    _, _, _, runs, logs, parts, storage = two_builds
    assert len(runs) == 1 and runs[0].dagster_run.is_success
    assert parts == set(LAS)  # one stg_local_la partition per LA folder
    starts = [e for e in logs if e.dagster_event and e.dagster_event.event_type_value ==
              "STEP_START" and e.step_key.startswith("stage_one_la")]
    assert sorted(e.step_key for e in starts) == [f"stage_one_la[{la}]" for la in LAS]
    pids = {e.dagster_event.pid for e in starts}
    assert len(pids) == len(LAS) and os.getpid() not in pids  # a worker process per step
    assert sorted(p.name for p in storage.iterdir()) == [f"la={la}" for la in LAS]


def test_partitioned_national_result_equals_single_process(two_builds):
    single, multi, written, *_ = two_builds
    q = ("SELECT * EXCLUDE (synthetic_inputs) FROM lsoa_indicators ORDER BY lsoa21_code")
    a, b = _table(single, q), _table(multi, q)
    pd.testing.assert_frame_equal(a, b)
    # the records were counted: every LA's assisted-bin count is the records placed in it
    counts = a.groupby("ltla24_code")["assisted_bin_collection_count"].sum()
    for la, n in written.items():
        assert 0.95 * n <= counts[la] <= n, la
    q = "SELECT * FROM lsoa_index ORDER BY lsoa21_code"
    pd.testing.assert_frame_equal(_table(single, q), _table(multi, q))
    q = "SELECT * FROM area_summary ORDER BY geography, area_code, index"
    pd.testing.assert_frame_equal(_table(single, q), _table(multi, q))


def test_stale_per_la_output_is_one_clear_line(two_builds, tmp_path, monkeypatch):
    """stg_local_proxies refuses per-LA outputs staged from other files than today's."""
    from pipeline.defs.local import combine_la_outputs
    from pipeline.defs.local_la import current_files
    from pipeline.sources.common import SourceError

    _, multi, *_ = two_builds
    monkeypatch.setenv("DEDI_STAGING_DIR", str(multi.staging))
    monkeypatch.setenv("DEDI_SETTINGS", str(multi.staging.parent / "settings.yaml"))
    files = [f for fs in current_files(multi.raw).values() for f in fs]
    out, _, _, sources = combine_la_outputs(files)
    assert set(out["la_code"]) == set(LAS) and len(sources) == len(files)
    f = next(f for f in files if f.la_code == LAS[0])
    edited = tmp_path / f.path.name  # the same LA's file, one record more
    edited.write_text(f.path.read_text() + "999999,0,0\n")
    files = [dataclasses.replace(g, path=edited) if g is f else g for g in files]
    with pytest.raises(SourceError, match=f"local files of {LAS[0]} are not staged per LA.*stale"):
        combine_la_outputs(files)


def test_sensor_adds_la_partitions_and_queues_the_fanout_before_the_build(tmp_path,
                                                                          monkeypatch):
    from pipeline.defs.automation import raw_files_sensor

    cfg = yaml.safe_load((ROOT / "pipeline" / "config" / "settings.yaml").read_text())
    cfg["scale_out"]["local_by_la"] = True
    (tmp_path / "settings.yaml").write_text(yaml.safe_dump(cfg))
    monkeypatch.setenv("DEDI_SETTINGS", str(tmp_path / "settings.yaml"))
    raw = tmp_path / "raw"
    monkeypatch.setenv("DEDI_RAW_DIR", str(raw))
    (raw / "local" / "E06009901").mkdir(parents=True)
    (raw / "local" / "E06009901" / "pupil_premium.csv").write_text("lsoa21_code,count\n")
    ctx = dg.build_sensor_context()
    raw_files_sensor(ctx)  # first tick: fingerprints only
    (raw / "local" / "E06009902").mkdir()
    (raw / "local" / "E06009902" / "housing_condition.csv").write_text("lsoa21_code,count\n")
    res = raw_files_sensor(dg.build_sensor_context(cursor=ctx.cursor))
    assert [r.job_name for r in res.run_requests] == ["dedi_local_la_fanout", "dedi_build"]
    [add] = res.dynamic_partitions_requests
    assert (add.partitions_def_name, list(add.partition_keys)) == ("local_la", ["E06009902"])
