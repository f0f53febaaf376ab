"""The baseline DEDI is measured against: the straightforward pandas script an analyst would
write, reading the same real raw files as a real-England build (``../shared/data`` layout).

It computes, with nothing from the ``pipeline`` package:
- the IMD reproduced from the seven published domain ranks (IoD exponential transformation and
  weights) and its largest difference from the published score;
- DX and DEDI from the same spec (``pipeline/config/index_spec.yaml``, read as YAML);
- the LTLA and ICB area summaries (average score, average rank, extent, local concentration,
  proportion in the most deprived 10%) of the IMD, DX and DEDI.

No checks, no lineage, no publication: the floor DEDI's cold build is compared with.
Scope: the national inputs a real-England build has here (IoD 2025 Files 7 and 8, Census 2021
RM121 / TS038 / TS054, the ONS lookups). Local-authority proxies, NHS App and Ofcom postcode
files are not read; the spec's indicators without data are left out, as DEDI leaves them out.

Run: ``uv run python bench/baseline_pandas.py [RAW_DIR] [--out DIR]`` (RAW_DIR defaults to
``../shared/data``). ``tests/build/test_baseline.py`` asserts its results equal DEDI's.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from scipy.stats import norm

ROOT = Path(__file__).resolve().parents[1]
DOMAINS = {  # IoD 2025 File 7 rank column -> IMD weight (per cent)
    "Income Rank (where 1 is most deprived)": 22.5,
    "Employment Rank (where 1 is most deprived)": 22.5,
    "Education, Skills and Training Rank (where 1 is most deprived)": 13.5,
    "Health Deprivation and Disability Rank (where 1 is most deprived)": 13.5,
    "Crime Rank (where 1 is most deprived)": 9.3,
    "Barriers to Housing and Services Rank (where 1 is most deprived)": 9.3,
    "Living Environment Rank (where 1 is most deprived)": 9.3,
}
C = 23.0  # exponential transformation constant


def exp_transform(rank: pd.Series, n: int) -> pd.Series:
    """IoD: R = (N - rank + 1)/N, X = -23 ln(1 - R (1 - e^(-100/23)))."""
    r = (n - rank + 1) / n
    return -C * np.log(1 - r * (1 - math.exp(-100 / C)))


def rank_desc(score: pd.Series) -> pd.Series:
    """1 = highest score; ties by position."""
    return score.rank(ascending=False, method="first").astype(int)


def normal_score(x: pd.Series) -> pd.Series:
    """Rank-based normal score over the non-missing values: Φ⁻¹((r - 0.5)/n)."""
    return pd.Series(norm.ppf((x.rank() - 0.5) / x.count()), index=x.index)


def load(raw: Path) -> pd.DataFrame:
    """One row per LSOA 2021: published IMD, domain ranks, areas, population, DX inputs."""
    f7 = pd.read_csv(raw / "iod" / "File_7_IoD2025_reconstructed.csv")
    df = f7.rename(columns={"LSOA code (2021)": "lsoa",
                            "Index of Multiple Deprivation (IMD) Score": "imd_score",
                            "Index of Multiple Deprivation (IMD) Rank (where 1 is most "
                            "deprived)": "imd_rank"})
    df = df.rename(columns={"Income Score (rate)": "income_rate",
                            "Employment Score (rate)": "employment_rate",
                            "LSOA name (2021)": "lsoa_name"})
    df = df[["lsoa", "lsoa_name", "imd_score", "imd_rank", "income_rate", "employment_rate",
             *DOMAINS]].sort_values("lsoa")

    ltla = pd.read_parquet(raw / "geography" / "lookup_lsoa21_ward24_ltla24.parquet")
    ltla = ltla.drop_duplicates("lsoa21_code")[["lsoa21_code", "ward24_code", "ltla24_code"]]
    icb = pd.read_parquet(raw / "geography" / "lookup_lsoa21_icb24.parquet")
    df = (df.merge(ltla.rename(columns={"lsoa21_code": "lsoa"}), on="lsoa", how="left")
            .merge(icb[["lsoa21_code", "icb24_code"]].rename(columns={"lsoa21_code": "lsoa"}),
                   on="lsoa", how="left"))

    census = raw / "census2021"
    pop = pd.read_parquet(census / "census21_age6_lsoa21_long.parquet")
    df = df.merge(pop.groupby("lsoa21_code")["usual_residents"].sum().rename("population"),
                  left_on="lsoa", right_index=True, how="left")
    age = pd.read_parquet(census / "census21_age65plus_lsoa21.parquet").set_index("lsoa21cd")
    age75 = 100 * age[["aged_75_79", "aged_80_84", "aged_85_plus"]].sum(axis=1) / age["total"]
    dis = pd.read_parquet(census / "census21_disability_lsoa21.parquet")
    dis = dis[dis["disability"] == "Disabled under the Equality Act"].set_index("lsoa21_code")
    ten = pd.read_parquet(census / "census21_household_tenure_lsoa21.parquet")
    social = ten[ten["tenure"].str.startswith("Social rented")].groupby("lsoa21_code").agg(
        n=("n", "sum"), total=("total_households", "max"))
    f8 = pd.read_parquet(raw / "iod" / "iod2025_file8_indicators_lsoa21.parquet")
    f8 = f8.set_index("lsoa21_code")
    crowd = pd.read_parquet(census / "census21_household_overcrowding_lsoa21.parquet")
    crowded = crowd[crowd["occupancy_rating"].str.contains("overcrowded")].groupby(
        "lsoa21_code").agg(n=("n", "sum"), total=("total_households", "max"))
    dep = pd.read_parquet(census / "census21_household_deprivation_lsoa21.parquet")
    dep = dep.pivot_table(index="lsoa21_code", columns="households_number_deprivation_"
                          "dimensions", values="count", aggfunc="sum")
    # English proficiency: published for MSOAs; an LSOA takes its MSOA's rate (names nest)
    prof = pd.read_parquet(census / "census21_proficiency_msoa21.parquet").set_index(
        "msoa21_code")
    pre = "Main language is not English (English or Welsh in Wales)"
    cannot = prof[f"{pre}: Cannot speak English well"] + prof[f"{pre}: Cannot speak English"]
    rate = 100 * cannot / (prof["Main language is English (English or Welsh in Wales)"]
                           + prof[pre])
    names = pd.read_parquet(raw / "geography" / "boundaries_msoa21.parquet",
                            columns=["msoa21_name", "msoa21_code"])
    msoa_of = dict(zip(names["msoa21_name"], names["msoa21_code"], strict=True))
    fsm = school_fsm(raw)

    s = df.set_index("lsoa")
    df = df.assign(
        pct_aged_75plus=age75.reindex(s.index).to_numpy(),
        pct_disabled=(100 * dis["n"] / dis["total_residents"]).reindex(s.index).to_numpy(),
        pct_households_social_rented=(100 * social["n"] / social["total"]).reindex(s.index)
        .to_numpy(),
        adult_skills_english_pct=(100 * f8["adult_skills_and_english_language_proficiency_"
                                           "indicator"]).reindex(s.index).to_numpy(),
        pct_older_income_deprived=(100 * f8["income_deprivation_affecting_older_people_index_"
                                            "idaopi_numerator"].reindex(s.index)
                                   / s["population"]).to_numpy(),
        connectivity_exclusion=f8["digital_connectivity_broadband_download_and_upload_speeds"]
        .reindex(s.index).to_numpy(),
        income_deprived_pct=100 * s["income_rate"].to_numpy(),
        employment_deprived_pct=100 * s["employment_rate"].to_numpy(),
        illness_disability_ratio=f8["comparative_illness_and_disability_ratio_indicator"]
        .reindex(s.index).to_numpy(),
        pct_households_overcrowded=(100 * crowded["n"] / crowded["total"]).reindex(s.index)
        .to_numpy(),
        pct_households_deprived_2plus=(100 * dep[[2.0, 3.0, 4.0]].sum(axis=1)
                                       / dep.sum(axis=1)).reindex(s.index).to_numpy(),
        school_fsm_pct=fsm.reindex(s.index).to_numpy(),
        pct_cannot_speak_english_well=rate.reindex(
            [msoa_of.get(n[:-1]) for n in s["lsoa_name"]]).to_numpy(),
    )
    return df.reset_index(drop=True)


def school_fsm(raw: Path) -> pd.Series:
    """% FSM of the schools serving each LSOA: the pupil- and distance-weighted mean of the 5
    nearest primary-phase and 3 nearest secondary-phase open schools to the LSOA centroid,
    w = pupils / max(distance, 500 m), combined (7 primary + 5 secondary year groups) / 12."""
    import geopandas as gpd
    from scipy.spatial import cKDTree

    g = pd.read_csv(raw / "schools" / "gias_establishments_open_2025_05.csv",
                    encoding="latin-1", low_memory=False)
    g = g[g["EstablishmentStatus (name)"].fillna("Open").str.startswith("Open")]
    num = {c: pd.to_numeric(g[c], errors="coerce")
           for c in ("NumberOfPupils", "PercentageFSM", "Easting", "Northing")}
    g = g.assign(**num)
    g = g[(g["NumberOfPupils"] > 0) & g["PercentageFSM"].notna() & g["Easting"].notna()
          & g["Northing"].notna()]
    shapes = gpd.read_parquet(raw / "geography" / "boundaries_lsoa21.parquet")
    shapes = shapes[shapes["lsoa21_code"].str.startswith("E")]
    cent = shapes.geometry.to_crs("EPSG:27700").centroid
    xy = np.column_stack([cent.x, cent.y])
    rates = {}
    for phase, names, k in (("primary", {"Primary", "Middle deemed primary", "All-through"}, 5),
                            ("secondary", {"Secondary", "Middle deemed secondary",
                                           "All-through"}, 3)):
        p = g[g["PhaseOfEducation (name)"].isin(names)]
        d, i = cKDTree(p[["Easting", "Northing"]].to_numpy(float)).query(xy, k=k)
        w = p["NumberOfPupils"].to_numpy(float)[i] / np.maximum(d, 500.0)
        rates[phase] = (w * p["PercentageFSM"].to_numpy(float)[i]).sum(axis=1) / w.sum(axis=1)
    return pd.Series((7 * rates["primary"] + 5 * rates["secondary"]) / 12,
                     index=shapes["lsoa21_code"].to_numpy())


def imd(df: pd.DataFrame) -> pd.DataFrame:
    """The IMD from the domain ranks: score, rank."""
    n = len(df)
    score = sum(exp_transform(df[c], n) * w / 100 for c, w in DOMAINS.items())
    return pd.DataFrame({"score": score, "rank": rank_desc(score)})


def dx(df: pd.DataFrame, spec: dict) -> pd.DataFrame:
    """DX the IoD way: normal scores, equal-weight routes averaged, each route ranked and
    exponentially transformed (or re-scored, linear), weighted combination."""
    cfg = spec["dx"]
    used = {k: v for k, v in cfg["indicators"].items()
            if not v.get("local") and v["column"] in df and df[v["column"]].notna().any()}
    if cfg.get("variant") == "net_of_imd":
        used = {k: v for k, v in used.items() if not v.get("double_counts")}
    subs = {}
    for sub in cfg["subdomains"]:
        members = {k: v for k, v in used.items() if v["subdomain"] == sub}
        if not members:
            continue
        z = pd.DataFrame({k: normal_score(df[v["column"]] * v["direction"])
                          for k, v in members.items()})
        w = pd.Series({k: float(v["weight"]) for k, v in members.items()})
        mean = z.mul(w).sum(axis=1, min_count=1) / z.notna().mul(w).sum(axis=1)
        if cfg.get("aggregation") == "exponential":  # R = r/n (ascending, ties averaged)
            r = mean.rank() / mean.count()
            subs[sub] = -C * np.log(1 - r * (1 - math.exp(-100 / C)))
        else:
            subs[sub] = mean if len(members) == 1 else normal_score(mean)
    sw = pd.Series({s: float(cfg["subdomains"][s]["weight"]) for s in subs})
    sw = sw / sw.sum()
    z = pd.DataFrame(subs)
    score = z.mul(sw).sum(axis=1, min_count=1) / z.notna().mul(sw).sum(axis=1)
    return pd.DataFrame({"score": score, "rank": rank_desc(score)})


def dedi(df: pd.DataFrame, dx_rank: pd.Series, dx_weight: float) -> pd.DataFrame:
    """The IMD combination with DX as an eighth domain at w (the seven scaled by 1 - w)."""
    n = len(df)
    total = sum(DOMAINS.values())
    score = sum(exp_transform(df[c], n) * w * (1 - dx_weight) / 100 for c, w in DOMAINS.items())
    score = score + exp_transform(dx_rank, n) * dx_weight * total / 100
    return pd.DataFrame({"score": score, "rank": rank_desc(score)})


def local_concentration(g: pd.DataFrame) -> float:
    """Population-weighted mean inverted rank of the most deprived LSOAs holding 10% of the
    area's population (the LSOA crossing the line counts for its part)."""
    g = g.sort_values("inv_rank", ascending=False, kind="stable")
    target = 0.10 * g["population"].sum()
    before = g["population"].cumsum() - g["population"]
    used = (target - before).clip(lower=0).clip(upper=g["population"])
    return (g["inv_rank"] * used).sum() / target


