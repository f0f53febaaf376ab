"""Full real-England build from ../shared/data (skipped when absent), built once per session."""

import json

import duckdb
import numpy as np
import pytest

from pipeline.config import settings
from pipeline.method.iod import combine_domain_ranks

pytestmark = pytest.mark.real


@pytest.fixture(scope="module")
def marts(real_build):
    con = duckdb.connect(str(real_build.marts / "dedi.duckdb"), read_only=True)
    yield con
    con.close()


def test_lsoa_index_covers_england(marts):
    n, codes, real = marts.execute(
        "SELECT count(*), count(DISTINCT lsoa21_code), bool_and(data_status = 'real') "
        "FROM lsoa_index").fetchone()
    assert n == codes == 33755 and real
    nulls = marts.execute("SELECT count(*) FROM lsoa_index WHERE icb24_code IS NULL OR "
                          "region_code IS NULL OR ltla24_code IS NULL").fetchone()[0]
    assert nulls == 0


def test_population_denominator_is_census_and_recorded(marts):
    total, src = marts.execute("SELECT sum(population), any_value(population_source) "
                               "FROM lsoa_index").fetchone()
    assert total == 56_489_608 and src.startswith("Census 2021")
    meta = dict(marts.execute("SELECT key, value FROM build_metadata").fetchall())
    # IoD, geography and Census are real; NHS App and assisted bins have no open data and are
    # generated: the build says so rather than passing as real.
    assert json.loads(meta["data_status"]) == "mixed"
    assert set(json.loads(meta["synthetic_indicators"])) == {
        "nhs_app_non_uptake_pct", "assisted_bin_collection_rate_pct"}
    assert "SYNTHETIC" in json.loads(meta["warning"])
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
    assert counts == {"ltla24": 296, "icb24": 42, "region": 9}


def test_area_summary_invariants(marts):
    s = marts.execute("SELECT * FROM area_summary").df()
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
