"""Marts: lsoa_index, area_summary, their checks, and atomic publication to DEDI_MARTS_DIR."""


import hashlib
import json
from datetime import UTC, datetime
from importlib.metadata import version

import dagster as dg
import geopandas as gpd
import pandas as pd
from dagster_duckdb import DuckDBResource

from pipeline.config import settings
from pipeline.defs._checks import gx_check
from pipeline.defs._staging import preview, read_table, run_sql_model, write_table
from pipeline.method.area_summary import MEASURES, summarise
from pipeline.method.disclosure import suppress_small_count_rates, suppress_small_counts
from pipeline.publish import publish
from pipeline.resources import DediPaths

GROUP = "marts"
ATTRIBUTION = ("Contains public sector information licensed under the Open Government Licence "
               "v3.0. Contains OS data © Crown copyright and database right. Contains ONS data.")
GEOGRAPHIES = {"ltla24": ("ltla24_code", "ltla24_name"), "icb24": ("icb24_code", "icb24_name"),
               "region": ("region_code", "region_name")}


def lsoa_set_report(conn) -> dict[str, list[str]]:
    """LSOA codes present in one source but not another (IoD vs geography vs population)."""
    q = {
        "in_iod_not_geography": "SELECT lsoa21_code FROM stg_iod2025 EXCEPT "
                                "SELECT lsoa21_code FROM stg_lsoa21_ltla24",
        "in_geography_not_iod": "SELECT lsoa21_code FROM stg_lsoa21_ltla24 EXCEPT "
                                "SELECT lsoa21_code FROM stg_iod2025",
        "in_iod_not_icb_lookup": "SELECT lsoa21_code FROM stg_iod2025 EXCEPT "
                                 "SELECT lsoa21_code FROM stg_lsoa21_icb24",
        "in_iod_not_census": "SELECT lsoa21_code FROM stg_iod2025 EXCEPT "
                             "SELECT lsoa21_code FROM stg_census21_population",
    }
    return {k: sorted(r[0] for r in conn.execute(s).fetchall()) for k, s in q.items()}


@dg.asset(group_name=GROUP, kinds={"duckdb", "sql"},
          deps=["stg_iod2025", "int_lsoa_geography", "stg_census21_population",
                "int_lsoa_population", "int_dedi_lsoa", "int_imd2019_lsoa21"],
          description="One row per England LSOA 2021: IMD 2025 and domains, DX, DEDI and its "
          "uncertainty, with geographies and population (assets/lsoa_index.sql).")
def lsoa_index(staging_db: DuckDBResource) -> dg.MaterializeResult:
    with staging_db.get_connection() as conn:
        n = run_sql_model(conn, "lsoa_index")
        report = lsoa_set_report(conn)
        write_table(conn, "_lsoa_set_report", pd.DataFrame(
            [(k, c) for k, v in report.items() for c in v], columns=["problem", "lsoa21_code"]))
        df = conn.execute("SELECT * FROM lsoa_index LIMIT 5").df()
        pop_source = conn.execute("SELECT population_source, count(*) FROM lsoa_index "
                                  "GROUP BY 1").fetchall()
        status = conn.execute("SELECT DISTINCT data_status FROM lsoa_index").fetchall()
    return dg.MaterializeResult(metadata={
        "dagster/row_count": n,
        "population_denominator": {str(k): int(v) for k, v in pop_source},
        "data_status": ",".join(sorted(s[0] for s in status)),
        "lsoa_set_differences": {k: {"count": len(v), "first": v[:10]} for k, v in report.items()},
        "preview": preview(df),
    })


@dg.asset_check(asset=lsoa_index, blocking=True,
                description="LSOA sets agree across IoD, geography and Census; a real build has "
                "all 33,755 England LSOAs.")
