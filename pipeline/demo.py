"""Deterministic synthetic demo area, written in exactly the raw layout and official formats.

"Synthshire" is an invented area of four local authorities, one ICB and one region, placed in
the North Sea so that no map could mistake it for a real place. Every file carries a
``dedi_synthetic`` column and every topic folder a ``provenance.json`` with ``synthetic: true``;
every name contains "Synthshire". Codes use the unused ``...99xx`` ranges (e.g. E06009901).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import box

from pipeline.config import settings
from pipeline.method.iod import combine_domain_ranks, decile, rank_most_deprived_first
from pipeline.sources import iod
from pipeline.sources.common import PROVENANCE_FILE, SYNTHETIC_COLUMN, sha256_file

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


def _file7(df: pd.DataFrame, scores: dict[str, np.ndarray], pop: np.ndarray) -> pd.DataFrame:
    """IoD 2025 File 7 with the official headers and column order."""
    n = len(df)
    cfg = settings()["iod"]
    ranks = {k: rank_most_deprived_first(pd.Series(v)).to_numpy() for k, v in scores.items()}
    imd = combine_domain_ranks(pd.DataFrame({k: ranks[k] for k in cfg["domain_weights"]}),
                               cfg["domain_weights"], cfg["exponential_constant"])
    out: dict[str, object] = {
        "LSOA code (2021)": df["lsoa21_code"], "LSOA name (2021)": df["lsoa21_name"],
        "Local Authority District code (2024)": df["ltla24_code"],
        "Local Authority District name (2024)": df["ltla24_name"],
    }

    def put(stem: str, score_header: str, s, r) -> None:
        out[score_header] = s
        out[f"{stem} {iod.RANK}"] = r
        out[f"{stem} {iod.DECILE}"] = decile(r, n)

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


def _write_provenance(topic_dir: Path, files: list[Path]) -> None:
    now = datetime.now(UTC).isoformat(timespec="seconds")
    record = {"files": {f.name: {"synthetic": True, "generator": DESCRIPTION, "seed": SEED,
                                 "sha256": sha256_file(f), "bytes": f.stat().st_size,
                                 "retrieved_at": now, "url": None,
                                 "licence": "synthetic (no licence needed)"} for f in files}}
    (topic_dir / PROVENANCE_FILE).write_text(json.dumps(record, indent=2), encoding="utf-8")


def generate(raw_dir: Path) -> list[Path]:
    """Write the demo raw files under ``raw_dir``; returns the files written."""
    rng = np.random.default_rng(SEED)
    cells = _cells(rng)
    n = len(cells)
    pop = np.round(rng.normal(1650, 280, n).clip(1000, 3000))
    scores = _scores(cells, rng)
    written: dict[str, list[Path]] = {}

    def save(topic: str, name: str, frame: pd.DataFrame) -> None:
        d = raw_dir / topic
        d.mkdir(parents=True, exist_ok=True)
        f = d / name
        if name.endswith(".csv"):
            frame.to_csv(f, index=False, encoding="utf-8")
        else:
            frame.to_parquet(f, index=False)
        written.setdefault(topic, []).append(f)

    save("iod", iod.FILE_PATTERNS[0], _file7(cells, scores, pop))

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

    for topic, files in written.items():
        _write_provenance(raw_dir / topic, files)
    (raw_dir / "SYNTHETIC_DEMO_DATA.txt").write_text(
        "Everything in this folder was generated by `dedi demo`. It is SYNTHETIC: invented\n"
        "values for the invented area Synthshire. Do not use it as statistics.\n",
        encoding="utf-8")
    return [f for files in written.values() for f in files]


def raw_dir_is_empty(raw_dir: Path) -> bool:
    """True when the raw folder has no data files (only placeholders such as .gitkeep)."""
    return not raw_dir.exists() or not any(
        p.is_file() and not p.name.startswith(".") for p in raw_dir.rglob("*"))
