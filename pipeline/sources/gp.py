"""GP practices: NHS ODS ``epraccur`` and NHS Digital "Patients registered at a GP practice"
by LSOA (``gp-reg-pat-prac-lsoa-all.csv``).

epraccur.csv has no header row; its columns are positional (ODS data dictionary). The
patients-by-LSOA file has ``PUBLICATION, EXTRACT_DATE, PRACTICE_CODE, PRACTICE_NAME,
LSOA_CODE, SEX, NUMBER_OF_PATIENTS`` with SEX = ``ALL`` or ``MALE``/``FEMALE``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from pipeline.sources.common import FetchSpec, SourceError, find_one, map_headers, read_table, to_number
from pipeline.sources.guards import check_range, check_unique

TOPIC = "gp"
EPRACCUR_COLUMNS = [
    "organisation_code", "name", "national_grouping", "high_level_health_geography",
    "address_line_1", "address_line_2", "address_line_3", "address_line_4", "address_line_5",
    "postcode", "open_date", "close_date", "status_code", "organisation_sub_type_code",
    "commissioner", "join_provider_purchaser_date", "left_provider_purchaser_date",
    "contact_telephone_number", "null_1", "null_2", "null_3", "amended_record_indicator",
    "null_4", "provider_purchaser", "null_5", "prescribing_setting", "null_6",
]
EPRACCUR_MAP = {c: c for c in EPRACCUR_COLUMNS}
PATIENTS_MAP = {"PUBLICATION": "publication", "EXTRACT_DATE": "extract_date",
                "PRACTICE_CODE": "practice_code", "PRACTICE_NAME": "practice_name",
                "LSOA_CODE": "lsoa_code", "SEX": "sex", "NUMBER_OF_PATIENTS": "patients"}

FETCH = [
    FetchSpec(source="epraccur",
              url="https://files.digital.nhs.uk/assets/ods/current/epraccur.zip",
              target=f"{TOPIC}/epraccur.zip",
              description="NHS ODS GP practices (epraccur), current"),
]
EPRACCUR_FILES = ["epraccur*.parquet", "epraccur*.csv"]
PATIENTS_FILES = ["gp-reg-pat-prac-lsoa-all*.csv", "gp-reg-pat-prac-lsoa*.csv"]


def locate_epraccur(raw_dir: Path) -> Path:
    """The epraccur file in the raw layout."""
    return find_one(raw_dir, TOPIC, EPRACCUR_FILES)


def read_epraccur(path: Path) -> pd.DataFrame:
    """GP practices: code, name, postcode, status (A active, C closed, ...), commissioner."""
    if path.suffix == ".parquet":
        raw = read_table(path)
    else:
        raw = pd.read_csv(path, header=None, dtype=str, keep_default_na=False, encoding="cp1252")
        raw.columns = EPRACCUR_COLUMNS[: raw.shape[1]] + [
            f"extra_{i}" for i in range(max(0, raw.shape[1] - len(EPRACCUR_COLUMNS)))]
    df = map_headers(raw, EPRACCUR_MAP, ["organisation_code", "status_code", "commissioner"], path)
    df = df.rename(columns={"organisation_code": "practice_code", "name": "practice_name"})
    if df["practice_code"].duplicated().any():
        dup = df.loc[df["practice_code"].duplicated(), "practice_code"].head(5).tolist()
        raise SourceError(path, f"column 'organisation_code': duplicated practice code(s) {dup}")
    keep = ["practice_code", "practice_name", "postcode", "status_code", "close_date",
            "commissioner", "prescribing_setting", "dedi_synthetic"]
    return df[[c for c in keep if c in df]].reset_index(drop=True)


def read_patients_by_lsoa(path: Path) -> pd.DataFrame:
    """Registered patients per practice and LSOA; ALL rows used where present, else M + F summed.

    Keeps every LSOA code as published (out-of-England codes included) for practice totals.
    """
    df = map_headers(read_table(path), PATIENTS_MAP,
                     ["practice_code", "lsoa_code", "sex", "patients"], path)
    df["patients"] = to_number(df, "patients", path, allow_suppressed=True).fillna(0)
    check_range(df, "patients", path, 0, 100_000, integral=True, label="NUMBER_OF_PATIENTS")
    check_unique(df.assign(sex=df["sex"].astype(str).str.strip().str.upper()),
                 ["practice_code", "lsoa_code", "sex"], path)
    df["sex"] = df["sex"].astype(str).str.strip().str.upper()
    unknown = sorted(set(df["sex"]) - {"ALL", "MALE", "FEMALE", "M", "F"})
    if unknown:
        raise SourceError(path, f"column 'SEX': unexpected value(s) {unknown[:5]}")
    has_all = df["practice_code"].isin(df.loc[df["sex"] == "ALL", "practice_code"].unique())
    use = df[(has_all & (df["sex"] == "ALL")) | (~has_all & (df["sex"] != "ALL"))]
    out = use.groupby(["practice_code", "lsoa_code"], as_index=False)["patients"].sum()
    out["extract_date"] = df["extract_date"].iloc[0] if "extract_date" in df else None
    if "dedi_synthetic" in df:
        out["dedi_synthetic"] = bool(df["dedi_synthetic"].any())
    return out


def locate_patients(raw_dir: Path) -> Path:
    """The patients-by-LSOA file in the raw layout."""
    return find_one(raw_dir, TOPIC, PATIENTS_FILES)
