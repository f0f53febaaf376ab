"""Shared reader helpers: header mapping, LSOA code validation, provenance and checksums."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pipeline.errors import SourceError  # noqa: F401  (re-exported)
from pipeline.inputs.files import file_sha256

LSOA21_PATTERN = r"^E01[0-9]{6}$"
PROVENANCE_FILE = "provenance.json"
SUPPRESSED_MARKERS = ["*", "c", "z", "..", ":", "x", "-", "[c]", "[z]", "[x]", ""]
SYNTHETIC_COLUMN = "dedi_synthetic"  # present (and true) in every demo-generated table




@dataclass(frozen=True)
class FetchSpec:
    """One official file to download into the raw layout."""

    source: str
    url: str
    target: str  # path relative to the raw dir, e.g. "iod/File_7_....csv"
    licence: str = "Open Government Licence v3.0"
    sha256: str | None = None  # pin when the publisher's file is fixed
    description: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    # the publisher never changes this file (a dated release): its sha256 is pinned in
    # pipeline/sources/pins.json (`dedi fetch --pin` records it once) and every fetch checks it
    immutable: bool = False


def _norm(header: str) -> str:
    return re.sub(r"\s+", " ", str(header).replace("\ufeff", "")).strip().casefold()


def map_headers(
    df: pd.DataFrame,
    header_map: dict[str, str],
    required: list[str],
    path: Path | str,
) -> pd.DataFrame:
    """Rename official headers to our names (whitespace/case tolerant); keep only mapped ones.

    ``header_map`` maps official header text -> our column. Several official spellings may map
    to the same column (e.g. ONS ``LSOA21CD`` and ``lsoa21_code``); the first present wins.
    Raises :class:`SourceError` naming every missing required column.
    """
    rename = {col: ours for ours, col in mapped_columns(list(df.columns), header_map, required,
                                                        path).items()}
    out = normalise_codes(df[list(rename)].rename(columns=rename))
    if SYNTHETIC_COLUMN in df.columns:
        out[SYNTHETIC_COLUMN] = is_true(df[SYNTHETIC_COLUMN])
    return out


def normalise_codes(df: pd.DataFrame) -> pd.DataFrame:
    """ONS and ODS codes (every ``*_code`` column) without surrounding whitespace and in upper
    case, as they are published: ``' e01000001 '`` joins as ``E01000001``, never dropped."""
    for c in df.columns:
        if str(c).endswith("_code") and (df[c].dtype == object or
                                         pd.api.types.is_string_dtype(df[c])):
            t = df[c].str.strip().str.upper()
            df[c] = t.where(t.notna(), df[c])  # non-text values stay as they are
    return df


def is_true(s: pd.Series) -> pd.Series:
    """Booleans from bool columns or text such as 'true'/'1'/'yes'."""
    if pd.api.types.is_bool_dtype(s):
        return s.fillna(False).astype(bool)
    return s.astype(str).str.strip().str.lower().isin(["true", "1", "yes", "y"])


def read_csv_text(path: Path) -> pd.DataFrame:
    """Read a CSV as strings: UTF-8 (with or without BOM), falling back to Windows-1252."""
    for enc in ("utf-8-sig", "cp1252"):
        try:
            return pd.read_csv(path, dtype=str, keep_default_na=False, encoding=enc)
        except UnicodeDecodeError:
            continue
        except pd.errors.EmptyDataError:
            raise SourceError(path, "the file is empty (0 bytes or no header row)") from None
        except pd.errors.ParserError as exc:
            raise SourceError(path, f"not a well-formed CSV: {exc}") from exc
    raise SourceError(path, "cannot decode as UTF-8 or Windows-1252")


def mapped_columns(columns: list[str], header_map: dict[str, str], required: list[str],
                   path: Path | str) -> dict[str, str]:
    """Our column -> the file's header, for SQL readers (same rules as :func:`map_headers`)."""
    present = {_norm(c): c for c in columns}
    out: dict[str, str] = {}
    for official, ours in header_map.items():
        col = present.get(_norm(official))
        if col is not None and ours not in out:
            out[ours] = col
    missing = [c for c in required if c not in out]
    if missing:
        wanted = {ours: off for off, ours in reversed(list(header_map.items()))}
        raise SourceError(path, "missing required column(s): "
                          + "; ".join(f"'{wanted.get(m, m)}'" for m in missing))
    return out


