"""The build's side process (pipeline/build/tuning/side_process.py): GX checks and England maps handed to a
second process give exactly what they give in-process, its errors arrive as one exception, and
a build imports neither GX nor sklearn itself."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from contextlib import contextmanager

import dagster as dg
import duckdb
import pandas as pd
import pytest

from pipeline.build.resources import SideProcessResource
from pipeline.build.tuning.side_process import PRELOAD, SideProcess
from pipeline.defs.marts import MAPS_SQL
from pipeline.method.diagnostics import dx_diagnostics
from pipeline.outputs.maps import england_maps_from_table
from pipeline.quality.expectations import validate_arrow
from tests.conftest import ROOT


@pytest.fixture
def staging(demo_build, tmp_path):
    """A writable copy of the demo build's staging tables, with one broken copy of lsoa_index."""
    conn = duckdb.connect()
    conn.execute(f"ATTACH '{demo_build.staging / 'staging.duckdb'}' AS s (READ_ONLY)")
    for (t,) in conn.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = 's' "
                             "UNION ALL SELECT view_name FROM duckdb_views() WHERE "
                             "database_name = 's' AND NOT internal").fetchall():
        conn.execute(f'CREATE TABLE "{t}" AS SELECT * FROM s."{t}"')  # views as their rows
    conn.execute("CREATE TABLE broken AS SELECT * REPLACE (CASE WHEN lsoa21_code = "
                 "(SELECT min(lsoa21_code) FROM lsoa_index) THEN 11 ELSE dedi_decile END "
                 "AS dedi_decile) FROM lsoa_index")
    conn.execute("DETACH s")
    yield conn
    conn.close()


def _side_work(conn, out, run) -> tuple:
    """Checks, maps and diagnostics, as the build's steps hand them over to ``run``."""
    from pipeline.defs.index import diagnostics_inputs

    n = conn.execute("SELECT count(*) FROM stg_iod2025").fetchone()[0]
    checks = []
    for table, suite in [("lsoa_index", "lsoa_index"), ("broken", "lsoa_index"),
                         ("stg_iod2025", "iod2025_file7")]:
        arrow = conn.execute(f'SELECT * FROM "{table}"').to_arrow_table()
        checks.append((run(validate_arrow, suite, arrow, {"n_lsoa": n}), arrow.num_rows))
    paths = run(england_maps_from_table, conn.execute(MAPS_SQL).to_arrow_table(), out, True)
    diagnostics = run(dx_diagnostics, *diagnostics_inputs(conn)[1])
    return checks, {p.name: p.read_bytes() for p in paths}, diagnostics


@contextmanager
def side_process(preload=PRELOAD):
    side = SideProcess(preload)
    try:
        yield side
    finally:
        side.close()


def test_side_process_gives_the_same_checks_maps_and_diagnostics_as_in_process(staging, tmp_path):
    here_checks, here_maps, here_diag = _side_work(staging, tmp_path / "here",
                                                   SideProcessResource(enabled=False).run)
    with side_process() as side:
        there_checks, there_maps, there_diag = _side_work(staging, tmp_path / "there", side.call)
        assert side.process.is_alive() and side.process.pid != os.getpid()
    assert there_checks == here_checks
    (ok, rows), (bad, _), (iod, _) = there_checks
    assert ok.success and not ok.failures and ok.evaluated > 20 and rows == 320
    assert not bad.success and len(bad.failures) == 1 and "dedi_decile" in bad.failures[0]
    assert "[11" in bad.failures[0], bad.failures[0]
    assert iod.success and iod.evaluated > 5
    assert sorted(there_maps) == ["england_dedi_decile.png", "england_dedi_rank_change.png",
                                  "england_dx_decile.png"]
    assert there_maps == here_maps  # byte for byte
    assert all(png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
               for png in there_maps.values())
    pd.testing.assert_frame_equal(there_diag, here_diag, check_exact=True)
    built = staging.execute("SELECT * EXCLUDE (spec_sha256) FROM indicator_diagnostics").df()
    pd.testing.assert_frame_equal(there_diag, built, check_exact=True)  # as the build made it
    assert {"effective_weight", "dx_domain_correlation", "factor_loading"} <= set(there_diag["diagnostic"])


