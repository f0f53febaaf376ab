"""The joined LSOA indicator table and its coverage report."""

import dagster as dg
import pandas as pd
from dagster_duckdb import DuckDBResource

from pipeline.config import settings
from pipeline.defs._checks import gx_check
from pipeline.defs._staging import (
    build_status,
    preview,
    read_table,
    run_sql_model,
    write_table,
)
from pipeline.method.disclosure import suppress_small_count_rates

GROUP = "indicators"

# name -> description, source_from (staging table(s) whose files it comes from; "local:<proxy>";
# or "<table>.<column>" naming the source each LSOA used), imputation note, and optionally
# vintage_sql (a query giving the vintage from the data). Other vintages come from the
# catalogue of official sources (pipeline/sources/catalogue.py) via the `_sources` rows.
CATALOGUE: dict[str, dict[str, str]] = {
    "connectivity_exclusion": {
        "description": "Fixed broadband: % premises unable to receive 30 Mbit/s (Ofcom postcode "
                       "files), or the DERI broadband component 0-10 (fallback)",
        "source_from": "int_connectivity_lsoa.connectivity_source",
        "imputation": "fallback sources quantile-mapped onto the primary's scale; DERI values "
                      "for split/merged/complex LSOAs harmonised from LSOA 2011"},
    "nhs_app_non_uptake_pct": {
        "description": "% of registered patients not registered for the NHS App, apportioned "
                       "from GP practices by where patients live",
        "source_from": "stg_nhs_app_practice,stg_gp_patients_lsoa",
        "vintage_sql": "SELECT 'NHS App ' || left(max(month)::VARCHAR, 7) FROM "
                       "stg_nhs_app_practice HAVING count(*) > 0",
        "imputation": "none; LSOAs below the minimum registered population are missing"},
    "pct_aged_70plus": {"description": "Census 2021 RM121: % residents aged 70+",
                        "source_from": "stg_census21_age65plus",
                        "imputation": "none"},
    "pct_aged_65plus": {"description": "Census 2021 RM121: % residents aged 65+",
                        "source_from": "stg_census21_age65plus",
                        "imputation": "none"},
    "pct_aged_75plus": {"description": "Census 2021 RM121: % residents aged 75+",
                        "source_from": "stg_census21_age65plus",
                        "imputation": "none"},
    "pct_households_social_rented": {
        "description": "Census 2021 TS054: % households renting from a council or housing "
                       "association", "source_from": "stg_census21_households", "imputation": "none"},
    "adult_skills_english_pct": {
        "description": "IoD 2025 File 8 adult skills and English language proficiency "
                       "indicator: % adults 25-66 with no/low qualifications or little English",
        "source_from": "stg_iod2025_file8",
        "imputation": "none"},
    "pct_older_income_deprived": {
        "description": "IoD 2025 File 8 IDAOPI numerator (people 60+ in income-deprived "
                       "families) per 100 residents", "source_from": "stg_iod2025_file8",
        "imputation": "none; suppressed numerators stay missing"},
    "pct_disabled": {"description": "Census 2021 TS038: % disabled under the Equality Act",
                     "source_from": "stg_census21_disability",
                     "imputation": "none"},
    "pct_households_overcrowded": {
        "description": "Census 2021 TS052: % households overcrowded (bedroom occupancy -1 or less)",
        "source_from": "stg_census21_overcrowding", "imputation": "none"},
    "pct_households_deprived_2plus": {
        "description": "Census 2021 TS011: % households deprived in two or more dimensions",
        "source_from": "stg_census21_household_deprivation", "imputation": "none"},
    "income_deprived_pct": {
        "description": "IoD 2025 Income domain rate (File 7 score x 100)",
        "source_from": "stg_iod2025", "imputation": "none"},
    "employment_deprived_pct": {
        "description": "IoD 2025 Employment domain rate (File 7 score x 100)",
        "source_from": "stg_iod2025", "imputation": "none"},
    "illness_disability_ratio": {
        "description": "IoD 2025 File 8 comparative illness and disability ratio",
        "source_from": "stg_iod2025_file8", "imputation": "none"},
    "pct_cannot_speak_english_well": {
        "description": "Census 2021 TS029: % residents who cannot speak English well or at all",
        "source_from": "stg_census21_proficiency_msoa",
        "imputation": "every LSOA: MSOA 2021 count apportioned by population (MSOA rate)"},
    "school_fsm_pct": {
        "description": "Pupil-premium proxy: pupil- and distance-weighted % FSM of the nearest "
                       "primary and secondary schools (GIAS)",
        "source_from": "stg_gias_schools",
        "imputation": "every LSOA: estimated from nearby schools (no catchments)"},
    "pupil_premium_rate_pct": {"description": "Local proxy: pupil premium per 100 children 0-15",
                               "source_from": "local:pupil_premium",
                               "imputation": "none; missing outside supplying LAs"},
    "assisted_bin_collection_rate_pct": {
        "description": "Local proxy: assisted bin collections per 100 households",
        "source_from": "local:assisted_bin_collection",
        "imputation": "none; missing outside supplying LAs"},
    "english_second_language_rate_pct": {
        "description": "Local proxy: English as a second language per 100 residents",
        "source_from": "local:english_second_language",
        "imputation": "none; missing outside supplying LAs"},
    "housing_condition_rate_pct": {
        "description": "Local proxy: poor housing condition per 100 households",
        "source_from": "local:housing_condition",
        "imputation": "none; missing outside supplying LAs"},
}


