"""Local-authority proxies (pupil premium, assisted bins, ESL, housing) per the local contract."""

import io
import json

import dagster as dg
import geopandas as gpd
import pandas as pd
from dagster_duckdb import DuckDBResource

from pipeline.build.resources import DediPaths
from pipeline.build.versions import files_sha256
from pipeline.config import paths, settings
from pipeline.defs._checks import gx_check
from pipeline.defs._staging import (
    SOURCES_DDL,
    forget_sources,
    record_source,
    replace_partitions,
    sql_model_asset,
    stamp_provenance,
    warn_quarantine,
    write_table,
)
from pipeline.sources import local_proxies as lp
from pipeline.sources.common import SourceError, file_record
from pipeline.sources.guards import check_lsoa21

GROUP = "local"
COLUMNS = ["la_code", "proxy", "lsoa21_code", "count", "denominator", "denominator_name",
           "data_status", "source_file"]


def _polygons(conn) -> gpd.GeoDataFrame:
    df = conn.execute("SELECT b.lsoa21_code, g.ltla24_code, b.geometry_wkb FROM "
                      "stg_lsoa21_boundaries b JOIN int_lsoa_geography g USING (lsoa21_code)").df()
    return gpd.GeoDataFrame(df[["lsoa21_code", "ltla24_code"]],
                            geometry=gpd.GeoSeries.from_wkb(df["geometry_wkb"].map(bytes)),
                            crs="EPSG:4326")


LOCAL_PERIODS = dg.DynamicPartitionsDefinition(name="local_period")
PERIOD_TABLE_DDL = ("CREATE TABLE IF NOT EXISTS stg_local_proxy_periods (period VARCHAR, "
                    "la_code VARCHAR, proxy VARCHAR, lsoa21_code VARCHAR, count DOUBLE, "
                    "denominator DOUBLE, denominator_name VARCHAR, data_status VARCHAR, "
                    "source_file VARCHAR)")
PERIOD_QUARANTINE_DDL = ("CREATE TABLE IF NOT EXISTS stg_local_quarantine_periods (period "
                         "VARCHAR, source VARCHAR, file VARCHAR, file_row VARCHAR, reason "
                         "VARCHAR, \"values\" VARCHAR)")
UPSTREAM = ["stg_lsoa21_boundaries", "int_lsoa_geography", "stg_postcode_directory",
            "stg_lsoa11_lsoa21"]


def stage_files(conn, files: list, log) -> tuple[pd.DataFrame, list[dict], dict, list]:
    """Read local proxy ``files`` into counts per LSOA of each supplying LA (records placed
    with a geopandas spatial join), with the rows to quarantine, a report per file and the
    ``(_sources key, file record, rows)`` of each file. Reads ``conn``, never writes it."""
    denominators = settings()["indicators"]["local_proxies"]["denominators"]
    frames, reports, quarantined, sources = [], {}, [], []
    polys = _polygons(conn)
    la_of = dict(zip(polys["lsoa21_code"], polys["ltla24_code"], strict=True))
    lsoa11 = {r[0] for r in conn.execute("SELECT DISTINCT lsoa11_code FROM stg_lsoa11_lsoa21"
                                         ).fetchall()}  # empty when no lookup is supplied
    max_outside = float(settings()["raw_checks"]["max_share_outside"])
    has_pcd = conn.execute("SELECT count(*) FROM stg_postcode_directory").fetchone()[0] > 0
    for f in files:
        log.info(f"reading {f.path}")
        rec = file_record(f.path)
        if lp.file_form(conn, f.path) == "counts":
            df = lp.read_counts(f.path)
            check_lsoa21(df["lsoa21_code"], f.path, "lsoa21_code", set(la_of), lsoa11)
            outside = df["lsoa21_code"].map(la_of) != f.la_code
            _check_outside(f, df, outside, la_of, max_outside)
            why = lp.row_problems(df)
            why = why.mask(outside & (why == ""), "LSOA of another LA ("
                           + df["lsoa21_code"].map(la_of).fillna("none") + ")")
            bad = why != ""
            quarantined.extend(_quarantine_rows(f, df, why))
            report = {"form": "counts", "rows": len(df),
                      "lsoas_outside_la_dropped": int(outside.sum()),
                      "rows_quarantined": int(bad.sum()),
                      "suppressed_counts": int(df["count"].isna().sum())}
            df = df[~bad]
        else:
            df, report = lp.count_records(conn, f.path, polys, f.la_code,
                                          "stg_postcode_directory" if has_pcd else None,
                                          max_outside)
            quarantined.extend({"source": f"local/{f.la_code}/{f.proxy}", "file": str(f.path),
                                "file_row": str(row), "reason": why, "values": ""}
                               for row, why in report.pop("dropped"))
            report["form"] = "records"
        if "denominator" not in df:
            df["denominator"] = float("nan")
        df = df.assign(la_code=f.la_code, proxy=f.proxy, denominator_name=denominators[f.proxy],
                       data_status=rec["data_status"], source_file=str(f.path))
        frames.append(df[COLUMNS])
        reports[f"{f.la_code}/{f.proxy}" + (f"/{f.period}" if f.period else "")] = {
            **report, "data_status": rec["data_status"]}
        sources.append((_source_key(f), rec, len(df)))
    out = (pd.concat(frames, ignore_index=True) if frames else  # typed, even when empty
           pd.DataFrame({c: pd.Series(dtype="string") for c in COLUMNS}))
    out["count"] = out["count"].astype("float64")
    out["denominator"] = out["denominator"].astype("float64")
    return out, quarantined, reports, sources


