"""Full real-England build from ../shared/data (skipped when absent), built once per session."""

import json

import duckdb
import numpy as np
import pandas as pd
import pytest

from pipeline.config import settings
from pipeline.method.imd import combine_domain_ranks

pytestmark = pytest.mark.real


@pytest.fixture(scope="module")
def marts(real_build):
    con = duckdb.connect(str(real_build.marts / "current" / "dedi.duckdb"), read_only=True)
    yield con
    con.close()


def test_lsoa_index_covers_england(marts):
    n, codes, real = marts.execute(
        "SELECT count(*), count(DISTINCT lsoa21_code), count(*) FILTER (data_status = 'real') "
        "FROM lsoa_index").fetchone()
    assert n == codes == real == 33755
    # every mart carries the one build status, and no source file is synthetic
    for t in ("area_summary", "lsoa_indicators", "coverage", "indicator_diagnostics",
              "sensitivity", "index_spec", "dedi_decile1_changes", "sources"):
        assert marts.execute(f"SELECT DISTINCT data_status FROM {t}").fetchall() == [("real",)], t
    files = [r[0] for r in marts.execute("SELECT file FROM sources").fetchall()]
    assert files and all("synthetic" not in f.lower() and "synthshire" not in f for f in files)
    nulls = marts.execute("SELECT count(*) FROM lsoa_index WHERE icb24_code IS NULL OR "
                          "region_code IS NULL OR ltla24_code IS NULL").fetchone()[0]
    assert nulls == 0


def test_population_denominator_is_census_and_recorded(marts):
    total, src = marts.execute("SELECT sum(population), any_value(population_source) "
                               "FROM lsoa_index").fetchone()
    assert total == 56_489_608 and src.startswith("Census 2021")
    meta = dict(marts.execute("SELECT key, value FROM build_metadata").fetchall())
    # A real build is real: nothing generated; sources with no real file are absent.
    assert json.loads(meta["data_status"]) == "real"
    assert json.loads(meta["synthetic_indicators"]) == [] and json.loads(meta["warning"]) == ""
    assert {"nhs_app_non_uptake_pct", "assisted_bin_collection_rate_pct"} <= set(
        json.loads(meta["absent_indicators"]))
    assert "nhs_app_non_uptake" in json.loads(meta["dx_indicators_not_used"])
    assert json.loads(meta["population_denominator"]) == [src]


def test_imd_reproduced_from_published_domain_ranks(marts):
    df = marts.execute("SELECT * FROM lsoa_index").df()
    w = settings()["iod"]["domain_weights"]
    imd = combine_domain_ranks(df[[f"{k}_rank" for k in w]].rename(columns=lambda c: c[:-5]), w)
    assert (imd["score"] - df["imd_score"]).abs().mean() < 0.001
    assert (imd["rank"] != df["imd_rank"]).sum() <= 10


def test_area_summary_counts(marts):
    counts = dict(marts.execute("SELECT geography, count(*) FROM area_summary WHERE index = 'imd' "
                                "GROUP BY 1").fetchall())
    # every ward of England's LSOAs (ONS best fit); no GP practice without patients by LSOA
    assert counts == {"ward24": 6784, "ltla24": 296, "icb24": 42, "region": 9}


def test_area_summary_invariants(marts):
    s = marts.execute("SELECT * FROM area_summary WHERE index = 'imd'").df()
    # Every geography partitions the same national population.
    pops = s.groupby("geography")["population"].sum()
    assert np.allclose(pops, 56_489_608)
    assert s["extent"].between(0, 1).all()
    assert s["proportion_most_deprived_10pct"].between(0, 1).all()
    # The most deprived 10% of residents are at least as deprived as the average resident.
    assert (s["local_concentration"] >= s["average_rank"] - 1e-9).all()
    for _, g in s.groupby("geography"):
        for m in ("average_score", "average_rank", "extent", "local_concentration"):
            assert g[f"{m}_rank"].min() == 1 and g[f"{m}_rank"].max() <= len(g)
    # National 10%: LSOA-weighted share of England's LSOAs in decile 1 is exactly 10%.
    reg = s[s["geography"] == "region"]
    lsoas = marts.execute("SELECT region_code, count(*) n FROM lsoa_index GROUP BY 1").df()
    m = reg.merge(lsoas, left_on="area_code", right_on="region_code")
    share = (m["proportion_most_deprived_10pct"] * m["n"]).sum() / m["n"].sum()
    assert share == pytest.approx(3375 / 33755)


