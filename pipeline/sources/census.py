"""ONS Census 2021 usual residents by LSOA 2021 (TS007A age bands, or TS001 totals)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from pipeline.sources.common import (
    FetchSpec,
    SourceError,
    check_lsoa_codes,
    find_one,
    map_headers,
    read_table,
    to_number,
)
from pipeline.sources.guards import check_not_above, check_range

TOPIC = "census2021"
FILES = ["census21_age6_lsoa21_long.parquet", "census21_usual_residents_lsoa21.csv"]

# Tidy long copy (lsoa21_code, age_group, usual_residents) or the Nomis API CSV of TS001.
HEADER_MAP = {
    "lsoa21_code": "lsoa21_code", "GEOGRAPHY_CODE": "lsoa21_code", "geography code": "lsoa21_code",
    "lsoa21_name": "lsoa21_name", "GEOGRAPHY_NAME": "lsoa21_name", "geography": "lsoa21_name",
    "usual_residents": "usual_residents", "OBS_VALUE": "usual_residents",
    "Residence type: Total; measures: Value": "usual_residents",
}

FETCH = [
    FetchSpec(
        source="census21_usual_residents",
        url=(
            "https://www.nomisweb.co.uk/api/v01/dataset/NM_2021_1.data.csv?date=latest"
            "&geography=TYPE151&c2021_restype_3=0&measures=20100"
            "&select=GEOGRAPHY_CODE,GEOGRAPHY_NAME,OBS_VALUE"
        ),
        target=f"{TOPIC}/census21_usual_residents_lsoa21.csv",
        description="Census 2021 TS001 usual residents by LSOA 2021 (Nomis API)",
    )
]


def read_population(path: Path) -> pd.DataFrame:
    """Usual residents per England LSOA 2021 (sums age bands when the file is long)."""
    df = map_headers(read_table(path), HEADER_MAP, ["lsoa21_code", "usual_residents"], path)
    df["usual_residents"] = to_number(df, "usual_residents", path)
    check_range(df, "usual_residents", path, 0, MAX_COUNT, integral=True)
    df = df[df["lsoa21_code"].astype(str).str.startswith("E")]
    extra = [c for c in ("dedi_synthetic",) if c in df.columns]
    out = (df.groupby("lsoa21_code", as_index=False)
             .agg(usual_residents=("usual_residents", "sum"),
                  **{c: (c, "max") for c in extra}))
    check_lsoa_codes(out, path)
    return out


# --- Census 2021 demography for the digital-exclusion indicators (tidy long/wide copies) ---

AGE65_FILES = ["census21_age65plus_lsoa21.parquet", "census21_age65plus_lsoa21.csv"]
AGE65_MAP = {"lsoa21cd": "lsoa21_code", "lsoa21_code": "lsoa21_code", "total": "total",
             "aged_65": "aged_65", "aged_66_69": "aged_66_69", "aged_70_74": "aged_70_74",
             "aged_75_79": "aged_75_79", "aged_80_84": "aged_80_84",
             "aged_85_plus": "aged_85_plus"}
LONG_MAP = {"lsoa21_code": "lsoa21_code", "category": "category", "disability": "category",
            "occupancy_rating": "category", "tenure": "category", "n": "n",
            "total": "total", "total_residents": "total", "total_households": "total"}
PROFICIENCY_FILES = ["census21_proficiency_msoa21.parquet", "census21_proficiency_msoa21.csv",
                     "census2021-ts029-msoa.csv"]
PROF_NONE = "Main language is not English (English or Welsh in Wales): Cannot speak English"
PROF_WELL = "Main language is not English (English or Welsh in Wales): Cannot speak English well"
PROFICIENCY_MAP = {
    "msoa21_code": "msoa21_code", "geography code": "msoa21_code",
    # Nomis bulk census2021-ts029-msoa.csv prefixes every category with the variable name
    **{f"Proficiency in English language: {h}": c for h, c in [
        ("Main language is English (English or Welsh in Wales)", "main_english"),
        ("Main language is not English (English or Welsh in Wales)", "main_not_english"),
        (PROF_WELL, "cannot_speak_well"), (PROF_NONE, "cannot_speak")]},
    "Main language is English (English or Welsh in Wales)": "main_english",
    "Main language is not English (English or Welsh in Wales)": "main_not_english",
    PROF_WELL: "cannot_speak_well", PROF_NONE: "cannot_speak",
}


MAX_COUNT = 50_000  # residents or households of one LSOA (the largest has ~10,000)


def _number_cols(df: pd.DataFrame, cols: list[str], path: Path,
                 total: str | None = None) -> pd.DataFrame:
    """Counts: numbers, whole, 0..MAX_COUNT, and each within ``total`` when given."""
    for c in cols:
        df[c] = to_number(df, c, path, allow_suppressed=True)
        check_range(df, c, path, 0, MAX_COUNT, integral=True)
    for c in cols:
        if total and c != total and total in df:
            check_not_above(df, c, total, path)
    return df


def read_age65plus(path: Path) -> pd.DataFrame:
    """RM121: residents and ages 65, 66-69, 70-74, 75-79, 80-84, 85+ per LSOA 2021."""
    df = map_headers(read_table(path), AGE65_MAP, list(dict.fromkeys(AGE65_MAP.values())), path)
    df = _number_cols(df, [c for c in df if c not in ("lsoa21_code", "dedi_synthetic")], path,
                      total="total")
    df = df[df["lsoa21_code"].astype(str).str.startswith("E")].reset_index(drop=True)
    check_lsoa_codes(df, path)
    return df


# Nomis bulk download (census2021-tsNNN-lsoa.csv): one row per area, one column per category.
BULK = {
    "ts038": {"total": "Disability: Total: All usual residents",
              "Disabled under the Equality Act": "Disability: Disabled under the Equality Act"},
    "ts052": {"total": "Occupancy rating for bedrooms: Total: All households",
              "-1 (overcrowded)": "Occupancy rating for bedrooms: Occupancy rating of bedrooms: -1",
              "-2 or less (overcrowded)":
                  "Occupancy rating for bedrooms: Occupancy rating of bedrooms: -2 or less"},
    "ts054": {"total": "Tenure of household: Total: All households",
              "Social rented: Rents from council or Local Authority":
                  "Tenure of household: Social rented: Rents from council or Local Authority",
              "Social rented: Other social rented":
                  "Tenure of household: Social rented: Other social rented"},
}
SOCIAL_RENTED = ["Social rented: Rents from council or Local Authority",
                 "Social rented: Other social rented"]
BULK_FILES = {k: f"census2021-{k}-lsoa.csv" for k in BULK}
FETCH += [
    FetchSpec(source=f"census21_{t}", immutable=True, url=f"https://www.nomisweb.co.uk/output/census/2021/"
              f"census2021-{t}.zip", target=f"{TOPIC}/census2021-{t}.zip",
              description=f"Census 2021 {t.upper()} bulk download (Nomis); the {geo} file is "
                          "extracted", extra={"extract": f"census2021-{t}-{geo}.csv"})
    for t, geo in (("ts038", "lsoa"), ("ts052", "lsoa"), ("ts011", "lsoa"), ("ts054", "lsoa"),
                   ("ts029", "msoa"))
]


def read_bulk_table(path: Path, table: str) -> pd.DataFrame:
    """A Nomis bulk Census CSV (``geography code`` + one column per category) -> wide counts."""
    spec = BULK[table]
    hmap = {"geography code": "lsoa21_code", **{v: k for k, v in spec.items()}}
    df = map_headers(read_table(path), hmap, ["lsoa21_code", *spec], path)
    df = _number_cols(df, list(spec), path, total="total")
    df = df[df["lsoa21_code"].astype(str).str.startswith("E")].reset_index(drop=True)
    check_lsoa_codes(df, path)
    return df


def read_long_table(path: Path, wanted: list[str], bulk: str | None = None) -> pd.DataFrame:
    """A tidy long Census table (lsoa21_code, category, n, total) -> wide counts of ``wanted``.

    A Nomis bulk CSV (with ``geography code``) is read with :func:`read_bulk_table` instead.
    """
    raw = read_table(path)
    if bulk and "geography code" in {str(c).strip().lower() for c in raw.columns}:
        return read_bulk_table(path, bulk)
    df = map_headers(raw, LONG_MAP, ["lsoa21_code", "category", "n", "total"], path)
    df = _number_cols(df, ["n", "total"], path, total="total")
    df = df[df["lsoa21_code"].astype(str).str.startswith("E")]
    missing = sorted(set(wanted) - set(df["category"]))
    if missing:
        raise SourceError(path, f"column 'category': expected categories missing: {missing}")
    wide = (df[df["category"].isin(wanted)]
            .pivot_table(index="lsoa21_code", columns="category", values="n", aggfunc="sum"))
    wide["total"] = df.groupby("lsoa21_code")["total"].max()
    out = wide.reset_index()
    out.columns.name = None
    check_lsoa_codes(out, path)
    return out


DEPRIVATION_FILES = ["census21_household_deprivation_lsoa21.parquet", "census2021-ts011-lsoa.csv"]
# TS011 categories by the number of dimensions (employment, education, health and disability,
# housing) a household is deprived in; the shared copy has the number itself
DEPRIVATION_DIMENSIONS = {
    "Household is not deprived in any dimension": 0, "Household is deprived in one dimension": 1,
    "Household is deprived in two dimensions": 2, "Household is deprived in three dimensions": 3,
    "Household is deprived in four dimensions": 4}
DEPRIVATION_BULK = {f"Household deprivation: {k}; measures: Value": v
                    for k, v in DEPRIVATION_DIMENSIONS.items()}


def read_household_deprivation(path: Path) -> pd.DataFrame:
    """TS011 per LSOA 2021: households, and those deprived in two or more dimensions."""
    raw = read_table(path)
    if "geography code" in {str(c).strip().lower() for c in raw.columns}:  # Nomis bulk CSV
        df = map_headers(raw, {"geography code": "lsoa21_code",
                               **{k: f"d{v}" for k, v in DEPRIVATION_BULK.items()}},
                         ["lsoa21_code", *(f"d{v}" for v in range(5))], path)
        df = _number_cols(df, [f"d{v}" for v in range(5)], path)
        wide = df.set_index("lsoa21_code")[[f"d{v}" for v in range(5)]]
    else:
        df = map_headers(raw, {"lsoa21_code": "lsoa21_code",
                               "households_number_deprivation_dimensions": "dimensions",
                               "count": "n"}, ["lsoa21_code", "dimensions", "n"], path)
        df = _number_cols(df, ["n"], path)
        df["dimensions"] = to_number(df, "dimensions", path)
        check_range(df, "dimensions", path, 0, 4, integral=True)
        wide = df.pivot_table(index="lsoa21_code", columns="dimensions", values="n",
                              aggfunc="sum").reindex(columns=range(5))
        wide.columns = [f"d{int(v)}" for v in wide.columns]
    out = pd.DataFrame({"lsoa21_code": wide.index,
                        "households": wide.sum(axis=1, min_count=1).to_numpy(),
                        "deprived_2plus": wide[["d2", "d3", "d4"]].sum(
                            axis=1, min_count=1).to_numpy()})
    out = out[out["lsoa21_code"].astype(str).str.startswith("E")].reset_index(drop=True)
    if "dedi_synthetic" in raw:
        out["dedi_synthetic"] = bool(raw["dedi_synthetic"].any())
    check_lsoa_codes(out, path)
    return out


def read_tenure(path: Path) -> pd.DataFrame:
    """TS054 per LSOA 2021: households and socially rented households (both landlords)."""
    df = read_long_table(path, SOCIAL_RENTED, "ts054")
    out = pd.DataFrame({"lsoa21_code": df["lsoa21_code"], "households": df["total"],
                        "social_rented": df[SOCIAL_RENTED].sum(axis=1, min_count=1)})
    if "dedi_synthetic" in df:
        out["dedi_synthetic"] = df["dedi_synthetic"]
    return out


def read_proficiency_msoa(path: Path) -> pd.DataFrame:
    """TS029 by MSOA 2021: residents (3+) and those who cannot speak English well or at all."""
    df = map_headers(read_table(path), PROFICIENCY_MAP,
                     ["msoa21_code", "main_english", "main_not_english", "cannot_speak_well",
                      "cannot_speak"], path)
    df = _number_cols(df, ["main_english", "main_not_english", "cannot_speak_well",
                           "cannot_speak"], path)
    df = df[df["msoa21_code"].astype(str).str.startswith("E02")].reset_index(drop=True)
    df["residents"] = df["main_english"] + df["main_not_english"]
    df["cannot_speak_english_well"] = df["cannot_speak_well"] + df["cannot_speak"]
    return df[["msoa21_code", "residents", "cannot_speak_english_well"]
              + (["dedi_synthetic"] if "dedi_synthetic" in df else [])]


def locate_any(raw_dir: Path, names: list[str]) -> Path:
    """First present file of ``names`` in the Census topic folder."""
    return find_one(raw_dir, TOPIC, names)
