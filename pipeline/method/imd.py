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


def weight(weights: Mapping[str, float | np.ndarray]) -> dict[str, float | np.ndarray]:
    """Domain weights in per cent as fractions (w / 100), checked non-negative with a positive
    sum; a weight may be an array (one per Monte Carlo draw)."""
    total = sum(weights.values())
    if np.any(np.asarray(total) <= 0) or any(np.any(np.asarray(w) < 0) for w in weights.values()):
        raise ValueError(f"weights must be non-negative with a positive sum, got {dict(weights)}")
    return {k: np.divide(w, 100.0) for k, w in weights.items()}


def aggregate(transformed: Mapping[str, np.ndarray], fractions: Mapping[str, float | np.ndarray]
              ) -> np.ndarray:
    """Σ_d X_d · f_d, summed domain by domain in the order of ``fractions``: the one weighted
    sum of domains, for the IMD and for DEDI (so DEDI with w = 0 is the IMD bit for bit).
    Weight arrays of shape (B, 1) give B scores per area at once, in one buffer."""
    shape = np.broadcast_shapes(*(np.shape(transformed[d]) for d in fractions),
                                *(np.shape(f) for f in fractions.values()))
    score, term = np.zeros(shape), np.empty(shape)
    for d, f in fractions.items():
        score += np.multiply(np.asarray(transformed[d], dtype="float64"), f, out=term)
    return score


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
    score = pd.Series(aggregate(transformed, weight(weights)), index=ranks.index)
    rank = rank_most_deprived_first(score)
    return pd.DataFrame({"score": score, "rank": rank, "decile": decile(rank, n)},
                        index=ranks.index)
