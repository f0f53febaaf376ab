"""IoD 2025 combination method: rank -> normalise -> transform -> weight -> aggregate -> decile.

Reference: English Indices of Deprivation 2025 technical report (MHCLG), section on
combining domains: each domain rank is scaled to (0, 1], put through the exponential
transformation and combined with the domain weights.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd


def rank_most_deprived_first(scores: pd.Series) -> pd.Series:
    """Rank scores so that 1 = highest score (most deprived); ties broken by position."""
    return scores.rank(ascending=False, method="first").astype("int64")


def normalise_rank(rank: pd.Series | np.ndarray, n: int) -> np.ndarray:
    """Scale a rank (1 = most deprived) to R = (N - rank + 1) / N, so most deprived -> 1."""
    return (n - np.asarray(rank, dtype="float64") + 1.0) / n


def exponential_transform(r: np.ndarray, constant: float = 23.0) -> np.ndarray:
    """IoD exponential transformation X = -C ln(1 - R (1 - e^(-100/C))), range (0, 100]."""
    return -constant * np.log1p(-np.asarray(r, dtype="float64") * (1.0 - math.exp(-100.0 / constant)))


def weight(transformed: pd.DataFrame, weights: Mapping[str, float]) -> pd.DataFrame:
    """Multiply each domain's transformed score by its weight (weights in per cent)."""
    total = sum(weights.values())
    if total <= 0 or any(w < 0 for w in weights.values()):
        raise ValueError(f"weights must be non-negative with a positive sum, got {dict(weights)}")
    return pd.DataFrame({k: transformed[k] * (w / 100.0) for k, w in weights.items()},
                        index=transformed.index)


def aggregate(weighted: pd.DataFrame) -> pd.Series:
    """Sum the weighted domain scores into the combined index score, column by column in
    order (the same order DEDI uses, so that DEDI with w = 0 is the IMD bit for bit)."""
    total = pd.Series(0.0, index=weighted.index)
    for c in weighted:
        total = total + weighted[c]
    return total


def decile(rank: pd.Series | np.ndarray, n: int) -> np.ndarray:
    """Decile of a rank (1 = most deprived 10%): ceil(10 * rank / N), as published."""
    return np.ceil(np.asarray(rank, dtype="float64") * 10.0 / n).astype("int64")


def combine_domain_ranks(
    ranks: pd.DataFrame, weights: Mapping[str, float], constant: float = 23.0
) -> pd.DataFrame:
    """The IMD from domain ranks: columns ``score``, ``rank`` and ``decile``.

    ``ranks`` has one column per domain named as in ``weights`` (1 = most deprived).
    """
    n = len(ranks)
    transformed = pd.DataFrame(
        {k: exponential_transform(normalise_rank(ranks[k], n), constant) for k in weights},
        index=ranks.index,
    )
    score = aggregate(weight(transformed, weights))
    rank = rank_most_deprived_first(score)
    return pd.DataFrame({"score": score, "rank": rank, "decile": decile(rank, n)},
                        index=ranks.index)
