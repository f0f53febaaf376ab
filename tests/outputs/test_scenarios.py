"""Scenarios: a changed spec publishes under scenarios/NAME and never touches `current`; the
explorer's pure-Python path gives the very ranks a scenario build publishes."""

from __future__ import annotations

import duckdb
import numpy as np
import pytest

from pipeline.cli.main import main
from tests.conftest import dedi_env


def _fingerprint(marts):
    from tests.conftest import marts_fingerprint

    return marts_fingerprint(marts)


def _ranks(db):
    with duckdb.connect(str(db), read_only=True) as conn:
        return conn.execute("SELECT lsoa21_code, dx_rank, dedi_rank FROM lsoa_index "
                            "ORDER BY lsoa21_code").df()


@pytest.fixture(scope="module")
def scenario(demo_build):
    before = _fingerprint(demo_build.marts)
    with dedi_env(demo_build):
        rc = main(["build", "--quiet", "--scenario", "w30", "--set", "dedi.dx_weight=0.3",
                   "--set", "dx.indicators.disability.weight=2"])
    assert rc == 0
    return demo_build, before


def test_scenario_publishes_beside_current_which_is_unchanged(scenario):
    dirs, before = scenario
    assert _fingerprint(dirs.marts) == before
    db = dirs.marts / "scenarios" / "w30" / "current" / "dedi.duckdb"
    with duckdb.connect(str(db), read_only=True) as conn:
        meta = dict(conn.execute("SELECT key, value FROM build_metadata").fetchall())
        spec = dict(conn.execute("SELECT key, value FROM index_spec").fetchall())
    assert meta["scenario"] == '"w30"'
    assert spec["dedi.dx_weight"] == "0.3"
    assert spec["dx.indicators.disability.weight"] == "2"
    assert not np.array_equal(_ranks(db)["dedi_rank"], _ranks(dirs.marts / "current" / "dedi.duckdb")
                              ["dedi_rank"])


def test_explorer_method_equals_the_scenario_build(scenario):
    """What the sliders compute (pipeline.outputs.audit.with_weights, ported to JS and checked against
    the browser in test_explorer) is what a full build publishes for the same spec."""
    from pipeline.outputs.audit import recompute, with_weights
    from pipeline.outputs.warehouse import connect

    dirs, _ = scenario
    with dedi_env(dirs), connect() as conn:
        r = recompute(conn)
    s = with_weights(r, 0.3, {}, {"disability": 2})
    built = _ranks(dirs.marts / "scenarios" / "w30" / "current" / "dedi.duckdb")
    assert np.array_equal(s.dx_rank, built["dx_rank"])
    assert np.array_equal(s.dedi_rank, built["dedi_rank"])


def test_compare_scenarios_lists_decile_changes(scenario, capsys):
    dirs, _ = scenario
    with dedi_env(dirs):
        assert main(["compare-scenarios", "current", "w30"]) == 0
    out = capsys.readouterr().out
    assert "LSOAs change DEDI decile" in out and "E0199" in out
    from pipeline.outputs.scenarios import compare

    with dedi_env(dirs):
        res = compare("current", "w30")
    assert len(res["lsoas"]) > 0
    assert (res["lsoas"]["dedi_decile_current"] != res["lsoas"]["dedi_decile_w30"]).all()


def test_launchpad_override_goes_to_an_adhoc_scenario(demo_build, tmp_path):
    """Run config from the Dagster launchpad (no scenario name) never replaces `current`."""
    from pipeline.build.run import run_build

    before = _fingerprint(demo_build.marts)
    dirs = type(demo_build)(demo_build.raw, tmp_path / "staging", demo_build.marts)
    with dedi_env(dirs):
        out = run_build(quiet=True, index_config={"dx_weight": 0.25})
    assert out.success, out.failures
    assert _fingerprint(demo_build.marts) == before
    adhoc = [p.name for p in (demo_build.marts / "scenarios").iterdir()
             if p.name.startswith("adhoc-")]
    assert len(adhoc) == 1


def test_unknown_scenario_is_one_line(demo_build, capsys):
    with dedi_env(demo_build):
        assert main(["sql", "--scenario", "nope", "SELECT 1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("dedi sql: no scenario 'nope'") and err.count("\n") == 1
