"""End-to-end demo build: marts published, labelled synthetic, atomic and safe on bad input."""

import json
import shutil

import duckdb
import geopandas as gpd
import pandas as pd
import pyarrow.parquet as pq
import pytest

from pipeline.cli import main as cli
from pipeline.demo.generator import generate
from pipeline.sources import geography, iod
from tests.conftest import BuildDirs, build, dedi_env

LSOA_CONTRACT = ["lsoa21_code", "lsoa21_name", "ltla24_code", "ltla24_name", "icb24_code",
                 "icb24_name", "region_code", "region_name", "population", "imd_score",
                 "imd_rank", "imd_decile"] + [
    f"{d}_{p}" for d in ("income", "employment", "education", "health", "crime", "barriers",
                         "living_environment") for p in ("score", "rank", "decile")]
SUMMARY_CONTRACT = ["geography", "area_code", "area_name", "index", "population",
                    "average_score", "average_rank", "extent", "local_concentration",
                    "proportion_most_deprived_10pct", "average_score_rank", "average_rank_rank",
                    "extent_rank", "local_concentration_rank",
                    "proportion_most_deprived_10pct_rank"]


def test_demo_marts_follow_the_public_contract(demo_build):
    con = duckdb.connect(str(demo_build.marts / "current" / "dedi.duckdb"), read_only=True)
    lsoa = con.execute("SELECT * FROM lsoa_index").df()
    summ = con.execute("SELECT * FROM area_summary").df()
    assert set(LSOA_CONTRACT) <= set(lsoa.columns)
    assert set(SUMMARY_CONTRACT) <= set(summ.columns)
    assert len(lsoa) == 320 and lsoa["lsoa21_code"].is_unique
    assert sorted(lsoa["imd_rank"]) == list(range(1, 321))
    imd = summ[summ["index"] == "imd"]
    assert imd.groupby("geography").size().to_dict() == {"icb24": 1, "ltla24": 4, "region": 1,
                                                         "ward24": 28, "gp_practice": 22}
    # parquet copies are identical to the DuckDB tables
    pd.testing.assert_frame_equal(pd.read_parquet(demo_build.marts / "current" / "lsoa_index.parquet"), lsoa,
                                  check_dtype=False)
    geo = gpd.read_parquet(demo_build.marts / "current" / "lsoa_index.geoparquet")
    assert len(geo) == 320 and geo.crs.to_epsg() == 4326


def test_demo_outputs_say_synthetic_everywhere(demo_build):
    con = duckdb.connect(str(demo_build.marts / "current" / "dedi.duckdb"), read_only=True)
    meta = dict(con.execute("SELECT key, value FROM build_metadata").fetchall())
    assert json.loads(meta["data_status"]) == "synthetic"
    assert "SYNTHETIC" in json.loads(meta["warning"])
    for t in ("lsoa_index", "area_summary", "sources"):
        assert con.execute(f"SELECT DISTINCT data_status FROM {t}").fetchall() == [("synthetic",)]
        kv = pq.read_schema(demo_build.marts / "current" / f"{t}.parquet").metadata[b"dedi"]
        assert json.loads(kv)["data_status"] == "synthetic"
    manifest = json.loads((demo_build.marts / "current" / "manifest.json").read_text())
    assert manifest["data_status"] == "synthetic"
    assert all(s["data_status"] == "synthetic" for s in manifest["sources"])
    assert (lsoa := con.execute("SELECT lsoa21_name FROM lsoa_index").df())[
        "lsoa21_name"].str.startswith("Synthshire").all(), lsoa.head()


def test_demo_generator_is_deterministic(tmp_path):
    generate(tmp_path / "a")
    generate(tmp_path / "b")
    for f in (tmp_path / "a").rglob("*"):
        if f.is_file() and f.name != "provenance.json":
            g = tmp_path / "b" / f.relative_to(tmp_path / "a")
            if f.suffix == ".parquet":
                pd.testing.assert_frame_equal(pd.read_parquet(f), pd.read_parquet(g))
            else:
                assert f.read_bytes() == g.read_bytes(), f


def _copy_build(demo_build: BuildDirs, tmp_path) -> BuildDirs:
    dirs = BuildDirs(tmp_path / "raw", tmp_path / "staging", tmp_path / "marts")
    shutil.copytree(demo_build.raw, dirs.raw)
    shutil.copytree(demo_build.marts, dirs.marts, symlinks=True)
    return dirs


def _fingerprint(marts):
    from tests.conftest import marts_fingerprint

    fp = marts_fingerprint(marts)
    assert fp[1], "nothing published to compare"
    return fp


