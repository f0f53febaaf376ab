"""IoD 2025 File 7: staging asset and its checks (GX suite, IMD reproduction)."""


import dagster as dg
import numpy as np
from dagster_duckdb import DuckDBResource

from pipeline.build.resources import DediPaths
from pipeline.config import settings
from pipeline.defs._checks import gx_check
from pipeline.defs._staging import file_asset, read_table, sql_model_asset, stage_source
from pipeline.method.imd import combine_domain_ranks
from pipeline.sources import iod

GROUP = "iod"


# first of the ready steps: every GX check counts England's LSOAs from File 7, so the suites of
# the staging tables start (pipeline/defs/_early.py) only once it is staged
@dg.asset(group_name=GROUP, kinds={"duckdb", "csv"},
          description="IoD 2025 File 7 with official headers mapped to snake_case (one row per "
          "LSOA 2021). Source: MHCLG English Indices of Deprivation 2025.")
def stg_iod2025(context: dg.AssetExecutionContext, dedi_paths: DediPaths,
                staging_db: DuckDBResource) -> dg.MaterializeResult:
    path = iod.locate(dedi_paths.raw)
    context.log.info(f"reading {path}")
    df = iod.read_iod2025(path)
    absent = [c for c in dict.fromkeys(iod.HEADER_MAP.values()) if c not in df]
    for col in iod.POPULATION_HEADERS.values():  # stable schema whether or not present
        if col not in df:
            df[col] = np.nan
    has_pop = bool(df["population_mid2022"].notna().all())
    with staging_db.get_connection() as conn:
        return stage_source(conn, "stg_iod2025", df, path, {
            "population_denominators_present": has_pop,
            "optional_columns_absent": absent,
        })


FILE8_COLUMNS = ("lsoa21_code VARCHAR, idaopi_numerator DOUBLE, adult_skills_english DOUBLE, "
                 "cidr DOUBLE, broadband_speeds DOUBLE, data_status VARCHAR")


stg_iod2025_file8 = file_asset(
    "stg_iod2025_file8", GROUP, "IoD 2025 File 8 underlying indicators used by DX: IDAOPI "
    "numerator, adult skills and English proficiency, comparative illness and disability "
    "ratio, "
    "broadband download and upload speeds. Optional: absent when no File 8 is supplied.",
    iod.locate_file8, iod.read_file8,
    lambda df: {"idaopi_numerator_missing": int(df["idaopi_numerator"].isna().sum())},
    {"duckdb", "xlsx"}, absent_columns=FILE8_COLUMNS)


int_iod_indicators = sql_model_asset(
    "int_iod_indicators", GROUP, [stg_iod2025_file8, "int_lsoa_population", "stg_iod2025"],
    "DX indicators from IoD 2025 File 8 and the File 7 Income and Employment rates, per LSOA 2021",
    {"lsoas_with_adult_skills": "SELECT count(adult_skills_english_pct) FROM int_iod_indicators"})


stg_iod2025_expectations = gx_check(stg_iod2025, "iod2025_file7", name="stg_iod2025_expectations")


@dg.asset_check(asset=stg_iod2025, blocking=True,
                description="Recompute the IMD from the seven domain ranks (exponential "
                "transformation, official weights) and compare with the published score.")
def imd_reproduction(staging_db: DuckDBResource) -> dg.AssetCheckResult:
    cfg = settings()["iod"]
    weights = cfg["domain_weights"]
    with staging_db.get_connection() as conn:
        df = read_table(conn, "stg_iod2025")
    ranks = df[[f"{k}_rank" for k in weights]].rename(columns=lambda c: c[:-5])
    imd = combine_domain_ranks(ranks, weights, cfg["exponential_constant"])
    diff = (imd["score"] - df["imd_score"]).abs()
    rank_mismatch = int((imd["rank"] != df["imd_rank"]).sum())
    tol = settings()["checks"]["imd_reproduction_max_mean_abs_diff"]
    return dg.AssetCheckResult(
        passed=bool(diff.mean() < tol),
        metadata={"mean_abs_diff": float(diff.mean()), "max_abs_diff": float(diff.max()),
                  "rank_mismatches": rank_mismatch, "tolerance": tol},
    )


