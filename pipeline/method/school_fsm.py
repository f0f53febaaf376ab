"""Pupil-premium proxy: free-school-meal (FSM) rate of the schools serving each LSOA.

Schools do not have catchments, so each LSOA's rate is the pupil- and distance-weighted mean
% FSM of its k nearest schools of each phase, measured from the LSOA centroid (British National
Grid metres):

    w_s = pupils_s / max(d_s, d0),   fsm_phase = sum(w_s * pct_fsm_s) / sum(w_s)

and the two phases are combined by year groups served: fsm = (7 * primary + 5 * secondary) / 12.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree


def phase_rate(lsoa_xy: np.ndarray, school_xy: np.ndarray, pupils: np.ndarray,
               pct_fsm: np.ndarray, k: int, d0: float) -> tuple[np.ndarray, np.ndarray]:
    """Weighted % FSM of the k nearest schools for each point; also the mean distance (m)."""
    k = min(k, len(school_xy))
    if k == 0:
        nan = np.full(len(lsoa_xy), np.nan)
        return nan, nan
    d, i = cKDTree(school_xy).query(lsoa_xy, k=k)
    d, i = d.reshape(len(lsoa_xy), k), i.reshape(len(lsoa_xy), k)
    w = pupils[i] / np.maximum(d, d0)
    return (w * pct_fsm[i]).sum(axis=1) / w.sum(axis=1), d.mean(axis=1)


def lsoa_fsm_rate(lsoa: pd.DataFrame, schools: pd.DataFrame, primary: set[str],
                  secondary: set[str], k_primary: int = 5, k_secondary: int = 3,
                  d0: float = 500.0) -> pd.DataFrame:
    """``lsoa`` (lsoa21_code, x, y) and ``schools`` (x, y, pupils, pct_fsm, phase) -> rates."""
    ok = schools["pupils"].gt(0) & schools["pct_fsm"].notna() & schools[["x", "y"]].notna().all(axis=1)
    s = schools[ok]
    xy = lsoa[["x", "y"]].to_numpy(dtype="float64")
    out = pd.DataFrame({"lsoa21_code": lsoa["lsoa21_code"].to_numpy()})
    for name, phases, k in (("primary", primary, k_primary), ("secondary", secondary, k_secondary)):
        p = s[s["phase"].isin(phases)]
        rate, dist = phase_rate(xy, p[["x", "y"]].to_numpy(dtype="float64"),
                                p["pupils"].to_numpy(dtype="float64"),
                                p["pct_fsm"].to_numpy(dtype="float64"), k, d0)
        out[f"fsm_{name}_pct"], out[f"mean_distance_{name}_m"] = rate, dist
    both = out[["fsm_primary_pct", "fsm_secondary_pct"]]
    out["fsm_pct"] = (7 * both["fsm_primary_pct"] + 5 * both["fsm_secondary_pct"]) / 12
    out["fsm_pct"] = out["fsm_pct"].fillna(both.mean(axis=1))
    return out
