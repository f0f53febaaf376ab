"""GP practices, patients by LSOA and NHS App uptake, apportioned from practices to LSOAs."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from pipeline.config import settings
from pipeline.defs._checks import gx_check
from pipeline.defs._staging import file_asset, run_sql_model
from pipeline.sources import gp, nhs_app

GROUP = "nhs_app"


stg_gp_practices = file_asset(
    "stg_gp_practices", GROUP, "NHS ODS epraccur GP practices (status, commissioning sub-ICB).",
    gp.locate_epraccur, gp.read_epraccur,
    lambda df: {"by_status": df["status_code"].value_counts().to_dict()})


PATIENT_COLUMNS = ("practice_code VARCHAR, lsoa_code VARCHAR, patients DOUBLE, "
                   "extract_date VARCHAR, data_status VARCHAR")
APP_COLUMNS = ("practice_code VARCHAR, month VARCHAR, registrations DOUBLE, "
               "p9_registrations DOUBLE, logins DOUBLE, list_size DOUBLE, data_status VARCHAR")


def _patients_facts(df) -> dict:
    eng = df["lsoa_code"].str.match(r"^E01\d{6}$")
    return {"practices": int(df["practice_code"].nunique()),
            "patients": int(df["patients"].sum()),
            "patients_outside_england_lsoas": int(df.loc[~eng, "patients"].sum()),
            "rows_outside_england_lsoas": int((~eng).sum())}


stg_gp_patients_lsoa = file_asset(
    "stg_gp_patients_lsoa", GROUP, "NHS Digital patients registered at a GP practice by LSOA "
    "(gp-reg-pat-prac-lsoa-all). Optional: absent when no file is supplied.",
    gp.locate_patients, gp.read_patients_by_lsoa, _patients_facts, {"duckdb", "csv"},
    absent_columns=PATIENT_COLUMNS)
stg_nhs_app_practice = file_asset(
    "stg_nhs_app_practice", GROUP, "NHS App registrations by GP practice, latest month (DEDI "
    "practice-level layout). Optional: absent when no file is supplied.",
    nhs_app.locate, nhs_app.read_practice_uptake,
    lambda df: {"practices": len(df), "latest_month": str(df["month"].max()),
                "registrations": int(df["registrations"].sum())}, {"duckdb", "csv"},
    absent_columns=APP_COLUMNS)


@dg.asset(group_name=GROUP, kinds={"duckdb", "sql"},
          deps=[stg_nhs_app_practice, stg_gp_patients_lsoa, stg_gp_practices],
          description="NHS App uptake per LSOA 2021 apportioned from practices by registered "
          "patients (assets/intermediate/int_nhs_app_uptake_lsoa.sql).")
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
