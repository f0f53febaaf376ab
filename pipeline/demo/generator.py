"""Deterministic synthetic demo area, written in exactly the raw layout and official formats.

"Synthshire" is an invented area of four local authorities, one ICB and one region, placed in
the North Sea so that no map could mistake it for a real place. Every file carries a
``dedi_synthetic`` column and every topic folder a ``provenance.json`` with ``synthetic: true``;
every name contains "Synthshire". Codes use the unused ``...99xx`` ranges (e.g. E06009901).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import box

from pipeline.demo.synthetic import write_provenance
from pipeline.inputs import rawdir
from pipeline.inputs.rawdir import DEMO_MARKER
from pipeline.sources import iod
from pipeline.sources.common import SYNTHETIC_COLUMN

SEED = 20251030
LTLAS = [("E06009901", "Synthshire North"), ("E06009902", "Synthshire Coast"),
         ("E06009903", "Synthshire Vale"), ("E06009904", "Synthshire Moor")]
REGION = ("E12009901", "Synthshire Region (SYNTHETIC)")
ICB = ("E54009901", "NHS Synthshire Integrated Care Board (SYNTHETIC)", "QZ9")
SICBLS = [("E38009901", "NHS Synthshire ICB - 99A", "99A"),
          ("E38009902", "NHS Synthshire ICB - 99B", "99B")]
GRID = (16, 20)  # columns x rows of LSOA cells: 320 LSOAs
ORIGIN, CELL = (2.0, 54.0), 0.02  # lon/lat of the south-west corner (North Sea), degrees
AGE_GROUPS = ["Aged 15 years and under", "Aged 16 to 24 years", "Aged 25 to 34 years",
              "Aged 35 to 49 years", "Aged 50 to 64 years", "Aged 65 years and over"]
DESCRIPTION = "DEDI demo generator: SYNTHETIC data for the invented area Synthshire"


def _cells(rng: np.random.Generator) -> pd.DataFrame:
    """One row per LSOA: grid position, LTLA, sub-ICB, code, name and latent deprivation."""
    nx, ny = GRID
    x, y = np.meshgrid(np.arange(nx), np.arange(ny), indexing="xy")
    x, y = x.ravel(), y.ravel()
    ltla = (x >= nx // 2).astype(int) + 2 * (y >= ny // 2).astype(int)
    # Smooth latent deprivation: a deprived "town" at one corner, plus noise.
    dist = np.hypot(x - 3, y - 4) / np.hypot(nx, ny)
    latent = 1.6 * np.exp(-5 * dist) + 0.5 * np.sin(x / 2.5) * np.cos(y / 3.0)
    latent = latent + rng.normal(0, 0.35, x.size)
    df = pd.DataFrame({"x": x, "y": y, "ltla_i": ltla, "latent": latent})
    df = df.sort_values(["ltla_i", "y", "x"]).reset_index(drop=True)
    df["lsoa21_code"] = [f"E0199{i + 1:04d}" for i in range(len(df))]
    df["ltla24_code"] = [LTLAS[i][0] for i in df["ltla_i"]]
    df["ltla24_name"] = [LTLAS[i][1] for i in df["ltla_i"]]
    seq = df.groupby("ltla_i").cumcount()
    df["lsoa21_name"] = [f"{n} {s // 4 + 1:03d}{'ABCD'[s % 4]}"
                         for n, s in zip(df["ltla24_name"], seq, strict=True)]
    df["msoa_seq"] = seq // 4
    df["sicbl_i"] = (df["ltla_i"] >= 2).astype(int)
    return df


def _scores(df: pd.DataFrame, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Plausible correlated domain scores from the latent factor (official units)."""
    z = df["latent"].to_numpy()
    n = len(z)

    def noisy(scale: float) -> np.ndarray:
        return z + rng.normal(0, scale, n)

    def rate(v: np.ndarray, lo: float, hi: float) -> np.ndarray:
        return np.round(lo + (hi - lo) / (1 + np.exp(-1.6 * (v - 0.6))), 3)

    return {
        "income": rate(noisy(0.25), 0.02, 0.45),
        "employment": rate(noisy(0.3), 0.02, 0.35),
        "education": np.round(np.clip(8 + 30 * noisy(0.4), 0.1, 90), 3),
        "health": np.round(-1.2 + 1.3 * noisy(0.45), 3),
        "crime": np.round(-1.0 + 1.1 * noisy(0.6), 3),
        "barriers": np.round(np.clip(22 + 8 * rng.normal(0, 1, n) + 4 * z, 1, 70), 3),
        "living_environment": np.round(np.clip(15 + 12 * noisy(0.8), 0.5, 90), 3),
        "idaci": rate(noisy(0.3), 0.02, 0.55),
        "idaopi": rate(noisy(0.35), 0.03, 0.50),
    }


