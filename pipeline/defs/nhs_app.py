"""GP practices, patients by LSOA and NHS App uptake, apportioned from practices to LSOAs."""

from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource

from pipeline import synthetic
from pipeline.config import settings
from pipeline.defs._checks import gx_check
from pipeline.defs._staging import (
    file_asset,
    read_table,
    run_sql_model,
    stage_source,
    synthetic_dir,
)
from pipeline.resources import DediPaths
from pipeline.sources import gp, nhs_app
from pipeline.sources.common import SourceError, file_record

GROUP = "nhs_app"
PATIENTS_FILE = "gp-reg-pat-prac-lsoa-all.csv"
APP_FILE = "nhs_app_practice_registrations.csv"


stg_gp_practices = file_asset(
    "stg_gp_practices", GROUP, "NHS ODS epraccur GP practices (status, commissioning sub-ICB).",
    gp.locate_epraccur, gp.read_epraccur,
    lambda df: {"by_status": df["status_code"].value_counts().to_dict()})


def _locate_or_generate(raw: Path, staging_dir: str, topic: str, locate, name: str,
                        generate, context) -> Path:
    """The real file if present; otherwise a SYNTHETIC stand-in written to staging."""
    try:
        return locate(raw)
    except SourceError:
        target = synthetic_dir(staging_dir) / topic / name
        context.log.warning(f"no {topic} file in {raw}: generating SYNTHETIC {target}")
        target.parent.mkdir(parents=True, exist_ok=True)
        generate().to_csv(target, index=False)
        synthetic.write_provenance(target.parent, [target], "DEDI synthetic fallback")
        return target


@dg.asset(group_name=GROUP, kinds={"duckdb", "csv"},
          deps=[stg_gp_practices, "stg_lsoa21_icb24", "stg_census21_population"],
          description="NHS Digital patients registered at a GP practice by LSOA "
          "(gp-reg-pat-prac-lsoa-all). SYNTHETIC stand-in when absent.")
def stg_gp_patients_lsoa(context: dg.AssetExecutionContext, dedi_paths: DediPaths,
                         staging_db: DuckDBResource) -> dg.MaterializeResult:
    with staging_db.get_connection() as conn:
        def generate():
            practices = read_table(conn, "stg_gp_practices")
            lsoas = conn.execute(
                "SELECT i.lsoa21_code, i.sicbl24_code_nhs, p.usual_residents AS population "
                "FROM stg_lsoa21_icb24 i JOIN stg_census21_population p USING (lsoa21_code)").df()
            return synthetic.gp_patients_by_lsoa(practices, lsoas)

        path = _locate_or_generate(
            dedi_paths.raw, dedi_paths.staging_dir, gp.TOPIC,
            lambda raw: gp.locate_patients(raw), PATIENTS_FILE, generate, context)
        df = gp.read_patients_by_lsoa(path)
        rec = file_record(path, df)
        eng = df["lsoa_code"].str.match(r"^E01\d{6}$")
        return stage_source(conn, "stg_gp_patients_lsoa", df, rec, {
            "practices": int(df["practice_code"].nunique()),
            "patients": int(df["patients"].sum()),
            "patients_outside_england_lsoas": int(df.loc[~eng, "patients"].sum()),
            "rows_outside_england_lsoas": int((~eng).sum())})


@dg.asset(group_name=GROUP, kinds={"duckdb", "csv"},
          deps=[stg_gp_patients_lsoa, "stg_iod2025", "stg_census21_age65plus"],
          description="NHS App registrations by GP practice, latest month (DEDI practice-level "
          "layout). SYNTHETIC stand-in when absent.")
