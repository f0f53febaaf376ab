"""Deterministic SYNTHETIC inputs in the exact official formats, for the demo only: NHS App
practice uptake, GP patients by LSOA, and local-authority record files (assisted bins).

Used by ``dedi demo`` (and by tests building format-faithful fixtures), never by a build: a
real build with no file for a source leaves that source absent. The generators take the demo
generator's own latent state (deprivation, older share), never a file the index reads: no IMD
ranks or domains, no Census indicators (``tests/unit/demo/test_synthetic_independence.py``).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from pipeline.inputs.files import file_sha256
from pipeline.sources.common import PROVENANCE_FILE, SYNTHETIC_COLUMN

SEED = 2021


def write_provenance(topic_dir: Path, files: list[Path], generator: str, seed: int = SEED) -> None:
    """Mark generated files synthetic in the topic folder's provenance.json."""
    f = topic_dir / PROVENANCE_FILE
    prov = json.loads(f.read_text()) if f.exists() else {"files": {}}
    now = datetime.now(UTC).isoformat(timespec="seconds")
    for p in files:
        prov["files"][p.name] = {"synthetic": True, "generator": generator, "seed": seed,
                                 "sha256": file_sha256(p), "bytes": p.stat().st_size,
                                 "retrieved_at": now, "url": None,
                                 "licence": "synthetic (no licence needed)"}
    f.write_text(json.dumps(prov, indent=2), encoding="utf-8")


def gp_patients_by_lsoa(practices: pd.DataFrame, lsoas: pd.DataFrame,
                        seed: int = SEED) -> pd.DataFrame:
    """NHS Digital gp-reg-pat-prac-lsoa-all layout for open GP practices.

    ``practices``: practice_code, practice_name, commissioner (sub-ICB NHS code), status_code.
    ``lsoas``: lsoa21_code, sicbl24_code_nhs, population. Each sub-ICB's residents are shared
    among its practices, each practice drawing from a cluster of nearby (by code order) LSOAs.
    A few patients live in Wales (W01 codes), as in the real file.
    """
    rng = np.random.default_rng(seed)
    open_p = practices[practices["status_code"].eq("A")]
    p_codes, l_codes, counts = [], [], []
    for sicbl, ls in lsoas.sort_values("lsoa21_code").groupby("sicbl24_code_nhs"):
        ps = open_p[open_p["commissioner"] == sicbl]
        if ps.empty:
            continue
        codes, pops = ls["lsoa21_code"].to_numpy(), ls["population"].to_numpy(dtype="float64")
        # Practices sit at random places along the (code-ordered) LSOAs; each LSOA registers
        # with its three nearest practices, mostly the nearest.
        centres = rng.uniform(0, len(codes), len(ps))
        k = min(3, len(ps))
        dist = np.abs(np.arange(len(codes))[:, None] - centres[None, :])
        near = np.argsort(dist, axis=1)[:, :k]
        share = rng.dirichlet(np.array([6.0, 2.0, 1.0])[:k], len(codes))
        n = np.round(share * pops[:, None] * 0.98)
        prac_codes = ps["practice_code"].to_numpy()
        p_codes.append(prac_codes[near].ravel())
        l_codes.append(np.repeat(codes, k))
        counts.append(n.ravel())
        wales = rng.random(len(ps)) < 0.05  # a few patients living in Wales
        p_codes.append(prac_codes[wales])
        l_codes.append(np.array([f"W01{v:06d}" for v in rng.integers(0, 2000, wales.sum())],
                                dtype=object))
        counts.append(rng.integers(1, 40, wales.sum()).astype(float))
    df = pd.DataFrame({"PRACTICE_CODE": np.concatenate(p_codes),
                       "LSOA_CODE": np.concatenate(l_codes),
                       "NUMBER_OF_PATIENTS": np.concatenate(counts).astype(int)})
    df = df.groupby(["PRACTICE_CODE", "LSOA_CODE"], as_index=False).sum()
    names = practices.set_index("practice_code")["practice_name"]
    df.insert(1, "PRACTICE_NAME", df["PRACTICE_CODE"].map(names))
    df.insert(0, "PUBLICATION", "Patients Registered at a GP Practice - SYNTHETIC")
    df.insert(1, "EXTRACT_DATE", "01NOV2026")
    df.insert(5, "SEX", "ALL")
    df[SYNTHETIC_COLUMN] = True
    return df