def _source(conn, source_from: str) -> str:
    """The files (or the sources LSOAs used) an indicator comes from."""
    if source_from.startswith("local:"):
        las = [r[0] for r in conn.execute("SELECT DISTINCT la_code FROM stg_local_proxies "
                                          "WHERE proxy = ? ORDER BY 1", [source_from[6:]]).fetchall()]
        return "local authority file(s): " + ", ".join(las) if las else "no local files"
    if "." in source_from:  # a column naming each LSOA's source
        table, column = source_from.split(".")
        src = conn.execute(f'SELECT string_agg(DISTINCT "{column}", \'; \') FROM "{table}"'
                           ).fetchone()[0]
        return src or "no file supplied"
    tables = source_from.split(",")
    rows = conn.execute("SELECT DISTINCT file FROM _sources WHERE staging_table IN "
                        f"({', '.join('?' * len(tables))}) ORDER BY 1", tables).fetchall()
    return "; ".join(f for (f,) in rows) or "no file supplied"


def _vintage(conn, meta: dict[str, str]) -> str:
    """The real vintage (release or date) of an indicator's source files, or 'not supplied'."""
    src = meta["source_from"]
    if meta.get("vintage_sql"):
        row = conn.execute(meta["vintage_sql"]).fetchone()
        if row and row[0]:
            return row[0]
    if src.startswith("local:"):
        rows = conn.execute("SELECT split_part(split_part(staging_table, ':', 2), '/', 1) || "
                            "': file of ' || left(retrieved_at, 10) FROM _sources WHERE "
                            "staging_table LIKE ? ORDER BY 1", [f"%/{src[6:]}"]).fetchall()
    elif "." in src:
        table, column = src.split(".")
        col = column.replace("_source", "_vintage")  # the vintage column beside the source
        rows = conn.execute(f'SELECT DISTINCT "{col}" FROM "{table}" WHERE "{col}" IS NOT NULL '
                            "ORDER BY 1").fetchall()
    else:
        tables = src.split(",")
        rows = conn.execute("SELECT DISTINCT vintage FROM _sources WHERE split_part(staging_table,"
                            f" ':', 1) IN ({', '.join('?' * len(tables))}) AND vintage IS NOT "
                            "NULL ORDER BY 1", tables).fetchall()
    return "; ".join(r[0] for r in rows) or "not supplied"


