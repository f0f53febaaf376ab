"""English Indices of Deprivation 2025, File 7 (MHCLG): reader, fetch spec, official headers.

File 7 holds, per LSOA 2021, the IMD and the seven domains (score, rank, decile), the
sub-domains, IDACI/IDAOPI and the mid-2022 population denominators. Columns are matched by
their official header text, so the full official file and reduced copies both read.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.sources.common import (
    SYNTHETIC_COLUMN,
    FetchSpec,
    SourceError,
    check_lsoa_codes,
    find_one,
    is_true,
    map_headers,
    read_table,
    to_number,
)
from pipeline.sources.guards import check_range, check_rank_order

TOPIC = "iod"
RANK = "Rank (where 1 is most deprived)"
DECILE = "Decile (where 1 is most deprived 10% of LSOAs)"

# Our key -> official header stem (score header differs for the two "rate" domains).
DOMAINS: dict[str, tuple[str, str]] = {
    "imd": ("Index of Multiple Deprivation (IMD)", "Index of Multiple Deprivation (IMD) Score"),
    "income": ("Income", "Income Score (rate)"),
    "employment": ("Employment", "Employment Score (rate)"),
    "education": ("Education, Skills and Training", "Education, Skills and Training Score"),
    "health": ("Health Deprivation and Disability", "Health Deprivation and Disability Score"),
    "crime": ("Crime", "Crime Score"),
    "barriers": ("Barriers to Housing and Services", "Barriers to Housing and Services Score"),
    "living_environment": ("Living Environment", "Living Environment Score"),
}
SUBDOMAINS: dict[str, str] = {
    "idaci": "Income Deprivation Affecting Children Index (IDACI)",
    "idaopi": "Income Deprivation Affecting Older People (IDAOPI)",
    "children_young_people": "Children and Young People Sub-domain",
    "adult_skills": "Adult Skills Sub-domain",
    "geographical_barriers": "Geographical Barriers Sub-domain",
    "wider_barriers": "Wider Barriers Sub-domain",
    "indoors": "Indoors Sub-domain",
    "outdoors": "Outdoors Sub-domain",
}
POPULATION_HEADERS: dict[str, str] = {
    "Total population: mid 2022": "population_mid2022",
    "Dependent Children aged 0-15: mid 2022": "children_0_15_mid2022",
    "Older population aged 60 and over: mid 2022": "older_60_plus_mid2022",
    "Working age population 18-66 (for use with Employment Deprivation Domain): mid 2022":
        "working_age_18_66_mid2022",
}


def _header_map() -> dict[str, str]:
    m = {
        "LSOA code (2021)": "lsoa21_code",
        "LSOA name (2021)": "lsoa21_name",
        "Local Authority District code (2024)": "ltla24_code",
        "Local Authority District name (2024)": "ltla24_name",
    }
    for key, (stem, score_header) in DOMAINS.items():
        m[score_header] = f"{key}_score"
        m[f"{stem} {RANK}"] = f"{key}_rank"
        m[f"{stem} {DECILE}"] = f"{key}_decile"
    for key, stem in SUBDOMAINS.items():
        m[f"{stem} Score (rate)"] = f"{key}_score"
        m[f"{stem} Score"] = f"{key}_score"
        m[f"{stem} {RANK}"] = f"{key}_rank"
        m[f"{stem} {DECILE}"] = f"{key}_decile"
    m.update(POPULATION_HEADERS)
    return m


HEADER_MAP = _header_map()
REQUIRED = ["lsoa21_code", "lsoa21_name", "ltla24_code", "ltla24_name"] + [
    f"{k}_{p}" for k in DOMAINS for p in ("score", "rank", "decile")
]

FETCH = [
    FetchSpec(
        immutable=True,
        source="iod2025",
        url=(
            "https://assets.publishing.service.gov.uk/media/691ded56d140bbbaa59a2a7d/"
            "File_7_IoD2025_All_Ranks_Scores_Deciles_Population_Denominators.csv"
        ),
        target="iod/File_7_IoD2025_All_Ranks_Scores_Deciles_Population_Denominators.csv",
        description="English Indices of Deprivation 2025, File 7 (all ranks, scores, deciles "
        "and population denominators), MHCLG, 30 Oct 2025",
    )
]

# Preference: the full official file, then any other File 7 copy.
FILE_PATTERNS = [
    "File_7_IoD2025_All_Ranks_Scores_Deciles_Population_Denominators.csv",
    "File_7*IoD2025*.csv",
    "File_7*IoD2025*.parquet",
]


def locate(raw_dir: Path) -> Path:
    """Path of the IoD 2025 File 7 in the raw layout."""
    return find_one(raw_dir, TOPIC, FILE_PATTERNS)


MAX_LSOA_POPULATION = 50_000  # the largest LSOA 2021 has about 10,000 residents


def read_iod2025(path: Path) -> pd.DataFrame:
    """Read and validate File 7. Raises :class:`SourceError` naming file, column and rows.

    A build reads File 7 twice (``stg_iod2025`` and partition 2025 of ``stg_iod_release``):
    the second read of the same unchanged file (path, size, modification time) is a copy of
    the first."""
    st = Path(path).stat()
    return _read_iod2025(str(path), st.st_size, st.st_mtime_ns).copy()


@lru_cache(maxsize=1)
def _read_iod2025(path: str, _size: int, _mtime_ns: int) -> pd.DataFrame:
    path = Path(path)
    raw = read_table(path)
    if raw.empty:
        raise SourceError(path, "file has no data rows")
    df = map_headers(raw, HEADER_MAP, REQUIRED, path)
    for c in df.columns:
        if c.endswith(("_rank", "_decile")):
            df[c] = to_number(df, c, path, integer=True)
        elif c.endswith("_score") or c in POPULATION_HEADERS.values():
            df[c] = to_number(df, c, path)
    check_lsoa_codes(df, path)
    for c in POPULATION_HEADERS.values():
        if c in df:
            check_range(df, c, path, 0, MAX_LSOA_POPULATION, integral=True)
    n = len(df)
    for key in DOMAINS:
        r = df[f"{key}_rank"]
        # Published domain ranks share a value where scores tie, so only the range is checked.
        if r.isna().any() or r.min() < 1 or r.max() > n:
            bad = df.index[(r.isna() | (r < 1) | (r > n)).to_numpy()][:5]
            raise SourceError(
                path, f"column '{DOMAINS[key][0]} {RANK}': ranks must lie in 1..{n}; "
                f"bad at file row(s) {[int(i) + 2 for i in bad]}")
        d = df[f"{key}_decile"]
        if d.isna().any() or d.min() < 1 or d.max() > 10:
            raise SourceError(path, f"column '{DOMAINS[key][0]} {DECILE}': deciles outside 1..10")
        name, score = DOMAINS[key]
        check_rank_order(df, f"{key}_score" if f"{key}_score" in df else None, f"{key}_rank",
                         f"{key}_decile", path, (score, f"{name} {RANK}", f"{name} {DECILE}"),
                         unique=key == "imd")
    return df.reset_index(drop=True)


# --- IoD 2019 (LSOA 2011), for comparison after harmonisation to LSOA 2021 ---------------

FILE_PATTERNS_2019 = ["File_7*IoD2019*.csv", "File_7_ID_2019*.csv"]
HEADER_MAP_2019 = {
    "LSOA code (2011)": "lsoa11_code", "LSOA name (2011)": "lsoa11_name",
    f"Index of Multiple Deprivation (IMD) {RANK}": "imd2019_rank",
    f"Index of Multiple Deprivation (IMD) {DECILE}": "imd2019_decile",
    "Index of Multiple Deprivation (IMD) Score": "imd2019_score",
    # the seven domain ranks (same headers as 2025), for lsoa_index_history
    **{f"{name} {RANK}": f"{key}2019_rank" for key, (name, _) in DOMAINS.items()
       if key != "imd"},
}
FETCH.append(FetchSpec(
    immutable=True,
    source="iod2019",
    url="https://assets.publishing.service.gov.uk/government/uploads/system/uploads/"
        "attachment_data/file/845345/"
        "File_7_-_All_IoD2019_Scores__Ranks__Deciles_and_Population_Denominators_3.csv",
    target="iod/File_7_IoD2019_All_Ranks_Scores_Deciles_Population_Denominators.csv",
    description="English Indices of Deprivation 2019, File 7 (LSOA 2011), MHCLG"))


def locate_2019(raw_dir: Path) -> Path:
    """Path of the IoD 2019 File 7 (optional)."""
    return find_one(raw_dir, TOPIC, FILE_PATTERNS_2019)


def read_iod2019(path: Path) -> pd.DataFrame:
    """IMD 2019 rank and decile (and score when present) by LSOA 2011."""
    df = map_headers(read_table(path), HEADER_MAP_2019,
                     ["lsoa11_code", "imd2019_rank", "imd2019_decile"], path)
    for c in [c for c in df.columns if c.endswith(("_rank", "_decile", "_score"))]:
        df[c] = to_number(df, c, path)
    check_lsoa_codes(df, path, column="lsoa11_code")
    return df



# --- Releases as partitions: one long table of ranks per release, on its own geography -------

RELEASES = ("2019", "2025")  # the Dagster partitions of stg_iod_release
RELEASE_COLUMNS = ["vintage", "lsoa_code", "lsoa_geography", "imd_rank", "imd_decile",
                   *[f"{d}_rank" for d in DOMAINS if d != "imd"]]


def locate_release(raw_dir: Path, release: str) -> Path:
    """File 7 of an IoD release (``2019`` or ``2025``)."""
    return {"2019": locate_2019, "2025": locate}[release](raw_dir)


def read_release(path: Path, release: str) -> pd.DataFrame:
    """IMD and domain ranks of one release, as published, on the release's LSOA geography
    (2011 for IoD 2019, 2021 for IoD 2025)."""
    if release == "2019":
        df = read_iod2019(path).rename(columns=lambda c: c.replace("2019", ""))
        df = df.rename(columns={"lsoa11_code": "lsoa_code"})
        geography = "LSOA 2011"
    else:
        df = read_iod2025(path).rename(columns={"lsoa21_code": "lsoa_code"})
        geography = "LSOA 2021"
    df = df.assign(vintage=int(release), lsoa_geography=geography)
    for c in RELEASE_COLUMNS:
        if c not in df:
            df[c] = np.nan
    return df[RELEASE_COLUMNS]

# --- IoD 2025 File 8: underlying indicators (LSOA 2021) ----------------------------------
# Official workbook: a "Notes" sheet and one sheet per domain ("IoD25 Income Domain", ...,
# "IoD25 Living Env Domain"), headers in row 1, keyed by "LSOA code (2021)". Tidy copies
# (CSV/parquet) use the same headers in snake_case. Headers are matched by their slug
# (lower case, non-alphanumerics -> "_"), so both spellings read.

FILE8_PATTERNS = ["File_8_IoD2025_Underlying_Indicators.xlsx", "File_8*IoD2025*.xlsx",
                  "File_8*IoD2025*.csv", "iod2025_file8_indicators_lsoa21.parquet",
                  "iod2025_file8_indicators_lsoa21.csv"]
# slug of the official header -> our column (domain sheet in brackets)
FILE8_HEADERS: dict[str, str] = {
    "lsoa_code_2021": "lsoa21_code", "lsoa21_code": "lsoa21_code",
    # [Income] people aged 60+ in income-deprived families (pension credit guarantee etc.)
    "income_deprivation_affecting_older_people_index_idaopi_numerator": "idaopi_numerator",
    # [Education] adults 25-66 with no or low qualifications, or not speaking English well
    "adult_skills_and_english_language_proficiency_indicator": "adult_skills_english",
    # [Health] comparative illness and disability ratio (work-limiting illness and disability)
    "comparative_illness_and_disability_ratio_indicator": "cidr",
    # [Barriers] broadband download and upload speeds (new in IoD 2025; higher = worse)
    "digital_connectivity_broadband_download_and_upload_speeds": "broadband_speeds",
}
FILE8_REQUIRED = ["lsoa21_code", "idaopi_numerator", "adult_skills_english", "broadband_speeds"]
FETCH.append(FetchSpec(
    immutable=True,
    source="iod2025_file8",
    url="https://assets.publishing.service.gov.uk/media/691dec012c6b98ecdbc500d4/"
        "File_8_IoD2025_Underlying_Indicators.xlsx",
    target="iod/File_8_IoD2025_Underlying_Indicators.xlsx",
    description="English Indices of Deprivation 2025, File 8 (underlying indicators), MHCLG"))


def slug(header: str) -> str:
    """``'Adult skills and English language proficiency indicator'`` -> its snake_case slug."""
    return re.sub(r"[^0-9a-z]+", "_", str(header).replace("\ufeff", "").lower()).strip("_")


def locate_file8(raw_dir: Path) -> Path:
    """Path of IoD 2025 File 8 (optional)."""
    return find_one(raw_dir, TOPIC, FILE8_PATTERNS)


def _file8_frames(path: Path) -> list[pd.DataFrame]:
    if path.suffix.lower() != ".xlsx":
        return [read_table(path)]
    try:
        sheets = pd.read_excel(path, sheet_name=None, engine="calamine", dtype=object)
    except Exception as exc:  # noqa: BLE001 - any unreadable workbook is the file's fault
        raise SourceError(path, f"not a readable xlsx workbook ({type(exc).__name__}: {exc}); "
                          "download it again with `dedi fetch iod2025_file8`") from None
    return [df for name, df in sheets.items() if name.strip().lower().startswith("iod25")]


def read_file8(path: Path) -> pd.DataFrame:
    """The File 8 indicators DEDI uses, one row per England LSOA 2021.

    Raises :class:`SourceError` naming the file, the column and rows on bad input.
    """
    wanted: dict[str, pd.Series] = {}
    codes: pd.Series | None = None
    synthetic = False
    for df in _file8_frames(path):
        cols = {slug(c): c for c in df.columns}
        key = cols.get("lsoa_code_2021") or cols.get("lsoa21_code")
        if key is None:
            continue
        idx = df[key].astype(str).str.strip().str.upper()
        if codes is None:
            codes = idx
        synthetic |= SYNTHETIC_COLUMN in df and bool(is_true(df[SYNTHETIC_COLUMN]).any())
        for s, ours in FILE8_HEADERS.items():
            if s in cols and ours != "lsoa21_code" and ours not in wanted:
                wanted[ours] = pd.Series(df[cols[s]].to_numpy(), index=idx.to_numpy())
    missing = [c for c in FILE8_REQUIRED if c != "lsoa21_code" and c not in wanted]
    if codes is None or missing:
        names = {v: k for k, v in FILE8_HEADERS.items()}
        what = ["lsoa_code_2021"] if codes is None else [names[m] for m in missing]
        raise SourceError(path, "missing required column(s): " + "; ".join(
            f"'{w}' (any spelling with that slug)" for w in what))
    out = pd.DataFrame({"lsoa21_code": codes.to_numpy()})
    order = [c for c in dict.fromkeys(FILE8_HEADERS.values()) if c in wanted]
    for c, s in ((c, wanted[c]) for c in order):  # columns in one order, whatever the sheets'
        if not s.index.is_unique:
            dup = s.index[s.index.duplicated()][:3].tolist()
            raise SourceError(path, f"column 'LSOA code (2021)': duplicated LSOA code(s) {dup}")
        out[c] = s.reindex(out["lsoa21_code"]).to_numpy()
        out[c] = to_number(out, c, path, allow_suppressed=True)
    out = out[out["lsoa21_code"].str.startswith("E")].reset_index(drop=True)
    if out.empty:
        raise SourceError(path, "no England LSOA rows (column 'LSOA code (2021)'); the file is "
                          "empty or truncated: download it again with `dedi fetch iod2025_file8`")
    check_lsoa_codes(out, path)
    if synthetic:
        out[SYNTHETIC_COLUMN] = True
    return out
