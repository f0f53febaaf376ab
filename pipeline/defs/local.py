"""Local-authority proxies (pupil premium, assisted bins, ESL, housing) per the local contract."""

import dagster as dg
import geopandas as gpd
import pandas as pd
from dagster_duckdb import DuckDBResource

from pipeline.config import settings
from pipeline.defs._checks import gx_check
from pipeline.defs._staging import forget_sources, record_source, sql_model_asset, write_table
from pipeline.resources import DediPaths
from pipeline.sources import local_proxies as lp
from pipeline.sources.checks import check_lsoa21
from pipeline.sources.common import SourceError, file_record

GROUP = "local"
COLUMNS = ["la_code", "proxy", "lsoa21_code", "count", "denominator", "denominator_name",
           "data_status", "source_file"]


def _polygons(conn) -> gpd.GeoDataFrame:
    df = conn.execute("SELECT b.lsoa21_code, g.ltla24_code, b.geometry_wkb FROM "
                      "stg_lsoa21_boundaries b JOIN int_lsoa_geography g USING (lsoa21_code)").df()
    return gpd.GeoDataFrame(df[["lsoa21_code", "ltla24_code"]],
                            geometry=gpd.GeoSeries.from_wkb(df["geometry_wkb"].map(bytes)),
                            crs="EPSG:4326")


@dg.asset(group_name=GROUP, kinds={"duckdb", "geopandas"},
          deps=["stg_lsoa21_boundaries", "int_lsoa_geography", "stg_postcode_directory",
                "stg_lsoa11_lsoa21"],
          description="Every local proxy file under <raw>/local/<LA code>/, as counts per LSOA "
          "of the supplying LA (record files placed with a geopandas spatial join). A proxy "
          "nobody supplies is absent. Rows failing row checks go to `quarantine`.",
          metadata={"dedi/also_writes": ["quarantine"]})
def stg_local_proxies(context: dg.AssetExecutionContext, dedi_paths: DediPaths,
                      staging_db: DuckDBResource) -> dg.MaterializeResult:
    denominators = settings()["indicators"]["local_proxies"]["denominators"]
    files = lp.discover(dedi_paths.raw)
    frames, reports = [], {}
    with staging_db.get_connection() as conn:
        polys = _polygons(conn)
        forget_sources(conn, "stg_local_proxies")
        la_of = dict(zip(polys["lsoa21_code"], polys["ltla24_code"], strict=True))
        lsoa11 = {r[0] for r in conn.execute("SELECT DISTINCT lsoa11_code FROM stg_lsoa11_lsoa21"
                                             ).fetchall()}  # empty when no lookup is supplied
        cfg = settings()["raw_checks"]
        max_outside = float(cfg["max_share_outside"])
        quarantined: list[dict] = []
        has_pcd = conn.execute("SELECT count(*) FROM stg_postcode_directory").fetchone()[0] > 0
        for f in files:
            context.log.info(f"reading {f.path}")
            rec = file_record(f.path)
            if lp.file_form(conn, f.path) == "counts":
                df = lp.read_counts(f.path)
                check_lsoa21(df["lsoa21_code"], f.path, "lsoa21_code", set(la_of), lsoa11)
                outside = df["lsoa21_code"].map(la_of) != f.la_code
                _check_outside(f, df, outside, la_of, max_outside)
                why = lp.row_problems(df)
                bad = why != ""
                quarantined.extend(_quarantine_rows(f, df, why))
                report = {"form": "counts", "rows": len(df),
                          "lsoas_outside_la_dropped": int(outside.sum()),
                          "rows_quarantined": int(bad.sum()),
                          "suppressed_counts": int(df["count"].isna().sum())}
                df = df[~outside & ~bad]
            else:
                df, report = lp.count_records(conn, f.path, polys, f.la_code,
                                              "stg_postcode_directory" if has_pcd else None,
                                              max_outside)
                report["form"] = "records"
            if "denominator" not in df:
                df["denominator"] = float("nan")
            df = df.assign(la_code=f.la_code, proxy=f.proxy,
                           denominator_name=denominators[f.proxy],
                           data_status=rec["data_status"], source_file=str(f.path))
            frames.append(df[COLUMNS])
            reports[f"{f.la_code}/{f.proxy}"] = {**report, "data_status": rec["data_status"]}
            record_source(conn, f"stg_local_proxies:{f.la_code}/{f.proxy}", rec, len(df))
        out = (pd.concat(frames, ignore_index=True) if frames else  # typed, even when empty
               pd.DataFrame({c: pd.Series(dtype="string") for c in COLUMNS}))
        out["count"] = out["count"].astype("float64")
        out["denominator"] = out["denominator"].astype("float64")
        write_table(conn, "stg_local_proxies", out)
        q = pd.DataFrame(quarantined, columns=QUARANTINE_COLUMNS).astype("string")
        write_table(conn, "quarantine", q)
    if len(q) and cfg["quarantine"]["local_proxies"] == "block":
        first = q.iloc[0]
        raise SourceError(first["file"], f"{len(q)} row(s) quarantined, e.g. file row "
                          f"{first['file_row']}: {first['reason']} ({first['values']}); "
                          "correct them, or set raw_checks.quarantine.local_proxies: warn")
    for r in q.head(5).itertuples():
        context.log.warning(f"quarantined {r.file} row {r.file_row}: {r.reason}")
    return dg.MaterializeResult(metadata={"dagster/row_count": len(out), "files": reports,
                                          "rows_quarantined": len(q)})


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
    [stg_local_proxies, "stg_census21_households", "stg_census21_population",
     "stg_census21_children"],
    "Local proxies as rates per LSOA (Census denominators where the file has none)",
    {"lsoas_with_rate": "SELECT count(rate_pct) FROM int_local_proxy_rates"})


stg_local_proxies_expectations = gx_check(stg_local_proxies, "local_proxies")