def summaries(df: pd.DataFrame, index: pd.DataFrame, area: str) -> pd.DataFrame:
    """The IoD area summaries of one index for one geography, with ranks (1 = most deprived)."""
    n = len(df)
    d = pd.DataFrame({"area": df[area], "score": index["score"], "rank": index["rank"],
                      "population": df["population"].astype(float)})
    d["inv_rank"] = n - d["rank"] + 1
    pct = np.ceil(100 * d["rank"] / n)
    d["extent_w"] = np.where(pct <= 10, 1.0, np.where(pct <= 30, 0.95 + (pct - 11) * -0.9 / 19,
                                                      0.0))
    d["top10"] = (d["rank"] <= n / 10).astype(float)
    for c in ("score", "inv_rank", "extent_w"):
        d[f"p_{c}"] = d[c] * d["population"]
    g = d.groupby("area")
    pop = g["population"].sum()
    out = pd.DataFrame({
        "population": pop, "lsoa_count": g.size(),
        "average_score": g["p_score"].sum() / pop,
        "average_rank": g["p_inv_rank"].sum() / pop,
        "extent": g["p_extent_w"].sum() / pop,
        "local_concentration": g[["inv_rank", "population"]].apply(local_concentration),
        "proportion_most_deprived_10pct": g["top10"].mean()})
    for m in list(out.columns[2:]):  # equal to 10 decimals is a tie (docs/method.md)
        out[f"{m}_rank"] = out[m].round(10).rank(ascending=False, method="min").astype(int)
    return out.rename_axis("area_code").reset_index()


