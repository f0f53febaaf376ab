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


def locate(raw_dir: Path) -> Path:
    """Path of the Census population file in the raw layout."""
    return find_one(raw_dir, TOPIC, FILES)


def read_population(path: Path) -> pd.DataFrame:
    """Usual residents per England LSOA 2021 (sums age bands when the file is long)."""
    df = map_headers(read_table(path), HEADER_MAP, ["lsoa21_code", "usual_residents"], path)
    df["usual_residents"] = to_number(df, "usual_residents", path)
    if df["usual_residents"].lt(0).any():
        rows = [int(i) + 2 for i in df.index[df["usual_residents"].lt(0)][:5]]
        raise SourceError(path, f"column 'usual_residents': negative counts at rows {rows}")
    df = df[df["lsoa21_code"].astype(str).str.startswith("E")]
    extra = [c for c in ("dedi_synthetic",) if c in df.columns]
    out = (df.groupby("lsoa21_code", as_index=False)
             .agg(usual_residents=("usual_residents", "sum"),
                  **{c: (c, "max") for c in extra}))
    check_lsoa_codes(out, path)
    return out