def test_side_process_errors_arrive_as_one_exception_and_a_dead_one_is_named():
    from pipeline.method.spec import spec_hash
    from pipeline.quality.expectations import load_suite_json

    with side_process() as side:
        assert side.process.is_alive()
        with pytest.raises(FileNotFoundError, match="no_such_suite.json"):
            side.call(load_suite_json, "no_such_suite")
        assert side.call(spec_hash, {"a": 1}) == spec_hash({"a": 1})
        later = side.submit(spec_hash, {"b": 2})  # collected later, in order
        assert later.result() == spec_hash({"b": 2})
        with pytest.raises(RuntimeError, match="allocate_lock: its result cannot be sent back"):
            side.call(threading.Lock)  # a lock cannot be pickled; the process carries on
        side.process.kill()
        side.process.join()
        with pytest.raises(RuntimeError, match=r"side process \(pid \d+.*exit code -9.*again"):
            side.call(load_suite_json, "lsoa_index")


def cannot_load() -> None:
    """A preload that fails, as a missing library would."""
    import pipeline.no_such_module  # noqa: F401


def test_a_side_process_that_cannot_load_says_what_on_every_call():
    from pipeline.method.spec import spec_hash

    with side_process((cannot_load,)) as side:
        for _ in range(2):
            with pytest.raises(RuntimeError, match="could not load tests.unit.build."
                               "test_side_process.cannot_load.*ModuleNotFoundError"):
                side.call(spec_hash, {})
        assert side.process.is_alive()


def test_the_resource_starts_the_process_for_a_run_and_stops_it_after():
    from pipeline.method.spec import spec_hash

    res = SideProcessResource()
    with dg.build_init_resource_context() as ctx:
        res.setup_for_execution(ctx)
        side = res._side
        assert side is not None and side.process.is_alive()
        assert res.run(spec_hash, {"a": 1}) == spec_hash({"a": 1})
        assert res.later(spec_hash, {"c": 3})() == spec_hash({"c": 3})
        res.teardown_after_execution(ctx)
    assert res._side is None and not side.process.is_alive()


def wait_for_gate() -> None:
    """A preload that waits until the file named by DEDI_TEST_GATE exists."""
    import time
    from pathlib import Path

    gate = Path(os.environ["DEDI_TEST_GATE"])
    while not gate.exists():
        time.sleep(0.05)
    gate.unlink()


def test_a_call_made_while_preloading_is_answered_before_the_next_preload(tmp_path, monkeypatch):
    """The first check of a build need not wait for matplotlib and sklearn."""
    gate = tmp_path / "gate"
    monkeypatch.setenv("DEDI_TEST_GATE", str(gate))  # the spawned process inherits it
    from pipeline.method.spec import spec_hash

    with side_process((wait_for_gate, wait_for_gate)) as side:
        side._conn.send((spec_hash, ({"a": 1},)))  # during preload 1
        gate.touch()  # preload 1 ends; preload 2 would wait for the gate again
        assert side._conn.poll(120), "the call waited for the next preload"
        ok, value = side._conn.recv()
        assert ok and value == spec_hash({"a": 1})
        assert not gate.exists() and side.process.is_alive()
        gate.touch()  # let preload 2 end
        assert side.call(spec_hash, {"b": 2}) == spec_hash({"b": 2})


# matplotlib is imported (the maps' functions are handed over by reference) but draws nothing here
HEAVY = ("sorted(m for m in sys.modules if m.split('.')[0] in ('great_expectations', "
         "'sklearn') or m.startswith('scipy.stats'))")


def _subprocess(code: str, env_dirs: dict) -> tuple[list, str]:
    env = {**os.environ, **{k: str(v) for k, v in env_dirs.items()}}
    env.pop("DAGSTER_HOME", None)
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1]), out.stderr


def test_a_build_imports_neither_gx_nor_sklearn_itself(demo_build, tmp_path):
    """Their import (~3 s of CPU, with scipy.stats) and work belong to the side process; a
    build whose own process imports them again holds the GIL for it."""
    code = ("import json, sys\nfrom pipeline.build.run import run_build\no = run_build(quiet=True)\n"
            f"print(json.dumps([o.success, o.failures, {HEAVY}]))")
    (ok, failures, imported), stderr = _subprocess(code, {
        "DEDI_RAW_DIR": demo_build.raw, "DEDI_STAGING_DIR": tmp_path / "staging",
        "DEDI_MARTS_DIR": tmp_path / "m"})
    assert ok, failures
    assert imported == []
    assert "resource_tracker" not in stderr, stderr[-1000:]  # nothing left behind
    maps = sorted(p.name for p in (tmp_path / "m" / "current" / "maps").glob("*.png"))
    assert maps == ["england_dedi_decile.png", "england_dedi_rank_change.png",
                    "england_dx_decile.png"]