IOD_RELEASES = dg.StaticPartitionsDefinition(list(iod.RELEASES))
RELEASE_DDL = ("CREATE TABLE IF NOT EXISTS stg_iod_release (vintage INTEGER, lsoa_code VARCHAR, "
               "lsoa_geography VARCHAR, imd_rank DOUBLE, imd_decile DOUBLE, "
               + ", ".join(f"{d}_rank DOUBLE" for d in iod.DOMAINS if d != "imd")
               + ", data_status VARCHAR)")


@dg.asset(group_name=GROUP, kinds={"duckdb", "csv"}, partitions_def=IOD_RELEASES,
          description="IMD and domain ranks of each IoD release as published, on the "
          "release's own LSOA geography (2011 for 2019, 2021 for 2025): one partition per "
          "release. Feeds lsoa_index_history through int_imd2019_lsoa21.")
def stg_iod_release(context: dg.AssetExecutionContext, dedi_paths: DediPaths,
                    staging_db: DuckDBResource) -> dg.MaterializeResult:
    from pipeline.defs._staging import replace_partitions, stamp_provenance

    counts = {}
    with staging_db.get_connection() as conn:
        conn.execute(RELEASE_DDL)
        for release in context.partition_keys:
            path = iod.locate_release(dedi_paths.raw, release)
            context.log.info(f"reading {path}")
            df = iod.read_release(path, release)
            rec = stamp_provenance(conn, f"stg_iod_release:{release}", path, len(df), df)
            replace_partitions(conn, "stg_iod_release", df.assign(
                data_status=rec["data_status"]), "vintage", [int(release)])
            counts[release] = len(df)
    return dg.MaterializeResult(metadata={"dagster/row_count": sum(counts.values()),
                                          "lsoas_by_release": counts})


@dg.asset(group_name=GROUP, kinds={"duckdb"}, deps=["stg_lsoa11_lsoa21", stg_iod_release],
          description="IMD 2019 (LSOA 2011, partition 2019 of stg_iod_release) harmonised to "
          "LSOA 2021 with the ONS lookup (pipeline/method/harmonise.py), for comparison. "
          "Optional.")
def int_imd2019_lsoa21(staging_db: DuckDBResource) -> dg.MaterializeResult:
    from pipeline.defs._staging import write_table
    from pipeline.method.harmonise import harmonise_lsoa11_to_lsoa21

    domains = [d for d in iod.DOMAINS if d != "imd"]
    with staging_db.get_connection() as conn:
        conn.execute(RELEASE_DDL)
        lookup = read_table(conn, "stg_lsoa11_lsoa21")
        df = conn.execute("SELECT lsoa_code AS lsoa11_code, imd_rank AS imd2019_rank, "
                          "imd_decile AS imd2019_decile, "
                          + ", ".join(f"{d}_rank AS {d}2019_rank" for d in domains)
                          + " FROM stg_iod_release WHERE vintage = 2019").df()
        if df.empty or lookup.empty:
            conn.execute("CREATE OR REPLACE TABLE int_imd2019_lsoa21 (lsoa21_code VARCHAR, "
                         "imd2019_rank_harmonised DOUBLE, imd2019_decile_harmonised DOUBLE, "
                         "imd2019_change_code VARCHAR, "
                         + ", ".join(f"{d}2019_rank DOUBLE" for d in domains) + ")")
            return dg.MaterializeResult(metadata={"present": False, "dagster/row_count": 0})
        cols = [c for c in df.columns if c != "lsoa11_code" and df[c].notna().any()]
        out, rep = harmonise_lsoa11_to_lsoa21(df, lookup, cols)
        out = out.rename(columns={"imd2019_rank": "imd2019_rank_harmonised",
                                  "imd2019_decile": "imd2019_decile_harmonised",
                                  "change_code": "imd2019_change_code"})
        for c in (f"{d}2019_rank" for d in domains):
            if c not in out:
                out[c] = np.nan
        out = out[["lsoa21_code", "imd2019_rank_harmonised", "imd2019_decile_harmonised",
                   "imd2019_change_code", *[f"{d}2019_rank" for d in domains]]]
        write_table(conn, "int_imd2019_lsoa21", out)
    return dg.MaterializeResult(metadata={
        "dagster/row_count": len(out), "lsoa21_by_change_code": rep.lsoa21_by_change,
        "complex_X_lsoa21": rep.complex_lsoa21, "lsoa11_not_in_lookup": rep.lsoa11_not_in_lookup,
        "lsoa21_without_value": rep.lsoa21_without_value[:50],
        "method": "U carried over; S copied; M and X mean of the 2011 ranks/deciles"})
