"""NHS App uptake by GP practice (DEDI's documented practice-level CSV layout).

NHS England publishes practice-level NHS App figures only behind an NHS login, so DEDI
defines the layout an ICS supplies (see README "NHS App practice file"):

    practice_code, month, registrations[, p9_registrations][, logins][, list_size]

``month`` is ``YYYY-MM``. Files live in ``<raw>/nhs_app/``, one per month
(``nhs_app_practice_YYYY-MM.csv``, as NHS England releases them); a file whose name carries
no month may hold several months. Each month is a Dagster partition; the current tables use
the latest month per practice.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from pipeline.sources.common import SourceError, map_headers, read_table, to_number
from pipeline.sources.guards import check_not_above, check_range, check_unique

TOPIC = "nhs_app"
FILES = ["nhs_app_practice*.csv", "nhs_app_practice*.parquet"]
HEADER_MAP = {
    "practice_code": "practice_code", "Practice Code": "practice_code", "ODS_CODE": "practice_code",
    "month": "month", "Month": "month", "REPORTING_PERIOD": "month",
    "registrations": "registrations", "Registrations": "registrations",
    "p9_registrations": "p9_registrations", "P9 Registrations": "p9_registrations",
    "logins": "logins", "Logins": "logins",
    "list_size": "list_size",
}
COUNTS = ("registrations", "p9_registrations", "logins", "list_size")
MONTH_IN_NAME = re.compile(r"(?<!\d)(\d{4}-\d{2})(?!\d)")
FETCH: list = []  # practice-level data is not openly published (NHS login required)


def locate_all(raw_dir: Path) -> list[Path]:
    """Every practice-level NHS App file under ``<raw>/nhs_app/`` (possibly none)."""
    folder = raw_dir / TOPIC
    return sorted({p for pat in FILES for p in folder.glob(pat) if p.is_file()})


def month_in_name(path: Path) -> str | None:
    """``YYYY-MM`` named in the file name (``nhs_app_practice_2026-09.csv``), if any."""
    m = MONTH_IN_NAME.search(path.stem)
    return m.group(1) if m else None


def read_practice_months(path: Path) -> pd.DataFrame:
    """Every month of one file, validated; a file named for a month holds only that month."""
    df = map_headers(read_table(path), HEADER_MAP, ["practice_code", "month", "registrations"],
                     path)
    for c in COUNTS:
        if c in df:
            df[c] = to_number(df, c, path, allow_suppressed=True)
    month = pd.to_datetime(df["month"].astype(str).str.slice(0, 7), format="%Y-%m", errors="coerce")
    if month.isna().any():
        rows = [int(i) + 2 for i in df.index[month.isna()][:5]]
        raise SourceError(path, f"column 'month': expected YYYY-MM at file row(s) {rows}")
    df["month"] = month.dt.strftime("%Y-%m")
    named = month_in_name(path)
    if named and (df["month"] != named).any():
        rows = [int(i) + 2 for i in df.index[df["month"] != named][:5]]
        raise SourceError(path, f"column 'month': the file is named for {named} but file "
                          f"row(s) {rows} are for {df.loc[df['month'] != named, 'month'].iloc[0]}"
                          "; put each month in its own file")
    for c in COUNTS:
        if c in df:
            check_range(df, c, path, 0, None if c == "logins" else 200_000,
                        integral=c != "logins")
    if "list_size" in df:
        check_not_above(df, "registrations", "list_size", path)
    check_unique(df, ["practice_code", "month"], path)
    for c in COUNTS:  # one schema whatever the file carries
        if c not in df:
            df[c] = float("nan")
    return df[["practice_code", "month", *COUNTS]].reset_index(drop=True)


def months_available(raw_dir: Path) -> dict[str, list[Path]]:
    """Month -> the files holding it. A month named in a file name is taken from the name;
    other files are read for their months."""
    out: dict[str, list[Path]] = {}
    for path in locate_all(raw_dir):
        named = month_in_name(path)
        months = [named] if named else sorted(read_practice_months(path)["month"].unique())
        for m in months:
            out.setdefault(m, []).append(path)
    return dict(sorted(out.items()))


def read_months(raw_dir: Path, months: list[str]) -> tuple[pd.DataFrame, list[Path]]:
    """The rows of ``months`` from every file holding them, with their ``source_file`` name
    (a practice-month in two files is an error naming both), and the files read."""
    available = months_available(raw_dir)
    missing = [m for m in months if m not in available]
    if missing:
        raise SourceError(raw_dir / TOPIC, f"no NHS App file for month(s) {missing}; expected "
                          f"nhs_app_practice_<YYYY-MM>.csv (months present: "
                          f"{list(available) or 'none'})")
    files = sorted({p for m in months for p in available[m]})
    frames = []
    for path in files:
        df = read_practice_months(path)
        frames.append(df[df["month"].isin(months)].assign(source_file=path.name))
    df = pd.concat(frames, ignore_index=True)
    dup = df.duplicated(["practice_code", "month"], keep=False)
    if dup.any():
        first = df[dup].iloc[0]
        names = sorted(df.loc[dup & (df["practice_code"] == first["practice_code"]),
                              "source_file"])
        raise SourceError(raw_dir / TOPIC, f"practice {first['practice_code']} month "
                          f"{first['month']} appears in {names}; keep one file per month")
    return df, files