def lsoa_sets_consistent(staging_db: DuckDBResource) -> dg.AssetCheckResult:
    with staging_db.get_connection() as conn:
        rep = conn.execute("SELECT problem, count(*), min(lsoa21_code) FROM _lsoa_set_report "
                           "GROUP BY 1").fetchall()
        n, real = conn.execute("SELECT count(*), bool_and(data_status <> 'synthetic') "
                               "FROM lsoa_index").fetchone()
    expected = settings()["iod"]["england_lsoa_count"]
    problems = {p: f"{c} (e.g. {e})" for p, c, e in rep}
    if real and n != expected:
        problems["england_count"] = f"{n} LSOAs in a real build, expected {expected}"
    return dg.AssetCheckResult(passed=not problems, metadata={"lsoas": n, **problems})


lsoa_index_expectations = gx_check(lsoa_index, "lsoa_index")


def build_area_summary(lsoa: pd.DataFrame, index: str = "imd") -> pd.DataFrame:
    """Long-form area summaries of one index over every configured geography."""
    cfg = settings()["area_summary"]
    extent_kw = {"full_upto": cfg["extent_full_weight_upto_percentile"],
                 "slide_from": tuple(cfg["extent_slide_from"]),
                 "slide_to": tuple(cfg["extent_slide_to"])}
    d = lsoa.rename(columns={f"{index}_score": "score", f"{index}_rank": "rank"})
    frames = []
    for geog in cfg["geographies"]:
        code, name = GEOGRAPHIES[geog]
        s = summarise(d, code, n=len(d), local_share=cfg["local_concentration_population_share"],
                      **extent_kw)
        names = lsoa[[code, name]].drop_duplicates(code).rename(
            columns={code: "area_code", name: "area_name"})
        s = s.merge(names, on="area_code", how="left")
        s.insert(0, "geography", geog)
        s.insert(3, "index", index)
        frames.append(s)
    cols = ["geography", "area_code", "area_name", "index", "population", "lsoa_count",
            *MEASURES, *[f"{m}_rank" for m in MEASURES]]
    return pd.concat(frames, ignore_index=True)[cols]


@dg.asset(group_name=GROUP, kinds={"duckdb", "pandas"}, deps=[lsoa_index],
          description="Official IoD area summaries (average score, average rank, extent, local "
          "concentration, proportion in most deprived 10%) for LTLA 2024, ICB 2024 and region.")
def area_summary(staging_db: DuckDBResource) -> dg.MaterializeResult:
    with staging_db.get_connection() as conn:
        lsoa = read_table(conn, "lsoa_index")
        unc = read_table(conn, "int_dedi_area_uncertainty")
        base = "synthetic" if (lsoa["data_status"] == "synthetic").any() else "real"
        dx_status = base if base == "synthetic" or not (
            lsoa["dx_synthetic_inputs"].fillna("") != "").any() else "mixed"
        parts = []
        for index, status in (("imd", base), ("dx", dx_status), ("dedi", dx_status)):
            part = build_area_summary(lsoa, index)
            part["data_status"] = status
            parts.append(part)
        out = pd.concat(parts, ignore_index=True)
        unc = unc.assign(index="dedi")[["geography", "area_code", "index",
                                        "average_score_rank_p05", "average_score_rank_p95"]]
        out = out.merge(unc, on=["geography", "area_code", "index"], how="left")
        write_table(conn, "area_summary", out)
    counts = out.groupby(["index", "geography"]).size()
    return dg.MaterializeResult(metadata={
        "dagster/row_count": len(out),
        "areas": {f"{i}/{g}": int(c) for (i, g), c in counts.items()},
        "preview": preview(out)})


area_summary_expectations = gx_check(area_summary, "area_summary")


def settings_hash() -> str:
    """sha256 of the settings used, recorded with every output."""
    return hashlib.sha256(json.dumps(settings(), sort_keys=True).encode()).hexdigest()


