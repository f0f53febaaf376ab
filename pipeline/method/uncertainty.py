"""COINr-style Monte Carlo uncertainty and sensitivity of DX and DEDI, fully vectorised.

Each draw perturbs: the DX weight w ~ U(range); the indicator weights ~ Dirichlet(c × spec
weights); the normalisation (one of the spec's methods, uniformly); and, if enabled, drops one
indicator (or none) uniformly. DX and DEDI are recomputed for every LSOA with matrix
products over batches of draws (no Python loop over LSOAs), and ranked per draw.

First-order sensitivity index of factor f (variance decomposition, "binning" estimator):
S_f = Var_f(E[rank | f]) / Var(rank), per LSOA, then averaged over LSOAs weighted by
Var(rank). Continuous factors (w; the indicator-weight draw, summarised by its first
principal component) are binned into 10 quantile bins; categorical factors are grouped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from pipeline.method.dx import normalise
from pipeline.method.iod import exponential_transform, normalise_rank


@dataclass
class MonteCarloResult:
    """Per-LSOA DEDI rank summaries, per-area rank summaries and sensitivity indices."""

    lsoa: pd.DataFrame
    areas: pd.DataFrame
    sensitivity: pd.DataFrame
    draws: pd.DataFrame


def _ranks(scores: np.ndarray) -> np.ndarray:
    """Row-wise ranks of a draws × units matrix, 1 = highest score, as int32."""
    order = np.argsort(-scores, axis=1)
    ranks = np.empty(scores.shape, dtype=np.int32)
    np.put_along_axis(ranks, order, np.arange(1, scores.shape[1] + 1, dtype=np.int32)[None, :],
                      axis=1)
    return ranks


def draw_factors(k: int, spec_weights: np.ndarray, mc: dict, rng: np.random.Generator
                 ) -> pd.DataFrame:
    """The perturbed inputs of every draw: w, method, dropped indicator, weights."""
    d = int(mc["draws"])
    lo, hi = mc["dx_weight_range"]
    methods = list(mc["normalisations"])
    w = rng.uniform(lo, hi, d)
    method = rng.integers(0, len(methods), d)
    drop = rng.integers(-1, k, d) if mc.get("leave_one_out", True) else np.full(d, -1)
    alpha = float(mc["dirichlet_concentration"]) * spec_weights / spec_weights.sum() * k
    weights = rng.dirichlet(alpha, d)
    mask = np.ones((d, k))
    keep = drop >= 0
    mask[np.flatnonzero(keep), drop[keep]] = 0.0
    weights = weights * mask
    weights /= weights.sum(axis=1, keepdims=True)
    out = pd.DataFrame({"dx_weight": w, "normalisation": [methods[i] for i in method],
                        "dropped": drop})
    out["weights"] = list(weights)
    return out


def run_monte_carlo(oriented: pd.DataFrame, spec_weights: np.ndarray, imd_part: np.ndarray,
                    imd_weight_total: float, mc: dict, areas: dict[str, np.ndarray],
                    population: np.ndarray, batch: int = 100) -> MonteCarloResult:
    """Run the draws.

    ``oriented``: N × K indicators (higher = more excluded, NaN = missing). ``imd_part``: the
    IMD score from the seven transformed domain ranks (Σ wᵢXᵢ). ``areas``: geography -> area
    code of each LSOA (for area average-score ranks). ``population``: LSOA weights.
    """
    n, k = oriented.shape
    rng = np.random.default_rng(int(mc["seed"]))
    draws = draw_factors(k, spec_weights, mc, rng)
    d = len(draws)
    have = ~np.isnan(oriented.to_numpy(dtype="float64"))
    zfill = {m: np.where(have, normalise(oriented, m).to_numpy(dtype="float64"), 0.0).T.copy()
             for m in mc["normalisations"]}  # K × N
    avail = have.astype("float64").T.copy()
    ranks = np.empty((d, n), dtype=np.int32)  # draws × LSOAs
    mats, area_ranks = {}, {}
    for g, codes in areas.items():
        idx, uniq = pd.factorize(codes)  # -1 = no area code: left out of this geography
        ok = idx >= 0
        m = sparse.csr_matrix((population[ok], (idx[ok], np.flatnonzero(ok))),
                              shape=(len(uniq), n))
        pop = np.asarray(m.sum(axis=1)).ravel()
        mats[g] = (uniq, m.T.tocsr(), pop)
        area_ranks[g] = np.empty((d, len(uniq)), dtype=np.int32)
    w_all = np.vstack(draws["weights"].to_numpy())
    method_of = draws["normalisation"].to_numpy()
    for start in range(0, d, batch):
        idx = np.arange(start, min(start + batch, d))
        dx = np.zeros((len(idx), n))
        for m in zfill:
            rows = np.flatnonzero(method_of[idx] == m)
            if len(rows):
                wm = w_all[idx[rows]]  # B × K
                num, den = wm @ zfill[m], wm @ avail
                dx[rows] = np.divide(num, den, out=np.zeros_like(num), where=den > 0)
        x_dx = exponential_transform(normalise_rank(_ranks(dx), n))
        wd = draws["dx_weight"].to_numpy()[idx][:, None]
        dedi = imd_part[None, :] * (1 - wd) + (wd * imd_weight_total / 100.0) * x_dx
        ranks[idx] = _ranks(dedi)
        for g, (_, mt, pop) in mats.items():
            area_ranks[g][idx] = _ranks(np.asarray(mt.T.dot(dedi.T)).T / pop[None, :])
    by_lsoa = np.sort(ranks.T, axis=1)  # LSOAs × draws
    pct = _percentiles(by_lsoa, [5, 50, 95])
    lsoa = pd.DataFrame({"dedi_rank_p05": pct[0], "dedi_rank_p50": pct[1],
                         "dedi_rank_p95": pct[2],
                         "dedi_prob_most_deprived_decile": (by_lsoa <= n / 10).mean(axis=1)},
                        index=oriented.index)
    out_areas = []
    for g, (uniq, _, _) in mats.items():
        p = _percentiles(np.sort(area_ranks[g].T, axis=1), [5, 50, 95])
        out_areas.append(pd.DataFrame({"geography": g, "area_code": uniq,
                                       "average_score_rank_p05": p[0],
                                       "average_score_rank_p50": p[1],
                                       "average_score_rank_p95": p[2]}))
    sens = first_order_indices(ranks, draws)
    return MonteCarloResult(lsoa, pd.concat(out_areas, ignore_index=True), sens,
                            draws.drop(columns="weights"))


def _percentiles(sorted_rows: np.ndarray, qs: list[float]) -> list[np.ndarray]:
    """Linear-interpolated percentiles of each row of an already sorted matrix."""
    d = sorted_rows.shape[1]
    out = []
    for q in qs:
        pos = (d - 1) * q / 100.0
        lo, hi = int(np.floor(pos)), int(np.ceil(pos))
        frac = pos - lo
        out.append(sorted_rows[:, lo] * (1 - frac) + sorted_rows[:, hi] * frac)
    return out


def _factor_groups(draws: pd.DataFrame) -> dict[str, np.ndarray]:
    w = np.vstack(draws["weights"].to_numpy())
    centred = w - w.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    pc1 = centred @ vt[0]

    def bins(x: np.ndarray, q: int = 10) -> np.ndarray:
        edges = np.unique(np.quantile(x, np.linspace(0, 1, q + 1)[1:-1]))
        return np.searchsorted(edges, x, side="right")

    return {"dx_weight": bins(draws["dx_weight"].to_numpy()),
            "indicator_weights": bins(pc1),
            "normalisation": pd.factorize(draws["normalisation"])[0],
            "indicator_left_out": pd.factorize(draws["dropped"])[0]}


def first_order_indices(ranks: np.ndarray, draws: pd.DataFrame) -> pd.DataFrame:
    """Variance-weighted mean over LSOAs of Var(E[rank | factor]) / Var(rank).

    ``ranks`` is draws × LSOAs.
    """
    y = ranks.astype("float32")
    var = y.var(axis=0, dtype="float64")
    total = var.sum()
    rows = []
    for name, g in _factor_groups(draws).items():
        groups = np.unique(g)
        share = np.array([(g == v).mean() for v in groups])
        means = np.vstack([y[g == v].mean(axis=0, dtype="float64") for v in groups])
        grand = share @ means
        between = share @ ((means - grand) ** 2)
        s = float(between.sum() / total) if total > 0 else 0.0
        rows.append({"factor": name, "first_order_index": s, "groups": len(groups),
                     "method": "binning estimator of Var(E[rank|factor])/Var(rank), "
                               "variance-weighted over LSOAs"})
    return pd.DataFrame(rows)
