"""Connectivity: Ofcom Connected Nations fixed coverage by postcode, and the GMCA DERI
broadband component (LSOA 2011) as the fallback England-wide small-area signal.

Ofcom publishes a zip of per-postcode-area CSVs (``202601_fixed_postcode_coverage_r1_AB.csv``
...). They are read with DuckDB (1.7 million postcodes) and placed in LSOA 2021 with the ONS
Postcode Directory (``postcodes.py``).
"""

from __future__ import annotations

import csv
import re
import tempfile
import zipfile
from pathlib import Path

import pandas as pd

from pipeline.sources.common import (
    FetchSpec,
    SourceError,
    map_headers,
    mapped_columns,
    read_table,
    sql_bad_numbers,
    sql_ident,
    sql_number,
    to_number,
)

TOPIC = "connectivity"
OFCOM_PATTERN = re.compile(r"fixed_postcode_coverage.*\.(csv|zip)$", re.IGNORECASE)
DERI_FILE = "deri_v1_6_broadband_component_lsoa11.parquet"

OFCOM_MAP = {
    "postcode_space": "postcode", "postcode": "postcode_nospace",
    "postcode area": "postcode_area",
    "All Premises": "premises", "All Matched Premises": "premises",
    "Number of premises": "premises",
    "SFBB availability (% premises)": "pct_sfbb",
    "UFBB (100Mbit/s) availability (% premises)": "pct_ufbb_100",
    "UFBB availability (% premises)": "pct_ufbb",
    "Gigabit availability (% premises)": "pct_gigabit",
    "% of premises unable to receive 10Mbit/s": "pct_below_10mbit",
    "% of premises unable to receive 30Mbit/s": "pct_below_30mbit",
    "% of premises below the USO": "pct_below_uso",
}
OFCOM_NUMERIC = ["premises", "pct_sfbb", "pct_ufbb_100", "pct_ufbb", "pct_gigabit",
                 "pct_below_10mbit", "pct_below_30mbit", "pct_below_uso"]
DERI_MAP = {"lsoa11_code": "lsoa11_code", "LSOA11CD": "lsoa11_code",
            "broadband_comp_national": "broadband_component"}

FETCH = [
    FetchSpec(
        immutable=True,  # a dated release (YYYYMM, r01)
        source="ofcom_fixed_postcode_coverage",
        url="https://www.ofcom.org.uk/siteassets/resources/documents/research-and-data/"
            "multi-sector/infrastructure-research/connected-nations-2025/data-downloads/"
            "202601_fixed_postcode_coverage_r01.zip",
        target=f"{TOPIC}/202601_fixed_postcode_coverage_r01.zip",
        description="Ofcom Connected Nations fixed broadband coverage by postcode (Jan 2026)",
    )
]


def pcds(postcode: pd.Series) -> pd.Series:
    """:func:`sql_postcode` for a pandas column: the ONS ``pcds`` form (upper case, one inner
    space before the last three characters), as every postcode table is staged."""
    t = postcode.astype(str).str.upper().str.replace(r"[^A-Z0-9]", "", regex=True)
    return t.str[:-3] + " " + t.str[-3:]


def sql_postcode(expr: str) -> str:
    """SQL normalising a postcode to the ONS ``pcds`` form: upper case, one inner space.

    Clean input (already ``AB1 2CD``) skips the regular expression, which dominates the cost
    over millions of rows.
    """
    t = f"regexp_replace(upper({expr}), '[^A-Z0-9]', '', 'g')"
    messy = (f"CASE WHEN length({t}) >= 5 THEN left({t}, length({t}) - 3) || ' ' || "
             f"right({t}, 3) END")
    return (f"CASE WHEN regexp_full_match({expr}, '[A-Z]{{1,2}}[0-9][0-9A-Z]? [0-9][A-Z]{{2}}') "
            f"THEN {expr} ELSE {messy} END")


def locate_ofcom(raw_dir: Path) -> list[Path]:
    """Every Ofcom postcode coverage CSV or zip under ``connectivity/``."""
    folder = raw_dir / TOPIC
    if not folder.exists():
        return []
    return sorted(p for p in folder.iterdir() if OFCOM_PATTERN.search(p.name))


def _csv_files(paths: list[Path], workdir: Path) -> list[Path]:
    """The CSVs to read: plain files as they are, zip members extracted to ``workdir``."""
    out: list[Path] = []
    for p in paths:
        if p.suffix.lower() == ".zip":
            with zipfile.ZipFile(p) as z:
                for name in sorted(n for n in z.namelist() if n.lower().endswith(".csv")):
                    target = workdir / p.stem / Path(name).name
                    target.parent.mkdir(parents=True, exist_ok=True)
                    with z.open(name) as src, open(target, "wb") as dst:
                        while block := src.read(1 << 20):
                            dst.write(block)
                    out.append(target)
        else:
            out.append(p)
    return out


