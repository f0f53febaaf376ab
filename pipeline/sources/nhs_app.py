"""NHS App uptake by GP practice (DEDI's documented practice-level CSV layout).

NHS England publishes practice-level NHS App figures only behind an NHS login, so DEDI
defines the layout an ICS supplies (see README "NHS App practice file"):

    practice_code, month, registrations[, p9_registrations][, logins][, list_size]

``month`` is ``YYYY-MM``; the latest month per practice is used. Files live in
``<raw>/nhs_app/``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from pipeline.sources.checks import check_not_above, check_range, check_unique
from pipeline.sources.common import SourceError, find_one, map_headers, read_table, to_number

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
FETCH: list = []  # practice-level data is not openly published (NHS login required)


def locate(raw_dir: Path) -> Path:
    """The practice-level NHS App file."""
    return find_one(raw_dir, TOPIC, FILES)


def read_practice_uptake(path: Path) -> pd.DataFrame:
    """Latest month's registrations per practice."""
    df = map_headers(read_table(path), HEADER_MAP, ["practice_code", "month", "registrations"],
                     path)
    for c in ("registrations", "p9_registrations", "logins", "list_size"):
        if c in df:
            df[c] = to_number(df, c, path, allow_suppressed=True)
    month = pd.to_datetime(df["month"].astype(str).str.slice(0, 7), format="%Y-%m", errors="coerce")
    if month.isna().any():
        rows = [int(i) + 2 for i in df.index[month.isna()][:5]]
        raise SourceError(path, f"column 'month': expected YYYY-MM at file row(s) {rows}")
    df["month"] = month.dt.strftime("%Y-%m")
    for c in ("registrations", "p9_registrations", "logins", "list_size"):
        if c in df:
            check_range(df, c, path, 0, None if c == "logins" else 200_000,
                        integral=c != "logins")
    if "list_size" in df:
        check_not_above(df, "registrations", "list_size", path)
    check_unique(df, ["practice_code", "month"], path)
    latest = df.sort_values("month").groupby("practice_code", as_index=False).tail(1)
    return latest.reset_index(drop=True)