def coverage_table(conn) -> pd.DataFrame:
    """One row per indicator: source, status, and how many LSOAs have / impute a value."""
    n = conn.execute("SELECT count(*) FROM lsoa_indicators").fetchone()[0]
    rows = []
    for name, meta in CATALOGUE.items():
        with_value = conn.execute(f"SELECT count({name}) FROM lsoa_indicators").fetchone()[0]
        if name == "connectivity_exclusion":
            imputed = conn.execute("SELECT count(*) FROM lsoa_indicators WHERE "
                                   "connectivity_imputed AND connectivity_exclusion IS NOT NULL"
                                   ).fetchone()[0]
        elif meta["imputation"].startswith("every LSOA"):
            imputed = with_value
        else:
            imputed = 0
        rows.append({"indicator": name, "description": meta["description"],
                     "source": _source(conn, meta["source_from"]), "vintage": _vintage(conn, meta),
                     "supplied": with_value > 0, "lsoas": n,
                     "lsoas_with_value": with_value, "lsoas_missing": n - with_value,
                     "lsoas_imputed": imputed, "imputation": meta["imputation"],
                     "share_with_value": with_value / n if n else 0.0,
                     "direction": "higher = more excluded"})
    return pd.DataFrame(rows)


# count column -> the rate built on it: both blanked when the count is in 1..threshold-1
SUPPRESSED = {"pupil_premium_count": "pupil_premium_rate_pct",
              "assisted_bin_collection_count": "assisted_bin_collection_rate_pct",
              "english_second_language_count": "english_second_language_rate_pct",
              "housing_condition_count": "housing_condition_rate_pct",
              "nhs_app_registered_patients": "nhs_app_non_uptake_pct"}


@dg.asset(group_name=GROUP, kinds={"duckdb", "sql"},
          deps=["int_lsoa_geography", "int_connectivity_lsoa", "int_nhs_app_uptake_lsoa",
                "int_census_indicators", "int_iod_indicators", "int_school_fsm_lsoa",
                "int_local_proxy_rates"],
          description="All digital-exclusion inputs per LSOA 2021, higher = more excluded "
          "(assets/marts/lsoa_indicators.sql), with a coverage report per indicator.",
          metadata={"dedi/also_writes": ["coverage"]})
def lsoa_indicators(staging_db: DuckDBResource) -> dg.MaterializeResult:
    with staging_db.get_connection() as conn:
        n = run_sql_model(conn, "lsoa_indicators")
        threshold = int(settings()["suppression"]["min_count"])
        raw = read_table(conn, "lsoa_indicators")
        safe = suppress_small_count_rates(raw, SUPPRESSED, threshold)
        suppressed = {c: int(raw[c].notna().sum() - safe[c].notna().sum()) for c in SUPPRESSED}
        write_table(conn, "lsoa_indicators", safe)
        cov = coverage_table(conn)
        write_table(conn, "coverage", cov)
        # every supplied indicator rests on synthetic files in a (demo) synthetic build
        synthetic = (cov.loc[cov["supplied"], "indicator"].tolist()
                     if build_status(conn) == "synthetic" else [])
        flags = ", ".join(f"CASE WHEN {i} IS NOT NULL THEN '{i}' END" for i in synthetic)
        conn.execute("ALTER TABLE lsoa_indicators ADD COLUMN synthetic_inputs VARCHAR")
        conn.execute(f"UPDATE lsoa_indicators SET synthetic_inputs = "
                     f"{f'concat_ws(chr(44), {flags})' if flags else chr(39) * 2}")
        head = conn.execute("SELECT * FROM lsoa_indicators LIMIT 5").df()
    return dg.MaterializeResult(metadata={
        "dagster/row_count": n,
        "coverage": dg.MetadataValue.md(cov[["indicator", "supplied", "lsoas_with_value",
                                             "lsoas_imputed", "source"]].to_markdown(index=False)),
        "synthetic_indicators": synthetic,
        "absent_indicators": cov.loc[~cov["supplied"], "indicator"].tolist(),
        "suppressed_small_counts": suppressed, "suppression_min_count": threshold,
        "preview": preview(head)})


lsoa_indicators_expectations = gx_check(lsoa_indicators, "lsoa_indicators")
coverage_expectations = gx_check(lsoa_indicators, "coverage", table="coverage")