# The IoD 2025 combination, written out here from the technical report on purpose, apart from
# pipeline/method and settings.yaml: the demo's published IMD must be able to catch a wrong
# method (tests/build/test_demo_build.py::test_demo_imd_check_catches_a_wrong_weight).
IOD2025_WEIGHTS = {"income": 0.225, "employment": 0.225, "education": 0.135, "health": 0.135,
                   "crime": 0.093, "barriers": 0.093, "living_environment": 0.093}


def _rank_desc(v: np.ndarray) -> np.ndarray:
    """1 = highest value; ties by position."""
    order = np.argsort(-np.asarray(v, dtype="float64"), kind="stable")
    r = np.empty(len(order), dtype=np.int64)
    r[order] = np.arange(1, len(order) + 1)
    return r


def _imd2025(domain_ranks: dict[str, np.ndarray]) -> np.ndarray:
    """IMD score = Σ w_d · −23·ln(1 − R_d·(1 − e^(−100/23))), R_d = (N − rank_d + 1)/N."""
    n = len(next(iter(domain_ranks.values())))
    score = np.zeros(n)
    for d, w in IOD2025_WEIGHTS.items():
        big_r = (n - domain_ranks[d] + 1) / n
        score += w * -23.0 * np.log(1.0 - big_r * (1.0 - np.exp(-100.0 / 23.0)))
    return score


def _file7(df: pd.DataFrame, scores: dict[str, np.ndarray], pop: np.ndarray) -> pd.DataFrame:
    """IoD 2025 File 7 with the official headers and column order."""
    n = len(df)
    ranks = {k: _rank_desc(v) for k, v in scores.items()}
    imd_score = _imd2025(ranks)
    imd = {"score": imd_score, "rank": _rank_desc(imd_score)}
    out: dict[str, object] = {
        "LSOA code (2021)": df["lsoa21_code"], "LSOA name (2021)": df["lsoa21_name"],
        "Local Authority District code (2024)": df["ltla24_code"],
        "Local Authority District name (2024)": df["ltla24_name"],
    }

    def put(stem: str, score_header: str, s, r) -> None:
        out[score_header] = s
        out[f"{stem} {iod.RANK}"] = r
        out[f"{stem} {iod.DECILE}"] = np.ceil(10 * np.asarray(r) / n).astype(int)

    put(iod.DOMAINS["imd"][0], iod.DOMAINS["imd"][1], np.round(imd["score"], 3), imd["rank"])
    for key, (stem, score_header) in iod.DOMAINS.items():
        if key != "imd":
            put(stem, score_header, scores[key], ranks[key])
    for key in ("idaci", "idaopi"):
        stem = iod.SUBDOMAINS[key]
        put(stem, f"{stem} Score (rate)", scores[key], ranks[key])
    pop = pop.astype(int)
    out["Total population: mid 2022"] = pop
    out["Dependent Children aged 0-15: mid 2022"] = (pop * 0.19).astype(int)
    out["Older population aged 60 and over: mid 2022"] = (pop * 0.25).astype(int)
    out["Working age population 18-66 (for use with Employment Deprivation Domain): mid 2022"] = (
        pop * 0.6).astype(int)
    out[SYNTHETIC_COLUMN] = True
    return pd.DataFrame(out)


def _digital_inputs(raw_dir: Path, c: pd.DataFrame, census_pop: np.ndarray, age6: np.ndarray,
                    older: np.ndarray, shapes: gpd.GeoDataFrame, rng: np.random.Generator,
                    save) -> None:
    """Every digital-exclusion input, topic by topic (in a fixed order: one RNG stream).

    Every value derives from the generator's own latent state (``c["latent"]``, ``older``),
    never from a file the index reads (no IMD ranks or domains, no Census indicators)."""
    households = _census(c, census_pop, age6, shapes, rng, save)
    cx, cy = _schools(c, shapes, rng, save)
    _gp_and_nhs_app(c, census_pop, older, save)
    _file8(c, census_pop, older, rng, save)
    pcs, pc_lsoa = _ofcom_and_postcodes(raw_dir, c, cx, cy, rng, save)
    _local_proxies(c, shapes, age6, households, older, pcs, pc_lsoa, rng, save)


