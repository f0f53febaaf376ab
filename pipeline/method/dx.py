"""The digital-exclusion domain (DX) and DEDI, built as the IoD builds its domains.

DX, as the IoD Health and Education domains: orient each indicator (higher = more excluded),
**normalise** (rank -> normal score Φ⁻¹((r − 0.5)/n)), **weight** (spec or factor-analysis
weights) and **aggregate** (weighted mean over the indicators an LSOA has), then rank.
DEDI, as the IMD: **transform** every domain rank exponentially and combine with the seven
official weights scaled by (1 − w) plus DX at w × (sum of official weights).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy.special import ndtri

from pipeline.method.iod import combine_domain_ranks, decile, rank_most_deprived_first


def orient(values: pd.DataFrame, directions: Mapping[str, int]) -> pd.DataFrame:
    """Multiply each indicator by its direction so that higher = more excluded."""
    return pd.DataFrame({k: values[k] * d for k, d in directions.items()}, index=values.index)


def normalise(values: pd.DataFrame, method: str = "normal_scores") -> pd.DataFrame:
    """Put oriented indicators on a common scale, column by column, ignoring missing values.

    normal_scores: Φ⁻¹((r − 0.5)/n), r the ascending rank (ties averaged) among the n LSOAs
    with a value (IoD); ranks: (r − 0.5)/n; zscores: (x − mean)/sd.
    """
    out = {}
    for c in values:
        x = values[c]
        n = x.notna().sum()
        if method == "zscores":
            sd = x.std(ddof=0)
            out[c] = (x - x.mean()) / sd if sd > 0 else x * 0.0
            continue
        p = (x.rank(method="average") - 0.5) / n
        out[c] = pd.Series(ndtri(p), index=x.index) if method == "normal_scores" else p
    return pd.DataFrame(out, index=values.index)


def weight(spec_weights: Mapping[str, float], columns: list[str]) -> np.ndarray:
    """Spec weights of ``columns`` normalised to sum 1."""
    w = np.array([float(spec_weights[c]) for c in columns])
    return w / w.sum()


def factor_analysis_weights(normalised: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Maximum-likelihood one-factor model on complete cases: (weights, loadings).

    Weights are the loadings scaled to sum 1 (negative loadings set to 0), as the IoD derives
    domain weights from factor analysis.
    """
    from sklearn.decomposition import FactorAnalysis

    complete = normalised.dropna()
    fa = FactorAnalysis(n_components=1, random_state=0).fit(complete.to_numpy())
    load = pd.Series(fa.components_[0], index=normalised.columns)
    if load.sum() < 0:
        load = -load
    w = load.clip(lower=0)
    return w / w.sum(), load


def aggregate(normalised: pd.DataFrame, w: np.ndarray,
              min_indicators: int = 1) -> tuple[pd.Series, pd.Series]:
    """Weighted mean over the indicators each LSOA has (weights re-normalised per LSOA).

    Returns (score, indicator count). LSOAs with fewer than ``min_indicators`` get NaN.
    """
    z = normalised.to_numpy(dtype="float64")
    have = ~np.isnan(z)
    num = np.where(have, z, 0.0) @ w
    den = have.astype("float64") @ w
    count = have.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        score = np.where((count >= min_indicators) & (den > 0), num / den, np.nan)
    return (pd.Series(score, index=normalised.index),
            pd.Series(count, index=normalised.index))


def dx_domain(indicators: pd.DataFrame, spec: dict) -> tuple[pd.DataFrame, dict]:
    """DX score, rank (1 = most excluded), decile and indicator count per LSOA.

    ``indicators`` holds the spec's input columns. Indicators with no values at all are
    dropped (and reported). Raises ValueError if an LSOA rests on too few indicators.
    """
    cfg = spec["dx"]
    ind = cfg["indicators"]
    present = {k: v for k, v in ind.items() if indicators[v["column"]].notna().any()}
    absent = sorted(set(ind) - set(present))
    values = indicators[[v["column"] for v in present.values()]].copy()
    values.columns = list(present)
    z = normalise(orient(values, {k: v["direction"] for k, v in present.items()}),
                  cfg["normalisation"])
    info: dict = {"indicators_used": list(present), "indicators_absent": absent}
    if cfg.get("weighting", "equal") == "factor_analysis":
        fw, load = factor_analysis_weights(z)
        w = fw.to_numpy()
        info["factor_loadings"] = load.round(4).to_dict()
    else:
        w = weight({k: v["weight"] for k, v in present.items()}, list(present))
    info["weights"] = dict(zip(present, np.round(w, 6).tolist(), strict=True))
    score, count = aggregate(z, w, int(cfg.get("min_indicators", 1)))
    if score.isna().any():
        few = indicators.index[score.isna()][:10].tolist()
        raise ValueError(f"{int(score.isna().sum())} LSOA(s) have fewer than "
                         f"{cfg.get('min_indicators')} DX indicators (e.g. rows {few}); lower "
                         "dx.min_indicators or supply the missing inputs")
    rank = rank_most_deprived_first(score)
    out = pd.DataFrame({"dx_score": score, "dx_rank": rank,
                        "dx_decile": decile(rank, len(rank)), "dx_indicator_count": count},
                       index=indicators.index)
    return out, {**info, "normalised": z}


def dedi_weights(imd_weights: Mapping[str, float], dx_weight: float) -> dict[str, float]:
    """The seven IMD weights scaled by (1 − w), and DX at w × their sum (per cent)."""
    total = sum(imd_weights.values())
    return {**{k: v * (1 - dx_weight) for k, v in imd_weights.items()}, "dx": dx_weight * total}


def dedi_index(domain_ranks: pd.DataFrame, dx_rank: pd.Series, imd_weights: Mapping[str, float],
               dx_weight: float, constant: float = 23.0) -> pd.DataFrame:
    """DEDI score, rank and decile: the IoD combination with DX as an eighth domain.

    With ``dx_weight`` = 0 this is exactly the IMD recomputed from the domain ranks.
    """
    ranks = domain_ranks.assign(dx=dx_rank.to_numpy())
    return combine_domain_ranks(ranks, dedi_weights(imd_weights, dx_weight), constant)