def test_a_dagster_run_outside_dedi_build_gets_its_own_side_process(demo_build, tmp_path):
    """A run that Dagster launches (a schedule, the UI) starts the side process through the
    ``side`` resource: its checks, maps and diagnostics run there too."""
    shutil.copytree(demo_build.staging, tmp_path / "staging")
    code = ("import json, sys\nimport dagster as dg\n"
            "from pipeline.definitions import build_definitions\n"
            "job = build_definitions().resolve_job_def('dedi_build')\n"
            "r = job.execute_in_process(instance=dg.DagsterInstance.ephemeral(), "
            "raise_on_error=False, asset_selection=[dg.AssetKey(k) for k in "
            "('lsoa_index', 'england_maps', 'indicator_diagnostics')])\n"
            "checks = sorted((e.event_specific_data.check_name, e.event_specific_data.passed) "
            "for e in r.all_events if e.event_type_value == 'ASSET_CHECK_EVALUATION')\n"
            f"print(json.dumps([r.success, checks, {HEAVY}]))")
    (ok, checks, imported), stderr = _subprocess(code, {
        "DEDI_RAW_DIR": demo_build.raw, "DEDI_STAGING_DIR": tmp_path / "staging",
        "DEDI_MARTS_DIR": tmp_path / "m"})
    assert ok, stderr[-2000:]
    assert ["lsoa_index_expectations", True] in checks, checks  # a GX suite ran, and passed
    assert imported == []
    assert "resource_tracker" not in stderr, stderr[-1000:]
    assert len(list((tmp_path / "staging" / "maps").glob("england_*.png"))) == 3



def test_the_stored_map_outlines_draw_the_maps_the_full_boundaries_draw(real_build, tmp_path):
    """``int_lsoa21_map_shapes`` (real England's outlines simplified once per boundary file)
    gives the England maps, byte for byte, that simplifying the full boundaries at every
    drawing gave."""
    import geopandas as gpd

    from pipeline.outputs.maps import ENGLAND_TOLERANCE, england_maps, england_maps_from_table

    staging = duckdb.connect(str(real_build.staging / "staging.duckdb"), read_only=True)
    stored = staging.execute("SELECT count(*), sum(octet_length(s.geometry_wkb)) / "
                             "sum(octet_length(b.geometry_wkb)) FROM int_lsoa21_map_shapes s "
                             "JOIN stg_lsoa21_boundaries b USING (lsoa21_code)").fetchone()
    assert stored[0] == 33_755 and stored[1] < 0.9, stored  # every LSOA, simplified (-16%)
    new = england_maps_from_table(staging.execute(MAPS_SQL).to_arrow_table(), tmp_path / "a",
                                  False)
    full = staging.execute(MAPS_SQL.replace("int_lsoa21_map_shapes", "stg_lsoa21_boundaries")
                           ).df()
    staging.close()
    gdf = gpd.GeoDataFrame(full.drop(columns="geometry_wkb"), crs="EPSG:4326",
                           geometry=gpd.GeoSeries.from_wkb(full["geometry_wkb"].map(bytes)))
    old = england_maps(gdf, tmp_path / "b", False, tolerance=ENGLAND_TOLERANCE)
    assert len(new) == 3 and [p.read_bytes() for p in new] == [p.read_bytes() for p in old]


def test_every_run_of_one_build_uses_the_side_process_the_build_started():
    """Dagster rebuilds a configurable resource per run; the process dedi build hands over must
    reach the steps as it is (one process for all runs, not one started per run)."""
    from pipeline.build.resources import shared_side

    seen = []

    @dg.asset
    def probe(side: SideProcessResource) -> None:
        seen.append((side._side, side._owned))

    with side_process() as side:
        for _ in range(2):
            assert dg.materialize([probe], resources={"side": shared_side(side)}).success
        assert side.process.is_alive()  # a run's end does not stop the build's process
    assert seen == [(side, False), (side, False)]
