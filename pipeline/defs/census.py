"""Census 2021 population by LSOA: staging asset."""


import dagster as dg
from dagster_duckdb import DuckDBResource

from pipeline.defs._staging import stage_source
from pipeline.resources import DediPaths
from pipeline.sources import census
from pipeline.sources.common import file_record


@dg.asset(group_name="census2021", kinds={"duckdb"},
          description="ONS Census 2021 usual residents per England LSOA 2021; the population "
          "denominator when IoD File 7 has no mid-2022 population.")
def stg_census21_population(context: dg.AssetExecutionContext, dedi_paths: DediPaths,
                            staging_db: DuckDBResource) -> dg.MaterializeResult:
    path = census.locate(dedi_paths.raw)
    context.log.info(f"reading {path}")
    df = census.read_population(path)
    with staging_db.get_connection() as conn:
        return stage_source(conn, "stg_census21_population", df, file_record(path, df), {
            "total_usual_residents": int(df["usual_residents"].sum())})
