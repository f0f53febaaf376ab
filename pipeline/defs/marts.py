"""Marts: lsoa_index, area_summary, their checks, and atomic publication to DEDI_MARTS_DIR."""


import hashlib
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from importlib.metadata import version
from itertools import groupby
from pathlib import Path
from typing import Any

import dagster as dg
import geopandas as gpd
import numpy as np
import pandas as pd
from dagster_duckdb import DuckDBResource

from pipeline.build.resources import DediPaths, SideProcessResource
from pipeline.config import scenario_dir, settings
from pipeline.defs._checks import gx_check
from pipeline.defs._staging import (
    build_status,
    preview,
    read_table,
    run_sql_model,
    sql_model_asset,
    write_table,
)
from pipeline.method.area_summary import MEASURES, summarise
from pipeline.method.disclosure import published_population, suppress_small_counts
from pipeline.outputs.maps import england_maps_from_table
from pipeline.release.dictionary import document
from pipeline.release.publish import guard_current, publish

GROUP = "marts"
ATTRIBUTION = ("Contains public sector information licensed under the Open Government Licence "
               "v3.0. Contains OS data © Crown copyright and database right. Contains ONS data.")
# Every published table (besides sources and build_metadata), one staging table each.
MART_TABLES = ("lsoa_index", "area_summary", "lsoa_indicators", "coverage",
               "indicator_diagnostics", "sensitivity", "index_spec", "dedi_decile1_changes",
               "validation", "quarantine", "lsoa_index_history", "area_summary_history",
               "iod_method_changes", "nhs_app_uptake_history", "nhs_app_practice_history",
               "gp_practice_profile", "gp_practice_catchment", "local_proxy_history")
LICENCE = ("Open Government Licence v3.0 (the inputs are OGL); DEDI's own outputs are published "
           "under the same terms, with the attribution below")
# Bump when a published column is renamed or removed (adding columns keeps the version).
SCHEMA_VERSION = "1.1"
GEOGRAPHIES = {"ward24": ("ward24_code", "ward24_name"), "ltla24": ("ltla24_code", "ltla24_name"),
               "icb24": ("icb24_code", "icb24_name"), "region": ("region_code", "region_name")}
PRACTICE = "gp_practice"  # area_summary's geography of GP practices (int_gp_practice_lsoa)


@dg.asset(group_name=GROUP, kinds={"duckdb", "sql"},
          deps=["stg_iod2025", "int_lsoa_geography", "stg_census21_population",
                "int_lsoa_population", "int_dx_lsoa", "int_dedi_lsoa", "int_dedi_uncertainty",
                "int_imd2019_lsoa21", "lsoa_indicators"],
          description="One row per England LSOA 2021: IMD 2025 and domains, DX, DEDI and its "
          "uncertainty, with geographies and population (assets/marts/lsoa_index.sql).",
          metadata={"dedi/also_writes": ["int_lsoa_set_report"]})
def lsoa_index(staging_db: DuckDBResource) -> dg.MaterializeResult:
    with staging_db.get_connection() as conn:
        n = run_sql_model(conn, "lsoa_index")
        run_sql_model(conn, "int_lsoa_set_report")
        report = {p: [c for _, c in rows] for p, rows in groupby(conn.execute(
            "SELECT problem, lsoa21_code FROM int_lsoa_set_report").fetchall(),
            key=lambda r: r[0])}
        df = conn.execute("SELECT * FROM lsoa_index LIMIT 5").df()
        pop_source = conn.execute("SELECT population_source FROM lsoa_index").df()[
            "population_source"].value_counts(sort=False).items()
        status = build_status(conn)
    return dg.MaterializeResult(metadata={
        "dagster/row_count": n,
        "population_denominator": {str(k): int(v) for k, v in pop_source},
        "data_status": status,
        "lsoa_set_differences": {k: {"count": len(v), "first": v[:10]} for k, v in report.items()},
        "preview": preview(df),
    })


@dg.asset_check(asset=lsoa_index, blocking=True,
                description="LSOA sets agree across IoD, geography and Census; a real build has "
                "all 33,755 England LSOAs.")