@pytest.mark.parametrize("corruption", ["duplicate_lsoa", "missing_column"])
def test_corrupt_iod_fails_clearly_and_keeps_published_marts(demo_build, tmp_path, corruption,
                                                             capsys):
    dirs = _copy_build(demo_build, tmp_path)
    before = _fingerprint(dirs.marts)
    f = iod.locate(dirs.raw)
    df = pd.read_csv(f, dtype=str)
    if corruption == "duplicate_lsoa":
        df.loc[10, "LSOA code (2021)"] = df.loc[11, "LSOA code (2021)"]
        expected = "duplicated LSOA code"
    else:
        df = df.drop(columns=["Employment Rank (where 1 is most deprived)"])
        expected = "missing required column(s): 'Employment Rank (where 1 is most deprived)'"
    df.to_csv(f, index=False)
    with dedi_env(dirs):  # through the CLI, as a user would run it
        assert cli.main(["build", "--quiet"]) == 1
    msg = capsys.readouterr().err
    assert "BUILD FAILED - published marts were left unchanged" in msg
    assert str(f) in msg and expected in msg
    assert _fingerprint(dirs.marts) == before
    assert not list(dirs.marts.rglob(".incomplete-*"))


@pytest.mark.parametrize("quiet", [True, False])
def test_a_failed_build_prints_no_stack_trace(demo_build, tmp_path, capsys, quiet):
    """Quiet or not, a bad input gives the one-line summary, never Dagster's stack trace."""
    dirs = _copy_build(demo_build, tmp_path)
    f = iod.locate(dirs.raw)
    df = pd.read_csv(f, dtype=str)
    df.loc[10, "LSOA code (2021)"] = df.loc[11, "LSOA code (2021)"]
    df.to_csv(f, index=False)
    with dedi_env(dirs):
        assert cli.main(["build", *(["--quiet"] if quiet else [])]) == 1
    err = capsys.readouterr().err
    assert "BUILD FAILED - published marts were left unchanged" in err
    assert f"stg_iod_release: {f}" in err and "duplicated LSOA code" in err
    assert "Traceback" not in err and "Stack Trace" not in err and "STEP_FAILURE" not in err, (
        err[:2000])


def test_failing_blocking_check_stops_publication(demo_build, tmp_path):
    dirs = _copy_build(demo_build, tmp_path)
    before = _fingerprint(dirs.marts)
    # Drop ten LSOAs from the ICB lookup: the file reads fine, but ten LSOAs of File 7 then
    # have no ICB; the blocking check on the joined geography must blame the lookup file.
    f = geography.locate(dirs.raw, "lsoa_icb")
    pd.read_parquet(f).iloc[10:].to_parquet(f, index=False)
    outcome = build(dirs)
    assert not outcome.success
    msg = "\n".join(outcome.failures)
    assert "lookups_cover_file7" in msg
    assert f"{f}: 10 LSOA(s) of IoD File 7 have no row here" in msg
    assert "stg_iod2025_expectations" not in msg  # File 7 is not blamed
    assert _fingerprint(dirs.marts) == before


def test_rebuild_replaces_marts_without_leftovers(demo_build, tmp_path):
    dirs = _copy_build(demo_build, tmp_path)
    old = json.loads((dirs.marts / "current" / "manifest.json").read_text())["run_id"]

    def entries() -> set[str]:  # (a session's earlier test may have added reports/)
        return {p.name for p in dirs.marts.iterdir() if not p.name.startswith(".")}

    before = entries()
    assert {"current", "releases"} <= before
    assert build(dirs).success
    new = json.loads((dirs.marts / "current" / "manifest.json").read_text())
    assert new["run_id"] != old
    # one entry point: `current` (no per-file links that could mix two releases)
    assert entries() == before
    assert all((dirs.marts / "current" / f).is_file() for f in new["files"])
    assert len(list((dirs.marts / "releases").iterdir())) == 2  # the new release and the old one
    assert not list(dirs.marts.rglob(".incomplete-*"))


