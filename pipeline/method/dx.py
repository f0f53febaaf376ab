"""The digital-exclusion domain (DX) and DEDI, built as the IoD builds its domains.

DX, as the IoD Education and Barriers domains, in named steps:

1. **orient** each indicator (higher = more excluded);
2. **normalise** it (rank -> normal score Φ⁻¹((r − 0.5)/n)); local-authority proxies are
   normalised *within* each supplying LA;
3. **weight** indicators within their sub-domain (spec weights, or factor-analysis loadings);
4. **aggregate** each sub-domain (a route into digital exclusion: weighted mean over the
   indicators an LSOA has), then **transform** it: ``exponential`` (default) ranks the
   sub-domain score and applies the IoD exponential transformation, as the IoD does to its
   domains before weighting, so one route does not cancel another; ``linear`` standardises
   it again (rank -> normal score) instead;
5. **combine** the sub-domains with their weights into national DX (a weighted mean);
6. **layer** local proxies: within each supplying LA they reorder LSOAs around the LA's own
   population-weighted mean DX, which they leave unchanged (see docs/method.md);
7. **rank** DX (1 = most excluded).

DEDI, as the IMD: **transform** every domain rank exponentially and combine with the seven
official weights scaled by (1 − w) plus DX at w × (sum of official weights).

Every step is vectorised over a batch of B weight sets ("draws"), so the point estimate
(B = 1, spec values) and the Monte Carlo (pipeline/method/uncertainty.py) run the very same
code; sums run in a fixed order so results do not depend on the batch size.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pandas as pd
from scipy.special import ndtri

from pipeline.method import imd
from pipeline.method.imd import decile, exponential_transform, normalise_rank
from pipeline.method.spec import AGGREGATIONS, SpecError, double_counts

METHODS = ("normal_scores", "ranks", "zscores")


@dataclass(frozen=True)
class DxStructure:
    """The spec resolved for one build: which indicators are used, where each one sits."""

    indicators: list[str]                 # column order of every indicator matrix (K)
    subdomain_of: dict[str, str]          # national indicator -> sub-domain
    subdomain_weights: dict[str, float]   # present sub-domains, weights summing to 1
    local: list[str]                      # local-authority proxies (layer)
    local_weight: float                   # share of DX given to the local layer, where supplied
    min_indicators: int
    dropped: dict[str, str] = field(default_factory=dict)  # indicator -> why it is not used

    @property
    def national(self) -> list[str]:
        return [k for k in self.indicators if k not in self.local]

    def members(self, subdomain: str) -> list[int]:
        """Positions (in ``indicators``) of a sub-domain's indicators."""
        return [i for i, k in enumerate(self.indicators) if self.subdomain_of.get(k) == subdomain]


def resolve_structure(spec: dict, present: set[str]) -> DxStructure:
    """Indicators used by this build: present in the data, and kept by the spec's variant."""
    cfg = spec["dx"]
    variant = cfg.get("variant", "full_risk")
    dropped: dict[str, str] = {}
    used = []
    for name, ind in cfg["indicators"].items():
        if name not in present:
            dropped[name] = "absent: no data supplied"
        elif variant == "net_of_imd" and double_counts(ind):
            dropped[name] = (f"net_of_imd: the IMD {', '.join(double_counts(ind))} domain(s) "
                             "count it")
        elif float(ind["weight"]) == 0:
            dropped[name] = "weight 0"
        else:
            used.append(name)
    local = [k for k in used if cfg["indicators"][k].get("local")]
    national = [k for k in used if k not in local]
    sub_of = {k: cfg["indicators"][k]["subdomain"] for k in national}
    raw = {s: float(v["weight"]) for s, v in cfg["subdomains"].items() if s in sub_of.values()}
    if not raw:
        raise ValueError("no national DX indicator has data (supply at least one of "
                         f"{sorted(k for k, v in cfg['indicators'].items() if not v.get('local'))})")
    total = sum(raw.values())
    if total <= 0:
        raise SpecError(f"dx.subdomains: the routes with data ({', '.join(raw)}) all have "
                        "weight 0; give one of them a positive weight")
    return DxStructure(national + local, sub_of, {s: w / total for s, w in raw.items()}, local,
                       float(cfg.get("local_layer", {}).get("weight", 0.0)) if local else 0.0,
                       min(int(cfg.get("min_indicators", 1)), len(national)), dropped)