def lsoa_sets_consistent(staging_db: DuckDBResource) -> dg.AssetCheckResult:
    with staging_db.get_connection() as conn:
        report = conn.execute("SELECT problem, lsoa21_code FROM int_lsoa_set_report").df()
        rep = [(p, len(g), g["lsoa21_code"].min()) for p, g in report.groupby("problem")]
        n = conn.execute("SELECT count(*) FROM lsoa_index").fetchone()[0]
        real = build_status(conn) == "real"
    expected = settings()["iod"]["england_lsoa_count"]
    problems = {p: f"{c} (e.g. {e})" for p, c, e in rep}
    if real and n != expected:
        problems["england_count"] = f"{n} LSOAs in a real build, expected {expected}"
    return dg.AssetCheckResult(passed=not problems, metadata={"lsoas": n, **problems})


lsoa_index_expectations = gx_check(lsoa_index, "lsoa_index")


def summary_options() -> dict[str, Any]:
    """The IoD area-summary constants of settings.yaml as :func:`summarise`'s arguments."""
    cfg = settings()["area_summary"]
    return {"local_share": cfg["local_concentration_population_share"],
            "full_upto": cfg["extent_full_weight_upto_percentile"],
            "slide_from": tuple(cfg["extent_slide_from"]),
            "slide_to": tuple(cfg["extent_slide_to"])}


def _named(s: pd.DataFrame, names: pd.DataFrame, geography: str) -> pd.DataFrame:
    """Summaries ``s`` with each area's name (``names``: code, name) and its geography."""
    code, name = names.columns
    names = names.drop_duplicates(code).rename(columns={code: "area_code", name: "area_name"})
    return s.merge(names, on="area_code", how="left").assign(geography=geography)


def build_area_summary(lsoa: pd.DataFrame, index: str = "imd",
                       practices: pd.DataFrame | None = None) -> pd.DataFrame:
    """Long-form area summaries of one index over every configured geography and, where
    ``practices`` (int_gp_practice_lsoa) has rows, over GP practices, each LSOA weighted by
    the practice's patients there (the share in the most deprived 10% is of patients)."""
    opts = summary_options()
    d = lsoa.rename(columns={f"{index}_score": "score", f"{index}_rank": "rank"})
    frames = []
    for geog in settings()["area_summary"]["geographies"]:
        code, name = GEOGRAPHIES[geog]
        frames.append(_named(summarise(d, code, n=len(d), **opts), lsoa[[code, name]], geog))
    if practices is not None and len(practices):
        p = practices.merge(d[["lsoa21_code", "score", "rank"]], on="lsoa21_code")
        s = summarise(p.rename(columns={"patients": "population"}), "practice_code", n=len(d),
                      share_by="population", **opts)
        frames.append(_named(s, practices[["practice_code", "practice_name"]], PRACTICE))
    cols = ["geography", "area_code", "area_name", "index", "population", "lsoa_count",
            *MEASURES, *[f"{m}_rank" for m in MEASURES]]
    return pd.concat(frames, ignore_index=True).assign(index=index)[cols]


nhs_app_uptake_history = sql_model_asset(
    "nhs_app_uptake_history", GROUP, ["int_nhs_app_uptake_lsoa_monthly"],
    "NHS App uptake per LSOA 2021 and month, every month supplied (small counts suppressed)",
    {"months": "SELECT count(DISTINCT month) FROM nhs_app_uptake_history"})
nhs_app_practice_history = sql_model_asset(
    "nhs_app_practice_history", GROUP, ["stg_nhs_app_practice_monthly", "stg_nhs_app_practice"],
    "NHS App registrations by GP practice and month, every month supplied (small counts "
    "suppressed)", {"months": "SELECT count(DISTINCT month) FROM nhs_app_practice_history"})

local_proxy_history = sql_model_asset(
    "local_proxy_history", GROUP, ["int_local_proxy_rates"],
    "Local proxies per LSOA for every period a file carries (small counts suppressed)",
    {"periods": "SELECT count(DISTINCT period) FROM local_proxy_history"})
gp_practice_catchment = sql_model_asset(
    "gp_practice_catchment", GROUP, ["int_gp_practice_lsoa"],
    "The England LSOAs where each GP practice's patients live (practice code, name, LSOA; no "
    "counts)", {"practices": "SELECT count(DISTINCT practice_code) FROM gp_practice_catchment"})
gp_practice_profile = sql_model_asset(
    "gp_practice_profile", GROUP, [lsoa_index, "stg_gp_patients_lsoa", "int_lsoa_geography"],
    "Where each GP practice's patients live: ICB, region, rural share, patient-weighted DX and "
    "DEDI (for matching practices in dedi evaluate)")


