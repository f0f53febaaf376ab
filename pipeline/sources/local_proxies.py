"""Local-authority proxies ("layering" data): the DEDI local data contract.

Layout: ``<raw>/local/<LA code>/<proxy>.csv`` (or ``.parquet``), proxy one of
:data:`PROXIES`; or ``<proxy>_<period>.csv`` where the file carries a period (``2025``,
``2024-25``, ``2025-03``: one Dagster partition per period, the latest one current).
Each file is one of two forms, told apart by its columns:

(a) LSOA counts: ``lsoa21_code, count[, denominator]``.
(b) Records, one row per address or person, located by ``easting, northing`` (EPSG:27700), or
    ``lat, lon`` (EPSG:4326), or ``postcode`` (through the ONS Postcode Directory).

Record files are placed in LSOA 2021 polygons with a geopandas spatial join, streamed from
DuckDB in batches so that 10 million rows fit in little memory.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from pipeline.sources.common import (
    SourceError,
    check_lsoa_codes,
    map_headers,
    mapped_columns,
    read_table,
    sql_ident,
    to_number,
)
from pipeline.sources.connectivity import sql_postcode
from pipeline.sources.guards import check_coordinates, check_file

TOPIC = "local"
PROXIES = ["pupil_premium", "assisted_bin_collection", "english_second_language",
           "housing_condition"]
LA_CODE = re.compile(r"^E0[6-9][0-9]{6}$")
COUNTS_MAP = {"lsoa21_code": "lsoa21_code", "LSOA21CD": "lsoa21_code", "lsoa_code": "lsoa21_code",
              "count": "count", "n": "count", "denominator": "denominator"}
RECORD_MAP = {"easting": "easting", "x": "easting", "oseast1m": "easting",
              "northing": "northing", "y": "northing", "osnrth1m": "northing",
              "lat": "lat", "latitude": "lat", "lon": "lon", "long": "lon", "longitude": "lon",
              "postcode": "postcode", "pcds": "postcode"}
BATCH = 2_000_000


@dataclass(frozen=True)
class LocalFile:
    """One supplied proxy file."""

    la_code: str
    proxy: str
    path: Path
    period: str | None = None


def discover(raw_dir: Path) -> list[LocalFile]:
    """Every proxy file under ``local/``; unknown names are errors, not silently skipped."""
    root = raw_dir / TOPIC
    if not root.exists():
        return []
    found = []
    for la_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        if not LA_CODE.match(la_dir.name):
            raise SourceError(la_dir, "folder name must be a local authority code (E06/E07/E08/"
                              "E09 + 6 digits)")
        for f in sorted(la_dir.iterdir()):
            if f.suffix.lower() not in (".csv", ".parquet") or f.name.startswith("."):
                continue
            m = PERIOD_NAME.match(f.stem)
            if not m or m.group("proxy") not in PROXIES:
                raise SourceError(f, f"unknown proxy '{f.stem}'; expected one of {PROXIES}, "
                                  "optionally followed by _<period> (e.g. _2025, _2024-25)")
            found.append(LocalFile(la_dir.name, m.group("proxy"), f, m.group("period")))
    for (la, proxy), group in _by_source(found).items():
        if len({g.period is None for g in group}) > 1:
            raise SourceError(group[0].path.parent, f"{proxy}: files with and without a period "
                              f"({[g.path.name for g in group]}); name every {proxy} file of "
                              f"{la} with its period, or supply one file without")
    return found


PERIOD_NAME = re.compile(r"^(?P<proxy>[a-z_]+?)(?:_(?P<period>\d{4}(?:-\d{2})?))?$")


def _by_source(files: list[LocalFile]) -> dict[tuple[str, str], list[LocalFile]]:
    out: dict[tuple[str, str], list[LocalFile]] = {}
    for f in files:
        out.setdefault((f.la_code, f.proxy), []).append(f)
    return out


def periods(files: list[LocalFile]) -> list[str]:
    """The periods carried by the files' names, sorted (the Dagster partition keys)."""
    return sorted({f.period for f in files if f.period})


