"""COINr-style Monte Carlo uncertainty and sensitivity of DX and DEDI.

Each draw perturbs: the DX weight w ~ U(w₀ − h, w₀ + h), centred on the spec's w₀; the
indicator weights ~ Dirichlet(c·K·w̄) centred on the weights the point estimate used (spec or
factor-analysis weights); the normalisation (one of the spec's methods, uniformly); the
aggregation of the routes (one of ``monte_carlo.aggregations``, uniformly, as COINr varies the
aggregation method); and, if enabled, drops one indicator (or none) uniformly. DX and DEDI
are then recomputed for every
LSOA by the very functions of the point estimate (:func:`pipeline.method.dx.dx_scores`,
:func:`~pipeline.method.dx.dedi_scores`), over batches of draws, and ranked per draw. With
every perturbation off, each draw reproduces the point estimate exactly.

First-order sensitivity index of factor f (variance decomposition, "binning" estimator):
S_f = Var_f(E[rank | f]) / Var(rank), per LSOA, then averaged over LSOAs weighted by
Var(rank). Continuous factors (w; the indicator-weight draw, summarised by its first
principal component) are binned into 10 quantile bins; categorical factors are grouped.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from pipeline.method.dx import (
    DxStructure,
    combine_dedi,
    dx_scores,
    normalise,
    rank_rows,
    transformed_rank_rows,
)


@dataclass
class MonteCarloResult:
    """Per-LSOA DEDI rank summaries, per-area rank summaries and sensitivity indices."""

    lsoa: pd.DataFrame
    areas: pd.DataFrame
    sensitivity: pd.DataFrame


def dx_weight_range(dx_weight: float, half_width: float) -> tuple[float, float]:
    """[w − h, w + h], with h shrunk so that the range stays inside [0, 1) and centred on w."""
    h = max(0.0, min(float(half_width), dx_weight, 0.999 - dx_weight))
    return dx_weight - h, dx_weight + h


def draw_factors(centre: np.ndarray, mc: dict, dx_weight: float, rng: np.random.Generator,
                 aggregation: str = "linear") -> pd.DataFrame:
    """The perturbed inputs of every draw: w, normalisation, aggregation, dropped indicator,
    weights.

    ``centre``: the point estimate's indicator weights (K). ``mc["dirichlet_concentration"]``
    null or 0 keeps the weights fixed; ``dx_weight_half_width`` 0 keeps w fixed;
    ``mc["aggregations"]`` of one method (or none: the spec's ``aggregation``) keeps it fixed.
    """
    d, k = int(mc["draws"]), len(centre)
    lo, hi = dx_weight_range(dx_weight, mc.get("dx_weight_half_width", 0.0))
    methods = list(mc["normalisations"])
    w = rng.uniform(lo, hi, d) if hi > lo else np.full(d, float(dx_weight))
    method = rng.integers(0, len(methods), d)
    drop = rng.integers(-1, k, d) if mc.get("leave_one_out", True) else np.full(d, -1)
    conc = mc.get("dirichlet_concentration")
    pos = centre > 0
    weights = np.tile(centre.astype("float64"), (d, 1))
    if conc and pos.sum() > 1:
        alpha = float(conc) * centre[pos] / centre[pos].sum() * pos.sum()
        weights[:, pos] = rng.dirichlet(alpha, d)
    keep = drop >= 0
    weights[np.flatnonzero(keep), drop[keep]] = 0.0
    aggs = list(mc.get("aggregations") or [aggregation])
    # drawn last, so the other factors' draws do not depend on whether it varies
    agg = rng.integers(0, len(aggs), d) if len(aggs) > 1 else np.zeros(d, dtype=int)
    out = pd.DataFrame({"dx_weight": w, "normalisation": [methods[i] for i in method],
                        "aggregation": [aggs[i] for i in agg], "dropped": drop})
    out["weights"] = list(weights)
    return out


def run_monte_carlo(oriented: pd.DataFrame, structure: DxStructure, centre: np.ndarray,
                    transformed: dict[str, np.ndarray], imd_weights: dict[str, float],
                    dx_weight: float, mc: dict, areas: dict[str, np.ndarray],
                    population: np.ndarray, la_codes: np.ndarray, constant: float = 23.0,
                    batch: int = 25, threads: int | None = None,
                    aggregation: str = "linear") -> MonteCarloResult:
    """Run the draws.

    ``oriented``: N × K indicators in ``structure.indicators`` order (higher = more
    excluded, NaN = missing). ``transformed``: the seven exponentially transformed IMD domain
    ranks. ``areas``: geography -> area code of each LSOA (for area average-score ranks).
    ``population``: LSOA weights; ``la_codes``: each LSOA's LTLA (local layer). ``batch``:
    draws per batch; small batches keep numpy's temporaries (25 × 33,755 doubles) off fresh
    memory pages, which made batches of 100 about 20% slower. ``aggregation``: the spec's
    (``dx.aggregation``), used when ``mc`` names no ``aggregations``.
    """
    n = len(oriented)
    rng = np.random.default_rng(int(mc["seed"]))
    draws = draw_factors(centre, mc, dx_weight, rng, aggregation)
    d = len(draws)
    groups = {k: pd.Series(la_codes, index=oriented.index) for k in structure.local}
    z = {m: normalise(oriented, m, groups).T.to_numpy() for m in mc["normalisations"]}  # K × N
    # draws × LSOAs; ranks fit 16 bits for England (33,755): 10,000 draws hold 0.7 GB
    ranks = np.empty((d, n), dtype=np.uint16 if n < 2**16 else np.int32)
    # every geography's population-weighted sums in one sparse product: areas × LSOAs
    blocks, uniqs, area_ranks = [], {}, {}
    for g, codes in areas.items():
        idx, uniq = pd.factorize(codes)  # -1 = no area code: left out of this geography
        ok = idx >= 0
        blocks.append(sparse.csr_matrix((population[ok], (idx[ok], np.flatnonzero(ok))),
                                        shape=(len(uniq), n)))
        uniqs[g] = uniq
        area_ranks[g] = np.empty((d, len(uniq)), dtype=np.int32)
    weigh = sparse.vstack(blocks, format="csr")
    area_pop = np.asarray(weigh.sum(axis=1)).ravel()
    cuts = np.cumsum([len(u) for u in uniqs.values()])[:-1]
    w_all = np.vstack(draws["weights"].to_numpy())
    method_of = draws["normalisation"].to_numpy()
    agg_of = draws["aggregation"].to_numpy()
    wd_all = draws["dx_weight"].to_numpy()

    def one_batch(start: int) -> None:
        idx = np.arange(start, min(start + batch, d))
        dedi = np.empty((len(idx), n))
        for m in z:
            for a in dict.fromkeys(agg_of):
                rows = np.flatnonzero((method_of[idx] == m) & (agg_of[idx] == a))
                if len(rows):
                    dx, _ = dx_scores(z[m], w_all[idx[rows]], structure, m, la_codes,
                                      population, a, constant)
                    dedi[rows] = combine_dedi(transformed, transformed_rank_rows(dx, constant),
                                              imd_weights, wd_all[idx[rows]])
        these = slice(idx[0], idx[-1] + 1)
        rank_rows(dedi, out=ranks[these])
        averages = np.asarray(weigh @ dedi.T).T / area_pop[None, :]
        for g, a in zip(area_ranks, np.split(averages, cuts, axis=1), strict=True):
            rank_rows(a, out=area_ranks[g][these])

    # percentiles streamed over blocks of LSOAs: no second draws × LSOAs copy in memory
    pct = np.empty((4, n))

    def one_block(cols: slice) -> None:
        # block LSOAs × draws; a stable sort of 16-bit ranks is numpy's radix sort
        by_lsoa = np.sort(ranks[:, cols].T, axis=1, kind="stable")
        pct[:3, cols] = _percentiles(by_lsoa, [5, 50, 95])
        pct[3, cols] = (by_lsoa <= n / 10).mean(axis=1)

    # Batches write disjoint rows and every draw's factors were drawn above, so the result
    # does not depend on the threads (numpy's sorts and ufuncs release the GIL).
    with ThreadPoolExecutor(max_workers=threads or os.cpu_count() or 1) as pool:
        list(pool.map(one_batch, range(0, d, batch)))
        # blocks of LSOAs are disjoint too: their sorts run on the threads as well
        list(pool.map(one_block, _blocks(n, d, cells=2**23)))
    lsoa = pd.DataFrame({"dedi_rank_p05": pct[0], "dedi_rank_p50": pct[1],
                         "dedi_rank_p95": pct[2], "dedi_prob_most_deprived_decile": pct[3]},
                        index=oriented.index)
    out_areas = []
    for g, uniq in uniqs.items():
        p = _percentiles(np.sort(area_ranks[g].T, axis=1), [5, 95])
        out_areas.append(pd.DataFrame({"geography": g, "area_code": uniq,
                                       "average_score_rank_p05": p[0],
                                       "average_score_rank_p95": p[1]}))
    sens = first_order_indices(ranks, draws, threads)
    return MonteCarloResult(lsoa, pd.concat(out_areas, ignore_index=True), sens)


def _blocks(n: int, d: int, cells: int = 2**25) -> list[slice]:
    """Column blocks of a d × n matrix holding about ``cells`` values each."""
    step = max(1, cells // max(d, 1))
    return [slice(i, min(i + step, n)) for i in range(0, n, step)]


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
            "aggregation": pd.factorize(draws["aggregation"])[0],
            "indicator_left_out": pd.factorize(draws["dropped"])[0]}


def first_order_indices(ranks: np.ndarray, draws: pd.DataFrame, threads: int | None = None
                        ) -> pd.DataFrame:
    """Variance-weighted mean over LSOAs of Var(E[rank | factor]) / Var(rank).

    ``ranks`` is draws × LSOAs.
    """
    factors = _factor_groups(draws)
    d = ranks.shape[0]
    # one membership matrix (all factors' groups × draws): every group mean of every LSOA
    # is one matrix product per block of LSOAs
    names, blocks = [], []
    for name, g in factors.items():
        groups = np.unique(g)
        names += [name] * len(groups)
        blocks.append((groups[:, None] == g[None, :]).astype("float64"))
    member = np.vstack(blocks)
    count = member.sum(axis=1)

    def terms(cols: slice) -> tuple[float, np.ndarray]:
        y = ranks[:, cols].astype("float64")
        grand = y.mean(axis=0)
        means = (member @ y) / count[:, None]
        between = (count / d) * ((means - grand) ** 2).sum(axis=1)
        # Σ (y − ȳ)² in y's own buffer: the same sum as on a fresh array, without one
        return float(np.square(np.subtract(y, grand, out=y), out=y).sum() / d), between

    # blocks that stay in cache, on threads; summed in block order (as on one thread)
    with ThreadPoolExecutor(max_workers=threads or os.cpu_count() or 1) as pool:
        parts = list(pool.map(terms, _blocks(ranks.shape[1], d, cells=2**20)))
    total, between = 0.0, np.zeros(len(names))
    for block_total, block_between in parts:
        total += block_total
        between += block_between
    by_factor = pd.Series(between, index=names).groupby(level=0, sort=False).sum()
    rows = []
    for name, g in factors.items():
        s = float(by_factor[name]) / total if total > 0 else 0.0
        rows.append({"factor": name, "first_order_index": s, "groups": len(np.unique(g)),
                     "method": "binning estimator of Var(E[rank|factor])/Var(rank), "
                               "variance-weighted over LSOAs"})
    return pd.DataFrame(rows)