def _source_key(f) -> str:
    """``_sources`` key of a local file: the current files under ``stg_local_proxies``, the
    dated ones under ``stg_local_proxies_period`` (restaged by their own partition)."""
    if f.period:
        return f"stg_local_proxies_period:{f.la_code}/{f.proxy}/{f.period}"
    return f"stg_local_proxies:{f.la_code}/{f.proxy}"


@dg.asset(group_name=GROUP, kinds={"duckdb", "geopandas"}, deps=UPSTREAM,
          partitions_def=LOCAL_PERIODS,
          metadata={"dedi/also_writes": ["stg_local_proxy_periods",
                                         "stg_local_quarantine_periods"]},
          description="Local proxy files that carry a period in their name "
          "(<raw>/local/<LA code>/<proxy>_<period>.csv), one partition per period: counts per "
          "LSOA as for stg_local_proxies, kept for every period in stg_local_proxy_periods.")
def stg_local_proxies_period(context: dg.AssetExecutionContext, dedi_paths: DediPaths,
                             staging_db: DuckDBResource) -> dg.MaterializeResult:
    period = context.partition_key
    files = [f for f in lp.discover(dedi_paths.raw) if f.period == period]
    if not files:
        raise SourceError(dedi_paths.raw / lp.TOPIC, f"no local proxy file for period {period} "
                          "(expected <LA code>/<proxy>_" + period + ".csv)")
    with staging_db.get_connection() as conn:
        conn.execute(PERIOD_TABLE_DDL)
        conn.execute(PERIOD_QUARANTINE_DDL)
        conn.execute(SOURCES_DDL)
        conn.execute("DELETE FROM _sources WHERE staging_table LIKE ?",
                     [f"stg_local_proxies_period:%/{period}"])
        out, quarantined, reports, sources = stage_files(conn, files, context.log)
        for key, rec, rows in sources:
            record_source(conn, key, rec, rows)
        replace_partitions(conn, "stg_local_proxy_periods", out.assign(period=period), "period",
                           [period])
        q = pd.DataFrame(quarantined, columns=QUARANTINE_COLUMNS).astype("string")
        replace_partitions(conn, "stg_local_quarantine_periods", q.assign(period=period),
                           "period", [period])
    warn_quarantine(context.log, q)
    return dg.MaterializeResult(metadata={"dagster/row_count": len(out), "period": period,
                                          "files": reports, "rows_quarantined": len(q)})


@dg.asset(group_name=GROUP, kinds={"duckdb", "geopandas"},
          deps=[*UPSTREAM, stg_local_proxies_period, "stg_local_la"],
          description="The current local proxies: every file under <raw>/local/<LA code>/ "
          "without a period, and the latest period of those that carry one, as counts per LSOA "
          "of the supplying LA (record files placed with a geopandas spatial join). A proxy "
          "nobody supplies is absent. Rows failing row checks go to `quarantine`.",
          metadata={"dedi/also_writes": ["quarantine"]})
def stg_local_proxies(context: dg.AssetExecutionContext, dedi_paths: DediPaths,
                      staging_db: DuckDBResource) -> dg.MaterializeResult:
    cfg = settings()["raw_checks"]
    files = lp.discover(dedi_paths.raw)
    with staging_db.get_connection() as conn:
        forget_sources(conn, "stg_local_proxies")
        current = [f for f in files if not f.period]
        if settings()["scale_out"]["local_by_la"]:  # staged per LA (partitions), combined here
            out, quarantined, reports, sources = combine_la_outputs(current)
        else:
            out, quarantined, reports, sources = stage_files(conn, current, context.log)
        for key, rec, rows in sources:
            record_source(conn, key, rec, rows)
        conn.execute(PERIOD_TABLE_DDL)
        conn.execute(PERIOD_QUARANTINE_DDL)
        latest = conn.execute(
            "SELECT * EXCLUDE (period) FROM stg_local_proxy_periods p WHERE period = (SELECT "
            "max(period) FROM stg_local_proxy_periods q WHERE q.la_code = p.la_code AND "
            "q.proxy = p.proxy)").df()
        if len(latest):
            out = pd.concat([out, latest[COLUMNS]], ignore_index=True)
            for f in files:  # the dated file now current is a source of this build too
                if f.period and f.period == _latest(files, f):
                    stamp_provenance(conn, f"stg_local_proxies:{f.la_code}/{f.proxy}", f.path,
                                     int((latest["source_file"] == str(f.path)).sum()))
        write_table(conn, "stg_local_proxies", out)
        q = pd.concat([pd.DataFrame(quarantined, columns=QUARANTINE_COLUMNS),
                       conn.execute("SELECT * EXCLUDE (period) FROM "
                                    "stg_local_quarantine_periods").df()],
                      ignore_index=True).astype("string")
        write_table(conn, "quarantine", q)
    if len(q) and cfg["quarantine"]["local_proxies"] == "block":
        first = q.iloc[0]
        raise SourceError(first["file"], f"{len(q)} row(s) quarantined, e.g. file row "
                          f"{first['file_row']}: {first['reason']} ({first['values']}); "
                          "correct them, or set raw_checks.quarantine.local_proxies: warn")
    warn_quarantine(context.log, q)
    return dg.MaterializeResult(metadata={
        "dagster/row_count": len(out), "files": reports, "rows_quarantined": len(q),
        "latest_periods": sorted({f"{r.la_code}/{r.proxy}" for r in latest.itertuples()})})


