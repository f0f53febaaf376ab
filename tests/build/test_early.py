"""Side work started early (pipeline/defs/_early.py): a build starts each GX suite once its
table is written, DX's diagnostics once the Monte Carlo is done and the map outlines once the
boundaries are staged, in the side process; the owning check or step collects the result.
Only when the work runs changes, never its result."""

from __future__ import annotations

import shutil

import duckdb
import pandas as pd
import pytest

import pipeline.defs._checks as checks
from pipeline.build.tuning.side_process import collect, side_process, start_early
from pipeline.defs import _early
from pipeline.quality.expectations import start_validation, validated
from tests.conftest import BuildDirs, build


def _spied_build(demo_build: BuildDirs, out, monkeypatch, early: bool):
    """A cold demo build into ``out``, recording what each check and the diagnostics step
    collected (early or not) and each check's result."""
    dirs = BuildDirs(demo_build.raw, out / "staging", out / "marts")
    collected: dict[str, bool] = {}
    results: dict[tuple[str, str], tuple] = {}

    def spy_collect(run_id, name, inputs):
        done, res = collect(run_id, name, inputs)
        collected[name] = done
        return done, res

    def spy_validated(run_id, conn, table, suite, parameters):
        res, rows = validated(run_id, conn, table, suite, parameters)
        results[(table, suite)] = (res.success, res.evaluated, tuple(res.failures), rows)
        return res, rows

    monkeypatch.setattr("pipeline.build.tuning.side_process.collect", spy_collect)
    monkeypatch.setattr(_early, "collect", spy_collect)
    monkeypatch.setattr(checks, "validated", spy_validated)
    if not early:
        monkeypatch.setattr(_early, "STARTERS", {})
    outcome = build(dirs)
    monkeypatch.undo()
    assert outcome.success, outcome.failures
    con = duckdb.connect(str(dirs.staging / "staging.duckdb"), read_only=True)
    tables = {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").df()
              for t in ("indicator_diagnostics", "lsoa_index", "area_summary",
                        "int_lsoa21_map_shapes")}
    con.close()
    return collected, results, tables


def test_checks_and_diagnostics_started_early_give_what_they_give_otherwise(
        demo_build, tmp_path, monkeypatch):
    early, early_results, early_tables = _spied_build(demo_build, tmp_path / "early",
                                                      monkeypatch, True)
    late, late_results, late_tables = _spied_build(demo_build, tmp_path / "late",
                                                   monkeypatch, False)
    suites = {f"{t}:{s}" for t, s in early_results}
    steps = {"indicator_diagnostics", "int_lsoa21_map_shapes"}
    assert len(suites) == 14 and steps <= set(early)
    # every suite, the diagnostics and the map outlines were collected from an early start...
    assert {n for n, done in early.items() if done} == suites | steps
    # ...and without the hook, none was, and each check validated its table itself
    assert not any(late.values()) and set(late) == set(early)
    assert early_results == late_results
    assert all(ok for ok, *_ in early_results.values())
    for t, df in early_tables.items():
        pd.testing.assert_frame_equal(df, late_tables[t], check_exact=True, obj=t)


@pytest.fixture
def staging(demo_build, tmp_path):
    """A writable copy of the demo build's staging database."""
    shutil.copy(demo_build.staging / "staging.duckdb", tmp_path / "s.duckdb")
    conn = duckdb.connect(str(tmp_path / "s.duckdb"))
    yield conn
    conn.close()


def test_an_early_validation_fails_as_a_late_one_and_is_not_reused_for_other_inputs(staging):
    n = {"n_lsoa": staging.execute("SELECT count(*) FROM stg_iod2025").fetchone()[0]}
    staging.execute("UPDATE lsoa_index SET dedi_decile = 11 WHERE lsoa21_code = "
                    "(SELECT min(lsoa21_code) FROM lsoa_index)")
    late, rows = validated("run-a", staging, "lsoa_index", "lsoa_index", n)
    assert not late.success and "[11" in late.failures[0] and rows == 320
    with side_process():
        assert start_validation("run-a", staging, "lsoa_index", "lsoa_index", n)
        assert validated("run-a", staging, "lsoa_index", "lsoa_index", n) == (late, rows)
        # started for one table state, collected for another (a row fewer): validated again
        assert start_validation("run-b", staging, "lsoa_index", "lsoa_index", n)
        staging.execute("DELETE FROM lsoa_index WHERE dedi_decile = 11")
        again, rows = validated("run-b", staging, "lsoa_index", "lsoa_index", n)
        assert rows == 319 and again.failures == [
            "expect_table_row_count_to_equal({'value': 320}): observed 319"]
        # another run's start, or none at all, is never collected
        assert start_early("run-c", "x", 1, "pipeline.method.spec:spec_hash", {})
        assert collect("run-d", "x", 1) == (False, None)
        assert collect("run-c", "x", 2) == (False, None)  # other inputs: not reused
        assert collect("run-c", "x", 1) == (False, None)  # and dropped
    assert not start_validation("run-e", staging, "lsoa_index", "lsoa_index", n)  # no side


def test_side_work_that_cannot_start_leaves_the_check_to_do_it(demo_build, tmp_path,
                                                                 monkeypatch):
    def broken(run_id, conn):
        raise RuntimeError("cannot start")

    monkeypatch.setitem(_early.STARTERS, "lsoa_index", [broken])  # replaces its suite's start
    collected, results, _ = _spied_build(demo_build, tmp_path, monkeypatch, True)
    assert collected["lsoa_index:lsoa_index"] is False
    assert results[("lsoa_index", "lsoa_index")][0] is True
