"""Connectivity: Ofcom postcode coverage (preferred) or the DERI broadband component (fallback)."""

import re

import dagster as dg
import numpy as np
import pandas as pd
from dagster_duckdb import DuckDBResource

from pipeline.build.resources import DediPaths
from pipeline.defs._checks import gx_check
from pipeline.defs._staging import (
    file_asset,
    forget_sources,
    read_table,
    run_sql_model,
    source_files,
    stage_absent,
    stamp_provenance,
    warn,
    write_table,
)
from pipeline.method.harmonise import fill_on_primary_scale, harmonise_lsoa11_to_lsoa21
from pipeline.sources import connectivity
from pipeline.sources.common import SourceError, find_one

GROUP = "connectivity"
OFCOM_SOURCE = "Ofcom Connected Nations fixed coverage by postcode"
DERI_SOURCE = ("GMCA Digital Exclusion Risk Index v1.6 broadband component (from Ofcom "
               "Connected Nations May 2022 output-area data), LSOA 2011 harmonised to LSOA 2021")
FILE8_SOURCE = ("IoD 2025 broadband download and upload speeds indicator (File 8, Barriers "
                "domain)")
# what connectivity_exclusion holds when each source is the primary one (fallbacks are mapped
# onto the primary's scale, so an LSOA's units are its build's primary source's)
UNITS = {OFCOM_SOURCE: "per cent of premises unable to receive 30 Mbit/s",
         FILE8_SOURCE: "standardised score (IoD 2025 broadband indicator: mean 0, sd 1 over "
                       "LSOAs; higher = slower)",
         DERI_SOURCE: "score 0-10 (DERI broadband component; higher = worse)"}
VINTAGES = {OFCOM_SOURCE: "unknown", FILE8_SOURCE: "IoD 2025 (Ofcom Connected Nations data)",
            DERI_SOURCE: "2022-05"}


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
        forget_sources(conn, "stg_ofcom_postcode_coverage")  # files of an earlier build too
        recs = [stamp_provenance(conn, f"stg_ofcom_postcode_coverage:{f.name}", f,
                                 facts["postcodes"]) for f in files]
        status = "synthetic" if any(r["data_status"] == "synthetic" for r in recs) else "real"
        conn.execute("ALTER TABLE stg_ofcom_postcode_coverage ADD COLUMN data_status VARCHAR "
                     f"DEFAULT '{status}'")
    return dg.MaterializeResult(metadata={
        **facts, "dagster/row_count": facts["postcodes"], "data_status": status,
        "weighting": "premises" if facts["postcodes_with_premises"] else
                     "equal weight per postcode (release has no premises counts)",
        "sha256": {f.name: r["sha256"] for f, r in zip(files, recs, strict=True)}})


stg_deri_broadband = file_asset(
    "stg_deri_broadband", GROUP, "GMCA DERI v1.6 broadband component by LSOA 2011 (0-10, higher "
    "= worse). Optional fallback.",
    lambda raw: find_one(raw, connectivity.TOPIC, [connectivity.DERI_FILE]),
    connectivity.read_deri_broadband,
    absent_columns="lsoa11_code VARCHAR, broadband_component DOUBLE, data_status VARCHAR")


@dg.asset(group_name=GROUP, kinds={"duckdb"},
          deps=[stg_ofcom_postcode_coverage, stg_deri_broadband, "stg_postcode_directory",
                "stg_lsoa11_lsoa21", "int_lsoa_geography", "int_iod_indicators"],
          description="Best connectivity input per LSOA 2021, in order: Ofcom postcode coverage "
          "(premises-weighted % premises unable to receive 30 Mbit/s) when supplied with the "
          "ONS Postcode Directory; the IoD 2025 broadband speeds indicator (File 8, default); the "
          "DERI broadband component harmonised from LSOA 2011. connectivity_source says which "
          "each LSOA used; fallbacks are quantile-mapped onto the primary source's scale.",
          metadata={"dedi/also_writes": ["int_connectivity_postcode_lsoa",
                                         "int_connectivity_placement"]})