def sql_ident(name: str) -> str:
    """Quote a column name for DuckDB."""
    return '"' + name.replace('"', '""') + '"'


def sql_number(col: str) -> str:
    """SQL turning an official text cell into a number; suppressed markers become NULL."""
    markers = ", ".join("'" + m.replace("'", "''") + "'" for m in SUPPRESSED_MARKERS)
    c = f"trim({sql_ident(col)})"
    return (f"CASE WHEN {sql_ident(col)} IS NULL OR {c} IN ({markers}) THEN NULL "
            f"ELSE TRY_CAST(replace({c}, ',', '') AS DOUBLE) END")


def sql_bad_numbers(conn, relation: str, cols: str | list[str], key: str, label: str,
                    file_column: str | None = None) -> None:
    """Raise naming the file, column and rows (by key) where a cell is neither a number nor a
    suppression marker. ``file_column`` names the file of each row when several were read."""
    cols = [cols] if isinstance(cols, str) else cols
    if not cols:
        return
    markers = ", ".join("'" + m.replace("'", "''") + "'" for m in SUPPRESSED_MARKERS)

    def is_bad(c: str) -> str:
        return (f"(({sql_number(c)}) IS NULL AND {sql_ident(c)} IS NOT NULL "
                f"AND trim({sql_ident(c)}) NOT IN ({markers}))")

    counts = conn.execute("SELECT " + ", ".join(f"count(*) FILTER ({is_bad(c)})" for c in cols)
                          + f" FROM {relation}").fetchone()
    col = next((c for c, k in zip(cols, counts, strict=True) if k), None)
    if col is None:
        return
    fcol = sql_ident(file_column) if file_column else "NULL"
    bad = conn.execute(f"SELECT {fcol}, {sql_ident(key)}, {sql_ident(col)} FROM {relation} "
                       f"WHERE {is_bad(col)} LIMIT 5").fetchall()
    raise SourceError(bad[0][0] or label, f"column '{col}': non-numeric value(s) "
                      f"{[v for _, _, v in bad]} at rows with {key} {[k for _, k, _ in bad]}")


def read_table(path: Path) -> pd.DataFrame:
    """Read a CSV (as text) or parquet file, after :func:`checks.check_file` (empty, HTML,
    a workbook named .csv, corrupt, header only, a last line cut short)."""
    from pipeline.sources.guards import check_file

    check_file(path)
    if path.suffix.lower() == ".parquet":
        return pd.read_parquet(path)
    return read_csv_text(path)


def _clean_numbers(s: pd.Series) -> pd.Series | None:
    """``s`` as float64 when every cell is a plain number (Arrow's C++ cast, ~3x faster than
    pandas for text columns); None when any cell is not (blank, marker, typo)."""
    import pyarrow as pa

    try:
        arr = pa.array(s.to_numpy(dtype=object), type=pa.string()).cast(pa.float64())
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        return None
    out = arr.to_numpy(zero_copy_only=False)
    if arr.null_count or np.isnan(out).any():  # "nan" text, or missing: judged the slow way
        return None
    return pd.Series(out, index=s.index, dtype="float64")


