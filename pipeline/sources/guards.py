"""Raw-value checks shared by every reader: what a file *says*, before any join.

Why not Great Expectations for these: a GX result on a staged frame knows neither the file
nor the file's row numbers (headers are mapped, rows filtered, several files concatenated), so
its failure cannot say "file X, column C, row R: expected ..., do ...". These checks run in the
readers on the raw table and raise :class:`SourceError` with that one line; GX suites stay for
cross-table and derived checks (row counts against the LSOA set, value sets of joined tables).

Every message: the file, the column, the row(s) (file rows, header = row 1) or a count with
examples, what was expected, and what to do.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.errors import SourceError

HTML = (b"<!doctype html", b"<html", b"<head", b"<body")
# England's extent, with a margin (the demo area sits just off the east coast): British
# National Grid metres and WGS84 degrees
BNG_X, BNG_Y = (50_000.0, 700_000.0), (0.0, 700_000.0)
LON, LAT = (-6.5, 2.5), (49.8, 55.9)


def _rows(mask: pd.Series, limit: int = 5) -> list[int]:
    """File rows (header = 1) of the first rows where ``mask`` holds."""
    return [int(i) + 2 for i in list(mask.index[mask.to_numpy()])[:limit]]


def fail(path: Path | str, column: str, mask: pd.Series, values: pd.Series, expected: str,
         todo: str) -> None:
    """Raise the one-line message for the rows where ``mask`` holds."""
    n = int(mask.sum())
    vals = [str(v) for v in values[mask].head(5)]
    raise SourceError(path, f"column '{column}': {vals} at file row(s) {_rows(mask)} "
                      f"({n} in all); expected {expected}; {todo}")


def check_rank_order(df: pd.DataFrame, score: str | None, rank: str, decile: str,
                     path: Path | str, labels: tuple[str, str, str], unique: bool = False) -> None:
    """A published score, rank and decile agree: ranks (1 = highest score) follow the scores
    (ties allowed), deciles are ceil(10 · rank / N), and ``unique`` ranks appear once. A
    column shifted by a row breaks the first two; the message names the column and rows."""
    r = df[rank]
    if unique and r.duplicated().any():
        dup = r.duplicated(keep=False)
        fail(path, labels[1], dup, r, "each rank once (1..N)", "the ranks were damaged: "
             "download File 7 again with `dedi fetch iod2025`")
    if score is not None and score in df:
        order = np.argsort(r.to_numpy(), kind="stable")
        s = df[score].to_numpy(dtype="float64")[order]
        up = np.flatnonzero(np.diff(s) > 0)  # a higher score ranked after a lower one
        if len(up):
            at = pd.Series(False, index=df.index)
            at.iloc[order[up[:5] + 1]] = True
            fail(path, labels[0], at, df[score], f"scores that fall as '{labels[1]}' rises",
                 f"the score and rank columns disagree from file row {_rows(at)[0]} "
                 "(a column shifted or sorted on its own?): download File 7 again")
    expected = np.ceil(r.to_numpy(dtype="float64") * 10.0 / len(df))
    wrong = pd.Series(df[decile].to_numpy(dtype="float64") != expected, index=df.index)
    if wrong.any():
        fail(path, labels[2], wrong, df[decile], f"deciles of '{labels[1]}' (ceil(10 x rank "
             "/ N))", "the rank and decile columns disagree: download File 7 again")


def check_file(path: Path) -> None:
    """Structure of a raw file before it is parsed: empty, HTML, a zip or workbook under a
    .csv name, a corrupt zip or parquet, a header without rows, a truncated last line."""
    if not path.exists():
        raise SourceError(path, "file not found")
    size = path.stat().st_size
    if size == 0:
        raise SourceError(path, "the file is empty (0 bytes): download it again (`dedi fetch`) "
                          "or replace it")
    with open(path, "rb") as fh:
        head = fh.read(4096)
    suffix = path.suffix.lower()
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").lower().startswith(HTML):
        raise SourceError(path, "is an HTML page, not data (a failed download or a saved web "
                          "page): fetch the file again")
    if suffix == ".csv" and head.startswith(b"PK\x03\x04"):
        kind = "an Excel workbook" if b"[Content_Types].xml" in head or b"xl/" in head \
            else "a zip archive"
        raise SourceError(path, f"is {kind} renamed to .csv: save it as CSV (or give it its "
                          "real extension and the reader that takes it)")
    if suffix in (".zip", ".xlsx"):
        try:
            with zipfile.ZipFile(path) as z:
                bad = z.testzip()
        except (zipfile.BadZipFile, EOFError, OSError) as exc:
            raise SourceError(path, f"is not a valid {suffix} archive ({exc}): the download "
                              "was probably cut short; fetch it again") from None
        if bad:
            raise SourceError(path, f"is a corrupt {suffix} archive (member {bad} fails its "
                              "CRC): fetch it again")
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        try:
            pq.read_metadata(path)
        except Exception as exc:  # noqa: BLE001 - any arrow error means an unusable file
            raise SourceError(path, f"is not a valid parquet file ({str(exc).splitlines()[0]}): "
                              "replace it") from None
    if suffix == ".csv":
        _check_csv_text(path, size)


def _cell_kind(v: str) -> str:
    v = v.strip().strip('"')
    if re.fullmatch(r"-?\d+", v):
        return "integer"
    if re.fullmatch(r"-?\d*\.\d+", v):
        return "decimal"
    return "empty" if not v else "text"


def _check_csv_text(path: Path, size: int) -> None:
    """A header without rows, and a last line cut short (no newline, and its field count or
    the form of its last value differs from the rows before it)."""
    with open(path, "rb") as fh:
        fh.seek(max(0, size - 65536))
        tail = fh.read()
    lines = tail.replace(b"\r\n", b"\n").split(b"\n")
    complete = tail.endswith(b"\n")
    body = [ln for ln in lines if ln.strip()]
    if size < 65536 and len(body) <= 1:
        raise SourceError(path, "has a header row but no data rows: the file is incomplete; "
                          "replace it")
    if complete or len(body) < 3:
        return
    import csv

    try:
        rows = list(csv.reader([b.decode("utf-8", "replace") for b in body[-6:]]))
    except csv.Error:
        return
    last, before = rows[-1], rows[-2]
    if len(last) != len(before):
        raise SourceError(path, f"the last line has {len(last)} fields where the lines before "
                          f"have {len(before)}, and no line end: the file was cut short; "
                          "download or export it again")
    kinds = {_cell_kind(r[-1]) for r in rows[:-1] if r}
    if len(kinds) == 1 and _cell_kind(last[-1]) not in kinds | {"empty"}:
        raise SourceError(path, f"the last line ends with {last[-1]!r} where the lines before "
                          f"end with {kinds.pop()}s, and has no line end: the file was cut "
                          "short; download or export it again")


def check_range(df: pd.DataFrame, column: str, path: Path | str, lo: float | None = None,
                hi: float | None = None, integral: bool = False, label: str | None = None,
                todo: str = "correct the file, or leave the cell empty if the value is "
                            "unknown") -> None:
    """Values of ``column`` (numbers; NA allowed) lie in [lo, hi] and are whole if
    ``integral``."""
    x = pd.to_numeric(df[column], errors="coerce").astype("float64")
    name = label or column
    inf = np.isinf(x)
    if inf.any():
        fail(path, name, inf, df[column], "a finite number", todo)
    if lo is not None and (x < lo).any():
        fail(path, name, x < lo, df[column], f"at least {lo:g}", todo)
    if hi is not None and (x > hi).any():
        fail(path, name, x > hi, df[column], f"at most {hi:g}", todo)
    if integral:
        frac = x.notna() & (x != x.round())
        if frac.any():
            fail(path, name, frac, df[column], "a whole number (a count)", todo)


def check_not_above(df: pd.DataFrame, part: str, whole: str, path: Path | str) -> None:
    """A numerator never exceeds its denominator."""
    a = pd.to_numeric(df[part], errors="coerce")
    b = pd.to_numeric(df[whole], errors="coerce")
    bad = a.notna() & b.notna() & (a > b)
    if bad.any():
        fail(path, part, bad, df[part].astype(str) + " > " + df[whole].astype(str),
             f"'{part}' no larger than '{whole}' (a count within its total)",
             "the columns may be swapped or the totals out of date")


def check_unique(df: pd.DataFrame, keys: list[str], path: Path | str) -> None:
    """No key is repeated (e.g. practice + month)."""
    dup = df.duplicated(keys, keep=False)
    if dup.any():
        vals = df[keys].astype(str).agg(" / ".join, axis=1)
        fail(path, " + ".join(keys), dup, vals, "each key once",
             "remove the duplicated rows (DEDI will not guess which one is right)")


def check_filled(df: pd.DataFrame, columns: list[str], path: Path | str, key: str) -> None:
    """Every row has a value in each of ``columns`` (a blank area code would drop its
    ``key`` out of every summary without a word)."""
    for c in columns:
        blank = df[c].isna() | (df[c].astype(str).str.strip() == "")
        if blank.any():
            fail(path, c, blank, df[key], f"a value in every row (these are the {key} "
                 "values of the blank rows)", "fill them from the official lookup")


def check_one_value(df: pd.DataFrame, key: str, value: str, path: Path | str) -> None:
    """Every ``key`` has one ``value`` (e.g. one name per LTLA code): two rows of a key that
    disagree are refused by name, never one of them kept silently."""
    n = df.groupby(key, sort=True)[value].nunique(dropna=False)
    bad = n.index[n > 1]
    if len(bad):
        k = bad[0]
        rows = df[key] == k
        vals = sorted(df.loc[rows, value].astype(str).unique())
        raise SourceError(path, f"column '{value}': {key} {k} has {len(vals)} different values "
                          f"{vals} at file row(s) {_rows(rows)} ({len(bad)} {key}(s) in all); "
                          f"expected one per {key}: correct the file (DEDI will not pick one)")


def check_coordinates(df: pd.DataFrame, x: str, y: str, path: Path | str, crs: str,
                      labels: tuple[str, str] | None = None) -> None:
    """Points lie in England in the declared CRS (EPSG:27700 metres or EPSG:4326 degrees);
    swapped axes and degrees in metre columns are named as such."""
    lx, ly = labels or (x, y)
    xs = pd.to_numeric(df[x], errors="coerce")
    ys = pd.to_numeric(df[y], errors="coerce")
    have = xs.notna() & ys.notna() & ~((xs == 0) & (ys == 0))  # 0, 0: no location given
    if not have.any():
        return
    (x0, x1), (y0, y1) = (BNG_X, BNG_Y) if crs == "EPSG:27700" else (LON, LAT)
    inside = xs.between(x0, x1) & ys.between(y0, y1)
    out = have & ~inside
    if not out.any() or out.sum() <= 0.001 * have.sum():
        return
    swapped = ys.between(x0, x1) & xs.between(y0, y1)
    pairs = xs.astype(str) + ", " + ys.astype(str)
    if (swapped | ~have)[out].all():
        fail(path, f"{lx}/{ly}", out, pairs, f"{lx} then {ly} in {crs}",
             f"the two columns look swapped: rename them ({lx} <-> {ly})")
    if crs == "EPSG:27700" and (xs.between(*LON) & ys.between(*LAT))[out].all():
        fail(path, f"{lx}/{ly}", out, pairs, "British National Grid metres (EPSG:27700)",
             "these look like longitude/latitude degrees: put them in lon/lat columns")
    fail(path, f"{lx}/{ly}", out, pairs, f"points inside England in {crs} "
         f"({lx} {x0:g}..{x1:g}, {ly} {y0:g}..{y1:g})", "check the coordinate columns and CRS")


def check_lsoa21(codes: pd.Series, path: Path | str, column: str, lsoa21: set[str],
                 lsoa11: set[str] | None = None) -> None:
    """Codes are LSOA 2021 of England; LSOA 2011 codes are named as the 2011 geography."""
    c = codes.astype("string")
    unknown = c.notna() & ~c.isin(lsoa21)
    if not unknown.any():
        return
    if lsoa11 and c[unknown].isin(lsoa11).mean() > 0.5:
        fail(path, column, unknown, codes, "LSOA 2021 codes",
             "these look like the LSOA 2011 geography: convert them with the ONS LSOA 2011 -> "
             "2021 lookup (the harmonisation DEDI uses is in docs/method.md, 'LSOA 2011 -> 2021')")
    fail(path, column, unknown, codes, "LSOA 2021 codes of England",
         "check the code column (and that the file is for LSOA 2021)")