def _latest(files: list, f) -> str | None:
    return max((g.period for g in files if (g.la_code, g.proxy) == (f.la_code, f.proxy)
                and g.period), default=None)


QUARANTINE_COLUMNS = ["source", "file", "file_row", "reason", "values"]


def _quarantine_rows(f, df: pd.DataFrame, why: pd.Series) -> list[dict]:
    """Rows that fail row-level checks, kept with their original values."""
    bad = why[why != ""]
    return [{"source": f"local/{f.la_code}/{f.proxy}", "file": str(f.path),
             "file_row": str(int(i) + 2), "reason": why[i],
             "values": ", ".join(f"{c}={df.at[i, c]}" for c in ("lsoa21_code", "count",
                                                                  "denominator") if c in df)}
            for i in bad.index]


def _check_outside(f, df: pd.DataFrame, outside: pd.Series, la_of: dict,
                   max_share: float) -> None:
    """A file's LSOAs belong to its folder's LA (a few strays are dropped and counted)."""
    if len(df) == 0 or outside.mean() <= max_share:
        return
    elsewhere = df.loc[outside, "lsoa21_code"].map(la_of).value_counts()
    where = ", ".join(f"{la} ({n})" for la, n in elsewhere.head(3).items())
    raise SourceError(f.path, f"column 'lsoa21_code': {int(outside.sum())} of {len(df)} LSOAs "
                      f"are not in {f.la_code} but in {where}; expected the LSOAs of the "
                      f"folder's LA; move the file to local/{elsewhere.index[0]}/ if it is "
                      "that authority's")


int_local_proxy_rates = sql_model_asset(
    "int_local_proxy_rates", GROUP,
    [stg_local_proxies, stg_local_proxies_period, "stg_census21_households",
     "stg_census21_population", "stg_census21_children"],
    "Local proxies as rates per LSOA, current and every supplied period (Census denominators "
    "where the file has none)",
    {"lsoas_with_rate": "SELECT count(rate_pct) FROM int_local_proxy_rates"})


stg_local_proxies_expectations = gx_check(stg_local_proxies, "local_proxies")


def storage_root():
    """``scale_out.storage`` as a UPath (any fsspec URL), default ``<staging>/local_la``."""
    from upath import UPath

    where = settings()["scale_out"].get("storage")
    return UPath(where) if where else UPath(paths().staging / "local_la")


def la_manifest(root, la: str) -> dict | None:
    m = root / f"la={la}" / "manifest.json"
    return json.loads(m.read_text()) if m.exists() else None


def combine_la_outputs(files: list) -> tuple[pd.DataFrame, list[dict], dict, list]:
    """The per-LA outputs of ``files``' LAs, as :func:`stage_files` returns them for all LAs
    at once. An LA whose output is missing or was staged from other files is an error."""
    root = storage_root()
    by_la: dict[str, list] = {}
    for f in files:
        by_la.setdefault(f.la_code, []).append(f)
    frames, quarantined, reports, sources = [], [], {}, []
    for la, fs in sorted(by_la.items()):
        m = la_manifest(root, la)
        if m is None or m["files"] != files_sha256(fs):
            raise SourceError(fs[0].path.parent, f"local files of {la} are not staged per LA "
                              f"under {root} ({'missing' if m is None else 'stale'}); run the "
                              f"dedi_local_la_fanout job (or stg_local_la for partition {la}), "
                              "as `dedi build` does")
        frames.append(pd.read_parquet(io.BytesIO((root / f"la={la}" / "counts.parquet")
                                                 .read_bytes())))
        q = pd.read_parquet(io.BytesIO((root / f"la={la}" / "quarantine.parquet").read_bytes()))
        quarantined.extend(q.to_dict("records"))
        reports.update(m["reports"])
        sources.extend(tuple(s) for s in m["sources"])
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["la_code", "proxy", "lsoa21_code", "count", "denominator", "denominator_name",
                 "data_status", "source_file"])
    return out, quarantined, reports, sources