DEMO_MONTHS = [f"{y}-{m:02d}" for y, m in
               [(2025, 11), (2025, 12), *[(2026, k) for k in range(1, 11)]]]
# The demo's planted intervention: digital health hubs at four practices from May 2026 raise
# NHS App uptake by 4 percentage points of the list (what `dedi evaluate` should recover).
DEMO_HUBS = {"Z99003": "Synthshire library hub", "Z99008": "Synthshire library hub",
             "Z99013": "Synthshire community centre", "Z99020": "Synthshire community centre"}
DEMO_HUB_START = "2026-05"
DEMO_HUB_EFFECT = 0.04


def demo_interventions() -> pd.DataFrame:
    """The demo's intervention file (``dedi evaluate`` format): the planted hubs."""
    return pd.DataFrame({"unit_type": "practice", "unit_code": list(DEMO_HUBS),
                         "start_date": f"{DEMO_HUB_START}-01",
                         "intervention": list(DEMO_HUBS.values()), SYNTHETIC_COLUMN: True})


def nhs_app_practice_uptake(patients: pd.DataFrame, lsoa_state: pd.DataFrame,
                            seed: int = SEED) -> pd.DataFrame:
    """DEDI practice-level NHS App layout (practice_code, month, registrations, ...).

    Uptake falls with deprivation and age, as published evidence shows (registrations about
    25% lower in the most deprived practices). ``lsoa_state`` is the generator's own state:
    lsoa21_code, latent (deprivation, higher = more deprived), older_share.
    """
    rng = np.random.default_rng(seed + 1)
    p = patients.rename(columns={"PRACTICE_CODE": "practice_code", "LSOA_CODE": "lsoa21_code",
                                 "NUMBER_OF_PATIENTS": "patients"})
    p = p.merge(lsoa_state, on="lsoa21_code", how="left")
    lat = p["latent"]
    p["dep"] = ((lat - lat.min()) / (lat.max() - lat.min())).fillna(0.5)  # 1 = most deprived
    p["pct_65plus"] = p["older_share"].fillna(0.18)
    p["w_dep"], p["w_old"] = p["dep"] * p["patients"], p["pct_65plus"] * p["patients"]
    g = p.groupby("practice_code")[["patients", "w_dep", "w_old"]].sum()
    prac = pd.DataFrame({"list_size": g["patients"], "dep": g["w_dep"] / g["patients"],
                         "old": g["w_old"] / g["patients"]})
    # Baseline 62% of list; -25% from least to most deprived; older lists lower.
    rate = 0.62 * (1 - 0.25 * prac["dep"]) * (1 - 1.2 * (prac["old"] - 0.18))
    rate = np.clip(rate + rng.normal(0, 0.03, len(prac)), 0.05, 0.95)
    prac = prac.iloc[rng.permutation(len(prac))[: int(len(prac) * 0.98)]]  # 2% not reported
    rate = rate.loc[prac.index]
    frames = []
    for i, m in enumerate(DEMO_MONTHS):
        # national growth of about 0.6 points a month, practice-month noise, and the planted
        # effect of the demo's digital health hubs from their start month
        r = rate + 0.006 * i + rng.normal(0, 0.004, len(prac))
        hub = prac.index.isin(list(DEMO_HUBS)) & (m >= DEMO_HUB_START)
        r = np.clip(r + DEMO_HUB_EFFECT * hub, 0.05, 0.95)
        frames.append(pd.DataFrame({
            "practice_code": prac.index, "month": m,
            "registrations": np.round(r * prac["list_size"]).astype(int),
            "p9_registrations": np.round(r * 0.55 * prac["list_size"]).astype(int),
            "logins": np.round(r * prac["list_size"] * rng.uniform(0.8, 2.5, len(prac))).astype(int),
            "list_size": prac["list_size"].astype(int)}))
    out = pd.concat(frames, ignore_index=True).sort_values(["practice_code", "month"])
    out[SYNTHETIC_COLUMN] = True
    return out.reset_index(drop=True)


