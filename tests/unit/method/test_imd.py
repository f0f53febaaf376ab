"""The IoD combination method: unit cases and the exact reproduction of the published IMD."""

import math

import numpy as np
import pandas as pd
import pytest

from pipeline.method.imd import (
    aggregate,
    combine_domain_ranks,
    decile,
    exponential_transform,
    normalise_rank,
    rank_most_deprived_first,
    weight,
)
from tests.conftest import SHARED, requires_shared

WEIGHTS = {"income": 22.5, "employment": 22.5, "education": 13.5, "health": 13.5,
           "crime": 9.3, "barriers": 9.3, "living_environment": 9.3}


def test_rank_most_deprived_first_breaks_ties_by_position():
    assert rank_most_deprived_first(pd.Series([1.0, 5.0, 3.0, 5.0])).tolist() == [4, 1, 3, 2]


def test_normalise_rank_puts_most_deprived_at_one():
    assert normalise_rank([1, 4], 4).tolist() == [1.0, 0.25]


def test_exponential_transform_end_points_and_formula():
    x = exponential_transform(np.array([1.0, 0.0, 0.5]))
    assert x[0] == pytest.approx(100.0)
    assert x[1] == pytest.approx(0.0)
    assert x[2] == pytest.approx(-23 * math.log(1 - 0.5 * (1 - math.exp(-100 / 23))))


def test_weight_and_aggregate_hand_computed():
    t = pd.DataFrame({"a": [100.0, 0.0], "b": [50.0, 10.0]})
    out = aggregate(t, weight({"a": 60, "b": 40}))
    assert out.tolist() == pytest.approx([80.0, 4.0])


def test_weight_rejects_negative():
    with pytest.raises(ValueError, match="non-negative"):
        weight({"a": -1})


def test_decile_matches_published_rule():
    assert decile([1, 10, 11, 100], 100).tolist() == [1, 1, 2, 10]


def test_combine_all_rank_one_scores_sum_of_weights():
    # Every domain transformed to 100; the official weights sum to 99.9 (22.5+22.5+13.5+13.5+3x9.3).
    ranks = pd.DataFrame({k: [1, 2] for k in WEIGHTS})
    out = combine_domain_ranks(ranks, WEIGHTS)
    assert out["score"].iloc[0] == pytest.approx(99.9)
    assert out["rank"].tolist() == [1, 2]


@requires_shared
def test_reproduces_published_imd_2025_from_domain_ranks():
    from pipeline.sources.iod import read_iod2025

    df = read_iod2025(SHARED / "iod" / "File_7_IoD2025_reconstructed.csv")
    ranks = df[[f"{k}_rank" for k in WEIGHTS]].rename(columns=lambda c: c[: -len("_rank")])
    imd = combine_domain_ranks(ranks, WEIGHTS)
    diff = (imd["score"] - df["imd_score"]).abs()
    assert diff.mean() < 0.001
    assert diff.max() < 0.001
    mismatch = imd["rank"] != df["imd_rank"]
    # Rank differences only where published scores (3 d.p.) tie.
    tied = df["imd_score"].duplicated(keep=False)
    assert (mismatch & ~tied).sum() == 0
    assert mismatch.sum() <= 10
    assert (imd["decile"] == df["imd_decile"]).mean() > 0.9999