def _census(c: pd.DataFrame, census_pop: np.ndarray, age6: np.ndarray,
            shapes: gpd.GeoDataFrame, rng: np.random.Generator, save) -> np.ndarray:
    """Census RM121 (65+ bands), TS038, TS052, TS011, TS054, TS029 (MSOA) and MSOA boundaries;
    returns households per LSOA."""
    n = len(c)
    z = c["latent"].to_numpy()
    codes, names = c["lsoa21_code"], c["lsoa21_name"]
    # Census RM121 ages 65+ (split of the 65+ band), TS038, TS052, TS054, TS029 (MSOA).
    over65 = age6[:, 5]
    split = rng.dirichlet([1, 3, 3, 2.5, 2, 1.8], n)
    bands = np.floor(split * over65[:, None]).astype(int)
    bands[:, 0] += over65 - bands.sum(axis=1)
    save("census2021", "census21_age65plus_lsoa21.parquet", pd.DataFrame({
        "lsoa21cd": codes, "lsoa21nm": names, "total": census_pop.astype(int),
        **{k: bands[:, i] for i, k in enumerate(
            ["aged_65", "aged_66_69", "aged_70_74", "aged_75_79", "aged_80_84", "aged_85_plus"])},
        SYNTHETIC_COLUMN: True}))
    disabled = np.round(census_pop * np.clip(0.17 + 0.04 * z + rng.normal(0, 0.02, n), 0.05, 0.45))
    save("census2021", "census21_disability_lsoa21.parquet", _long(
        codes, "disability", ["Disabled under the Equality Act",
                              "Not disabled under the Equality Act"],
        np.column_stack([disabled, census_pop - disabled]), "total_residents"))
    households = np.round(census_pop / 2.3)
    crowd = np.clip(0.04 + 0.03 * z + rng.normal(0, 0.01, n), 0.005, 0.3)
    occ = np.tile([0.25, 0.3, 0.35, 0.0, 0.0], (n, 1))
    occ[:, 3], occ[:, 4] = crowd * 0.8, crowd * 0.2
    occ[:, :3] *= ((1 - crowd) / occ[:, :3].sum(axis=1))[:, None]
    save("census2021", "census21_household_overcrowding_lsoa21.parquet", _long(
        codes, "occupancy_rating", ["+2 or more (under-occupied)", "+1 (under-occupied)",
                                    "0 (ideal)", "-1 (overcrowded)", "-2 or less (overcrowded)"],
        np.round(occ * households[:, None]), "total_households"))
    # TS011 household deprivation dimensions (0-4), in the shared copy's layout; its own
    # stream, so the files after it stay as they were
    extra = np.random.default_rng(SEED + 11)
    two_plus = np.clip(0.2 + 0.1 * z + extra.normal(0, 0.03, n), 0.01, 0.8)
    dims = np.column_stack([(1 - two_plus) * 0.5, (1 - two_plus) * 0.5, two_plus * 0.7,
                            two_plus * 0.25, two_plus * 0.05])
    dims = np.round(dims * households[:, None])
    save("census2021", "census21_household_deprivation_lsoa21.parquet", pd.DataFrame({
        "lsoa21_code": np.repeat(codes.to_numpy(), 5),
        "households_number_deprivation_dimensions": np.tile(np.arange(5.0), n),
        "count": dims.ravel(),
        "percent": np.round(100 * (dims / dims.sum(axis=1, keepdims=True)).ravel(), 1),
        SYNTHETIC_COLUMN: True}))
    social = np.clip(0.15 + 0.12 * z + rng.normal(0, 0.04, n), 0.01, 0.7)
    ten = rng.dirichlet([3, 3, 0.3, 1.5, 0.3], n) * (1 - social)[:, None]
    ten = np.column_stack([ten[:, :3], social * 0.6, social * 0.4, ten[:, 3:]])
    save("census2021", "census21_household_tenure_lsoa21.parquet", _long(
        codes, "tenure", ["Owned: Owns outright", "Owned: Owns with a mortgage or loan",
                          "Shared ownership: Shared ownership",
                          "Social rented: Rents from council or Local Authority",
                          "Social rented: Other social rented",
                          "Private rented: Private landlord or letting agency",
                          "Lives rent free"],
        np.round(ten * households[:, None]), "total_households"))
    msoa = c.assign(msoa21_name=[nm[:-1] for nm in names],
                    msoa21_code=[f"E0299{i:04d}" for i in c["ltla_i"] * 100 + c["msoa_seq"]],
                    pop=census_pop, z=z)
    m = msoa.groupby(["msoa21_code", "msoa21_name"], as_index=False).agg(
        pop=("pop", "sum"), z=("z", "mean"))
    cannot = np.clip(0.01 + 0.015 * m["z"] + rng.normal(0, 0.004, len(m)), 0.001, 0.1)
    not_eng = np.clip(cannot * 4.5, 0.02, 0.4)
    res = m["pop"].to_numpy() * 0.97
    pre = "Main language is not English (English or Welsh in Wales)"
    save("census2021", "census21_proficiency_msoa21.parquet", pd.DataFrame({
        "msoa21_code": m["msoa21_code"],
        "Main language is English (English or Welsh in Wales)": np.round(res * (1 - not_eng)),
        pre: np.round(res * not_eng),
        f"{pre}: Can speak English very well": np.round(res * (not_eng - cannot) * 0.6),
        f"{pre}: Can speak English well": np.round(res * (not_eng - cannot) * 0.4),
        f"{pre}: Cannot speak English well": np.round(res * cannot * 0.8),
        f"{pre}: Cannot speak English": np.round(res * cannot * 0.2),
        "Proportion who cannot speak English (well)": cannot, SYNTHETIC_COLUMN: True}))
    ms = shapes.assign(msoa21_code=msoa["msoa21_code"].to_numpy(),
                       msoa21_name=msoa["msoa21_name"].to_numpy())
    ms = ms.dissolve(by=["msoa21_code", "msoa21_name"]).reset_index()
    save("geography", "boundaries_msoa21.parquet",
         ms[["msoa21_name", "msoa21_code", SYNTHETIC_COLUMN, "geometry"]])
    return households


