"""Difference-in-differences against matched comparison units (pure functions, no I/O).

The steps, named as in the evaluation literature:

1. **match** — each treated unit gets its ``k`` nearest never-treated units on the baseline
   outcome (mean over its pre-periods) and the DX or DEDI decile, exactly within stratum
   (region or ICB, rurality, decile); a stratum with fewer than ``k`` comparison units is
   coarsened by dropping the last exact variable, then the next.
2. **difference** — for treated unit i starting in period s and event time k,
   τ_i(k) = [Y_i(s+k) − Y_i(s−1)] − mean over i's matches c of [Y_c(s+k) − Y_c(s−1)],
   and the overall effect ATT_i = [post mean − pre mean]_i − the same for its matches.
3. **aggregate** — the event-study coefficient at k is the mean of τ_i(k) over treated units;
   the ATT is the mean of ATT_i.
4. **bootstrap** — clusters (LTLA for LSOAs, sub-ICB for practices) are resampled with
   replacement; a unit's weight is its cluster's count, in the treated mean *and* in every
   matched comparison mean, so comparison units reused by several treated units, and
   spatially correlated changes, are resampled together. Percentile intervals.
5. **pre-trends** — the slope of the pre-period coefficients is tested against zero with the
   centred bootstrap (a slope says the groups were already moving apart).

This is descriptive: matching on observables cannot rule out that the places chosen for an
intervention differed in ways that also changed the outcome.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse


@dataclass(frozen=True)
class Panel:
    """Outcome by unit (rows) and period (columns, in time order); NaN = missing."""

    values: np.ndarray
    units: list[str]
    periods: list[str]


@dataclass
class Evaluation:
    """What the estimator found."""

    att: float
    ci: tuple[float, float]
    se: float
    p_value: float
    level: float
    n_treated: int
    n_comparison: int
    n_clusters: int
    cluster_by: str
    event_study: pd.DataFrame          # k, period_label, coef, lo, hi, n_treated
    pretrend_p: float | None           # None: fewer than two pre-periods
    pretrend_df: int                   # pre-periods besides the reference
    pretrend_slope: float | None       # per period, of the pre-period coefficients
    matches: pd.DataFrame              # treated_unit, control_unit, match_level
    balance: pd.DataFrame              # covariate, treated_mean, all_comparison, matched
    dropped: dict[str, str] = field(default_factory=dict)  # unit -> why


def cohorts(start_index: pd.Series) -> dict[int, list[str]]:
    """Treated units grouped by the index of their first post-period."""
    return {int(s): list(g.index) for s, g in start_index.groupby(start_index)}


def baseline(panel: Panel, start: int, max_pre: int) -> np.ndarray:
    """Mean outcome of every unit over the ``max_pre`` periods before ``start``."""
    lo = max(0, start - max_pre)
    with np.errstate(all="ignore"):
        return np.nanmean(panel.values[:, lo:start], axis=1)


def match(cov: pd.DataFrame, treated: list[str], controls: list[str], exact: list[str],
          near: list[str], k: int) -> pd.DataFrame:
    """``k`` nearest ``controls`` of each treated unit on the standardised ``near`` columns,
    within ``exact`` strata (coarsened from the end where a stratum has fewer than ``k``).

    ``cov`` is indexed by unit. Returns treated_unit, control_unit, distance, match_level
    (the exact variables used)."""
    z = cov[near].astype(float)
    z = (z - z.mean()) / z.std(ddof=0).replace(0, 1)
    z = z.fillna(0.0)
    rows = []
    pending = list(treated)
    for n_exact in range(len(exact), -1, -1):
        used = exact[:n_exact]
        if not pending:
            break
        key_t = cov.loc[pending, used].astype(str).agg("|".join, axis=1) if used else \
            pd.Series("", index=pending)
        key_c = cov.loc[controls, used].astype(str).agg("|".join, axis=1) if used else \
            pd.Series("", index=controls)
        pools = {s: list(g.index) for s, g in key_c.groupby(key_c)}
        still = []
        for stratum, group in key_t.groupby(key_t):
            pool = pools.get(stratum, [])
            if len(pool) < k:
                still.extend(group.index)
                continue
            zt, zc = z.loc[group.index].to_numpy(), z.loc[pool].to_numpy()
            d = np.sqrt(((zt[:, None, :] - zc[None, :, :]) ** 2).sum(axis=2))
            nearest = np.argsort(d, axis=1, kind="stable")[:, :k]
            for i, unit in enumerate(group.index):
                for j in nearest[i]:
                    rows.append((unit, pool[j], float(d[i, j]), "+".join(used) or "none"))
        pending = still
    if pending:
        raise ValueError(f"fewer than {k} comparison units for {pending[:5]}")
    return pd.DataFrame(rows, columns=["treated_unit", "control_unit", "distance",
                                       "match_level"])


def balance(cov: pd.DataFrame, treated: list[str], controls: list[str],
            matches: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Means of each covariate: treated, all comparison units, matched comparison units
    (each treated unit's matches weighted 1/k), with standardised differences."""
    out = []
    w = 1 / matches.groupby("treated_unit")["control_unit"].transform("size")
    for c in columns:
        x = pd.to_numeric(cov[c], errors="coerce")
        sd = float(np.nanstd(x.loc[treated + controls])) or 1.0
        t = float(x.loc[treated].mean())
        a = float(x.loc[controls].mean())
        m = float((x.loc[matches["control_unit"]].to_numpy() * w.to_numpy()).sum() / w.sum())
        out.append({"covariate": c, "treated_mean": t, "all_comparison_mean": a,
                    "matched_comparison_mean": m, "std_diff_before": (t - a) / sd,
                    "std_diff_after": (t - m) / sd})
    return pd.DataFrame(out)