def test_demo_indicators_cover_every_input_path(demo_build):
    con = duckdb.connect(str(demo_build.marts / "current" / "dedi.duckdb"), read_only=True)
    cov = con.execute("SELECT * FROM coverage").df().set_index("indicator")
    assert (cov["data_status"] == "synthetic").all() and cov["supplied"].all()
    assert cov.loc["connectivity_exclusion", "source"].startswith("Ofcom")  # postcode path
    full = ["connectivity_exclusion", "nhs_app_non_uptake_pct", "pct_aged_70plus",
            "pct_disabled", "pct_households_overcrowded", "pct_cannot_speak_english_well",
            "school_fsm_pct"]
    assert (cov.loc[full, "lsoas_with_value"] == 320).all()
    # One LA (80 LSOAs) per local proxy, each in a different form of the local contract:
    # records by easting/northing, LSOA counts, records by postcode, records by lat/lon.
    for proxy in ("assisted_bin_collection", "pupil_premium", "english_second_language",
                  "housing_condition"):
        assert cov.loc[f"{proxy}_rate_pct", "lsoas_with_value"] > 0
        assert cov.loc[f"{proxy}_rate_pct", "lsoas_missing"] >= 240
    ind = con.execute("SELECT * FROM lsoa_indicators").df()
    assert len(ind) == 320 and (ind["data_status"] == "synthetic").all()
    # Disclosure control: no published local count between 1 and 9.
    for c in [c for c in ind.columns if c.endswith("_count")]:
        assert not ind[c].between(1, 9).any(), c


def test_demo_index_marts(demo_build):
    from pipeline.method.spec import load_spec, spec_hash

    con = duckdb.connect(str(demo_build.marts / "current" / "dedi.duckdb"), read_only=True)
    lsoa = con.execute("SELECT * FROM lsoa_index").df()
    for c in ("dx", "dedi"):
        assert sorted(lsoa[f"{c}_rank"]) == list(range(1, 321))
    assert (lsoa["dedi_rank_change"] == lsoa["imd_rank"] - lsoa["dedi_rank"]).all()
    assert (lsoa["dedi_rank_p05"] <= lsoa["dedi_rank_p95"]).all()
    # 13 national indicators + NHS App (use) everywhere, plus a local proxy in 3 of 4 LAs
    # (the 4th LA's housing counts are partly suppressed)
    assert lsoa["dx_indicator_count"].between(14, 15).all()
    assert lsoa["dx_local_layer"].sum() > 200
    # DX is computed from published values only: where a local count was suppressed (1-9),
    # the proxy is blank in lsoa_indicators and did not reorder the LSOA
    ind = con.execute("SELECT * FROM lsoa_indicators").df().set_index("lsoa21_code")
    hc = ind[ind["ltla24_code"] == "E06009904"]
    blank = hc.index[hc["housing_condition_rate_pct"].isna()]
    assert len(blank) > 0
    assert not lsoa.set_index("lsoa21_code").loc[blank, "dx_local_layer"].any()
    summ = con.execute("SELECT index, geography, count(*) n, count(average_score_rank_p05) p "
                       "FROM area_summary GROUP BY ALL").df()
    assert set(summ["index"]) == {"imd", "dx", "dedi"}
    assert set(summ["geography"]) == {"ward24", "ltla24", "icb24", "region", "gp_practice"}
    dedi = summ[summ["index"] == "dedi"].set_index("geography")
    # nested areas carry their Monte Carlo interval; overlapping GP practices do not
    assert (dedi["p"] == dedi["n"]).drop("gp_practice").all()
    assert dedi.loc["gp_practice", "p"] == 0
    tables = {r[0] for r in con.execute("SHOW TABLES").fetchall()}
    assert {"indicator_diagnostics", "sensitivity", "index_spec", "dedi_decile1_changes"} <= tables
    meta = dict(con.execute("SELECT key, value FROM build_metadata").fetchall())
    assert json.loads(meta["index_spec_sha256"]) == spec_hash(load_spec())
    spec_rows = dict(con.execute("SELECT key, value FROM index_spec").fetchall())
    assert json.loads(spec_rows["dedi.dx_weight"]) == 0.1


def test_run_config_w_zero_gives_the_imd(demo_build, tmp_path):
    """A one-off run through Dagster run config, with no change to the spec file."""
    import dagster as dg

    from pipeline.build.resources import build_resources
    from pipeline.defs import index

    dirs = BuildDirs(demo_build.raw, tmp_path / "staging", tmp_path / "marts")
    shutil.copytree(demo_build.staging, dirs.staging)
    with dedi_env(dirs):
        res = dg.materialize([index.index_spec, index.int_dx_lsoa, index.int_dedi_lsoa],
                             resources=build_resources(),
                             run_config={"ops": {"index_spec": {"config": {"dx_weight": 0.0}}}})
    assert res.success
    con = duckdb.connect(str(dirs.staging / "staging.duckdb"), read_only=True)
    d = con.execute("SELECT s.imd_rank, d.dedi_rank FROM int_dedi_lsoa d "
                    "JOIN stg_iod2025 s USING (lsoa21_code)").df()
    assert (d["imd_rank"] == d["dedi_rank"]).all()
    spec = dict(con.execute("SELECT key, value FROM index_spec").fetchall())
    assert json.loads(spec["dedi.dx_weight"]) == 0.0