def _schools(c: pd.DataFrame, shapes: gpd.GeoDataFrame, rng: np.random.Generator, save
             ) -> tuple[np.ndarray, np.ndarray]:
    """GIAS schools near LSOA centroids; returns the centroids (BNG)."""
    n = len(c)
    z = c["latent"].to_numpy()
    codes = c["lsoa21_code"]
    bng = shapes.to_crs("EPSG:27700")
    cx, cy = bng.centroid.x.to_numpy(), bng.centroid.y.to_numpy()
    # GIAS schools: ~1 primary per 6 LSOAs, 1 secondary per 25, plus non-FSM rows.
    k_p, k_s = n // 6, n // 25
    at = rng.choice(n, k_p + k_s + 6, replace=False)
    phase = ["Primary"] * k_p + ["Secondary"] * k_s + ["Not applicable"] * 3 + ["Nursery"] * 3
    fsm = np.clip(22 + 14 * z[at] + rng.normal(0, 4, len(at)), 1, 80).round(1)
    gias = pd.DataFrame({
        "URN": 990000 + np.arange(len(at)), "LA (code)": "999",
        "LA (name)": c["ltla24_name"].to_numpy()[at], "EstablishmentNumber": np.arange(len(at)),
        "EstablishmentName": [f"Synthshire School {i + 1}" for i in range(len(at))],
        "TypeOfEstablishment (name)": "Community school",
        "EstablishmentTypeGroup (name)": "Local authority maintained schools",
        "EstablishmentStatus (name)": "Open", "PhaseOfEducation (name)": phase,
        "NumberOfPupils": np.where(np.array(phase) == "Secondary", 1100, 300).astype(float),
        "PercentageFSM": [f if p in ("Primary", "Secondary") else "" for f, p in
                          zip(fsm, phase, strict=True)],
        "Easting": (cx[at] + rng.normal(0, 200, len(at))).round(),
        "Northing": (cy[at] + rng.normal(0, 200, len(at))).round(),
        "LSOA (code)": codes.to_numpy()[at], "ParliamentaryConstituency (code)": "E14099901",
        SYNTHETIC_COLUMN: True})
    save("schools", "gias_establishments_synthshire.csv", gias)
    return cx, cy