def to_number(df: pd.DataFrame, column: str, path: Path | str, *, allow_suppressed: bool = False,
              integer: bool = False) -> pd.Series:
    """Parse a numeric column; name the first bad rows (1-based data rows) on failure.

    Suppressed cells (``*``, ``c``, ``z``, ``..`` ...) become NA when ``allow_suppressed``.
    """
    s = df[column]
    if pd.api.types.is_numeric_dtype(s):
        num = s.astype("float64")
    elif (num := _clean_numbers(s)) is not None:  # fast path: every cell a plain number
        pass
    else:
        num = pd.to_numeric(s, errors="coerce").astype("float64")
        odd = num.isna() & s.notna()
        if odd.any():
            txt = s[odd].astype(str).str.strip().str.replace(",", "", regex=False)
            sup = txt.isin(SUPPRESSED_MARKERS)
            fixed = pd.to_numeric(txt.where(~sup), errors="coerce")
            num.loc[odd] = fixed
            bad_sub = fixed.isna() if not allow_suppressed else fixed.isna() & ~sup
            bad = pd.Series(False, index=s.index)
            bad.loc[bad_sub.index[bad_sub.to_numpy()]] = True
            if bad.any():
                rows = [int(i) + 2 for i in list(df.index[bad.to_numpy()])[:5]]
                vals = [str(v) for v in s[bad].head(5)]
                raise SourceError(
                    path,
                    f"column '{column}': non-numeric value(s) {vals} at file row(s) {rows} "
                    f"({int(bad.sum())} in all)",
                )
    inf = num.abs() == float("inf")
    if inf.any():
        rows = [int(i) + 2 for i in list(df.index[inf.to_numpy()])[:5]]
        raise SourceError(path, f"column '{column}': infinite value(s) {s[inf].head(5).tolist()} "
                          f"at file row(s) {rows}; expected a finite number; correct the file")
    if integer:
        if num.notna().any() and not (num.dropna() == num.dropna().round()).all():
            raise SourceError(path, f"column '{column}': expected whole numbers")
        return num.astype("Int64")
    return num


def check_lsoa_codes(df: pd.DataFrame, path: Path | str, column: str = "lsoa21_code",
                     england_only: bool = True) -> None:
    """LSOA 2021 codes: ``E01`` + 6 digits, non-null, no duplicates. Errors name rows."""
    codes = df[column].astype("string")
    pattern = LSOA21_PATTERN if england_only else r"^[EW]01[0-9]{6}$"
    bad = codes.isna() | ~codes.fillna("").str.match(pattern)
    if bad.any():
        rows = [int(i) + 2 for i in list(df.index[bad.to_numpy()])[:5]]
        raise SourceError(
            path, f"column '{column}': invalid LSOA code(s) {codes[bad].head(5).tolist()} "
            f"at file row(s) {rows} ({int(bad.sum())} in all; expected E01 + 6 digits)")
    dup = codes.duplicated(keep=False)
    if dup.any():
        rows = [int(i) + 2 for i in list(df.index[dup.to_numpy()])[:6]]
        raise SourceError(
            path, f"column '{column}': duplicated LSOA code(s) "
            f"{sorted(set(codes[dup].head(6)))} at file row(s) {rows}")


def read_provenance(topic_dir: Path) -> dict[str, Any]:
    """The topic folder's ``provenance.json`` (written by ``dedi fetch`` / ``dedi demo``)."""
    f = topic_dir / PROVENANCE_FILE
    if not f.exists():
        return {"files": {}}
    return json.loads(f.read_text(encoding="utf-8"))


def file_record(path: Path, df: pd.DataFrame | None = None) -> dict[str, Any]:
    """Traceability record of one raw file: name, checksum, size, real or synthetic."""
    prov = read_provenance(path.parent).get("files", {}).get(path.name, {})
    synthetic = bool(prov.get("synthetic", False))
    if df is not None and SYNTHETIC_COLUMN in df.columns and bool(df[SYNTHETIC_COLUMN].any()):
        synthetic = True
    return {
        "file": str(path),
        "sha256": file_sha256(path),
        "bytes": path.stat().st_size,
        "data_status": "synthetic" if synthetic else "real",
        "url": prov.get("url"),
        "retrieved_at": prov.get("retrieved_at"),
        "licence": prov.get("licence"),
    }


def find_one(raw_dir: Path, topic: str, patterns: list[str]) -> Path:
    """First file under ``raw_dir/topic`` matching the patterns, in order of preference."""
    folder = raw_dir / topic
    for pat in patterns:
        hits = sorted(folder.glob(pat))
        if hits:
            return hits[0]
    raise SourceError(folder, f"no file matching {patterns} (run `dedi fetch` or `dedi demo`)")