@dg.asset(group_name=GROUP, kinds={"duckdb", "sql"},
          deps=["stg_iod2025", "int_imd2019_lsoa21", "int_lsoa_geography", "int_lsoa_population"],
          description="IMD 2019 and IMD 2025 on the LSOA 2021 geography, one row per LSOA and "
          "vintage, with changes and comparability flags (assets/marts/lsoa_index_history.sql), "
          "and their area summaries (area_summary_history).",
          metadata={"dedi/also_writes": ["iod_method_changes", "iod_releases",
                                         "lsoa_index_history_areas", "area_summary_history"]})
def lsoa_index_history(staging_db: DuckDBResource) -> dg.MaterializeResult:
    iod = settings()["iod"]
    changes = pd.DataFrame([{"domain": d, "comparable": bool(v["comparable"]), "note": v["note"]}
                            for d, v in iod["method_changes_2019_2025"].items()])
    with staging_db.get_connection() as conn:
        n25 = conn.execute("SELECT count(*) FROM stg_iod2025").fetchone()[0]
        write_table(conn, "iod_method_changes", changes)
        write_table(conn, "iod_releases", pd.DataFrame({
            "vintage": [2019, 2025], "lsoas_ranked": [float(iod["england_lsoa11_count"]),
                                                      float(n25)]}))
        n = run_sql_model(conn, "lsoa_index_history")
        run_sql_model(conn, "lsoa_index_history_areas", view=True)
        hist = conn.execute("SELECT * FROM lsoa_index_history_areas").df()
        threshold = settings()["suppression"]["min_count"]
        areas = area_summary_history(published_population(hist, threshold))
        write_table(conn, "area_summary_history", areas)
        changes25 = conn.execute("SELECT change_code FROM lsoa_index_history "
                                 "WHERE vintage = 2025").df()["change_code"]
        counts = {k: int(v) for k, v in changes25.value_counts(sort=False).items()}
    return dg.MaterializeResult(metadata={"dagster/row_count": n,
                                          "lsoa21_by_change_code": counts,
                                          "area_rows": len(areas)})


def area_summary_history(hist: pd.DataFrame) -> pd.DataFrame:
    """IoD area summaries of the IMD for each vintage (rank-based measures: the shared IoD
    2019 copy has no scores): average rank, extent, share in the most deprived 10%, each with
    its rank among areas, and the change of the area's rank since 2019."""
    opts = summary_options()
    frames = []
    for vintage, d in hist.dropna(subset=["imd_rank"]).groupby("vintage"):
        n = float(d["lsoas_ranked"].iloc[0])
        for geog in settings()["area_summary"]["geographies"]:
            code, name = GEOGRAPHIES[geog]
            s = summarise(d.assign(score=n - d["imd_rank"], rank=d["imd_rank"]), code, n=n,
                          **opts)
            frames.append(_named(s, d[[code, name]], geog).assign(vintage=int(vintage)))
    cols = ["geography", "area_code", "area_name", "vintage", "population", "lsoa_count",
            "average_rank", "extent", "proportion_most_deprived_10pct", "average_rank_rank",
            "extent_rank", "proportion_most_deprived_10pct_rank"]
    out = pd.concat(frames, ignore_index=True)[cols]
    prev = out[out["vintage"] == 2019].set_index(["geography", "area_code"])["average_rank_rank"]
    key = pd.MultiIndex.from_frame(out[["geography", "area_code"]])
    out["average_rank_rank_change"] = np.where(
        out["vintage"] == 2025, prev.reindex(key).to_numpy() - out["average_rank_rank"], np.nan)
    return out


dedi_decile1_changes = sql_model_asset(
    "dedi_decile1_changes", GROUP,
    ["stg_iod2025", "int_dedi_lsoa", "int_dx_lsoa", "int_dedi_uncertainty"],
    "LSOAs entering or leaving the most deprived decile when digital exclusion counts",
    {"lsoas_entering_decile_1": "SELECT count(*) FROM dedi_decile1_changes "
                                "WHERE change LIKE 'enters%'"})


@dg.asset(group_name=GROUP, kinds={"duckdb", "pandas"},
          deps=[lsoa_index, "int_dedi_uncertainty", "int_gp_practice_lsoa"],
          description="Official IoD area summaries (average score, average rank, extent, local "
          "concentration, proportion in most deprived 10%) for ward 2024, LTLA 2024, ICB 2024, "
          "region and, where patients by LSOA are supplied, GP practices (patient-weighted).")