def test_known_most_deprived_ltlas(marts):
    top = [r[0] for r in marts.execute(
        "SELECT area_name FROM area_summary WHERE geography='ltla24' AND index='imd' "
        "ORDER BY average_score_rank LIMIT 5").fetchall()]
    # IoD 2025: Blackpool is the most deprived LTLA on average score.
    assert top[0] == "Blackpool"
    assert "Middlesbrough" in top


def test_lsoa_indicators_real_inputs_complete(marts):
    ind = marts.execute("SELECT * FROM lsoa_indicators").df()
    assert len(ind) == 33755 and ind["lsoa21_code"].is_unique
    cov = marts.execute("SELECT * FROM coverage").df().set_index("indicator")
    real = ["connectivity_exclusion", "school_fsm_pct", "pct_aged_70plus", "pct_aged_65plus",
            "pct_aged_75plus", "pct_disabled", "pct_households_overcrowded",
            "pct_households_social_rented", "adult_skills_english_pct",
            "pct_cannot_speak_english_well", "pct_households_deprived_2plus",
            "income_deprived_pct", "employment_deprived_pct"]
    assert cov.loc[real, "supplied"].all()
    assert (cov.loc[real, "lsoas_with_value"] == 33755).all()
    # IDAOPI numerators suppressed in File 8 stay missing, never zero
    assert cov.loc["pct_older_income_deprived", "lsoas_with_value"] == 33755 - 832
    # Connectivity defaults to the IoD 2025 broadband indicator (File 8), no fallback needed
    assert cov.loc["connectivity_exclusion", "source"].startswith("IoD 2025 broadband")
    assert (ind["connectivity_source"].str.startswith("IoD 2025")).all()
    for absent in ("nhs_app_non_uptake_pct", "assisted_bin_collection_rate_pct",
                   "pupil_premium_rate_pct"):
        assert not cov.loc[absent, "supplied"] and cov.loc[absent, "lsoas_with_value"] == 0
    # Real Census facts: England 65+ = 18.4%
    pop = marts.execute("SELECT sum(population) FROM lsoa_index").fetchone()[0]
    w = marts.execute("SELECT sum(i.pct_aged_65plus * l.population) FROM lsoa_indicators i "
                      "JOIN lsoa_index l USING (lsoa21_code)").fetchone()[0] / pop
    assert w == pytest.approx(18.4, abs=0.2)
    # FSM proxy correlates with income deprivation (a real-data sanity check).
    j = marts.execute("SELECT corr(i.school_fsm_pct, l.income_score) FROM lsoa_indicators i "
                      "JOIN lsoa_index l USING (lsoa21_code)").fetchone()[0]
    assert j > 0.6


def test_dx_design_diagnostics(marts):
    """The four designs on real England: effective weights positive and summing to 1, the
    deprivation and disability routes coherent, every route leading somewhere in decile 1."""
    d = marts.execute("SELECT * FROM indicator_diagnostics").df()
    designs = {"exponential/full_risk", "exponential/net_of_imd", "linear/full_risk",
               "linear/net_of_imd"}
    assert designs <= set(d["variant"])
    for v in designs:
        rows = d[d["variant"] == v]
        eff = rows[rows["diagnostic"] == "effective_weight"].set_index("item")["value"]
        assert (eff > 0).all() and eff.sum() == pytest.approx(1.0, abs=1e-6), v
        share = rows[rows["diagnostic"] == "decile1_route_share"]["value"]
        assert share.sum() == pytest.approx(1.0), v
        assert len(rows[rows["diagnostic"] == "top_ltla"]) == 10, v
        corr = rows[rows["diagnostic"] == "dx_domain_correlation"].set_index("other")["value"]
        assert set(corr.index) >= {"income", "health", "barriers", "imd"}, v
    full = d[d["variant"] == "exponential/full_risk"]
    eff = full[full["diagnostic"] == "effective_weight"].set_index("item")["value"]
    assert set(eff.index) == {
        "connectivity", "age_75plus", "older_income_deprived", "income_deprived",
        "employment_deprived", "households_deprived", "adult_skills_english",
        "english_proficiency", "social_renting", "overcrowding", "school_fsm", "disability",
        "illness_disability"}
    alpha = full[full["diagnostic"] == "cronbach_alpha"].set_index("item")["value"]
    assert alpha["deprivation"] > 0.8 and alpha["disability"] > 0.7
    load = full[full["diagnostic"] == "factor_loading"]["value"]
    assert len(load) == 9 and (load > 0).all()
    routes = set(full[full["diagnostic"] == "decile1_route_share"]["item"])
    assert routes == {"later_life", "deprivation", "disability", "access"}
    net = d[(d["variant"] == "exponential/net_of_imd") & (d["diagnostic"] == "effective_weight")]
    assert set(net["item"]) == {"age_75plus", "social_renting"}  # what the IMD does not count


