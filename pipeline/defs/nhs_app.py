"""GP practices, patients by LSOA and NHS App uptake, apportioned from practices to LSOAs.

NHS App files are monthly: ``stg_nhs_app_practice_monthly`` is partitioned by month (a new
month file materialises only its partition and what depends on it); the current tables use
the latest month, and the history is published as ``nhs_app_*_history``.
"""

import dagster as dg
import pandas as pd
from dagster_duckdb import DuckDBResource

from pipeline.build.resources import DediPaths
from pipeline.config import settings
from pipeline.defs._checks import gx_check
from pipeline.defs._staging import (
    file_asset,
    forget_sources,
    replace_partitions,
    run_sql_model,
    source_files,
    sql_model_asset,
    stamp_provenance,
)
from pipeline.errors import SourceError
from pipeline.sources import gp, nhs_app

GROUP = "nhs_app"

NHS_APP_MONTHS = dg.MonthlyPartitionsDefinition(
    start_date=settings()["indicators"]["nhs_app"]["first_month"], fmt="%Y-%m", end_offset=1)


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


def ensure_monthly_table(conn) -> None:
    """``stg_nhs_app_practice_monthly`` exists (empty when no month has been staged)."""
    conn.execute(f"CREATE TABLE IF NOT EXISTS stg_nhs_app_practice_monthly ({APP_COLUMNS})")


@dg.asset(group_name=GROUP, kinds={"duckdb", "csv"}, partitions_def=NHS_APP_MONTHS,
          description="NHS App registrations by GP practice, one partition per month "
          "(<raw>/nhs_app/nhs_app_practice_YYYY-MM.csv, DEDI practice-level layout). A run "
          "replaces only its months' rows.")
def stg_nhs_app_practice_monthly(context: dg.AssetExecutionContext, dedi_paths: DediPaths,
                                 staging_db: DuckDBResource) -> dg.MaterializeResult:
    months = list(context.partition_keys)
    df, files = nhs_app.read_months(dedi_paths.raw, months)
    context.log.info(f"read {len(df):,} practice-months for {months} from "
                     f"{[f.name for f in files]}")
    with staging_db.get_connection() as conn:
        status = {}
        for f in files:
            named = nhs_app.month_in_name(f)
            rows = int((df["month"] == named).sum()) if named else len(df)
            status[f.name] = stamp_provenance(conn, f"stg_nhs_app_practice:{named or f.name}", f,
                                              rows)["data_status"]
        df = df.assign(data_status=df["source_file"].map(status)).drop(columns="source_file")
        ensure_monthly_table(conn)
        replace_partitions(conn, "stg_nhs_app_practice_monthly", df, "month", months)
    return dg.MaterializeResult(metadata={
        "dagster/row_count": len(df), "months": months, "files": [f.name for f in files],
        "practices": int(df["practice_code"].nunique()),
        "registrations": int(df["registrations"].sum()),
        "data_status": sorted(set(status.values()))})


@dg.asset(group_name=GROUP, kinds={"duckdb", "sql"}, deps=[stg_nhs_app_practice_monthly],
          description="NHS App registrations by GP practice in the latest month supplied, the "
          "current vintage (assets/staging/stg_nhs_app_practice.sql). Empty when no NHS App "
          "file is supplied.")
def stg_nhs_app_practice(staging_db: DuckDBResource) -> dg.MaterializeResult:
    with staging_db.get_connection() as conn:
        ensure_monthly_table(conn)
        n = run_sql_model(conn, "stg_nhs_app_practice")
        latest, months = conn.execute("SELECT max(month), count(DISTINCT month) FROM "
                                      "stg_nhs_app_practice_monthly").fetchone()
        if n == 0:
            forget_sources(conn, "stg_nhs_app_practice")
    return dg.MaterializeResult(metadata={
        "dagster/row_count": n, "present": n > 0, "latest_month": latest or "none",
        "months_staged": months})


int_nhs_app_uptake_lsoa_monthly = sql_model_asset(
    "int_nhs_app_uptake_lsoa_monthly", GROUP,
    [stg_nhs_app_practice_monthly, stg_nhs_app_practice, stg_gp_patients_lsoa, stg_gp_practices],
    "NHS App uptake per LSOA 2021 and month, apportioned from practices by registered patients",
    {"months": "SELECT count(DISTINCT month) FROM int_nhs_app_uptake_lsoa_monthly"},
    variables={"min_registered_patients": lambda: int(
        settings()["indicators"]["nhs_app"]["min_registered_patients"])})