def _gp_and_nhs_app(c: pd.DataFrame, census_pop: np.ndarray, older: np.ndarray, save) -> None:
    """epraccur practices, GP patients by LSOA and NHS App registrations."""
    from pipeline.demo import synthetic

    z = c["latent"].to_numpy()
    codes = c["lsoa21_code"]
    # GP practices (epraccur columns, as in ../shared/data/gp), patients and NHS App.
    from pipeline.sources.gp import EPRACCUR_COLUMNS

    n_prac = 24
    prac = pd.DataFrame({k: "" for k in EPRACCUR_COLUMNS if not k.startswith("null")},
                        index=range(n_prac))
    prac["organisation_code"] = [f"Z99{i:03d}" for i in range(n_prac)]
    prac["name"] = [f"SYNTHSHIRE SURGERY {i + 1}" for i in range(n_prac)]
    prac["status_code"] = ["C" if i in (5, 17) else "A" for i in range(n_prac)]
    prac["commissioner"] = ["99A" if i < n_prac // 2 else "99B" for i in range(n_prac)]
    prac["prescribing_setting"] = "4"
    prac[SYNTHETIC_COLUMN] = True
    save("gp", "epraccur_synthshire.parquet", prac)
    lsoas = pd.DataFrame({"lsoa21_code": codes, "population": census_pop,
                          "sicbl24_code_nhs": [SICBLS[i][2] for i in c["sicbl_i"]]})
    patients = synthetic.gp_patients_by_lsoa(
        prac.rename(columns={"organisation_code": "practice_code", "name": "practice_name"}),
        lsoas, seed=SEED)
    save("gp", "gp-reg-pat-prac-lsoa-all.csv", patients)
    need = pd.DataFrame({"lsoa21_code": codes, "latent": z, "older_share": older})
    app = synthetic.nhs_app_practice_uptake(patients, need, seed=SEED)
    for month, rows in app.groupby("month"):  # one file per month, as NHS England releases
        save("nhs_app", f"nhs_app_practice_{month}.csv", rows)
    save("interventions", "demo_digital_hubs.csv", synthetic.demo_interventions())


def _file8(c: pd.DataFrame, census_pop: np.ndarray, older: np.ndarray,
           rng: np.random.Generator, save) -> None:
    """IoD 2025 File 8 underlying indicators used by DX."""
    n = len(c)
    z = c["latent"].to_numpy()
    codes, names = c["lsoa21_code"], c["lsoa21_name"]
    # IoD 2025 File 8 underlying indicators (official header text; demo as CSV).
    rural_lsoa = np.clip(0.1 + 0.6 * (c["x"].to_numpy() / GRID[0]) ** 3, 0, 1)
    idaopi = np.round(census_pop * older * np.clip(0.12 + 0.08 * z, 0.01, 0.6))
    save("iod", "File_8_IoD2025_Underlying_Indicators_synthshire.csv", pd.DataFrame({
        "LSOA code (2021)": codes, "LSOA name (2021)": names,
        "Income Deprivation Affecting Older People Index (IDAOPI) numerator":
            np.where(idaopi < 5, np.nan, idaopi),  # suppressed small counts, as published
        "Adult skills and English language proficiency indicator":
            np.round(np.clip(0.12 + 0.07 * z + rng.normal(0, 0.02, n), 0.01, 0.7), 3),
        "Comparative illness and disability ratio indicator":
            np.round(np.clip(90 + 30 * z + rng.normal(0, 8, n), 20, 300), 3),
        "Digital connectivity (broadband download and upload speeds)":
            np.round(3 * rural_lsoa - 0.6 + rng.normal(0, 0.3, n), 3),
        SYNTHETIC_COLUMN: True}))


def _ofcom_and_postcodes(raw_dir: Path, c: pd.DataFrame, cx: np.ndarray, cy: np.ndarray,
                         rng: np.random.Generator, save) -> tuple[list[str], np.ndarray]:
    """Ofcom postcode coverage zip and ONSPD; returns the postcodes and their LSOA positions."""
    import zipfile

    n = len(c)
    codes = c["lsoa21_code"]
    # Ofcom postcode coverage (zip of per-area CSVs) and the ONS Postcode Directory.
    per = 12
    pc_lsoa = np.repeat(np.arange(n), per)
    area = np.where(c["ltla_i"].to_numpy()[pc_lsoa] < 2, "XS", "XT")
    district = 1 + (pc_lsoa // 40)
    seq = np.arange(len(pc_lsoa))
    pcs = [f"{a}{d} {s % 9 + 1}{'ABDEFGHJLNPQRSTUWXYZ'[s // 9 % 20]}{'ABDEFGHJLNPQRSTUWXYZ'[s // 180 % 20]}"
           for a, d, s in zip(area, district, seq, strict=True)]
    rural = np.clip(0.1 + 0.6 * (c["x"].to_numpy() / GRID[0]) ** 3, 0, 1)[pc_lsoa]
    below30 = np.clip(100 * rural * rng.beta(1, 3, len(pcs)), 0, 100).round(1)
    premises = rng.integers(5, 60, len(pcs))
    cov = pd.DataFrame({
        "postcode": [p.replace(" ", "") for p in pcs], "postcode_space": pcs,
        "postcode area": area, "All Premises": premises,
        "SFBB availability (% premises)": (100 - below30).round(1),
        "UFBB (100Mbit/s) availability (% premises)": (100 - below30 * 1.4).clip(0).round(1),
        "UFBB availability (% premises)": (100 - below30 * 1.5).clip(0).round(1),
        "Gigabit availability (% premises)": (100 - below30 * 2).clip(0).round(1),
        "% of premises unable to receive 10Mbit/s": (below30 * 0.4).round(1),
        "% of premises unable to receive 30Mbit/s": below30,
        "% of premises below the USO": (below30 * 0.2).round(1)})
    uso = cov["% of premises below the USO"].astype(object)
    uso[cov.index % 97 == 5] = "*"  # suppressed cells, as Ofcom marks them
    cov["% of premises below the USO"] = uso
    ghosts = pd.DataFrame({"postcode": ["XS991AA", "XT992BB"], "postcode_space": ["XS99 1AA",
                           "XT99 2BB"], "postcode area": ["XS", "XT"], "All Premises": [12, 7],
                           "% of premises unable to receive 30Mbit/s": [50.0, 0.0]})
    cov = pd.concat([cov, ghosts], ignore_index=True)  # not in the directory: unplaceable
    folder = raw_dir / "connectivity"
    folder.mkdir(parents=True, exist_ok=True)
    zpath = folder / "202601_fixed_postcode_coverage_r01.zip"
    with zipfile.ZipFile(zpath, "w", zipfile.ZIP_DEFLATED) as zf:
        for a, part in cov.groupby("postcode area"):
            info = zipfile.ZipInfo(f"202601_fixed_postcode_coverage_r01_{a}.csv",
                                   date_time=(2026, 1, 15, 0, 0, 0))  # fixed: deterministic
            zf.writestr(info, part.to_csv(index=False), zipfile.ZIP_DEFLATED)
    save(folder.relative_to(raw_dir).as_posix(), zpath.name, None)
    # ONSPD: postcode centroids jittered inside their LSOA; some terminated.
    jx = cx[pc_lsoa] + rng.uniform(-300, 300, len(pcs))
    jy = cy[pc_lsoa] + rng.uniform(-300, 300, len(pcs))
    onspd = pd.DataFrame({"pcd": [p.replace(" ", "") for p in pcs], "pcd2": pcs, "pcds": pcs,
                          "dointr": "198001", "doterm": np.where(seq % 50 == 7, "202001", ""),
                          "oseast1m": jx.round(), "osnrth1m": jy.round(),
                          "lsoa21cd": codes.to_numpy()[pc_lsoa], "ctry25cd": "E92000001",
                          SYNTHETIC_COLUMN: True})
    save("geography", "ONSPD_SYNTHSHIRE_UK.csv", onspd)
    return pcs, pc_lsoa


def _local_proxies(c: pd.DataFrame, shapes: gpd.GeoDataFrame, age6: np.ndarray,
                   households: np.ndarray, older: np.ndarray, pcs: list[str],
                   pc_lsoa: np.ndarray, rng: np.random.Generator, save) -> None:
    """One local proxy file per LA, one of each form of the local data contract."""
    from pipeline.demo import synthetic

    z = c["latent"].to_numpy()
    codes = c["lsoa21_code"]
    # Local-authority proxy files, one of each form of the local data contract.
    need_ab = pd.DataFrame({"lsoa21_code": codes, "households": households, "latent": z,
                            "older_share": older})
    la0 = LTLAS[0][0]
    recs = synthetic.assisted_bin_records(shapes[c["ltla24_code"] == la0], need_ab, seed=SEED)
    save(f"local/{la0}", "assisted_bin_collection.csv", recs)
    la1 = LTLAS[1][0]
    in1 = (c["ltla24_code"] == LTLAS[1][0]).to_numpy()
    kids = age6[in1, 0]
    pp = np.round(kids * np.clip(0.2 + 0.12 * z[in1], 0.02, 0.7)).astype(int)
    pp_txt = [str(v) if v >= 10 else "*" for v in pp]
    save(f"local/{la1}", "pupil_premium.csv", pd.DataFrame({
        "lsoa21_code": codes[in1], "count": pp_txt, "denominator": kids,
        SYNTHETIC_COLUMN: True}))
    la2 = LTLAS[2][0]
    in2 = np.flatnonzero((c["ltla24_code"] == la2).to_numpy()[pc_lsoa])
    esl = rng.choice(in2, 1500)
    save(f"local/{la2}", "english_second_language.csv", pd.DataFrame({
        "person_id": np.arange(len(esl)), "postcode": [pcs[i].lower() for i in esl],
        SYNTHETIC_COLUMN: True}))
    la3 = LTLAS[3][0]
    in3 = np.flatnonzero((c["ltla24_code"] == la3).to_numpy())
    # 4-40 poor-condition homes per LSOA: some below the suppression threshold, most above
    pts = shapes.iloc[in3].sample_points(size=rng.integers(4, 40, len(in3)), rng=rng).explode()
    save(f"local/{la3}", "housing_condition.csv", pd.DataFrame({
        "address_id": np.arange(len(pts)), "lat": pts.y.round(6).to_numpy(),
        "lon": pts.x.round(6).to_numpy(), "hazard": "Category 1", SYNTHETIC_COLUMN: True}))


def _long(codes: pd.Series, category: str, labels: list[str], counts: np.ndarray,
          total_name: str) -> pd.DataFrame:
    """A tidy long Census table in the shared layout (lsoa21_code, total, category, n, prop)."""
    n = len(codes)
    total = counts.sum(axis=1)
    return pd.DataFrame({
        "lsoa21_code": np.repeat(codes.to_numpy(), len(labels)),
        total_name: np.repeat(total, len(labels)), category: labels * n,
        "n": counts.ravel(), "prop": (counts / total[:, None]).ravel(),
        SYNTHETIC_COLUMN: True})


def generate(raw_dir: Path) -> list[Path]:
    """Write the demo raw files under ``raw_dir``; returns the files written.

    Everything is generated in a temporary sibling folder and moved into place only when
    complete. Only an empty folder or an earlier demo is written to: synthetic files never
    join real ones.
    """
    state = rawdir.inspect(raw_dir)
    if state.kind in ("real", "mixed"):
        raise FileExistsError(f"{raw_dir} holds real raw files ({len(state.real)}); refusing to "
                              "mix synthetic demo files into it. Use another folder: "
                              "DEDI_RAW_DIR=data/demo dedi demo")
    raw_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".demo-", dir=raw_dir.parent))
    try:
        files = _generate(tmp)
        for entry in sorted(tmp.iterdir()):
            target = raw_dir / entry.name
            if target.is_dir():
                shutil.rmtree(target)
            os.replace(entry, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return [raw_dir / f.relative_to(tmp) for f in files]


def _generate(raw_dir: Path) -> list[Path]:
    rng = np.random.default_rng(SEED)
    cells = _cells(rng)
    n = len(cells)
    pop = np.round(rng.normal(1650, 280, n).clip(1000, 3000))
    scores = _scores(cells, rng)
    written: dict[str, list[Path]] = {}

    def save(topic: str, name: str, frame: pd.DataFrame | None) -> None:
        """Write ``frame`` (None: the file is already written) and remember it."""
        d = raw_dir / topic
        d.mkdir(parents=True, exist_ok=True)
        f = d / name
        if frame is None:
            pass
        elif name.endswith(".csv"):
            frame.to_csv(f, index=False, encoding="utf-8")
        else:
            frame.to_parquet(f, index=False)
        written.setdefault(topic, []).append(f)

    file7 = _file7(cells, scores, pop)
    save("iod", iod.FILE_PATTERNS[0], file7)

    c = cells
    ward_code = [f"E0599{i:04d}" for i in c["ltla_i"] * 100 + c["msoa_seq"] // 3]
    save("geography", "lookup_lsoa21_ward24_ltla24.parquet", pd.DataFrame({
        "lsoa21_name": c["lsoa21_name"], "lsoa21_code": c["lsoa21_code"],
        "ward24_name": [f"Synthshire Ward {w[-4:]}" for w in ward_code], "ward24_code": ward_code,
        "ltla24_name": c["ltla24_name"], "ltla24_code": c["ltla24_code"],
        SYNTHETIC_COLUMN: True}))
    sic = [SICBLS[i] for i in c["sicbl_i"]]
    save("geography", "lookup_lsoa21_icb24.parquet", pd.DataFrame({
        "lsoa21_name": c["lsoa21_name"], "lsoa21_code": c["lsoa21_code"],
        "sicbl24_name": [s[1] for s in sic], "sicbl24_code": [s[0] for s in sic],
        "sicbl24_code_nhs": [s[2] for s in sic], "icb24_name": ICB[1], "icb24_code": ICB[0],
        "icb24_code_nhs": ICB[2], SYNTHETIC_COLUMN: True}))
    save("geography", "lookup_ltla24_region24.parquet", pd.DataFrame({
        "ltla24_name": [n_ for _, n_ in LTLAS], "ltla24_code": [c_ for c_, _ in LTLAS],
        "region24_name": REGION[1], "region24_code": REGION[0], SYNTHETIC_COLUMN: True}))
    far = (c["x"] - c["x"].min()) + (c["y"] - c["y"].min())  # rural away from the town
    rural = far >= far.quantile(0.8)
    save("geography", "ruc21_lsoa21.parquet", pd.DataFrame({
        "lsoa21_code": c["lsoa21_code"],
        "ruc21_code": np.where(rural, "RLN1", "UN1"),
        "classification": np.where(rural, "Larger rural: Nearer to a major town or city",
                                   "Urban: Nearer to a major town or city"),
        "ruc": np.where(rural, "Rural", "Urban"), SYNTHETIC_COLUMN: True}))
    polys = [box(ORIGIN[0] + x * CELL, ORIGIN[1] + y * CELL,
                 ORIGIN[0] + (x + 1) * CELL, ORIGIN[1] + (y + 1) * CELL)
             for x, y in zip(c["x"], c["y"], strict=True)]
    lsoa_shapes = gpd.GeoDataFrame({"lsoa21_name": c["lsoa21_name"],
                                    "lsoa21_code": c["lsoa21_code"], SYNTHETIC_COLUMN: True},
                                   geometry=polys, crs="EPSG:4326")
    save("geography", "boundaries_lsoa21.parquet", lsoa_shapes)
    ltla_shapes = lsoa_shapes.assign(ltla24_code=c["ltla24_code"], ltla24_name=c["ltla24_name"])
    ltla_shapes = ltla_shapes.dissolve(by=["ltla24_code", "ltla24_name"]).reset_index()
    save("geography", "boundaries_ltla24.parquet",
         ltla_shapes[["ltla24_name", "ltla24_code", SYNTHETIC_COLUMN, "geometry"]])
    icb_shape = gpd.GeoDataFrame({"icb24_name": [ICB[1]], "icb24_code": [ICB[0]],
                                  SYNTHETIC_COLUMN: [True]},
                                 geometry=[lsoa_shapes.union_all()], crs="EPSG:4326")
    save("geography", "boundaries_icb24.parquet", icb_shape)

    # Census 2021 usual residents by six age bands (older where deprivation is lower).
    older = np.clip(0.19 - 0.03 * c["latent"].to_numpy() + rng.normal(0, 0.02, n), 0.06, 0.4)
    shares = np.column_stack([np.full(n, 0.19), np.full(n, 0.11), np.full(n, 0.13),
                              np.full(n, 0.19), 0.38 - older, older])
    census_pop = np.round(pop * 0.97)
    counts = np.floor(shares * census_pop[:, None]).astype(int)
    counts[:, 0] += (census_pop - counts.sum(axis=1)).astype(int)
    save("census2021", "census21_age6_lsoa21_long.parquet", pd.DataFrame({
        "lsoa21_code": np.repeat(c["lsoa21_code"], 6), "lsoa21_name": np.repeat(c["lsoa21_name"], 6),
        "age_group": AGE_GROUPS * n, "usual_residents": counts.ravel(), SYNTHETIC_COLUMN: True}))

    _digital_inputs(raw_dir, cells, census_pop, counts, older, lsoa_shapes, rng, save)

    for topic, files in written.items():
        write_provenance(raw_dir / topic, files, DESCRIPTION, SEED)
    (raw_dir / DEMO_MARKER).write_text(
        "Everything in this folder was generated by `dedi demo`. It is SYNTHETIC: invented\n"
        "values for the invented area Synthshire. Do not use it as statistics.\n",
        encoding="utf-8")
    return [f for files in written.values() for f in files]

