"""ONS Postcode Directory (ONSPD) / National Statistics Postcode Lookup (NSPL): postcode -> LSOA 2021.

The CSV has ``pcds`` (postcode, one space), ``lsoa21cd`` and ``doterm`` (termination date,
empty while live), among ~50 columns; read with DuckDB.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.sources.common import FetchSpec, SourceError, mapped_columns, sql_ident
from pipeline.sources.connectivity import _csv_files, sql_postcode

TOPIC = "geography"
PATTERNS = ["ONSPD*.csv", "ONSPD*.zip", "NSPL*.csv", "NSPL*.zip", "onspd*.csv", "nspl*.csv"]
HEADER_MAP = {"pcds": "postcode", "lsoa21cd": "lsoa21_code", "lsoa21": "lsoa21_code",
              "doterm": "doterm", "oseast1m": "easting", "osnrth1m": "northing",
              "lat": "lat", "long": "lon", "ctry25cd": "country", "ctry": "country"}

# ONS publishes each quarterly ONSPD/NSPL release under a new portal item, so there is no stable
# URL to pin: download the current release's zip from geoportal.statistics.gov.uk into
# <raw>/geography/ (any ONSPD*.zip / NSPL*.zip / *.csv name is found).
FETCH: list[FetchSpec] = []
MANUAL = ("ONS Postcode Directory: download the current ONSPD (or NSPL) zip from the ONS Open "
          "Geography Portal into <raw>/geography/")


def locate(raw_dir: Path) -> list[Path]:
    """The postcode directory files present (may be empty)."""
    folder = raw_dir / TOPIC
    out: list[Path] = []
    for pat in PATTERNS:
        out += sorted(folder.glob(pat)) if folder.exists() else []
    return out[:1]


def stage_postcode_directory(conn, paths: list[Path], table: str, workdir: Path) -> dict[str, int]:
    """``table`` = postcode, lsoa21_code, terminated, easting, northing (one row per postcode)."""
    from pipeline.sources.guards import check_file

    for p in paths:
        check_file(p)
    files = [f for f in _csv_files(paths, workdir) if "data" in f.name.lower() or len(paths) == 1]
    if not files:
        raise SourceError(paths[0], "no postcode directory CSV found")
    f = files[0] if len(files) == 1 else max(files, key=lambda p: p.stat().st_size)
    rel = f"read_csv({str(f)!r}, all_varchar=true, header=true)"
    cols = [r[0] for r in conn.execute(f"DESCRIBE SELECT * FROM {rel}").fetchall()]
    m = mapped_columns(cols, HEADER_MAP, ["postcode", "lsoa21_code"], f)
    term = f"nullif(trim({sql_ident(m['doterm'])}), '') IS NOT NULL" if "doterm" in m else "false"
    xy = ", ".join(
        f"TRY_CAST({sql_ident(m[c])} AS DOUBLE) AS {c}" if c in m else f"NULL::DOUBLE AS {c}"
        for c in ("easting", "northing"))
    conn.execute(
        f"CREATE OR REPLACE TABLE {table} AS SELECT {sql_postcode(sql_ident(m['postcode']))} "
        f"AS postcode, nullif(trim({sql_ident(m['lsoa21_code'])}), '') AS lsoa21_code, "
        f"{term} AS terminated, {xy} FROM {rel}")
    total, distinct = conn.execute(f"SELECT count(*), count(DISTINCT postcode) FROM {table}"
                                   ).fetchone()
    if total != distinct:  # keep a live row over a terminated one
        conn.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM {table} QUALIFY "
                     "row_number() OVER (PARTITION BY postcode ORDER BY terminated) = 1")
    n, live = conn.execute(f"SELECT count(*), count(*) FILTER (NOT terminated) FROM {table}").fetchone()
    return {"postcodes": n, "live_postcodes": live, "file": str(f)}
