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
from pipeline.sources.common import file_record

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
          deps=["stg_lsoa21_boundaries", "int_lsoa_geography", "stg_postcode_directory"],
          description="Every local proxy file under <raw>/local/<LA code>/, as counts per LSOA "
          "of the supplying LA (record files placed with a geopandas spatial join). A proxy "
          "nobody supplies is absent.")
def stg_local_proxies(context: dg.AssetExecutionContext, dedi_paths: DediPaths,
                      staging_db: DuckDBResource) -> dg.MaterializeResult:
    denominators = settings()["indicators"]["local_proxies"]["denominators"]
    files = lp.discover(dedi_paths.raw)
    frames, reports = [], {}
    with staging_db.get_connection() as conn:
        polys = _polygons(conn)
        forget_sources(conn, "stg_local_proxies")
        la_of = dict(zip(polys["lsoa21_code"], polys["ltla24_code"], strict=True))
        has_pcd = conn.execute("SELECT count(*) FROM stg_postcode_directory").fetchone()[0] > 0
        for f in files:
            context.log.info(f"reading {f.path}")
            rec = file_record(f.path)
            if lp.file_form(conn, f.path) == "counts":
                df = lp.read_counts(f.path)
                outside = df["lsoa21_code"].map(la_of) != f.la_code
                report = {"form": "counts", "rows": len(df),
                          "lsoas_outside_la_dropped": int(outside.sum()),
                          "suppressed_counts": int(df["count"].isna().sum())}
                df = df[~outside]
            else:
                df, report = lp.count_records(conn, f.path, polys, f.la_code,
                                              "stg_postcode_directory" if has_pcd else None)
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
    return dg.MaterializeResult(metadata={"dagster/row_count": len(out), "files": reports})


int_local_proxy_rates = sql_model_asset(
    "int_local_proxy_rates", GROUP,
    [stg_local_proxies, "stg_census21_households", "stg_census21_population",
     "stg_census21_children"],
    "Local proxies as rates per LSOA (Census denominators where the file has none)",
    {"lsoas_with_rate": "SELECT count(rate_pct) FROM int_local_proxy_rates"})


stg_local_proxies_expectations = gx_check(stg_local_proxies, "local_proxies")