def run(raw: Path, spec_path: Path = ROOT / "pipeline" / "config" / "index_spec.yaml") -> dict:
    """Every result: ``lsoa`` (IMD, DX, DEDI per LSOA) and ``area_summary`` (long form)."""
    spec = yaml.safe_load(spec_path.read_text())
    df = load(raw)
    i, x = imd(df), dx(df, spec)
    d = dedi(df, x["rank"], float(spec["dedi"]["dx_weight"]))
    n = len(df)
    lsoa = pd.DataFrame({
        "lsoa21_code": df["lsoa"], "imd_score_reproduced": i["score"],
        "imd_score": df["imd_score"], "imd_rank": df["imd_rank"],
        "dx_score": x["score"], "dx_rank": x["rank"], "dx_decile": np.ceil(10 * x["rank"] / n),
        "dedi_score": d["score"], "dedi_rank": d["rank"],
        "dedi_decile": np.ceil(10 * d["rank"] / n)})
    published = pd.DataFrame({"score": df["imd_score"], "rank": df["imd_rank"]})
    parts = []
    for name, index in (("imd", published), ("dx", x), ("dedi", d)):
        for geography, col in (("ward24", "ward24_code"), ("ltla24", "ltla24_code"),
                               ("icb24", "icb24_code")):
            parts.append(summaries(df, index, col).assign(geography=geography, index=name))
    return {"lsoa": lsoa, "area_summary": pd.concat(parts, ignore_index=True),
            "imd_max_abs_diff": float((i["score"] - df["imd_score"]).abs().max())}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("raw", nargs="?", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--out", type=Path, help="write lsoa.parquet and area_summary.parquet here")
    a = ap.parse_args()
    if not (a.raw / "iod" / "File_7_IoD2025_reconstructed.csv").exists():
        sys.exit(f"baseline_pandas: no real IoD 2025 File 7 under {a.raw}/iod; pass the real "
                 "data folder (../shared/data)")
    t0 = time.perf_counter()
    res = run(a.raw)
    if a.out:
        a.out.mkdir(parents=True, exist_ok=True)
        res["lsoa"].to_parquet(a.out / "lsoa.parquet", index=False)
        res["area_summary"].to_parquet(a.out / "area_summary.parquet", index=False)
    print(f"baseline_pandas: {len(res['lsoa'])} LSOAs, IMD reproduced to "
          f"{res['imd_max_abs_diff']:.2e}, {len(res['area_summary'])} area rows in "
          f"{time.perf_counter() - t0:.2f} s")


if __name__ == "__main__":
    main()