def int_connectivity_lsoa(context: dg.AssetExecutionContext,
                          staging_db: DuckDBResource) -> dg.MaterializeResult:
    with staging_db.get_connection() as conn:
        geo = conn.execute("SELECT lsoa21_code FROM int_lsoa_geography ORDER BY 1").df()
        candidates, meta = [], {}
        n_ofcom = conn.execute("SELECT count(*) FROM stg_ofcom_postcode_coverage").fetchone()[0]
        n_pcd = conn.execute("SELECT count(*) FROM stg_postcode_directory").fetchone()[0]
        if n_ofcom and n_pcd:
            values, meta["ofcom"] = _from_ofcom(conn)
            candidates.append((OFCOM_SOURCE, values))
        elif n_ofcom:
            meta["note"] = "Ofcom files present but no ONS Postcode Directory to place them"
        f8 = conn.execute("SELECT lsoa21_code, broadband_speeds FROM int_iod_indicators").df()
        if f8["broadband_speeds"].notna().any():
            candidates.append((FILE8_SOURCE, f8.set_index("lsoa21_code")["broadband_speeds"]))
        if conn.execute("SELECT count(*) FROM stg_deri_broadband").fetchone()[0]:
            values, meta["deri"] = _from_deri(conn)
            candidates.append((DERI_SOURCE, values))
        if not candidates:
            raise SourceError("connectivity/", "no connectivity input: supply IoD 2025 File 8 "
                              "(iod/), Ofcom postcode coverage files plus the ONS Postcode "
                              "Directory (connectivity/, geography/), or the DERI broadband "
                              "component (connectivity/)")
        vintages = {**VINTAGES, OFCOM_SOURCE: ",".join(meta.get("ofcom", {}).get("vintage", []))
                    or "unknown"}
        idx = geo["lsoa21_code"]
        value = candidates[0][1].reindex(idx)
        source = pd.Series(np.where(value.notna(), candidates[0][0], None), index=idx)
        for name, fallback in candidates[1:]:
            gap = value.isna() & fallback.reindex(idx).notna()
            value = fill_on_primary_scale(value, fallback.reindex(idx))
            source[gap] = name
        imputed = source.ne(candidates[0][0]) & value.notna()
        _warn_fallback(context.log, conn, n_ofcom, n_pcd, candidates[0][0], source)
        frame = pd.DataFrame({
            "lsoa21_code": idx.to_numpy(), "connectivity_exclusion": value.to_numpy(),
            "connectivity_source": source.to_numpy(),
            "connectivity_vintage": source.map(vintages).to_numpy(),
            "connectivity_units": np.where(value.notna(), UNITS[candidates[0][0]], None),
            "connectivity_imputed": imputed.to_numpy()})
        if "deri" in meta:  # DERI values of split/merged/complex LSOAs are harmonised
            h = meta["deri"].pop("harmonised_lsoa21")
            frame["connectivity_imputed"] |= (frame["connectivity_source"] == DERI_SOURCE) & \
                frame["lsoa21_code"].isin(h)
        write_table(conn, "int_connectivity_lsoa", frame)
    used = frame["connectivity_source"].value_counts().to_dict()
    return dg.MaterializeResult(metadata={
        "dagster/row_count": len(frame), "primary_source": candidates[0][0],
        "lsoas_by_source": {str(k): int(v) for k, v in used.items()},
        "lsoas_with_value": int(frame["connectivity_exclusion"].notna().sum()),
        "fallback_method": "quantile-mapped onto the primary source's distribution",
        **{k: v for k, v in meta.items() if v}})


def _warn_fallback(log, conn, n_ofcom: int, n_pcd: int, primary: str,
                   source: pd.Series) -> None:
    """Ofcom files were supplied but some (or all) LSOAs fell back to another source."""
    if not n_ofcom:
        return  # no Ofcom file: File 8 is the primary source, nothing fell back
    files = source_files(conn, ["stg_ofcom_postcode_coverage"]).get(
        "stg_ofcom_postcode_coverage", "the Ofcom postcode coverage files")
    fell = int(source.ne(OFCOM_SOURCE).sum())
    if not n_pcd:
        warn(log, files, f"Ofcom postcode coverage supplied but no ONS Postcode Directory "
             f"(geography/) to place it: all {fell:,} LSOAs use {primary}",
             "lsoa_indicators.connectivity_source says which source each LSOA used")
    elif fell:
        pcd = source_files(conn, ["stg_postcode_directory"]).get("stg_postcode_directory")
        warn(log, files, f"{fell:,} of {len(source):,} LSOAs got no Ofcom value (postcodes "
             f"not in the ONS Postcode Directory {pcd}, or no premises) and use a fallback "
             "source",
             "lsoa_indicators.connectivity_source says which source each LSOA used")


def _from_ofcom(conn) -> tuple[pd.Series, dict]:
    """% premises unable to receive 30 Mbit/s per LSOA, and a placement report."""
    run_sql_model(conn, "int_connectivity_postcode_lsoa")
    files = [r[0] for r in conn.execute(
        "SELECT DISTINCT source_file FROM stg_ofcom_postcode_coverage").fetchall()]
    vintage = sorted({m.group(1) for f in files if (m := re.search(r"(\d{6})_fixed", f))})
    values = conn.execute("SELECT lsoa21_code, pct_premises_below_30mbit FROM "
                          "int_connectivity_postcode_lsoa").df()
    run_sql_model(conn, "int_connectivity_placement")
    (total, not_found, not_england, terminated, pc_not_found, share) = conn.execute(
        "SELECT * FROM int_connectivity_placement").fetchone()
    return values.set_index("lsoa21_code")["pct_premises_below_30mbit"], {
        "vintage": vintage,
        "indicator": "% premises unable to receive 30 Mbit/s (premises-weighted over postcodes)",
        "share_premises_not_placed": round(share, 6) if share is not None else None,
        "premises_postcode_not_in_directory": not_found, "postcodes_not_in_directory": pc_not_found,
        "premises_outside_england": not_england,
        "premises_in_terminated_postcodes_placed": terminated}


def _from_deri(conn) -> tuple[pd.Series, dict]:
    """The DERI broadband component harmonised to LSOA 2021, and a harmonisation report."""
    values = read_table(conn, "stg_deri_broadband")
    lookup = read_table(conn, "stg_lsoa11_lsoa21")
    out, rep = harmonise_lsoa11_to_lsoa21(values, lookup, ["broadband_component"])
    return out.set_index("lsoa21_code")["broadband_component"], {
        "harmonised_lsoa21": out.loc[out["change_code"].isin(["S", "M", "X"]),
                                     "lsoa21_code"].tolist(),
        "lsoa21_by_change_code": rep.lsoa21_by_change, "complex_X_lsoa21": rep.complex_lsoa21,
        "lsoa11_not_in_lookup": rep.lsoa11_not_in_lookup[:50],
        "lsoa21_without_value": rep.lsoa21_without_value[:50],
        "merged_weighting": rep.weighting + " (no LSOA 2011 populations available)"}


stg_ofcom_expectations = gx_check(stg_ofcom_postcode_coverage, "ofcom_postcode_coverage")
stg_deri_expectations = gx_check(stg_deri_broadband, "deri_broadband")
