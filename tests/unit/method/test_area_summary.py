"""Official IoD area-summary measures on small hand-computed cases."""

import numpy as np
import pandas as pd
import pytest

from pipeline.method.area_summary import (
    extent_weight,
    invert_rank,
    local_concentration_one,
    rank_areas,
    summarise,
)
from pipeline.method.disclosure import suppress_small_counts


def test_invert_rank():
    assert invert_rank([1, 10], 10).tolist() == [10.0, 1.0]


def test_extent_weights_by_percentile():
    # N = 100, so percentile = rank.
    w = extent_weight(np.array([5, 10, 11, 20, 30, 31]), 100)
    assert w.tolist() == pytest.approx([1.0, 1.0, 0.95, 0.95 - 9 * 0.9 / 19, 0.05, 0.0])


def test_local_concentration_takes_partial_lsoa():
    inv = np.array([30.0, 50.0, 40.0])
    pop = np.array([200.0, 100.0, 100.0])
    assert local_concentration_one(inv, pop, 0.10) == pytest.approx(50.0)  # 40 people, all top LSOA
    assert local_concentration_one(inv, pop, 0.50) == pytest.approx(45.0)
    assert local_concentration_one(inv, pop, 0.60) == pytest.approx((5000 + 4000 + 40 * 30) / 240)


def _toy():
    # N = 20 LSOAs nationally; area A has ranks 1, 2, 15 and B has 3, 20.
    return pd.DataFrame({"area": ["A", "A", "A", "B", "B"], "rank": [1, 2, 15, 3, 20],
                         "score": [40.0, 30.0, 5.0, 25.0, 1.0],
                         "population": [100, 300, 600, 500, 500]})


def test_summarise_hand_computed():
    out = summarise(_toy(), "area", n=20).set_index("area_code")
    a, b = out.loc["A"], out.loc["B"]
    assert a["population"] == 1000
    assert a["average_score"] == pytest.approx((40 * 100 + 30 * 300 + 5 * 600) / 1000)
    assert a["average_rank"] == pytest.approx((20 * 100 + 19 * 300 + 6 * 600) / 1000)
    # Percentiles: rank 1 -> 5, rank 2 -> 10 (weight 1); rank 15 -> 75 (0).
    assert a["extent"] == pytest.approx(400 / 1000)
    # Rank 3 -> percentile 15: weight 0.95 - 4 * 0.9 / 19.
    assert b["extent"] == pytest.approx(0.5 * (0.95 - 4 * 0.9 / 19))
    # Top 10% of A's 1,000 people = 100 people = all of the rank-1 LSOA (inverted rank 20).
    assert a["local_concentration"] == pytest.approx(20.0)
    assert b["local_concentration"] == pytest.approx(18.0)
    assert a["proportion_most_deprived_10pct"] == pytest.approx(2 / 3)
    assert b["proportion_most_deprived_10pct"] == 0.0
    assert a["average_score_rank"] == 1 and b["average_score_rank"] == 2
    assert a["extent_rank"] == 1 and b["local_concentration_rank"] == 2


def test_summary_ranks_tie_to_the_minimum():
    df = pd.DataFrame({"area": ["A", "B"], "rank": [1, 2], "score": [5.0, 5.0],
                       "population": [10, 10]})
    out = summarise(df, "area", n=2)
    assert out["average_score_rank"].tolist() == [1, 1]


def test_measures_equal_to_ten_decimals_tie():
    """One-LSOA areas of the same national percentile have the same extent; w * p / p differs
    from w in the last bits, which must not break their tie."""
    df = pd.DataFrame({"area": ["A", "B", "C"], "rank": [12, 12, 1], "score": [1.0, 1.0, 9.0],
                       "population": [1000, 1010, 1000]})  # 0.95 - 0.9 / 19 = w; w * 1010 / 1010 != w
    out = summarise(df, "area", n=100).set_index("area_code")
    assert out.loc[["A", "B"], "extent_rank"].tolist() == [2, 2]
    assert out.loc["C", "extent_rank"] == 1
    # the rule itself: a difference past the tenth decimal ties, one at the ninth does not
    ranks = rank_areas(pd.Series([0.5, 0.5 + 1e-12, 0.5 + 1e-9]))
    assert ranks.tolist() == [2, 2, 1]


def test_a_practice_counts_its_patients_not_its_lsoas():
    """share_by='population': a GP practice's share in the most deprived 10% is of its patients
    (10 of 1,000 live in its one decile-1 LSOA: 1%, not 1 of 2 LSOAs: 50%)."""
    df = pd.DataFrame({"practice": ["P", "P"], "rank": [1, 15], "score": [40.0, 5.0],
                       "population": [10, 990]})
    by_patients = summarise(df, "practice", n=20, share_by="population").iloc[0]
    by_lsoas = summarise(df, "practice", n=20).iloc[0]
    assert by_patients["proportion_most_deprived_10pct"] == pytest.approx(0.01)
    assert by_lsoas["proportion_most_deprived_10pct"] == pytest.approx(0.5)
    # every other measure is the same population-weighted one
    assert by_patients["average_score"] == pytest.approx((40 * 10 + 5 * 990) / 1000)
    assert by_patients["extent"] == by_lsoas["extent"] == pytest.approx(0.01)
    with pytest.raises(ValueError, match="share_by"):
        summarise(df, "practice", n=20, share_by="people")


def test_suppress_small_counts():
    df = pd.DataFrame({"n": [3, 10, 250], "other": [1, 2, 3]})
    out = suppress_small_counts(df, ["n"], 10)
    assert out["n"].isna().tolist() == [True, False, False]
    assert out["other"].tolist() == [1, 2, 3]
