"""Connectivity: Ofcom postcode coverage (preferred) or the DERI broadband component (fallback)."""

import re

import dagster as dg
import pandas as pd
from dagster_duckdb import DuckDBResource

from pipeline.defs._checks import gx_check
from pipeline.defs._staging import (
    read_table,
    record_source,
    run_sql_model,
    stage_absent,
    stage_source,
    write_table,
)
from pipeline.method.harmonise import harmonise_lsoa11_to_lsoa21
from pipeline.resources import DediPaths
from pipeline.sources import connectivity
from pipeline.sources.common import SourceError, file_record

GROUP = "connectivity"
OFCOM_SOURCE = "Ofcom Connected Nations fixed coverage by postcode"
DERI_SOURCE = ("GMCA Digital Exclusion Risk Index v1.6 broadband component (from Ofcom "
               "Connected Nations May 2022 output-area data), LSOA 2011 harmonised to LSOA 2021")


@dg.asset(group_name=GROUP, kinds={"duckdb", "csv"},
          description="Ofcom Connected Nations fixed coverage by postcode (zip of per-postcode-"
          "area CSVs), one row per postcode. Optional.")
def stg_ofcom_postcode_coverage(context: dg.AssetExecutionContext, dedi_paths: DediPaths,
                                staging_db: DuckDBResource) -> dg.MaterializeResult:
    files = connectivity.locate_ofcom(dedi_paths.raw)
    cols = ", ".join(f"{c} DOUBLE" for c in connectivity.OFCOM_NUMERIC)
    with staging_db.get_connection() as conn:
        if not files:
            return stage_absent(conn, "stg_ofcom_postcode_coverage",
                                f"postcode VARCHAR, {cols}, source_file VARCHAR, "
                                "data_status VARCHAR", "no Ofcom postcode coverage files")
        context.log.info(f"reading {len(files)} Ofcom file(s)")
        facts = connectivity.stage_ofcom_coverage(conn, files, "stg_ofcom_postcode_coverage")
        recs = [file_record(f) for f in files]
        status = "synthetic" if any(r["data_status"] == "synthetic" for r in recs) else "real"
        conn.execute("ALTER TABLE stg_ofcom_postcode_coverage ADD COLUMN data_status VARCHAR "
                     f"DEFAULT '{status}'")
        for f, r in zip(files, recs, strict=True):
            record_source(conn, f"stg_ofcom_postcode_coverage:{f.name}", r, facts["postcodes"])
    return dg.MaterializeResult(metadata={
        **facts, "dagster/row_count": facts["postcodes"], "data_status": status,
        "weighting": "premises" if facts["postcodes_with_premises"] else
                     "equal weight per postcode (release has no premises counts)",
        "sha256": {f.name: r["sha256"] for f, r in zip(files, recs, strict=True)}})


@dg.asset(group_name=GROUP, kinds={"duckdb"},
          description="GMCA DERI v1.6 broadband component by LSOA 2011 (0-10, higher = worse). "
          "Optional fallback.")
def stg_deri_broadband(context: dg.AssetExecutionContext, dedi_paths: DediPaths,
                       staging_db: DuckDBResource) -> dg.MaterializeResult:
    path = dedi_paths.raw / connectivity.TOPIC / connectivity.DERI_FILE
    with staging_db.get_connection() as conn:
        if not path.exists():
            return stage_absent(conn, "stg_deri_broadband", "lsoa11_code VARCHAR, "
                                "broadband_component DOUBLE, data_status VARCHAR", f"{path} absent")
        df = connectivity.read_deri_broadband(path)
        return stage_source(conn, "stg_deri_broadband", df, file_record(path, df))


@dg.asset(group_name=GROUP, kinds={"duckdb"},
          deps=[stg_ofcom_postcode_coverage, stg_deri_broadband, "stg_postcode_directory",
                "stg_lsoa11_lsoa21", "int_lsoa_geography"],
          description="Best connectivity input per LSOA 2021: Ofcom postcode coverage when "
          "present (premises-weighted % premises unable to receive 30 Mbit/s), otherwise the "
          "DERI broadband component harmonised from LSOA 2011.")
def int_connectivity_lsoa(staging_db: DuckDBResource) -> dg.MaterializeResult:
    with staging_db.get_connection() as conn:
        n_ofcom = conn.execute("SELECT count(*) FROM stg_ofcom_postcode_coverage").fetchone()[0]
        n_pcd = conn.execute("SELECT count(*) FROM stg_postcode_directory").fetchone()[0]
        if n_ofcom and n_pcd:
            return _from_ofcom(conn)
        if conn.execute("SELECT count(*) FROM stg_deri_broadband").fetchone()[0]:
            return _from_deri(conn, note="" if not n_ofcom else
                              "Ofcom files present but no ONS Postcode Directory to place them")
    raise SourceError("connectivity/", "no connectivity input: supply Ofcom postcode coverage "
                      "files plus the ONS Postcode Directory, or the DERI broadband component")


