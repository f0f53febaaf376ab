"""ONS geography: staging assets for the LSOA lookups and the LSOA boundaries."""


from pathlib import Path

import dagster as dg
import pandas as pd
from dagster_duckdb import DuckDBResource

from pipeline.build.resources import DediPaths, SideProcessResource
from pipeline.defs._checks import AFTER_READY_STEPS, gx_check
from pipeline.defs._staging import (
    file_asset,
    run_sql_model,
    source_files,
    sql_model_asset,
    write_table,
)
from pipeline.outputs.maps import simplify_shapes
from pipeline.sources import geography as geo
from pipeline.sources.common import SourceError

GROUP = "geography"


def _file(name: str, key: str, reader, description: str) -> dg.AssetsDefinition:
    return file_asset(name, GROUP, description, lambda raw: geo.locate(raw, key), reader)


stg_lsoa21_ltla24 = _file("stg_lsoa21_ltla24", "lsoa_ltla", geo.read_lsoa_ltla,
                          "ONS LSOA (2021) -> ward (2024) -> LTLA (2024) best-fit lookup, England.")
stg_lsoa21_icb24 = _file("stg_lsoa21_icb24", "lsoa_icb", geo.read_lsoa_icb,
                         "ONS LSOA (2021) -> sub-ICB location -> ICB (2024) lookup.")
stg_ltla24_region = _file("stg_ltla24_region", "ltla_region", geo.read_ltla_region,
                          "ONS LTLA (2024) -> region lookup.")
stg_msoa21_names = _file("stg_msoa21_names", "boundaries_msoa21", geo.read_msoa_names,
                         "MSOA 2021 codes and names (LSOA 2021 names nest in MSOA names).")


def _read_lsoa_boundaries(path) -> pd.DataFrame:
    gdf = geo.read_lsoa_boundaries(path)
    return pd.DataFrame({"lsoa21_code": gdf["code"], "lsoa21_name": gdf["name"],
                         "geometry_wkb": gdf.geometry.to_wkb()})


stg_lsoa21_boundaries = file_asset(
    "stg_lsoa21_boundaries", GROUP, "ONS LSOA (Dec 2021) generalised boundaries, EPSG:4326, as WKB.",
    lambda raw: geo.locate(raw, "boundaries_lsoa21"), _read_lsoa_boundaries,
    kinds={"duckdb", "geoparquet"})

SHAPES_SQL = "SELECT lsoa21_code, geometry_wkb FROM stg_lsoa21_boundaries"


@dg.asset(group_name=GROUP, kinds={"duckdb", "shapely"}, deps=[stg_lsoa21_boundaries],
          op_tags=AFTER_READY_STEPS,
          description="The LSOA outlines the England maps draw: stg_lsoa21_boundaries "
          "simplified (pipeline/outputs/maps.py: simplify_shapes), once per boundary file rather than "
          "at every build that redraws the maps.")
def int_lsoa21_map_shapes(context: dg.AssetExecutionContext, staging_db: DuckDBResource,
                          side: SideProcessResource) -> dg.MaterializeResult:
    with staging_db.get_connection() as conn:
        # simplified in the side process (shapely holds the GIL)
        shapes = side.run(simplify_shapes, conn.execute(SHAPES_SQL).to_arrow_table())
        write_table(conn, "int_lsoa21_map_shapes", shapes)
    return dg.MaterializeResult(metadata={"dagster/row_count": shapes.num_rows})


stg_lsoa21_ruc21 = file_asset(
    "stg_lsoa21_ruc21", GROUP, "ONS 2021 Rural-Urban Classification of LSOAs (six classes, "
    "urban/rural). Optional: absent when no file is supplied.",
    lambda raw: geo.locate(raw, "ruc21"), geo.read_ruc21,
    lambda df: {"by_class": df["urban_rural"].value_counts().to_dict()},
    absent_columns="lsoa21_code VARCHAR, ruc21_code VARCHAR, ruc21_name VARCHAR, "
    "urban_rural VARCHAR, data_status VARCHAR")


int_lsoa_geography = sql_model_asset(
    "int_lsoa_geography", GROUP, [stg_lsoa21_ltla24, stg_lsoa21_icb24, stg_ltla24_region,
                                  stg_lsoa21_ruc21],
    "One row per England LSOA 2021 with its LTLA, ICB and region",
    {"lsoas_without_icb": "SELECT count(*) FILTER (icb24_code IS NULL) FROM int_lsoa_geography",
     "lsoas_without_region": "SELECT count(*) FILTER (region_code IS NULL) "
                             "FROM int_lsoa_geography"})


@dg.asset(group_name=GROUP, kinds={"duckdb"},
          description="ONS LSOA (2011) -> LSOA (2021) lookup with change codes U/S/M/X. Optional: "
          "needed only for LSOA 2011 inputs.")