def test_index_covers_england(marts):
    n = marts.execute("SELECT count(dx_rank), count(dedi_rank), count(dedi_rank_p50), "
                      "max(dedi_rank), count(DISTINCT dedi_rank) FROM lsoa_index").fetchone()
    assert n == (33755, 33755, 33755, 33755, 33755)
    counts = dict(marts.execute("SELECT index || '/' || geography, count(*) FROM area_summary "
                                "GROUP BY 1").fetchall())
    for idx in ("imd", "dx", "dedi"):
        assert counts[f"{idx}/ltla24"] == 296 and counts[f"{idx}/icb24"] == 42
        assert counts[f"{idx}/region"] == 9 and counts[f"{idx}/ward24"] == 6784
    enters, leaves = marts.execute(
        "SELECT count(*) FILTER (change LIKE 'enters%'), count(*) FILTER (change LIKE 'leaves%') "
        "FROM dedi_decile1_changes").fetchone()
    assert enters == leaves > 0  # decile 1 keeps its size


def test_imd2019_harmonised_for_comparison(marts):
    r = marts.execute("SELECT count(imd2019_rank_harmonised), corr(imd2019_rank_harmonised, "
                      "imd_rank), count(*) FILTER (imd2019_decile_harmonised = imd_decile) "
                      "FROM lsoa_index").fetchone()
    assert r[0] == 33755
    assert r[1] > 0.9                      # deprivation is persistent between releases
    assert r[2] > 0.4 * 33755


def test_one_la_proxy_reorders_within_the_la_without_moving_it(real_build, tmp_path):
    """Wirral supplies an assisted-bin file (form a, LSOA counts). Its population-weighted
    mean DX rank stays within 250 ranks; most of its LSOAs move in the proxy's direction."""
    import shutil

    import dagster as dg

    from pipeline.build.resources import build_resources
    from pipeline.defs import index, indicators, local
    from tests.conftest import BuildDirs, dedi_env

    wirral = "E08000015"
    raw = tmp_path / "raw"
    raw.mkdir()
    for topic in real_build.raw.iterdir():
        if topic.is_dir():
            (raw / topic.name).symlink_to(topic.resolve())
    base = duckdb.connect(str(real_build.marts / "current" / "dedi.duckdb"), read_only=True)
    before = base.execute("SELECT lsoa21_code, dx_rank, population FROM lsoa_index "
                          f"WHERE ltla24_code = '{wirral}'").df()
    rng = np.random.default_rng(7)
    counts = rng.integers(10, 120, len(before))  # independent of DX
    (raw / "local" / wirral).mkdir(parents=True)
    pd.DataFrame({"lsoa21_code": before["lsoa21_code"], "count": counts}).to_csv(
        raw / "local" / wirral / "assisted_bin_collection.csv", index=False)
    dirs = BuildDirs(raw, tmp_path / "staging", tmp_path / "marts")
    shutil.copytree(real_build.staging, dirs.staging)
    with dedi_env(dirs):
        res = dg.materialize([local.stg_local_proxies, local.int_local_proxy_rates,
                              indicators.lsoa_indicators, index.index_spec, index.int_dx_lsoa],
                             resources=build_resources())
    assert res.success
    con = duckdb.connect(str(dirs.staging / "staging.duckdb"), read_only=True)
    after = con.execute("SELECT d.lsoa21_code, d.dx_rank, d.dx_local_layer, "
                        "i.assisted_bin_collection_rate_pct AS rate FROM int_dx_lsoa d "
                        "JOIN lsoa_indicators i USING (lsoa21_code)").df()
    m = before.merge(after, on="lsoa21_code", suffixes=("_before", "_after"))
    assert m["dx_local_layer"].all() and m["rate"].notna().all()
    w = m["population"]
    shift = (np.average(m["dx_rank_after"], weights=w) - np.average(m["dx_rank_before"], weights=w))
    assert abs(shift) < 250
    # LSOAs with above-median proxy rates become more excluded (lower rank), and vice versa
    up = m["rate"] > m["rate"].median()
    moved_its_way = np.where(up, m["dx_rank_after"] < m["dx_rank_before"],
                             m["dx_rank_after"] > m["dx_rank_before"])
    assert moved_its_way.mean() > 0.75
    # LSOAs outside Wirral keep their DX score exactly
    other = con.execute(f"SELECT count(*) FROM int_dx_lsoa WHERE dx_local_layer AND "
                        f"lsoa21_code NOT IN (SELECT lsoa21_code FROM lsoa_indicators "
                        f"WHERE ltla24_code = '{wirral}')").fetchone()[0]
    assert other == 0