def orient(values: pd.DataFrame, directions: Mapping[str, int]) -> pd.DataFrame:
    """Multiply each indicator by its direction so that higher = more excluded."""
    return pd.DataFrame({k: values[k] * d for k, d in directions.items()}, index=values.index)


def _average_ranks(x: np.ndarray) -> np.ndarray:
    """Row-wise ascending ranks of ``x`` (B × N), ties averaged, NaN left NaN (as
    ``rankdata(..., method="average", nan_policy="omit")``, but one stable argsort per row;
    pandas' ``rank`` is used only for the rows that have ties)."""
    return _rank_scores(x, _rank)


def _rank_scores(x: np.ndarray, score: Callable[[np.ndarray, np.ndarray], np.ndarray]
                 ) -> np.ndarray:
    """``score(r, n)`` of each value's ascending rank r among the row's n non-missing values
    (ties averaged; NaN stays NaN), element by element.

    A row without ties has ranks 1..n in its sort order, so it takes ``score`` of those
    once (cached per n and N) and scatters them: no B × N rank matrix and no B × N pass of
    ``score`` (Φ⁻¹ for normal scores). Rows with ties take average ranks (pandas' ``rank``).
    """
    x = np.atleast_2d(x)
    order = _argsort_rows(x)  # NaN sorts last
    srt = _take_rows(x, order)
    tied = (srt[:, 1:] == srt[:, :-1]).any(axis=-1)  # NaN never equals NaN
    have = x.shape[-1] - np.count_nonzero(np.isnan(x), axis=-1)
    out = np.empty(x.shape)
    for row, o, t, n in zip(out, order, tied, have, strict=True):
        if not t:
            row[o] = _score_table(score, x.shape[-1], int(n))
    if tied.any():
        # pandas' average ranks, NaN left NaN: equal to scipy's rankdata(..., nan_policy=
        # "omit"), without importing scipy.stats (~0.3 s) into the build
        r = pd.DataFrame(x[tied]).rank(axis=1, method="average").to_numpy()
        n = np.maximum(have[tied], 1)[:, None].astype("float64")
        out[tied] = score(r, n)  # NaN stays NaN
    return out


@lru_cache(maxsize=64)
def _score_table(score: Callable, size: int, n: int) -> np.ndarray:
    """``score(r, n)`` for r = 1..n, then NaN up to ``size`` (shared: read, never written)."""
    t = np.full(size, np.nan)
    t[:n] = score(np.arange(1.0, n + 1), np.full(n, float(max(n, 1))))
    return t


def _standardise(x: np.ndarray, method: str) -> np.ndarray:
    """Standardise each row of ``x`` (B × N) over its non-missing values."""
    if method == "zscores":
        have = ~np.isnan(x)
        n = have.sum(axis=-1, keepdims=True)
        xs = np.where(have, x, 0.0)
        nn = np.maximum(n, 1)
        mean = xs.sum(axis=-1, keepdims=True) / nn
        sd = np.sqrt((np.where(have, x - mean, 0.0) ** 2).sum(axis=-1, keepdims=True) / nn)
        return np.divide(x - mean, sd, out=np.zeros_like(x), where=sd > 0) + np.where(have, 0, np.nan)
    if method not in METHODS:
        raise ValueError(f"unknown normalisation {method!r} (one of {METHODS})")
    return _rank_scores(x, _normal_score if method == "normal_scores" else _rank_score)


def _rank(r: np.ndarray, n: np.ndarray) -> np.ndarray:
    """The rank itself."""
    return r


def _rank_score(r: np.ndarray, n: np.ndarray) -> np.ndarray:
    """(r − 0.5)/n: a rank on (0, 1)."""
    return (r - 0.5) / n