def stg_lsoa11_lsoa21(context: dg.AssetExecutionContext, dedi_paths: DediPaths,
                      staging_db: DuckDBResource) -> dg.MaterializeResult:
    from pipeline.defs._staging import stage_absent, stage_source

    try:
        path = geo.locate(dedi_paths.raw, "lsoa11_lsoa21")
    except SourceError as exc:
        with staging_db.get_connection() as conn:
            return stage_absent(conn, "stg_lsoa11_lsoa21", "lsoa11_code VARCHAR, lsoa21_code "
                                "VARCHAR, change_code VARCHAR, data_status VARCHAR", str(exc))
    df = geo.read_lsoa11_lsoa21(path)
    with staging_db.get_connection() as conn:
        return stage_source(conn, "stg_lsoa11_lsoa21", df, path)


@dg.asset(group_name=GROUP, kinds={"duckdb"},
          description="ONS Postcode Directory (ONSPD/NSPL): postcode -> LSOA 2021, termination. "
          "Optional: needed for Ofcom postcode files and postcode-located local records.")
def stg_postcode_directory(context: dg.AssetExecutionContext, dedi_paths: DediPaths,
                           staging_db: DuckDBResource) -> dg.MaterializeResult:
    import tempfile

    from pipeline.defs._staging import stage_absent, stamp_provenance
    from pipeline.sources import postcodes

    found = postcodes.locate(dedi_paths.raw)
    with staging_db.get_connection() as conn:
        if not found:
            return stage_absent(conn, "stg_postcode_directory",
                                "postcode VARCHAR, lsoa21_code VARCHAR, terminated BOOLEAN, "
                                "easting DOUBLE, northing DOUBLE", postcodes.MANUAL)
        context.log.info(f"reading {found[0]}")
        with tempfile.TemporaryDirectory() as tmp:
            facts = postcodes.stage_postcode_directory(conn, found, "stg_postcode_directory",
                                                       Path(tmp))
        rec = stamp_provenance(conn, "stg_postcode_directory", found[0], facts["postcodes"])
        conn.execute("ALTER TABLE stg_postcode_directory ADD COLUMN data_status VARCHAR "
                     f"DEFAULT '{rec['data_status']}'")
    return dg.MaterializeResult(metadata={**facts, "dagster/row_count": facts["postcodes"],
                                          "sha256": rec["sha256"],
                                          "data_status": rec["data_status"]})


stg_postcode_directory_expectations = gx_check(stg_postcode_directory, "postcode_directory")


@dg.asset_check(asset=int_lsoa_geography, blocking=True,
                additional_deps=["stg_iod2025", "stg_lsoa21_ltla24", "stg_lsoa21_icb24",
                                 "stg_lsoa21_boundaries", "stg_lsoa11_lsoa21"],
                description="Every LSOA of IoD File 7 is in the LTLA and ICB lookups and has a "
                "boundary; a gap names the file (before any index or row-count check can blame "
                "File 7, or a local file placed on the boundaries). When File 7's own codes are "
                "the odd ones (LSOA 2011), it names File 7.")
def lookups_cover_file7(staging_db: DuckDBResource) -> dg.AssetCheckResult:
    problems = {}
    with staging_db.get_connection() as conn:
        run_sql_model(conn, "int_file7_lsoa_coverage", view=True)
        gaps = conn.execute("SELECT * FROM int_file7_lsoa_coverage").df()
        files = source_files(conn, ["stg_iod2025", *gaps["staging_table"]])
    old = gaps.drop_duplicates("lsoa21_code")
    if len(old) and old["lsoa_2011_only"].mean() > 0.5:  # File 7 on the 2011 geography
        problems["stg_iod2025"] = (
            f"{files.get('stg_iod2025', 'stg_iod2025')}: column 'LSOA code (2021)': "
            f"{int(old['lsoa_2011_only'].sum())} code(s) are LSOA 2011 codes that no LSOA 2021 "
            f"has, e.g. {old.loc[old['lsoa_2011_only'], 'lsoa21_code'].head(5).tolist()}; this "
            "File 7 is on the LSOA 2011 geography: use the IoD 2025 File 7 (LSOA 2021 codes)")
        gaps = gaps.iloc[:0]
    for table, g in gaps.groupby("staging_table", sort=False):
        what = "boundary" if table == "stg_lsoa21_boundaries" else "row"
        problems[table] = (f"{files.get(table, table)}: {len(g)} LSOA(s) of IoD File 7 have no "
                           f"{what} here, e.g. {g['lsoa21_code'].head(5).tolist()}; expected "
                           "every England LSOA 2021: use the complete ONS file (rows may "
                           "have been deleted)")
    return dg.AssetCheckResult(passed=not problems, metadata={
        "message": "; ".join(problems.values()) or "complete"})
