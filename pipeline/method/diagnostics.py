"""Diagnostics of the DX indicators: correlations, Cronbach's alpha, DX vs IMD domains,
effective versus nominal weights."""

from __future__ import annotations

import numpy as np
import pandas as pd


def correlation_long(oriented: pd.DataFrame, threshold: float = 0.9) -> pd.DataFrame:
    """Spearman correlations of every indicator pair (pairwise complete); |r| > threshold
    flagged as a double-counting risk."""
    r = oriented.corr(method="spearman")
    rows = [{"diagnostic": "indicator_correlation", "item": a, "other": b, "value": r.loc[a, b],
             "flag": bool(abs(r.loc[a, b]) > threshold)}
            for i, a in enumerate(r.index) for b in r.columns[i + 1:]]
    return pd.DataFrame(rows)


def cronbach_alpha(normalised: pd.DataFrame) -> float:
    """Cronbach's alpha of the (normalised) indicators over complete cases."""
    x = normalised.dropna()
    k = x.shape[1]
    if k < 2 or len(x) < 2:
        return float("nan")
    return float(k / (k - 1) * (1 - x.var(ddof=1).sum() / x.sum(axis=1).var(ddof=1)))


def dx_vs_domains(dx_score: pd.Series, domain_scores: pd.DataFrame) -> pd.DataFrame:
    """Spearman correlation of DX with each IMD domain score."""
    return pd.DataFrame([{"diagnostic": "dx_domain_correlation", "item": "dx", "other": d,
                          "value": float(dx_score.corr(domain_scores[d], method="spearman")),
                          "flag": False} for d in domain_scores])


def effective_weights(normalised: pd.DataFrame, nominal: dict[str, float],
                      dx_score: pd.Series) -> pd.DataFrame:
    """Realised share of DX variance from each indicator, wᵢ·cov(zᵢ, DX) / Var(DX)
    (sums to 1 over complete cases), beside its nominal weight."""
    x = normalised.dropna()
    dx = dx_score.loc[x.index]
    var = dx.var(ddof=1)
    rows = []
    for c in x:
        eff = nominal[c] * x[c].cov(dx) / var if var > 0 else np.nan
        rows.append({"diagnostic": "effective_weight", "item": c, "other": "nominal",
                     "value": float(eff), "nominal_weight": float(nominal[c]), "flag": False})
    return pd.DataFrame(rows)