def _normal_score(r: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Φ⁻¹((r − 0.5)/n): the IoD's normal score of a rank."""
    return ndtri((r - 0.5) / n)


def normalise(values: pd.DataFrame, method: str = "normal_scores",
              groups: Mapping[str, pd.Series] | None = None) -> pd.DataFrame:
    """Put oriented indicators on a common scale, column by column, ignoring missing values.

    normal_scores: Φ⁻¹((r − 0.5)/n), r the ascending rank (ties averaged) among the n LSOAs
    with a value (IoD); ranks: (r − 0.5)/n; zscores: (x − mean)/sd. A column named in
    ``groups`` is normalised separately within each group (e.g. within each supplying LA).
    """
    out = {}
    for c in values:
        x = values[c].to_numpy(dtype="float64")
        g = (groups or {}).get(c)
        if g is None:
            out[c] = _standardise(x[None, :], method)[0]
            continue
        z = np.full(len(x), np.nan)
        for _, pos in pd.Series(np.arange(len(x))).groupby(g.to_numpy()).groups.items():
            pos = np.asarray(pos)
            z[pos] = _standardise(x[pos][None, :], method)[0]
        out[c] = z
    return pd.DataFrame(out, index=values.index)


def factor_analysis_weights(normalised: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Maximum-likelihood one-factor model on complete cases: (weights, loadings).

    Weights are the loadings scaled to sum 1 (negative loadings set to 0), as the IoD derives
    domain weights from factor analysis. Fewer than 3 indicators identify no factor: equal.
    """
    from sklearn.decomposition import FactorAnalysis

    cols = normalised.columns
    if len(cols) < 3:
        equal = pd.Series(1.0 / len(cols), index=cols)
        return equal, pd.Series(np.nan, index=cols)
    complete = normalised.dropna()
    fa = FactorAnalysis(n_components=1, random_state=0, svd_method="lapack").fit(
        complete.to_numpy())  # exact SVD of the p columns: the randomized default is ~15x slower
    load = pd.Series(fa.components_[0], index=cols)
    if load.sum() < 0:
        load = -load
    w = load.clip(lower=0)
    return w / w.sum(), load


def indicator_weights(z: pd.DataFrame, spec: dict, structure: DxStructure
                      ) -> tuple[np.ndarray, dict[str, float]]:
    """Weights of the used indicators (each sub-domain's, and the local layer's, sum to 1)
    and factor loadings when ``dx.weighting`` is ``factor_analysis``."""
    ind = spec["dx"]["indicators"]
    w = pd.Series({k: float(ind[k]["weight"]) for k in structure.indicators})
    loadings: dict[str, float] = {}
    groups = {s: [k for k in structure.national if structure.subdomain_of[k] == s]
              for s in structure.subdomain_weights}
    if structure.local:
        groups["local_layer"] = structure.local
    for _, cols in groups.items():
        if spec["dx"].get("weighting", "equal") == "factor_analysis" and len(cols) >= 3:
            fw, load = factor_analysis_weights(z[cols])
            w[cols] = fw
            loadings.update(load.round(4).to_dict())
        else:
            w[cols] = w[cols] / w[cols].sum()
    return w.to_numpy(), loadings


def aggregate(z: np.ndarray | Sequence[np.ndarray], w: np.ndarray) -> np.ndarray:
    """Weighted mean over the indicators each LSOA has (weights re-normalised per LSOA).

    ``z``: K × N (or K × B × N, or a list of K such arrays) normalised indicators, NaN =
    missing. ``w``: K or B × K weights. Returns B × N scores (B = 1 for a single weight
    vector); NaN where an LSOA has no indicator with positive weight. Sums run over k in
    order, whatever B is; an indicator with no missing value adds its weight to the
    denominator without a B × N mask (the same sums, fewer passes over memory).
    """
    w = np.atleast_2d(w)
    shape = np.broadcast_shapes(w[:, :1].shape, np.shape(z[0]))
    num, tmp = np.zeros(shape), np.empty(shape)
    den: np.ndarray = np.zeros((w.shape[0], 1))
    for k in range(w.shape[1]):
        zk, wk = z[k], w[:, k, None]
        missing = np.isnan(zk)
        if missing.any():
            np.multiply(np.where(missing, 0.0, zk), wk, out=tmp)
            den = den + ~missing * wk
        else:
            np.multiply(zk, wk, out=tmp)
            den = den + wk
        num += tmp
    den = np.broadcast_to(den, shape)
    return np.divide(num, den, out=np.full(shape, np.nan), where=den > 0)


def layer_local(national: np.ndarray, layer: np.ndarray, la_codes: np.ndarray,
                population: np.ndarray, weight_share: float) -> np.ndarray:
    """Fair local layering: DX = (1 − λ)·national + λ·v + c where a local proxy is supplied,
    with v = m + s·(L − L̄)/s_L per supplying LA (m, s: population-weighted mean and sd of
    national DX; L̄, s_L: of the within-LA layer score L, over the LSOAs with L) and c the
    constant that keeps the LA's population-weighted mean national rank unchanged. The LA as
    a whole does not move; its LSOAs reorder in the proxy's direction.
    ``national`` and ``layer`` are B × N; LSOAs with no layer value keep national DX.
    """
    out = national.copy()
    if weight_share <= 0:
        return out
    have = ~np.isnan(layer)
    ranked = np.sort(np.where(np.isnan(national), -np.inf, national), axis=1)  # national CDF
    cols, hs, ps, tots, mixed = [], [], [], [], []  # per supplying LA
    for la in pd.unique(la_codes[have.any(axis=0)]):
        c = np.flatnonzero(la_codes == la)
        h = have[:, c]
        p = np.where(h, population[c][None, :], 0.0)
        tot = p.sum(axis=1, keepdims=True)
        nat, lay = national[:, c], np.where(h, layer[:, c], 0.0)

        def wmean(x: np.ndarray, p=p, tot=tot) -> np.ndarray:
            return np.divide((p * x).sum(axis=1, keepdims=True), tot, out=np.zeros_like(tot),
                             where=tot > 0)

        m, lbar = wmean(np.where(h, nat, 0.0)), wmean(lay)
        s = np.sqrt(wmean(np.where(h, (nat - m) ** 2, 0.0)))
        s_l = np.sqrt(wmean(np.where(h, (lay - lbar) ** 2, 0.0)))
        v = m + s * np.divide(lay - lbar, s_l, out=np.zeros_like(lay), where=s_l > 0)
        cols.append(c)
        hs.append(h)
        ps.append(p)
        tots.append(tot)
        mixed.append(np.where(h, (1 - weight_share) * nat + weight_share * v, nat))
    if not cols:
        return out
    sizes = [len(c) for c in cols]
    cols, h, after = np.concatenate(cols), np.hstack(hs), np.hstack(mixed)
    before = national[:, cols]
    shift = _rank_offsets(ranked, before, after, h, np.hstack(ps), np.hstack(tots), sizes)
    out[:, cols] = np.where(h, after + np.repeat(shift, sizes, axis=1), before)
    return out


def _rank_offsets(ranked: np.ndarray, before: np.ndarray, after: np.ndarray, h: np.ndarray,
                  p: np.ndarray, tot: np.ndarray, sizes: list[int]) -> np.ndarray:
    """Per row and LA (B × L), the constant c that keeps the population-weighted mean national
    percentile of the LA's layered LSOAs (``h``) as it was: ranks are not linear in scores, so
    a mean-preserving spread alone would move the LA's mean rank. Bisection on the national
    distribution, every LA at once (one search per row and step, not one per LA). The columns
    are the LAs' LSOAs side by side (``sizes``; ``tot``: each LA's total population); each
    LA's sums run over its own LSOAs, so c does not depend on which other LAs layer."""
    edges = np.cumsum([0, *sizes])
    segments = list(zip(edges[:-1], edges[1:], strict=True))
    denominator = np.where(tot > 0, tot, 1)

    def mean_pct(x: np.ndarray) -> np.ndarray:
        # national values below each x: searched in increasing order of x (about 3x faster
        # than in column order; the counts are the same)
        order = np.argsort(x, axis=1)
        keys = _take_rows(x, order)
        pos = np.empty(x.shape, dtype=np.int64)
        for b in range(len(x)):
            pos[b, order[b]] = np.searchsorted(ranked[b], keys[b])
        w = p * pos
        return np.hstack([w[:, a:z].sum(axis=1, keepdims=True) for a, z in segments]
                         ) / denominator

    target = mean_pct(before)
    moved = np.abs(np.where(h, after - before, 0.0))
    spread = np.maximum.reduceat(moved, edges[:-1], axis=1) + 1e-9
    lo, hi = -spread, spread
    for _ in range(40):
        mid = (lo + hi) / 2
        above = mean_pct(np.where(h, after + np.repeat(mid, sizes, axis=1), after)) > target
        hi, lo = np.where(above, mid, hi), np.where(above, lo, mid)
    return (lo + hi) / 2


@lru_cache(maxsize=8)
def _exponential_score(constant: float) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """The IoD exponential transformation of an ascending rank r of n (r/n = R, the most
    excluded LSOA R = 1 -> 100); one function object per constant, so its tables cache."""
    def score(r: np.ndarray, n: np.ndarray) -> np.ndarray:
        return exponential_transform(r / n, constant)
    return score


def transform_subdomain(score: np.ndarray, aggregation: str, method: str, indicators: int,
                        constant: float = 23.0) -> np.ndarray:
    """A sub-domain's aggregated score (B × N) put on the scale it is combined on.

    ``exponential``: rank (ties averaged; the most excluded of n LSOAs has r = n), R = r/n,
    X = −C·ln(1 − R·(1 − e^(−100/C))), as the IoD transforms domain ranks. ``linear``:
    standardised again by ``method`` (a sub-domain of one indicator is already on it).
    """
    if aggregation == "exponential":
        return _rank_scores(score, _exponential_score(float(constant)))
    if aggregation != "linear":
        raise ValueError(f"unknown aggregation {aggregation!r} (one of {AGGREGATIONS})")
    return score if indicators == 1 else _standardise(score, method)


def dx_scores(z: np.ndarray, w: np.ndarray, structure: DxStructure, method: str,
              la_codes: np.ndarray, population: np.ndarray, aggregation: str = "linear",
              constant: float = 23.0) -> tuple[np.ndarray, dict]:
    """DX scores (B × N) from normalised indicators ``z`` (K × N, in ``structure`` order) and
    weights ``w`` (B × K): aggregate and transform each sub-domain, combine, layer.

    Also returns the transformed sub-domain scores (B × N each) and the local layer score.
    """
    w = np.atleast_2d(w)
    subs, sub_w = {}, []
    for s, ws in structure.subdomain_weights.items():
        idx = structure.members(s)
        subs[s] = transform_subdomain(aggregate(z[idx], w[:, idx]), aggregation, method,
                                      len(idx), constant)
        sub_w.append(ws)
    national = aggregate(list(subs.values()), np.array(sub_w))
    local_idx = [structure.indicators.index(k) for k in structure.local]
    layer = (aggregate(z[local_idx], w[:, local_idx]) if local_idx
             else np.full(national.shape, np.nan))
    dx = layer_local(national, layer, la_codes, population, structure.local_weight)
    return dx, {"subdomains": subs, "layer": layer}


def route_contributions(subdomains: Mapping[str, np.ndarray], weights: Mapping[str, float]
                        ) -> pd.DataFrame:
    """Each route's part of national DX per LSOA: W_s·S_s / Σ W over the routes the LSOA
    has (the terms of :func:`aggregate`), N × routes. ``subdomains``: 1-D scores."""
    names = list(subdomains)
    s = np.vstack([np.asarray(subdomains[k], dtype="float64") for k in names])
    w = np.array([float(weights[k]) for k in names])[:, None]
    den = (~np.isnan(s) * w).sum(axis=0)
    part = np.divide(np.where(np.isnan(s), np.nan, s * w), den, out=np.full(s.shape, np.nan),
                     where=den > 0)
    return pd.DataFrame(part.T, columns=names)


def leading_route(subdomains: Mapping[str, np.ndarray], weights: Mapping[str, float]
                  ) -> np.ndarray:
    """The route that puts each LSOA where it is: the largest term W_s·S_s of its DX (ties:
    the first route in spec order; None where the LSOA has no route)."""
    part = route_contributions(subdomains, weights)
    have = part.notna().any(axis=1).to_numpy()
    best = part.fillna(-np.inf).to_numpy().argmax(axis=1)
    return np.where(have, np.array(part.columns, dtype=object)[best], None)


def _argsort_rows(x: np.ndarray) -> np.ndarray:
    """Row-wise stable argsort (NaN last, ties in position order), in two linear-ish passes.

    Each row is first put in order of 65,536 equal-width buckets of its range by numpy's
    radix sort (stable, for 16-bit keys); numpy's stable sort (timsort) then finishes the
    now nearly sorted values. Equal values share a bucket, so ties keep their position
    order and the result equals ``np.argsort(x, kind="stable")`` exactly, at about half the
    cost of one introsort on 33,755 values. Rows with infinities take the plain stable sort.
    """
    x = np.atleast_2d(x)
    lo = np.fmin.reduce(x, axis=-1, keepdims=True)  # NaN ignored, no warning
    hi = np.fmax.reduce(x, axis=-1, keepdims=True)
    if not (np.isfinite(lo).all() and np.isfinite(hi).all()):
        return np.argsort(x, axis=-1, kind="stable")
    scale = 65535.0 / np.where(hi > lo, hi - lo, 1.0)
    with np.errstate(invalid="ignore"):
        bucket = np.where(np.isnan(x), 65535, (x - lo) * scale).astype(np.uint16)
    first = np.argsort(bucket, axis=-1, kind="stable")
    then = np.argsort(_take_rows(x, first), axis=-1, kind="stable")
    return _take_rows(first, then)


def _take_rows(x: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """``np.take_along_axis(x, idx, axis=-1)`` for 2-D arrays, as one flat gather (about
    twice as fast: no broadcast index arrays)."""
    n = x.shape[-1]
    return np.take(x.ravel(), idx + (np.arange(len(idx), dtype=idx.dtype) * n)[:, None])


def rank_rows(scores: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Row-wise ranks of a B × N matrix, 1 = highest score; ties by position (as the IoD
    ranks and :func:`pipeline.method.imd.rank_most_deprived_first`). Written into ``out``
    (B × N, any integer type wide enough) when given."""
    scores = np.atleast_2d(scores)
    out = np.empty(scores.shape, dtype=np.int64) if out is None else out
    _scatter_rows(out, _argsort_rows(-scores), np.arange(1, scores.shape[1] + 1, dtype=out.dtype))
    return out


def transformed_rank_rows(scores: np.ndarray, constant: float = 23.0) -> np.ndarray:
    """``exponential_transform(normalise_rank(rank_rows(scores)))`` (B × N) without the rank
    matrix: rank r always transforms to the same value, so each row scatters one table of
    the N transformed ranks, computed element by element as the direct way does."""
    scores = np.atleast_2d(scores)
    out = np.empty(scores.shape)
    _scatter_rows(out, _argsort_rows(-scores), _transform_table(scores.shape[1], constant))
    return out


@lru_cache(maxsize=8)
def _transform_table(n: int, constant: float) -> np.ndarray:
    """The exponentially transformed ranks 1..n (shared: read, never written)."""
    return exponential_transform(normalise_rank(np.arange(1, n + 1), n), constant)


def _scatter_rows(out: np.ndarray, order: np.ndarray, values: np.ndarray) -> None:
    """``out[b, order[b]] = values`` for every row b (a scatter per row: no broadcast
    indices)."""
    for row, o in zip(out, order, strict=True):
        row[o] = values


def dedi_weights(imd_weights: Mapping[str, float], dx_weight: float | np.ndarray
                 ) -> dict[str, float | np.ndarray]:
    """The seven IMD weights scaled by (1 − w), and DX at w × their sum (per cent)."""
    total = sum(imd_weights.values())
    return {**{k: v * (1 - dx_weight) for k, v in imd_weights.items()}, "dx": dx_weight * total}


def dedi_scores(transformed: Mapping[str, np.ndarray], dx_rank: np.ndarray,
                imd_weights: Mapping[str, float], dx_weight: np.ndarray,
                constant: float = 23.0) -> np.ndarray:
    """DEDI scores (B × N): Σ_d X_d·w′_d/100 over the seven transformed IMD domains (in
    ``imd_weights`` order) plus DX's transformed rank at w·Σw_d. With w = 0 this is the
    IMD recomputed exactly as :func:`pipeline.method.imd.combine_domain_ranks` does."""
    dx_rank = np.atleast_2d(dx_rank)
    x_dx = exponential_transform(normalise_rank(dx_rank, dx_rank.shape[1]), constant)
    return combine_dedi(transformed, x_dx, imd_weights, dx_weight)


def combine_dedi(transformed: Mapping[str, np.ndarray], x_dx: np.ndarray,
                 imd_weights: Mapping[str, float], dx_weight: np.ndarray) -> np.ndarray:
    """:func:`dedi_scores` from DX's transformed rank ``x_dx`` (B × N); the same sums, in
    the same order, into one B × N buffer."""
    w = np.asarray(dx_weight, dtype="float64").reshape(-1, 1)
    return imd.aggregate({**transformed, "dx": x_dx}, imd.weight(dedi_weights(imd_weights, w)))


def transform_domains(domain_ranks: pd.DataFrame, constant: float = 23.0) -> dict[str, np.ndarray]:
    """Exponentially transformed domain ranks (1 = most deprived), per domain."""
    n = len(domain_ranks)
    return {d: exponential_transform(normalise_rank(domain_ranks[d], n), constant)
            for d in domain_ranks}


@dataclass
class DxResult:
    """The point estimate of DX with everything downstream steps and diagnostics need."""

    frame: pd.DataFrame            # dx_score, dx_rank, dx_decile, dx_indicator_count, ...
    structure: DxStructure
    weights: dict[str, float]      # per used indicator (within its sub-domain / layer)
    loadings: dict[str, float]
    oriented: pd.DataFrame


def dx_domain(indicators: pd.DataFrame, spec: dict, la_codes: pd.Series | None = None,
              population: pd.Series | None = None, constant: float = 23.0) -> DxResult:
    """DX per LSOA from ``indicators`` (the spec's input columns, one row per LSOA).

    ``la_codes`` (the LSOA's LTLA) and ``population`` are needed for local proxies;
    ``constant``: the exponential transformation's (settings ``iod.exponential_constant``).
    Raises ValueError naming LSOAs that rest on too few national indicators.
    """
    cfg = spec["dx"]["indicators"]
    present = {k for k, v in cfg.items()
               if v["column"] in indicators and indicators[v["column"]].notna().any()}
    st = resolve_structure(spec, present)
    values = indicators[[cfg[k]["column"] for k in st.indicators]].set_axis(st.indicators, axis=1)
    oriented = orient(values, {k: cfg[k]["direction"] for k in st.indicators})
    n = len(indicators)
    la = (la_codes if la_codes is not None else pd.Series("", index=indicators.index))
    pop = (population if population is not None else pd.Series(1.0, index=indicators.index))
    method = spec["dx"]["normalisation"]
    z = normalise(oriented, method, {k: la for k in st.local})
    w, loadings = indicator_weights(z, spec, st)
    count = z[st.national].notna().sum(axis=1)
    few = count < st.min_indicators
    if few.any():
        raise ValueError(f"{int(few.sum())} LSOA(s) have fewer than {st.min_indicators} "
                         f"national DX indicators (e.g. {indicators.index[few][:10].tolist()}); "
                         "lower dx.min_indicators or supply the missing inputs")
    score, parts = dx_scores(z.T.to_numpy(), w, st, method, la.to_numpy(),
                             pop.to_numpy(dtype="float64"),
                             spec["dx"].get("aggregation", "linear"), constant)
    rank = rank_rows(score)[0]
    subs = {s: v[0] for s, v in parts["subdomains"].items()}
    frame = pd.DataFrame({"dx_score": score[0], "dx_rank": rank, "dx_decile": decile(rank, n),
                          "dx_indicator_count": z.notna().sum(axis=1).to_numpy(),
                          **{f"dx_{s}_score": v for s, v in subs.items()},
                          "dx_leading_route": leading_route(subs, st.subdomain_weights),
                          "dx_local_layer": ~np.isnan(parts["layer"][0])},
                         index=indicators.index)
    return DxResult(frame, st, dict(zip(st.indicators, np.round(w, 6).tolist(), strict=True)),
                    loadings, oriented)


def dedi_index(domain_ranks: pd.DataFrame, dx_rank: pd.Series, imd_weights: Mapping[str, float],
               dx_weight: float, constant: float = 23.0) -> pd.DataFrame:
    """DEDI score, rank and decile: the IoD combination with DX as an eighth domain.

    With ``dx_weight`` = 0 this is exactly the IMD recomputed from the domain ranks.
    """
    x = transform_domains(domain_ranks[list(imd_weights)], constant)
    score = dedi_scores(x, dx_rank.to_numpy(), imd_weights, np.array([dx_weight]), constant)[0]
    rank = rank_rows(score)[0]
    return pd.DataFrame({"score": score, "rank": rank, "decile": decile(rank, len(rank))},
                        index=domain_ranks.index)