def test_demo_unplaceable_postcodes_reported(demo_build):
    """The demo Ofcom release has two postcodes absent from its ONS Postcode Directory."""
    con = duckdb.connect(str(demo_build.staging / "staging.duckdb"), read_only=True)
    r = con.execute("SELECT * FROM int_connectivity_placement").df().iloc[0]
    total = con.execute("SELECT sum(premises) FROM stg_ofcom_postcode_coverage").fetchone()[0]
    assert r["postcodes_not_in_directory"] == 2
    assert r["premises_postcode_not_in_directory"] == 12 + 7
    assert r["share_premises_not_placed"] == pytest.approx(19 / total)
    assert r["premises_in_terminated_postcodes"] > 0


def test_demo_imd_check_catches_a_wrong_weight(demo_build, tmp_path, monkeypatch):
    """The demo's File 7 IMD is written out independently (pipeline/demo/generator.py), so a wrong
    weight in the method's settings makes the blocking imd_reproduction check fail."""
    import yaml

    from pipeline.config import SETTINGS_FILE

    cfg = yaml.safe_load(SETTINGS_FILE.read_text())
    cfg["iod"]["domain_weights"]["income"] = 25.0  # the IoD says 22.5
    f = tmp_path / "settings.yaml"
    f.write_text(yaml.safe_dump(cfg))
    monkeypatch.setenv("DEDI_SETTINGS", str(f))
    outcome = build(BuildDirs(demo_build.raw, tmp_path / "st", tmp_path / "marts"))
    assert not outcome.success
    assert any("imd_reproduction" in x and "mean_abs_diff" in x for x in outcome.failures)
    assert not (tmp_path / "marts" / "current").exists()


def test_index_spec_labels_have_no_float_noise(demo_build):
    """index_spec reads 0.15, not 0.15000000000000002 (w ± the Monte Carlo half width)."""
    import re

    with duckdb.connect(str(demo_build.marts / "current" / "dedi.duckdb"), read_only=True) as conn:
        rows = dict(conn.execute("SELECT key, value FROM index_spec").fetchall())
    assert rows["resolved.monte_carlo_dx_weight_range"] == "[0.05, 0.15]"
    noisy = {k: v for k, v in rows.items() if re.search(r"\d\.\d*(0{6,}|9{6,})\d", v)}
    assert noisy == {}


def test_demo_gp_practice_summary_weighs_lsoas_by_its_patients(demo_build):
    """A practice's summary, by hand from the raw patients-by-LSOA file and the published LSOA
    scores: patient-weighted average score, share of patients in the most deprived 10%."""
    from pipeline.sources.gp import read_patients_by_lsoa

    pat = read_patients_by_lsoa(demo_build.raw / "gp" / "gp-reg-pat-prac-lsoa-all.csv")
    con = duckdb.connect(str(demo_build.marts / "current" / "dedi.duckdb"), read_only=True)
    lsoa = con.execute("SELECT lsoa21_code, dedi_score, dedi_rank FROM lsoa_index").df()
    summ = con.execute("SELECT * FROM area_summary WHERE geography = 'gp_practice' AND "
                       "index = 'dedi'").df().set_index("area_code")
    views = con.execute("SELECT * FROM v_gp_practice_summary").df().set_index("practice_code")
    d = pat.merge(lsoa, left_on="lsoa_code", right_on="lsoa21_code")
    d = d[d["patients"] > 0]
    assert set(summ.index) == set(d["practice_code"]) and len(summ) > 10
    for code, g in d.groupby("practice_code"):
        row, w = summ.loc[code], g["patients"]
        assert row["population"] == w.sum()
        assert row["lsoa_count"] == len(g)
        assert row["average_score"] == pytest.approx((g["dedi_score"] * w).sum() / w.sum())
        top = g["dedi_rank"] <= len(lsoa) / 10
        assert row["proportion_most_deprived_10pct"] == pytest.approx(w[top].sum() / w.sum())
    assert views.loc[summ.index, "dedi_average_score_rank"].tolist() == \
        summ["average_score_rank"].tolist()
    names = dict(con.execute("SELECT DISTINCT practice_code, practice_name FROM "
                             "gp_practice_catchment").fetchall())
    assert summ["area_name"].to_dict() == {k: names[k] for k in summ.index}
    assert "patients" not in con.execute("SELECT * FROM gp_practice_catchment").df().columns