def stg_nhs_app_practice(context: dg.AssetExecutionContext, dedi_paths: DediPaths,
                         staging_db: DuckDBResource) -> dg.MaterializeResult:
    with staging_db.get_connection() as conn:
        def generate():
            patients = conn.execute(
                "SELECT practice_code AS PRACTICE_CODE, lsoa_code AS LSOA_CODE, "
                "patients AS NUMBER_OF_PATIENTS FROM stg_gp_patients_lsoa").df()
            need = conn.execute("""
                SELECT i.lsoa21_code, i.imd_rank, count(*) OVER () AS n_lsoa,
                       (a.aged_65 + a.aged_66_69 + a.aged_70_74 + a.aged_75_79 + a.aged_80_84
                        + a.aged_85_plus) / a.total AS pct_65plus
                FROM stg_iod2025 i LEFT JOIN stg_census21_age65plus a USING (lsoa21_code)""").df()
            return synthetic.nhs_app_practice_uptake(patients, need)

        path = _locate_or_generate(dedi_paths.raw, dedi_paths.staging_dir, nhs_app.TOPIC,
                                   nhs_app.locate, APP_FILE, generate, context)
        df = nhs_app.read_practice_uptake(path)
        return stage_source(conn, "stg_nhs_app_practice", df, file_record(path, df), {
            "practices": len(df), "latest_month": str(df["month"].max()),
            "registrations": int(df["registrations"].sum())})


@dg.asset(group_name=GROUP, kinds={"duckdb", "sql"},
          deps=[stg_nhs_app_practice, stg_gp_patients_lsoa, stg_gp_practices],
          description="NHS App uptake per LSOA 2021 apportioned from practices by registered "
          "patients (assets/int_nhs_app_uptake_lsoa.sql).")
def int_nhs_app_uptake_lsoa(staging_db: DuckDBResource) -> dg.MaterializeResult:
    minimum = settings()["indicators"]["nhs_app"]["min_registered_patients"]
    with staging_db.get_connection() as conn:
        conn.execute(f"SET VARIABLE min_registered_patients = {int(minimum)}")
        n = run_sql_model(conn, "int_nhs_app_uptake_lsoa")
        rep = conn.execute("""
            WITH app AS (SELECT DISTINCT practice_code FROM stg_nhs_app_practice),
                 pat AS (SELECT DISTINCT practice_code FROM stg_gp_patients_lsoa)
            SELECT
              (SELECT count(*) FROM app WHERE practice_code NOT IN (SELECT * FROM pat)),
              (SELECT count(*) FROM pat WHERE practice_code NOT IN (SELECT * FROM app)),
              (SELECT coalesce(sum(patients), 0) FROM stg_gp_patients_lsoa
                 WHERE practice_code NOT IN (SELECT * FROM app)),
              (SELECT count(*) FROM stg_nhs_app_practice a JOIN stg_gp_practices g
                 USING (practice_code) WHERE g.status_code = 'C'),
              (SELECT count(*) FROM int_nhs_app_uptake_lsoa WHERE nhs_app_uptake IS NULL),
              (SELECT count(*) FROM stg_gp_patients_lsoa
                 WHERE NOT regexp_matches(lsoa_code, '^E01[0-9]{6}$'))
        """).fetchone()
        status = conn.execute("SELECT CASE WHEN bool_or(data_status = 'synthetic') THEN "
                              "'synthetic' ELSE 'real' END FROM (SELECT data_status FROM "
                              "stg_nhs_app_practice UNION ALL SELECT data_status FROM "
                              "stg_gp_patients_lsoa)").fetchone()[0]
    return dg.MaterializeResult(metadata={
        "dagster/row_count": n, "data_status": status,
        "practices_in_app_file_not_in_patients_file": rep[0],
        "practices_in_patients_file_not_in_app_file": rep[1],
        "patients_of_practices_without_app_data": int(rep[2]),
        "closed_practices_with_app_data_excluded": rep[3],
        "lsoas_below_min_registered_patients": rep[4],
        "min_registered_patients": minimum,
        "patient_rows_outside_england_lsoas": rep[5]})


stg_gp_practices_expectations = gx_check(stg_gp_practices, "gp_practices")
stg_gp_patients_lsoa_expectations = gx_check(stg_gp_patients_lsoa, "gp_patients_lsoa")
stg_nhs_app_practice_expectations = gx_check(stg_nhs_app_practice, "nhs_app_practice")