def _from_ofcom(conn) -> dg.MaterializeResult:
    run_sql_model(conn, "int_connectivity_postcode_lsoa")
    files = [r[0] for r in conn.execute(
        "SELECT DISTINCT source_file FROM stg_ofcom_postcode_coverage").fetchall()]
    vintage = sorted({m.group(1) for f in files if (m := re.search(r"(\d{6})_fixed", f))})
    status = conn.execute("SELECT any_value(data_status) FROM stg_ofcom_postcode_coverage"
                          ).fetchone()[0]
    conn.execute(f"""
        CREATE OR REPLACE TABLE int_connectivity_lsoa AS
        SELECT g.lsoa21_code, c.pct_premises_below_30mbit AS connectivity_exclusion,
               '{OFCOM_SOURCE}' AS connectivity_source,
               '{",".join(vintage) or "unknown"}' AS connectivity_vintage,
               false AS connectivity_imputed, '{status}' AS data_status,
               c.postcodes, c.pct_premises_without_gigabit
        FROM int_lsoa_geography g LEFT JOIN int_connectivity_postcode_lsoa c USING (lsoa21_code)
        ORDER BY 1""")
    placed = conn.execute("""
        SELECT sum(COALESCE(c.premises, 1)),
               sum(COALESCE(c.premises, 1)) FILTER (WHERE d.postcode IS NULL),
               sum(COALESCE(c.premises, 1)) FILTER (WHERE d.postcode IS NOT NULL AND
                   NOT COALESCE(regexp_matches(d.lsoa21_code, '^E01[0-9]{6}$'), false)),
               sum(COALESCE(c.premises, 1)) FILTER (WHERE d.terminated),
               count(*) FILTER (WHERE d.postcode IS NULL)
        FROM stg_ofcom_postcode_coverage c
        LEFT JOIN stg_postcode_directory d USING (postcode)""").fetchone()
    total, not_found, not_england, terminated, pc_not_found = (v or 0 for v in placed)
    n, with_value = conn.execute("SELECT count(*), count(connectivity_exclusion) "
                                 "FROM int_connectivity_lsoa").fetchone()
    share = (not_found + not_england) / total if total else None
    write_table(conn, "connectivity_placement", pd.DataFrame([{
        "premises": total, "premises_postcode_not_in_directory": not_found,
        "premises_outside_england": not_england, "premises_in_terminated_postcodes": terminated,
        "postcodes_not_in_directory": pc_not_found, "share_premises_not_placed": share}]))
    return dg.MaterializeResult(metadata={
        "dagster/row_count": n, "connectivity_source": OFCOM_SOURCE, "vintage": vintage,
        "indicator": "% premises unable to receive 30 Mbit/s (premises-weighted over postcodes)",
        "lsoas_with_value": with_value,
        "share_premises_not_placed": round(share, 6) if share is not None else None,
        "premises_postcode_not_in_directory": not_found, "postcodes_not_in_directory": pc_not_found,
        "premises_outside_england": not_england,
        "premises_in_terminated_postcodes_placed": terminated})


def _from_deri(conn, note: str) -> dg.MaterializeResult:
    values = read_table(conn, "stg_deri_broadband")
    lookup = read_table(conn, "stg_lsoa11_lsoa21")
    out, rep = harmonise_lsoa11_to_lsoa21(values, lookup, ["broadband_component"])
    status = values["data_status"].iloc[0]
    geo = conn.execute("SELECT lsoa21_code FROM int_lsoa_geography").df()
    out = geo.merge(out, on="lsoa21_code", how="left")
    frame = out.assign(
        connectivity_exclusion=out["broadband_component"], connectivity_source=DERI_SOURCE,
        connectivity_vintage="2022-05", connectivity_imputed=out["change_code"].isin(["S", "M", "X"]),
        data_status=status)[["lsoa21_code", "connectivity_exclusion", "connectivity_source",
                             "connectivity_vintage", "connectivity_imputed", "data_status",
                             "change_code", "n_lsoa11_sources"]]
    write_table(conn, "int_connectivity_lsoa", frame)
    return dg.MaterializeResult(metadata={
        "dagster/row_count": len(frame), "connectivity_source": DERI_SOURCE,
        "lsoas_with_value": int(frame["connectivity_exclusion"].notna().sum()),
        "lsoa21_by_change_code": rep.lsoa21_by_change, "complex_X_lsoa21": rep.complex_lsoa21,
        "lsoa11_not_in_lookup": rep.lsoa11_not_in_lookup[:50],
        "lsoa21_without_value": rep.lsoa21_without_value[:50],
        "merged_weighting": rep.weighting + " (no LSOA 2011 populations available)",
        "note": note})


stg_ofcom_expectations = gx_check(stg_ofcom_postcode_coverage, "ofcom_postcode_coverage")
stg_deri_expectations = gx_check(stg_deri_broadband, "deri_broadband")