def area_summary(staging_db: DuckDBResource) -> dg.MaterializeResult:
    threshold = settings()["suppression"]["min_count"]
    with staging_db.get_connection() as conn:
        # area totals from the *published* LSOA populations only: a suppressed LSOA
        # population cannot be recovered by subtracting the others from its area's total
        lsoa = published_population(read_table(conn, "lsoa_index"), threshold)
        unc = read_table(conn, "int_dedi_area_uncertainty")
        practices = read_table(conn, "int_gp_practice_lsoa")
        out = pd.concat([build_area_summary(lsoa, index, practices)
                         for index in ("imd", "dx", "dedi")], ignore_index=True)
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


MAPS_SQL = ("SELECT i.lsoa21_code, i.dedi_decile, i.dx_decile, i.dedi_rank_change, "
            "b.geometry_wkb FROM lsoa_index i JOIN int_lsoa21_map_shapes b USING (lsoa21_code)")


def code_version() -> str:
    """The dedi package version, with the git commit when run from a checkout."""
    import subprocess

    v = version("dedi")
    try:
        sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, timeout=5, cwd=Path(__file__).parent).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        sha = ""
    return f"{v}+g{sha}" if sha else v


def settings_hash() -> str:
    """sha256 of the settings used, recorded with every output."""
    return hashlib.sha256(json.dumps(settings(), sort_keys=True).encode()).hexdigest()


class PublishConfig(dg.Config):
    """``replace_current``: publish even if ``current`` holds another kind (real or synthetic)
    or coverage (number of LSOAs) of data; by default such a build is refused."""

    replace_current: bool = False


@dg.multi_asset(
    name="published_marts", can_subset=True, specs=[
        dg.AssetSpec("england_maps", group_name=GROUP, kinds={"matplotlib", "png"},
                     deps=[lsoa_index, "int_lsoa21_map_shapes"],
                     description="Static PNG maps of England (DEDI decile, DX decile, rank "
                     "shift IMD to DEDI) for slides, published under maps/ (pipeline/outputs/maps.py). "
                     "Drawn in the build's side process while publication writes the tables."),
        dg.AssetSpec("published_marts", group_name=GROUP, kinds={"duckdb", "parquet", "geoparquet"},
                     deps=[lsoa_index, area_summary, dedi_decile1_changes, "stg_lsoa21_boundaries",
                           "lsoa_indicators", "indicator_diagnostics", "int_dedi_uncertainty",
                           "index_spec", "validation", "england_maps", "lsoa_index_history",
                           "nhs_app_uptake_history", "nhs_app_practice_history",
                           "gp_practice_profile", "gp_practice_catchment", "local_proxy_history"],
                     description="Publishes dedi.duckdb, lsoa_index.parquet, area_summary.parquet "
                     "and lsoa_index.geoparquet to DEDI_MARTS_DIR atomically, after all blocking "
                     "checks pass.",
                     # the views it creates in dedi.duckdb: a changed view republishes
                     metadata={"dedi/also_versions": "assets/views"})])
def published_marts(context: dg.AssetExecutionContext, config: PublishConfig,
                    dedi_paths: DediPaths, staging_db: DuckDBResource,
                    side: SideProcessResource) -> Iterator[dg.MaterializeResult]:
    """England maps (when selected) and publication, in one step: the maps are drawn in the
    side process while this process writes the tables, and published with them."""
    maps_dir = Path(dedi_paths.staging_dir) / "maps"
    selected = context.selected_asset_keys
    draw = dg.AssetKey("england_maps") in selected
    with staging_db.get_connection() as conn:
        status = build_status(conn)  # the one derivation; raises on a mix
        table = conn.execute(MAPS_SQL).to_arrow_table() if draw else None
    if draw:  # drawn in the side process while _publish writes the tables
        maps = side.later(england_maps_from_table, table, maps_dir, status != "real")
    else:  # republication alone: the maps drawn last time
        def maps() -> list[Path]:
            return sorted(maps_dir.glob("england_*.png"))
    if dg.AssetKey("published_marts") in selected:
        published = _publish(context, dedi_paths, staging_db, status, maps,
                             config.replace_current)
    if draw:
        yield dg.MaterializeResult(asset_key="england_maps", metadata={
            "maps": [p.name for p in maps()], "folder": dg.MetadataValue.path(str(maps_dir))})
    if dg.AssetKey("published_marts") in selected:
        yield dg.MaterializeResult(asset_key="published_marts", metadata=published)


