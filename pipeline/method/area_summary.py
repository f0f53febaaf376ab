"""Official IoD area-summary measures for higher geographies (ward, LTLA, ICB, region) and
for GP practices.

All measures take LSOA-level ``rank`` (1 = most deprived of N nationally), ``score`` and
``population`` plus the area code, and are population weighted as in the IoD technical report.
A GP practice is the set of LSOAs where its patients live, each weighted by the practice's
patients there (``population``), so one LSOA may appear under many practices.
Summary ranks are 1 = most deprived area; measures equal to ``TIE_DECIMALS`` decimals tie.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MEASURES = ["average_score", "average_rank", "extent", "local_concentration",
            "proportion_most_deprived_10pct"]
# Two areas whose measure agrees to this many decimals tie (a one-LSOA ward's extent w·p/p
# differs from another's w in the last bits only).
TIE_DECIMALS = 10


def invert_rank(rank: pd.Series | np.ndarray, n: int) -> np.ndarray:
    """Invert ranks so that N = most deprived (used by average rank and local concentration)."""
    return n - np.asarray(rank, dtype="float64") + 1.0


def extent_weight(rank: pd.Series | np.ndarray, n: int, full_upto: int = 10,
                  slide_from: tuple[int, float] = (11, 0.95),
                  slide_to: tuple[int, float] = (30, 0.05)) -> np.ndarray:
    """Weight of an LSOA in the extent measure by its national percentile of deprivation.

    Percentile p = ceil(100 * rank / N). p <= 10: weight 1; 11..30: linear from 0.95 to 0.05;
    beyond 30: weight 0.
    """
    p = np.ceil(100.0 * np.asarray(rank, dtype="float64") / n)
    (p0, w0), (p1, w1) = slide_from, slide_to
    slide = w0 + (p - p0) * (w1 - w0) / (p1 - p0)
    return np.where(p <= full_upto, 1.0, np.where(p <= p1, slide, 0.0))


def local_concentration_one(inv_rank: np.ndarray, population: np.ndarray,
                            share: float = 0.10) -> float:
    """Population-weighted mean inverted rank of the most deprived LSOAs holding ``share`` of
    the area's population; the LSOA that crosses the threshold counts for its part only."""
    order = np.argsort(-inv_rank, kind="stable")
    r, p = inv_rank[order], population[order].astype("float64")
    target = share * p.sum()
    if target <= 0:
        return float("nan")
    before = np.concatenate([[0.0], np.cumsum(p)[:-1]])
    used = np.clip(target - before, 0.0, p)
    return float((r * used).sum() / target)


def summarise(lsoa: pd.DataFrame, area_col: str, n: int | None = None,
              local_share: float = 0.10, share_by: str = "lsoas", **extent_kw) -> pd.DataFrame:
    """Area summaries of one index for one geography.

    ``lsoa`` has columns ``area_col``, ``score``, ``rank``, ``population``. ``n`` is the
    national LSOA count (defaults to ``len(lsoa)``). ``share_by``: the proportion in the most
    deprived 10% is a share of the area's LSOAs (``lsoas``, the IoD's) or of its population
    (``population``: a GP practice's patients, whose LSOAs hold very different numbers of
    them). Returns one row per area with the five measures, ``population``, ``lsoa_count`` and
    the ``<measure>_rank`` of each (1 = most deprived).
    """
    if share_by not in ("lsoas", "population"):
        raise ValueError(f"share_by must be 'lsoas' or 'population', not {share_by!r}")
    n = n or len(lsoa)
    d = lsoa[[area_col, "score", "rank", "population"]].copy()
    d["population"] = d["population"].astype("float64")
    d["inv_rank"] = invert_rank(d["rank"], n)
    d["w_score"] = d["score"] * d["population"]
    d["w_inv_rank"] = d["inv_rank"] * d["population"]
    d["w_extent"] = extent_weight(d["rank"], n, **extent_kw) * d["population"]
    d["in_top10"] = (d["rank"] <= n / 10).astype("float64")
    d["w_top10"] = d["in_top10"] * d["population"]
    g = d.groupby(area_col, sort=True)
    pop = g["population"].sum()
    out = pd.DataFrame({
        "population": pop,
        "lsoa_count": g.size(),
        "average_score": g["w_score"].sum() / pop,
        "average_rank": g["w_inv_rank"].sum() / pop,
        "extent": g["w_extent"].sum() / pop,
        "local_concentration": g[["inv_rank", "population"]].apply(
            lambda x: local_concentration_one(x["inv_rank"].to_numpy(),
                                              x["population"].to_numpy(), local_share)),
        "proportion_most_deprived_10pct": (g["in_top10"].mean() if share_by == "lsoas"
                                           else g["w_top10"].sum() / pop),
    })
    for m in MEASURES:
        out[f"{m}_rank"] = rank_areas(out[m])
    return out.reset_index().rename(columns={area_col: "area_code"})


def rank_areas(measure: pd.Series) -> pd.Series:
    """Rank areas on one measure, 1 = highest (most deprived), ties (to ``TIE_DECIMALS``
    decimals) sharing the lowest rank."""
    return measure.round(TIE_DECIMALS).rank(ascending=False, method="min").astype("int64")