def file_form(conn, path: Path) -> str:
    """'counts' or 'records', from the file's columns (after the structure checks)."""
    check_file(path)
    cols = [r[0] for r in conn.execute(f"DESCRIBE SELECT * FROM {_relation(path)}").fetchall()]
    lower = {c.strip().lower() for c in cols}
    if {"lsoa21_code", "count"} <= lower or {"lsoa21cd", "count"} <= lower:
        return "counts"
    if lower & {"easting", "lat", "latitude", "postcode", "pcds", "x"}:
        return "records"
    raise SourceError(path, f"neither LSOA counts (lsoa21_code, count) nor records (easting/"
                      f"northing, lat/lon or postcode); columns are {cols}")


def _relation(path: Path) -> str:
    if path.suffix.lower() == ".parquet":
        return f"read_parquet({str(path)!r})"
    return f"read_csv({str(path)!r}, all_varchar=true, header=true)"


def read_counts(path: Path) -> pd.DataFrame:
    """Form (a): counts per LSOA; suppressed counts stay missing (not zero)."""
    df = map_headers(read_table(path), COUNTS_MAP, ["lsoa21_code", "count"], path)
    df["count"] = to_number(df, "count", path, allow_suppressed=True)
    if "denominator" in df:
        df["denominator"] = to_number(df, "denominator", path, allow_suppressed=True)
    check_lsoa_codes(df, path)
    return df


def row_problems(df: pd.DataFrame) -> pd.Series:
    """Why each row of a counts file is unusable ('' when fine): a count that is negative,
    not whole or above its denominator. Such rows are quarantined, not read."""
    c = df["count"].astype("float64")
    why = pd.Series("", index=df.index)
    why[c < 0] = "negative count"
    why[(why == "") & c.notna() & (c != c.round())] = "count is not a whole number"
    if "denominator" in df:
        d = df["denominator"].astype("float64")
        why[(why == "") & c.notna() & d.notna() & (c > d)] = "count above its denominator"
    return why


