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
          "patients (assets/intermediate/int_nhs_app_uptake_lsoa.sql).",
          metadata={"dedi/also_writes": ["int_nhs_app_apportionment"]})
def int_nhs_app_uptake_lsoa(staging_db: DuckDBResource) -> dg.MaterializeResult:
    minimum = settings()["indicators"]["nhs_app"]["min_registered_patients"]
    with staging_db.get_connection() as conn:
        conn.execute(f"SET VARIABLE min_registered_patients = {int(minimum)}")
        n = run_sql_model(conn, "int_nhs_app_uptake_lsoa")
        run_sql_model(conn, "int_nhs_app_apportionment")
        report = conn.execute("SELECT * FROM int_nhs_app_apportionment").df().iloc[0]
    return dg.MaterializeResult(metadata={
        "dagster/row_count": n, "min_registered_patients": minimum,
        **{k: int(v) for k, v in report.items()}})


stg_gp_practices_expectations = gx_check(stg_gp_practices, "gp_practices")
stg_gp_patients_lsoa_expectations = gx_check(stg_gp_patients_lsoa, "gp_patients_lsoa")
stg_nhs_app_practice_expectations = gx_check(stg_nhs_app_practice, "nhs_app_practice")