def _header(path: Path) -> tuple[str, ...]:
    with open(path, encoding="utf-8-sig", errors="replace") as fh:
        return tuple(next(csv.reader([fh.readline()])))


def stage_ofcom_coverage(conn, paths: list[Path], table: str) -> dict[str, object]:
    """Read every coverage CSV with DuckDB into ``table`` (one row per postcode).

    Files sharing a header are read in one scan; each header is mapped separately (releases
    differ); numbers are parsed with suppression markers as NULL and any other non-number
    raises, naming file, column and postcode. Returns facts for metadata.
    """
    from pipeline.sources.guards import check_file

    for p in paths:
        check_file(p)
    with tempfile.TemporaryDirectory() as tmp:
        files = _csv_files(paths, Path(tmp))
        if not files:
            raise SourceError(paths[0] if paths else TOPIC, "no postcode coverage CSVs found")
        groups: dict[tuple[str, ...], list[Path]] = {}
        for f in files:
            groups.setdefault(_header(f), []).append(f)
        conn.execute(f"CREATE OR REPLACE TABLE {table} (postcode VARCHAR, "
                     + ", ".join(f"{c} DOUBLE" for c in OFCOM_NUMERIC)
                     + ", source_file VARCHAR)")
        for i, (header, group) in enumerate(groups.items()):
            raw = f"_ofcom_raw_{i}"
            listing = "[" + ", ".join(repr(str(f)) for f in group) + "]"
            try:
                conn.execute(f"CREATE OR REPLACE TEMP TABLE {raw} AS SELECT * FROM read_csv("
                             f"{listing}, all_varchar=true, header=true, filename=true)")
            except Exception as exc:  # noqa: BLE001 - unreadable CSV
                raise SourceError(group[0], f"cannot read as CSV: {exc}") from exc
            m = mapped_columns(list(header), OFCOM_MAP, ["pct_below_30mbit"], group[0])
            pc = m.get("postcode") or m.get("postcode_nospace")
            if pc is None:
                raise SourceError(group[0], "missing required column(s): 'postcode_space'")
            sql_bad_numbers(conn, raw, [m[c] for c in OFCOM_NUMERIC if c in m], pc,
                            str(group[0]), file_column="filename")
            nums = ", ".join(
                f"{sql_number(m[c]) if c in m else 'NULL::DOUBLE'}" for c in OFCOM_NUMERIC)
            conn.execute(f"INSERT INTO {table} SELECT {sql_postcode(sql_ident(pc))}, {nums}, "
                         f"filename FROM {raw}")
            conn.execute(f"DROP TABLE {raw}")
        total, distinct = conn.execute(f"SELECT count(*), count(DISTINCT postcode) FROM {table}"
                                       ).fetchone()
        if total != distinct:  # a postcode in two rows: the same values, or refused
            clash = conn.execute(
                f"SELECT postcode, list(DISTINCT source_file ORDER BY source_file) FROM {table} "
                f"GROUP BY postcode HAVING count(DISTINCT row({', '.join(OFCOM_NUMERIC)})) > 1 "
                "ORDER BY postcode LIMIT 3").fetchall()
            if clash:
                pc, where = clash[0]
                raise SourceError(where[0], f"column 'postcode': {pc} has two rows with "
                                  f"different coverage values (in {', '.join(where)}); "
                                  "expected one row per postcode: correct or remove one "
                                  "(DEDI will not pick one)")
        if total != distinct or conn.execute(f"SELECT count(*) FROM {table} WHERE postcode IS "
                                             "NULL").fetchone()[0]:
            conn.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM {table} WHERE "
                         "postcode IS NOT NULL QUALIFY row_number() OVER (PARTITION BY postcode "
                         "ORDER BY source_file) = 1")
    n, with_premises = conn.execute(
        f"SELECT count(*), count(premises) FROM {table}").fetchone()
    return {"files": len(files), "postcodes": n, "postcodes_with_premises": with_premises}


def read_deri_broadband(path: Path) -> pd.DataFrame:
    """GMCA DERI v1.6 broadband component (0-10, higher = worse) by LSOA 2011."""
    df = map_headers(read_table(path), DERI_MAP, ["lsoa11_code", "broadband_component"], path)
    df["broadband_component"] = to_number(df, "broadband_component", path, allow_suppressed=True)
    return df
