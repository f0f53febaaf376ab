"""Diagnostics of the DX indicators: correlations, Cronbach's alpha, DX vs IMD domains,
effective versus nominal weights."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from pipeline.method.dx import DxStructure


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


def subdomain_reliability(normalised: pd.DataFrame, subdomain_of: dict[str, str],
                          loadings: pd.Series | None = None) -> pd.DataFrame:
    """Per sub-domain of 2+ indicators: Cronbach's alpha; of 3+: one-factor ML loadings."""
    from pipeline.method.dx import factor_analysis_weights

    rows = []
    for s in dict.fromkeys(subdomain_of.values()):
        cols = [k for k, v in subdomain_of.items() if v == s]
        if len(cols) < 2:
            continue
        rows.append({"diagnostic": "cronbach_alpha", "item": s, "other": ",".join(cols),
                     "value": cronbach_alpha(normalised[cols]), "flag": False})
        if len(cols) >= 3:
            have = loadings.reindex(cols) if loadings is not None else pd.Series(dtype=float)
            load = have if have.notna().all() and len(have) else factor_analysis_weights(
                normalised[cols])[1]
            rows += [{"diagnostic": "factor_loading", "item": k, "other": s,
                      "value": float(load[k]), "flag": bool(load[k] <= 0)} for k in cols]
    return pd.DataFrame(rows)


def effective_weights_structured(normalised: pd.DataFrame, subdomain_of: dict[str, str],
                                 subdomain_weights: dict[str, float],
                                 within: dict[str, float]) -> pd.DataFrame:
    """Effective weight of each national indicator in DX, over complete cases.

    DX ≈ Σ_s W_s·S_s/sd(S_s), S_s = Σ_i∈s w_i·z_i, i.e. DX ≈ Σ_i a_i·z_i with a_i =
    W_s·w_i/sd(S_s) (the sub-domain standardisation is monotone). The effective weight
    a_i·cov(z_i, DX)/Var(DX) is the share of DX's variance that indicator i carries; they sum
    to 1. A negative one flags an indicator working against the others.
    """
    x = normalised.dropna()
    a = {}
    for s, ws in subdomain_weights.items():
        cols = [k for k in x if subdomain_of[k] == s]
        tot = sum(within[k] for k in cols)
        score = sum(x[k] * within[k] / tot for k in cols)
        sd = score.std(ddof=1)
        for k in cols:
            a[k] = ws * within[k] / tot / sd if sd > 0 else 0.0
    dx = sum(x[k] * a[k] for k in a)
    var = dx.var(ddof=1)
    return pd.DataFrame([{"diagnostic": "effective_weight", "item": k,
                          "other": f"nominal {subdomain_of[k]} (complete cases: {len(x)} LSOAs)",
                          "value": float(a[k] * x[k].cov(dx) / var) if var > 0 else np.nan,
                          "nominal_weight": float(subdomain_weights[subdomain_of[k]] * within[k]
                                                  / sum(within[j] for j in a
                                                        if subdomain_of[j] == subdomain_of[k])),
                          "flag": bool(a[k] * x[k].cov(dx) <= 0)} for k in a])


def dx_diagnostics(oriented: pd.DataFrame, spec: dict, st: DxStructure,
                   weights: dict[str, float],
                   loadings: pd.Series, dx: pd.DataFrame, domain_scores: pd.DataFrame,
                   absent: dict[str, str]) -> pd.DataFrame:
    """Every diagnostic of DX in one long table (``indicator_diagnostics``): indicator
    correlations, sub-domain reliability, DX vs the IMD domains, effective weights, and the
    indicators flagged (double counting, not used, synthetic). ``dx``: ``int_dx_lsoa`` by LSOA;
    ``st``: DX's structure; ``absent``: indicator -> why it was not used."""
    from pipeline.method.dx import normalise

    cfg = spec["dx"]["indicators"]
    z = normalise(oriented, spec["dx"]["normalisation"])
    thr = spec.get("diagnostics", {}).get("double_counting_correlation", 0.9)
    parts = [
        correlation_long(oriented, thr),
        subdomain_reliability(z, st.subdomain_of, loadings),
        dx_vs_domains(dx["dx_score"], domain_scores),
        effective_weights_structured(z[st.national], st.subdomain_of, st.subdomain_weights,
                                     weights),
        pd.DataFrame([{"diagnostic": "double_counts_imd_domain", "item": k,
                       "other": cfg[k]["double_counts"], "value": np.nan, "flag": True}
                      for k in st.indicators if cfg[k].get("double_counts")]),
        pd.DataFrame([{"diagnostic": "indicator_not_used", "item": k, "other": why,
                       "value": np.nan, "flag": True} for k, why in absent.items()]),
        pd.DataFrame([{"diagnostic": "synthetic_input", "item": k, "other": "", "value": np.nan,
                       "flag": True} for k in (dx["dx_synthetic_inputs"].iloc[0] or "").split(",")
                      if k]),
    ]
    return pd.concat([p for p in parts if not p.empty], ignore_index=True)


def warm_up() -> None:
    """Import sklearn's factor analysis (a build does this in its side process)."""
    import sklearn.decomposition  # noqa: F401