@dg.asset(group_name=GROUP, kinds={"duckdb", "parquet", "geoparquet"},
          deps=[lsoa_index, area_summary, "stg_lsoa21_boundaries", "lsoa_indicators",
                "int_dedi_lsoa"],
          description="Publishes dedi.duckdb, lsoa_index.parquet, area_summary.parquet and "
          "lsoa_index.geoparquet to DEDI_MARTS_DIR atomically, after all blocking checks pass.")
def published_marts(context: dg.AssetExecutionContext, dedi_paths: DediPaths,
                    staging_db: DuckDBResource) -> dg.MaterializeResult:
    threshold = settings()["suppression"]["min_count"]
    with staging_db.get_connection() as conn:
        lsoa = read_table(conn, "lsoa_index")
        summary = read_table(conn, "area_summary")
        indicators = read_table(conn, "lsoa_indicators")
        coverage = read_table(conn, "coverage")
        index_tables = {t: read_table(conn, t) for t in
                        ("indicator_diagnostics", "sensitivity", "index_spec",
                         "dedi_decile1_changes")}
        spec_sha = conn.execute("SELECT sha256 FROM _index_spec_json").fetchone()[0]
        sources = read_table(conn, "_sources")
        shapes = conn.execute("SELECT lsoa21_code, geometry_wkb FROM stg_lsoa21_boundaries").df()
    lsoa = suppress_small_counts(lsoa, ["population"], threshold)
    summary = suppress_small_counts(summary, ["population"], threshold)
    indicators = suppress_small_count_rates(indicators, {
        "pupil_premium_count": "pupil_premium_rate_pct",
        "assisted_bin_collection_count": "assisted_bin_collection_rate_pct",
        "english_second_language_count": "english_second_language_rate_pct",
        "housing_condition_count": "housing_condition_rate_pct",
        "nhs_app_registered_patients": "nhs_app_non_uptake_pct"}, threshold)
    synthetic_sources = sources.loc[sources["data_status"] == "synthetic", "staging_table"].tolist()
    status = ("real" if not synthetic_sources else
              "synthetic" if len(synthetic_sources) == len(sources) else "mixed")
    geo = lsoa.merge(shapes, on="lsoa21_code", how="inner")
    geo = gpd.GeoDataFrame(geo.drop(columns="geometry_wkb"),
                           geometry=gpd.GeoSeries.from_wkb(geo["geometry_wkb"].map(bytes)), crs="EPSG:4326")
    metadata = {
        "data_status": status,
        "warning": {"real": "",
                    "synthetic": "SYNTHETIC DEMO DATA - not real statistics",
                    "mixed": "Contains SYNTHETIC inputs (see synthetic_sources): indicators "
                             "resting on them are not real statistics"}[status],
        "synthetic_sources": synthetic_sources,
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "dedi_version": version("dedi"),
        "synthetic_indicators": coverage.loc[coverage["data_status"] == "synthetic",
                                             "indicator"].tolist(),
        "run_id": context.run.run_id,
        "settings_sha256": settings_hash(),
        "index_spec_sha256": spec_sha,
        "population_denominator": sorted(lsoa["population_source"].unique().tolist()),
        "suppression_min_count": threshold,
        "sources": sources.to_dict(orient="records"),
        "attribution": ATTRIBUTION,
    }
    manifest = publish(dedi_paths.marts,
                       {"lsoa_index": lsoa, "area_summary": summary, "lsoa_indicators": indicators,
                        "coverage": coverage, "sources": sources, **index_tables},
                       metadata, geo={"lsoa_index": geo},
                       keep=settings()["publish"]["keep_releases"])
    context.log.info(f"published {manifest['files']} to {dedi_paths.marts}")
    return dg.MaterializeResult(metadata={
        "marts_dir": dg.MetadataValue.path(str(dedi_paths.marts.resolve())),
        "files": manifest["files"], "row_counts": manifest["row_counts"],
        "data_status": metadata["data_status"], "settings_sha256": metadata["settings_sha256"]})