def count_records(conn, path: Path, lsoa: gpd.GeoDataFrame, la_code: str,
                  postcode_table: str | None = None,
                  max_outside: float = 1.0) -> tuple[pd.DataFrame, dict[str, int]]:
    """Form (b): spatially join records to LSOA 2021 and count them per LSOA of ``la_code``.

    ``lsoa`` has ``lsoa21_code``, ``ltla24_code`` and polygons (any CRS). Returns counts for
    every LSOA of the LA (zero where none) and a report of records outside any LSOA, outside
    the LA, or without a usable location; ``report["dropped"]`` lists those records as
    (file row, reason). Above ``max_outside`` of the records, any of these stops the build.
    """
    rel = _relation(path)
    cols = [r[0] for r in conn.execute(f"DESCRIBE SELECT * FROM {rel}").fetchall()]
    m = mapped_columns(cols, RECORD_MAP, [], path)
    if "easting" in m and "northing" in m:
        sel, crs = (f"TRY_CAST({sql_ident(m['easting'])} AS DOUBLE) AS x, "
                    f"TRY_CAST({sql_ident(m['northing'])} AS DOUBLE) AS y FROM {rel}"), "EPSG:27700"
    elif "lat" in m and "lon" in m:
        sel, crs = (f"TRY_CAST({sql_ident(m['lon'])} AS DOUBLE) AS x, "
                    f"TRY_CAST({sql_ident(m['lat'])} AS DOUBLE) AS y FROM {rel}"), "EPSG:4326"
    elif "postcode" in m:
        if postcode_table is None:
            raise SourceError(path, "records located by postcode need the ONS Postcode "
                              "Directory in <raw>/geography/ (ONSPD*.zip or NSPL*.csv)")
        sel, crs = (f"d.easting AS x, d.northing AS y FROM {rel} r LEFT JOIN {postcode_table} d "
                    f"ON d.postcode = {sql_postcode('r.' + sql_ident(m['postcode']))}"), "EPSG:27700"
    else:
        raise SourceError(path, "records need easting+northing, lat+lon, or postcode columns")

    polys = lsoa.to_crs(crs).reset_index(drop=True)
    in_la = polys["ltla24_code"].to_numpy() == la_code
    if not in_la.any():
        raise SourceError(path, f"no LSOA 2021 of local authority {la_code} in the geography")
    la_polys = polys[in_la].reset_index(drop=True)
    counts = np.zeros(len(la_polys), dtype="int64")
    report = {"records": 0, "no_location": 0, "outside_any_lsoa": 0, "outside_la": 0}
    dropped: list[tuple[int, str]] = []  # (file row, reason)
    reader = conn.execute(f"SELECT {sel}").fetch_record_batch(BATCH)
    labels = ((m.get("easting"), m.get("northing")) if crs == "EPSG:27700" and "easting" in m
              else (m.get("lon"), m.get("lat")) if "lon" in m else ("easting", "northing"))
    for n_batch, batch in enumerate(reader):
        x = batch.column("x").to_numpy(zero_copy_only=False).astype("float64")
        y = batch.column("y").to_numpy(zero_copy_only=False).astype("float64")
        if n_batch == 0:  # swapped or out-of-England coordinates, named before any join
            check_coordinates(pd.DataFrame({"x": x, "y": y}), "x", "y", path, crs,
                              labels=labels)
        start = report["records"] + 2  # file row of the batch's first record (header = 1)
        report["records"] += len(x)
        ok = np.isfinite(x) & np.isfinite(y)
        report["no_location"] += int((~ok).sum())
        rows = np.flatnonzero(ok) + start
        dropped += [(int(r) + start, "no location (unknown postcode or no coordinates)")
                    for r in np.flatnonzero(~ok)]
        x, y = x[ok], y[ok]
        pts = shapely.points(x, y)
        pi, li = la_polys.sindex.query(pts, predicate="within")
        first = np.full(len(pts), -1)
        first[pi[::-1]] = li[::-1]  # a point on a shared edge counts once
        counts += np.bincount(first[first >= 0], minlength=len(la_polys))
        rest = pts[first < 0]
        if len(rest):
            pj, pl = polys.sindex.query(rest, predicate="within")
            inside_other = len(np.unique(pj))
            report["outside_la"] += inside_other
            report["outside_any_lsoa"] += len(rest) - inside_other
            other = dict(zip(pj, polys["ltla24_code"].to_numpy()[pl], strict=True))
            dropped += [(int(r), f"in another LA ({other[j]})" if j in other else
                         "outside every LSOA in England")
                        for j, r in enumerate(rows[first < 0])]
    located = report["records"] - report["no_location"]
    if report["records"] and report["no_location"] / report["records"] > max_outside:
        raise SourceError(path, f"{report['no_location']:,} of {report['records']:,} records "
                          f"cannot be located (unknown postcode or no coordinates; more than "
                          f"{max_outside:.0%}), e.g. file row {dropped[0][0]}; check the "
                          "location columns, or supply a current ONS Postcode Directory")
    for key, what in (("outside_la", f"outside {la_code}"),
                      ("outside_any_lsoa", "outside every LSOA in England")):
        if located and report[key] / located > max_outside:
            raise SourceError(path, f"{report[key]:,} of {located:,} located records lie "
                              f"{what} (more than {max_outside:.0%}); expected the records of "
                              f"{la_code}: check the coordinate columns, or the folder")
    out = pd.DataFrame({"lsoa21_code": la_polys["lsoa21_code"], "count": counts})
    return out, {**report, "dropped": sorted(dropped)}