def _cohort_terms(panel: Panel, start: int, rows: np.ndarray, max_pre: int,
                  max_post: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For ``rows`` of the panel and a cohort starting at ``start``: the change from the
    reference period s−1 at each event time (rows × event times, NaN where outside the
    panel), the event times, and the post-minus-pre-mean change per row."""
    y = panel.values[rows]
    t = y.shape[1]
    ks = np.arange(-max_pre, max_post)
    cols = start + ks
    inside = (cols >= 0) & (cols < t)
    d = np.full((len(rows), len(ks)), np.nan)
    d[:, inside] = y[:, cols[inside]] - y[:, [start - 1]]
    with np.errstate(all="ignore"):
        pre = np.nanmean(y[:, max(0, start - max_pre):start], axis=1)
        post = np.nanmean(y[:, start:min(t, start + max_post)], axis=1)
    return d, ks, post - pre


def _estimate(terms: list[tuple], w_unit: np.ndarray, n_k: int) -> tuple[np.ndarray, float]:
    """Event-study coefficients and ATT for unit weights ``w_unit`` (one bootstrap draw)."""
    num_k, den_k = np.zeros(n_k), np.zeros(n_k)
    num, den = 0.0, 0.0
    for t_rows, a, d_t, d_all, att_t, att_all, all_rows in terms:
        w_all = w_unit[all_rows]
        wd = np.where(np.isnan(d_all), 0.0, d_all) * w_all[:, None]
        wv = (~np.isnan(d_all)) * w_all[:, None]
        ctrl = (a @ wd) / np.where((a @ wv) > 0, a @ wv, np.nan)  # treated × k
        tau = d_t - ctrl
        wt = w_unit[t_rows][:, None] * ~np.isnan(tau)
        num_k += np.nansum(np.where(np.isnan(tau), 0, tau) * wt, axis=0)
        den_k += wt.sum(axis=0)
        ok = ~np.isnan(att_all)
        ca = (a @ (np.where(ok, att_all, 0) * w_all)) / np.where(
            (a @ (ok * w_all)) > 0, a @ (ok * w_all), np.nan)
        tau_att = att_t - ca
        wt1 = w_unit[t_rows] * ~np.isnan(tau_att)
        num += float(np.nansum(np.where(np.isnan(tau_att), 0, tau_att) * wt1))
        den += float(wt1.sum())
    with np.errstate(all="ignore"):
        return num_k / den_k, num / den if den > 0 else np.nan


def difference_in_differences(panel: Panel, start_index: pd.Series, matches: pd.DataFrame,
                              clusters: pd.Series, *, max_pre: int, max_post: int,
                              n_boot: int, level: float, seed: int) -> dict:
    """Steps 2-5 of the module docstring. ``start_index``: treated unit -> index of its first
    post-period; ``clusters``: unit -> cluster id (every treated and matched unit)."""
    unit_pos = {u: i for i, u in enumerate(panel.units)}
    involved = sorted(set(matches["treated_unit"]) | set(matches["control_unit"]),
                      key=unit_pos.get)
    cl = pd.Categorical(clusters.loc[involved])
    n_clusters = len(cl.categories)
    local = {u: i for i, u in enumerate(involved)}
    sub = Panel(panel.values[[unit_pos[u] for u in involved]], involved, panel.periods)
    terms = []
    n_k = max_pre + max_post
    for start, units in cohorts(start_index).items():
        t_rows = np.array([local[u] for u in units])
        m = matches[matches["treated_unit"].isin(units)]
        r = m["treated_unit"].map({u: i for i, u in enumerate(units)}).to_numpy()
        c = m["control_unit"].map(local).to_numpy()
        a = sparse.csr_matrix((np.ones(len(m)), (r, c)), shape=(len(units), len(involved)))
        all_rows = np.arange(len(involved))
        d_all, ks, att_all = _cohort_terms(sub, start, all_rows, max_pre, max_post)
        terms.append((t_rows, a, d_all[t_rows], d_all, att_all[t_rows], att_all, all_rows))
    ks = np.arange(-max_pre, max_post)
    coef, att = _estimate(terms, np.ones(len(involved)), n_k)
    rng = np.random.default_rng(seed)
    boots_k = np.empty((n_boot, n_k))
    boots = np.empty(n_boot)
    codes = cl.codes
    for b in range(n_boot):
        counts = rng.multinomial(n_clusters, np.full(n_clusters, 1 / n_clusters))
        boots_k[b], boots[b] = _estimate(terms, counts[codes].astype(float), n_k)
    alpha = (1 - level) / 2
    with warnings.catch_warnings():  # event times outside the panel are all-NaN columns
        warnings.simplefilter("ignore", RuntimeWarning)
        lo, hi = np.nanquantile(boots, [alpha, 1 - alpha])
        k_lo, k_hi = np.nanquantile(boots_k, [alpha, 1 - alpha], axis=0)
    se = float(np.nanstd(boots, ddof=1))
    from scipy.stats import norm

    p = float(2 * norm.sf(abs(att) / se)) if se > 0 else float("nan")
    slope, pretrend_p, n_pre = pretrend_slope(ks, coef, boots_k)
    return {"att": float(att), "ci": (float(lo), float(hi)), "se": se, "p_value": p,
            "n_clusters": n_clusters, "ks": ks, "coef": coef, "lo": k_lo, "hi": k_hi,
            "n_treated_k": np.array([sum(int((~np.isnan(t[2][:, j])).sum()) for t in terms)
                                     for j in range(n_k)]),
            "pretrend_slope": slope, "pretrend_p": pretrend_p, "pretrend_df": n_pre}


def pretrend_slope(ks: np.ndarray, coef: np.ndarray, boots_k: np.ndarray
                   ) -> tuple[float | None, float | None, int]:
    """Least-squares slope of the pre-period coefficients (k < 0, the reference −1 included)
    per period, and its two-sided p-value from the centred bootstrap. A slope away from zero
    says the groups were already moving apart. ``None`` with fewer than two pre-periods
    besides the reference."""
    pre = np.where((ks < 0) & ~np.isnan(coef))[0]
    if len(pre) < 2 or (ks[pre] <= -2).sum() < 1:
        return None, None, int(max(len(pre) - 1, 0))
    x = ks[pre].astype(float)
    x = (x - x.mean()) / ((x - x.mean()) ** 2).sum()
    slope = float(x @ coef[pre])
    b = boots_k[:, pre]
    b = b[~np.isnan(b).any(axis=1)]
    draws = b @ x
    p = float((np.abs(draws - draws.mean()) >= abs(slope)).mean())
    return slope, p, int(len(pre) - 1)


def evaluate(panel: Panel, starts: pd.Series, cov: pd.DataFrame, *, exact: list[str],
             near: list[str], k: int, cluster: str, min_clusters: int, max_pre: int,
             max_post: int, n_boot: int, level: float, seed: int) -> Evaluation:
    """Match, difference, aggregate and bootstrap (the module docstring's steps).

    ``starts``: treated unit -> index into ``panel.periods`` of its first post-period.
    ``cov``: covariates by unit (``exact``, ``near`` besides ``baseline``, ``cluster``). Units
    without a pre- and a post-period in the panel, or without a baseline, are dropped
    (``Evaluation.dropped`` says why)."""
    in_panel = set(panel.units)
    dropped: dict[str, str] = {}
    for u, s in starts.items():
        if u not in in_panel:
            dropped[u] = "no outcome data"
        elif s < 1:
            dropped[u] = "starts before the first period: no pre-period"
        elif s >= len(panel.periods):
            dropped[u] = "starts after the last period: no post-period"
    starts = starts.drop(list(dropped))
    if starts.empty:
        raise ValueError("no intervention unit has both a pre- and a post-period in the outcome")
    treated_all = set(starts.index) | set(dropped)
    controls_all = [u for u in panel.units if u not in treated_all and u in cov.index]
    all_matches = []
    for start, units in cohorts(starts).items():
        c = cov.copy()
        c["baseline"] = pd.Series(baseline(panel, start, max_pre), index=panel.units)
        ok_t = [u for u in units if u in c.index and np.isfinite(c.at[u, "baseline"])]
        for u in set(units) - set(ok_t):
            dropped[u] = "no outcome in the pre-period (or no covariates)"
        ctrl = [u for u in controls_all if np.isfinite(c.at[u, "baseline"])]
        if ok_t:
            all_matches.append(match(c, ok_t, ctrl, exact, ["baseline", *near], k))
    if not all_matches:
        raise ValueError("no intervention unit has an outcome before its start")
    matches = pd.concat(all_matches, ignore_index=True)
    starts = starts.loc[matches["treated_unit"].unique()]
    involved = set(matches["treated_unit"]) | set(matches["control_unit"])
    clusters = cov[cluster].reindex(list(involved))
    cluster_by = cluster
    if clusters.isna().any() or clusters.nunique() < min_clusters:
        clusters = pd.Series(list(involved), index=list(involved))
        cluster_by = "unit"
    res = difference_in_differences(panel, starts, matches, clusters, max_pre=max_pre,
                                    max_post=max_post, n_boot=n_boot, level=level, seed=seed)
    first = int(starts.min())
    es = pd.DataFrame({"k": res["ks"], "coef": res["coef"], "lo": res["lo"], "hi": res["hi"],
                       "n_treated": res["n_treated_k"]})
    es["period_label"] = [panel.periods[first + k] if 0 <= first + k < len(panel.periods)
                          else "" for k in es["k"]]
    es = es[es["n_treated"] > 0].reset_index(drop=True)
    c0 = cov.copy()
    c0["baseline"] = pd.Series(baseline(panel, first, max_pre), index=panel.units)
    bal_cols = ["baseline", *[c for c in near if c != "baseline"]]
    bal = balance(c0, list(starts.index), sorted(set(matches["control_unit"]) |
                  set(controls_all) - set(starts.index)), matches, bal_cols)
    return Evaluation(
        att=res["att"], ci=res["ci"], se=res["se"], p_value=res["p_value"], level=level,
        n_treated=len(starts), n_comparison=matches["control_unit"].nunique(),
        n_clusters=res["n_clusters"], cluster_by=cluster_by, event_study=es,
        pretrend_p=res["pretrend_p"], pretrend_df=res["pretrend_df"],
        pretrend_slope=res["pretrend_slope"], matches=matches,
        balance=bal, dropped=dropped)