def _publish(context: dg.AssetExecutionContext, dedi_paths: DediPaths,
             staging_db: DuckDBResource, status: str, maps: Callable[[], list[Path]],
             replace_current: bool = False) -> dict[str, Any]:
    """Publish the staging marts (data status ``status``) as a new release; ``maps()`` gives
    the England maps once the tables are written (they may still be being drawn). Returns the
    step's metadata."""
    threshold = settings()["suppression"]["min_count"]
    with staging_db.get_connection() as conn:
        tables = {t: read_table(conn, t) for t in MART_TABLES}
        spec_json, spec_sha, resolved, scenario = conn.execute(
            "SELECT spec, sha256, resolved, scenario FROM _index_spec_json").fetchone()
        sources = read_table(conn, "_sources")
        shapes = conn.execute("SELECT lsoa21_code, geometry_wkb FROM stg_lsoa21_boundaries").df()
    # lsoa_indicators was suppressed before the index read it (indicators.SUPPRESSED)
    for t in ("lsoa_index", "area_summary", "area_summary_history"):
        tables[t] = suppress_small_counts(tables[t], ["population"], threshold)
    tables = {t: df.assign(data_status=status) for t, df in tables.items()}
    lsoa, coverage = tables["lsoa_index"], tables["coverage"]
    resolved = json.loads(resolved)
    geo = lsoa.merge(shapes, on="lsoa21_code", how="inner")

    def geo_frame() -> gpd.GeoDataFrame:  # parsed while the DuckDB file is written
        return gpd.GeoDataFrame(geo.drop(columns="geometry_wkb"), crs="EPSG:4326",
                                geometry=gpd.GeoSeries.from_wkb(geo["geometry_wkb"].map(bytes)))
    metadata = {
        "data_status": status,
        "warning": "SYNTHETIC DEMO DATA - not real statistics" if status == "synthetic" else "",
        "synthetic_sources": sources.loc[sources["data_status"] == "synthetic",
                                         "staging_table"].tolist(),
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "dedi_version": version("dedi"),
        "synthetic_indicators": (coverage.loc[coverage["supplied"], "indicator"].tolist()
                                 if status == "synthetic" else []),
        "absent_indicators": coverage.loc[~coverage["supplied"], "indicator"].tolist(),
        "dx_indicators_used": resolved["indicators_used"],
        "dx_indicators_not_used": resolved["indicators_absent"],
        "run_id": context.run.run_id,
        "settings_sha256": settings_hash(),
        "index_spec_sha256": spec_sha,
        "index_spec": json.loads(spec_json),
        "scenario": scenario,
        "population_denominator": sorted(lsoa["population_source"].unique().tolist()),
        "rows_quarantined": len(tables["quarantine"]),
        "suppression_min_count": threshold,
        "sources": sources.to_dict(orient="records"),
        "source_vintages": {r.staging_table: r.vintage for r in sources.itertuples()},
        "licence": LICENCE,
        "attribution": ATTRIBUTION,
        "code_version": code_version(),
        "schema_version": SCHEMA_VERSION,
    }
    charts = sorted((Path(dedi_paths.staging_dir) / "validation").glob("*.png"))
    target = scenario_dir(dedi_paths.marts, scenario)
    guard_current(target, status, len(lsoa), replace_current, dedi_paths.raw)
    manifest = publish(target, {**tables, "sources": sources},
                       metadata, geo={"lsoa_index": geo_frame},
                       extra=lambda: {**{f"validation_{c.name}": c for c in charts},
                                      **{f"maps/{m.name}": m for m in maps()}},
                       keep=settings()["publish"]["keep_releases"],
                       grace_seconds=settings()["publish"]["prune_grace_seconds"],
                       document=lambda conn: document(conn, sources, status))
    context.log.info(f"published {manifest['files']} to {target}")
    return {"marts_dir": dg.MetadataValue.path(str(target.resolve())),
            "scenario": scenario or "(none: the live current marts)",
            "files": manifest["files"], "row_counts": manifest["row_counts"],
            "data_status": metadata["data_status"],
            "settings_sha256": metadata["settings_sha256"]}
