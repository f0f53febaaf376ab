"""Schools (GIAS): the pupil-premium proxy, % free school meals of the schools serving an LSOA."""

import dagster as dg
import geopandas as gpd
from dagster_duckdb import DuckDBResource

from pipeline.config import settings
from pipeline.defs._checks import gx_check
from pipeline.defs._staging import file_asset, read_table, write_table
from pipeline.method.school_fsm import lsoa_fsm_rate
from pipeline.sources import schools

GROUP = "schools"


stg_gias_schools = file_asset(
    "stg_gias_schools", GROUP,
    "DfE GIAS open establishments: phase, pupils, % FSM, easting/northing.",
    schools.locate, schools.read_gias,
    lambda df: {"schools_with_fsm": int(df["pct_fsm"].notna().sum()),
                "by_phase": df["phase"].value_counts().to_dict()}, kinds={"duckdb", "csv"})


@dg.asset(group_name=GROUP, kinds={"duckdb"},
          deps=[stg_gias_schools, "stg_lsoa21_boundaries", "int_lsoa_geography"],
          description="Pupil- and distance-weighted % FSM of the k nearest primary and secondary "
          "schools to each LSOA 2021 centroid (pipeline/method/school_fsm.py).")
def int_school_fsm_lsoa(staging_db: DuckDBResource) -> dg.MaterializeResult:
    cfg = settings()["indicators"]["school_fsm"]
    with staging_db.get_connection() as conn:
        shapes = conn.execute("SELECT b.lsoa21_code, b.geometry_wkb FROM stg_lsoa21_boundaries b "
                              "JOIN int_lsoa_geography g USING (lsoa21_code)").df()
        s = read_table(conn, "stg_gias_schools")
        status = s["data_status"].iloc[0]
        pts = gpd.GeoSeries.from_wkb(shapes["geometry_wkb"].map(bytes), crs="EPSG:4326")
        cent = pts.to_crs("EPSG:27700").centroid
        lsoa = shapes[["lsoa21_code"]].assign(x=cent.x.to_numpy(), y=cent.y.to_numpy())
        out = lsoa_fsm_rate(lsoa, s.rename(columns={"easting": "x", "northing": "y"}),
                            schools.PRIMARY, schools.SECONDARY, cfg["k_primary"],
                            cfg["k_secondary"], cfg["distance_floor_m"])
        out["data_status"] = status
        write_table(conn, "int_school_fsm_lsoa", out)
    return dg.MaterializeResult(metadata={
        "dagster/row_count": len(out), "lsoas_with_value": int(out["fsm_pct"].notna().sum()),
        "median_distance_primary_m": float(out["mean_distance_primary_m"].median()),
        "median_distance_secondary_m": float(out["mean_distance_secondary_m"].median()),
        "method": "w = pupils / max(d, d0); k nearest per phase; (7 primary + 5 secondary) / 12",
        **{k: v for k, v in cfg.items()}})


stg_gias_schools_expectations = gx_check(stg_gias_schools, "gias_schools")