int_gp_practice_lsoa = sql_model_asset(
    "int_gp_practice_lsoa", GROUP, [stg_gp_patients_lsoa, stg_gp_practices, "int_lsoa_geography"],
    "Patients of each GP practice by England LSOA 2021, practices with a small count of "
    "patients left out (what practice summaries and catchments are made of)",
    {"practices": "SELECT count(DISTINCT practice_code) FROM int_gp_practice_lsoa"})


@dg.asset(group_name=GROUP, kinds={"duckdb", "sql"},
          deps=[int_nhs_app_uptake_lsoa_monthly, stg_nhs_app_practice],
          description="NHS App uptake per LSOA 2021 in the latest month "
          "(assets/intermediate/int_nhs_app_uptake_lsoa.sql).",
          metadata={"dedi/also_writes": ["int_nhs_app_apportionment"]})
def int_nhs_app_uptake_lsoa(staging_db: DuckDBResource) -> dg.MaterializeResult:
    minimum = settings()["indicators"]["nhs_app"]["min_registered_patients"]
    with staging_db.get_connection() as conn:
        n = run_sql_model(conn, "int_nhs_app_uptake_lsoa")
        run_sql_model(conn, "int_nhs_app_apportionment")
        report = conn.execute("SELECT * FROM int_nhs_app_apportionment").df().iloc[0]
        files = source_files(conn, ["stg_nhs_app_practice", "stg_gp_patients_lsoa"])
    check_joins(report, files, float(settings()["raw_checks"]["max_share_unmatched"]))
    return dg.MaterializeResult(metadata={
        "dagster/row_count": n, "min_registered_patients": minimum,
        **{k: (int(v) if not k.startswith("examples") else str(v or "")) for k, v in
           report.items()}})


def check_joins(report: pd.Series, files: dict[str, str], max_share: float) -> None:
    """Supplied NHS App and GP patients files must join: practice codes, and the patients'
    LSOAs with this build's. Raises :class:`SourceError` naming both files, the key and
    examples of unmatched values."""
    app, pat = files.get("stg_nhs_app_practice"), files.get("stg_gp_patients_lsoa")
    if report["practices_in_app_file"] and not report["practices_in_patients_file"]:
        raise SourceError(app, "NHS App files supplied but no GP patients-by-LSOA file "
                          "(gp/gp-reg-pat-prac-lsoa-all.csv) to apportion them to LSOAs: add it, "
                          "or remove the NHS App files")
    if report["practices_in_app_file"]:
        share = report["practices_in_app_file_not_in_patients_file"] / \
            report["practices_in_app_file"]
        if share > max_share:
            raise SourceError(app, f"column 'practice_code': "
                              f"{report['practices_in_app_file_not_in_patients_file']:,} of "
                              f"{report['practices_in_app_file']:,} practices have no row in "
                              f"{pat} (e.g. {report['examples_app_practices_not_in_patients_file']}"
                              f"); the two files must share ODS practice codes (more than "
                              f"{max_share:.0%} unmatched: raw_checks.max_share_unmatched)")
    if report["patient_rows_in_england_lsoas"]:
        share = report["patient_rows_not_in_this_geography"] / \
            report["patient_rows_in_england_lsoas"]
        if share > max_share:
            missing = report["patient_rows_not_in_this_geography"]
            raise SourceError(pat, f"column 'LSOA_CODE': {missing:,} of "
                              f"{report['patient_rows_in_england_lsoas']:,} "
                              "rows name an LSOA that is not an LSOA 2021 of this build (e.g. "
                              f"{report['examples_patient_lsoas_not_in_this_geography']}); "
                              "expected the LSOA 2021 codes of the geography lookups")


stg_gp_practices_expectations = gx_check(stg_gp_practices, "gp_practices")
stg_gp_patients_lsoa_expectations = gx_check(stg_gp_patients_lsoa, "gp_patients_lsoa")
stg_nhs_app_practice_expectations = gx_check(stg_nhs_app_practice, "nhs_app_practice")