def assisted_bin_records(lsoa: gpd.GeoDataFrame, state: pd.DataFrame, seed: int = SEED,
                         scale: float = 1.0) -> pd.DataFrame:
    """Record-level assisted bin collections: one row per household, easting/northing inside
    its LSOA polygon. More likely where older people live and where deprivation is higher.

    ``lsoa``: lsoa21_code + polygons; ``state`` (the generator's own): lsoa21_code,
    households, latent (deprivation), older_share.
    """
    rng = np.random.default_rng(seed + 2)
    g = lsoa.to_crs("EPSG:27700").merge(state, on="lsoa21_code")
    rate = np.clip(0.004 + 0.10 * g["older_share"] + 0.01 * g["latent"], 0, 0.5)
    n = rng.poisson(rate * g["households"].fillna(0) * scale)
    xs, ys, codes = [], [], []
    for geom, k, code in zip(g.geometry, n, g["lsoa21_code"], strict=True):
        if k <= 0:
            continue
        minx, miny, maxx, maxy = geom.bounds
        got_x: list[np.ndarray] = []
        got = 0
        shapely.prepare(geom)
        while got < k:
            cx = rng.uniform(minx, maxx, 2 * k + 10)
            cy = rng.uniform(miny, maxy, 2 * k + 10)
            inside = shapely.contains_xy(geom, cx, cy)
            got_x.append(np.column_stack([cx[inside], cy[inside]]))
            got += int(inside.sum())
        pts = np.concatenate(got_x)[:k]
        xs.append(pts[:, 0])
        ys.append(pts[:, 1])
        codes += [code] * k
    x = np.concatenate(xs) if xs else np.array([])
    y = np.concatenate(ys) if ys else np.array([])
    return pd.DataFrame({"uprn": np.arange(1, len(x) + 1) + 10_000_000_000,
                         "easting": np.round(x, 1), "northing": np.round(y, 1),
                         "service": "assisted collection", SYNTHETIC_COLUMN: True})


def evaluation_panel(n_units: int = 3000, n_periods: int = 12, n_treated: int = 120,
                     start: int = 6, effect: float = 0.0, seed: int = SEED
                     ) -> tuple[np.ndarray, pd.DataFrame, pd.Series]:
    """A synthetic outcome panel for testing ``dedi evaluate``: units in clusters (LTLA-like)
    within regions, urban or rural, with a DX decile; each unit's level and trend depend on
    its decile and rurality (so unmatched comparisons are biased), plus cluster-by-period
    shocks (spatially correlated changes) and noise. Treated units are chosen more often in
    high-need deciles, from ``start``, and get ``effect`` added from then on.

    Returns values (units × periods), covariates (unit index: region, urban_rural, dx_decile,
    cluster) and the treated units' start index."""
    rng = np.random.default_rng(seed)
    n_clusters = max(n_units // 40, 2)
    cluster = rng.integers(0, n_clusters, n_units)
    region = cluster % 9
    rural = rng.random(n_units) < 0.2
    decile = rng.integers(1, 11, n_units)
    units = [f"U{i:05d}" for i in range(n_units)]
    level = 50 - 2.5 * decile + 4 * rural + rng.normal(0, 3, n_units)
    trend = 0.8 - 0.05 * decile - 0.2 * rural + rng.normal(0, 0.05, n_units)
    t = np.arange(n_periods)
    shocks = rng.normal(0, 0.6, (n_clusters, n_periods))
    y = (level[:, None] + trend[:, None] * t[None, :] + shocks[cluster]
         + rng.normal(0, 1.0, (n_units, n_periods)))
    p = (11 - decile) / (11 - decile).sum()
    treated = rng.choice(n_units, n_treated, replace=False, p=p)
    y[treated, start:] += effect
    cov = pd.DataFrame({"region": [f"R{r}" for r in region],
                        "urban_rural": np.where(rural, "Rural", "Urban"),
                        "dx_decile": decile, "cluster": [f"C{c:03d}" for c in cluster]},
                       index=units)
    starts = pd.Series(start, index=[units[i] for i in treated])
    return y, cov, starts
