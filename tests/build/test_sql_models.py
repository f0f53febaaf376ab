"""The SQL models in assets/*.sql on small hand-computed tables."""

import duckdb
import pandas as pd
import pytest

from pipeline.config import settings
from pipeline.defs._staging import run_sql_model


def _db(**tables: pd.DataFrame) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    for name, df in tables.items():
        con.register("_t", df)
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM _t")
        con.unregister("_t")
    return con


def test_nhs_app_apportionment_hand_computed():
    patients = pd.DataFrame({
        "practice_code": ["A", "A", "A", "B", "B", "C", "D"],
        "lsoa_code": ["E01000001", "E01000002", "W01000001", "E01000001", "E01000002",
                      "E01000002", "E01000003"],
        "patients": [80.0, 15.0, 5.0, 50.0, 50.0, 40.0, 30.0]})
    app = pd.DataFrame({"practice_code": ["A", "B", "C", "E", "A", "B"],
                        "month": ["2026-10"] * 4 + ["2026-09"] * 2,
                        "registrations": [60.0, 30.0, 40.0, 99.0, 50.0, 20.0]})
    ods = pd.DataFrame({"practice_code": ["A", "B", "C", "D"], "status_code": ["A", "A", "C", "A"]})
    con = _db(stg_gp_patients_lsoa=patients, stg_nhs_app_practice_monthly=app,
              stg_gp_practices=ods)
    con.execute("SET VARIABLE min_registered_patients = 70")
    for model in ("stg_nhs_app_practice", "int_nhs_app_uptake_lsoa_monthly",
                  "int_nhs_app_uptake_lsoa"):
        run_sql_model(con, model)
    sep = con.execute("SELECT nhs_app_uptake FROM int_nhs_app_uptake_lsoa_monthly WHERE "
                      "month = '2026-09' AND lsoa21_code = 'E01000001'").fetchone()[0]
    assert sep == pytest.approx((50 * 80 / 100 + 20 * 50 / 100) / 130)  # each month its own
    out = con.execute("SELECT * FROM int_nhs_app_uptake_lsoa").df().set_index("lsoa21_code")
    # A: 60 registrations over 100 patients (5 in Wales count in A's list); B: 30 over 100.
    # C is closed, D has no app data, E has no patients: all excluded.
    assert out.loc["E01000001", "nhs_app_uptake"] == pytest.approx((60 * 80 / 100 + 30 * 50 / 100)
                                                                   / 130)
    assert out.loc["E01000002", "registered_patients"] == 65
    assert pd.isna(out.loc["E01000002", "nhs_app_uptake"])  # 65 < minimum 70
    assert "E01000003" not in out.index and "W01000001" not in out.index
    assert out.loc["E01000001", "practices"] == 2


def test_connectivity_premises_weighted_and_unplaced_left_out():
    cov = pd.DataFrame({"postcode": ["AB1 1AA", "AB1 1AB", "AB1 1AD", "ZZ9 9ZZ", "CF1 1AA"],
                        "premises": [10.0, 30.0, None, 5.0, 8.0],
                        "pct_below_30mbit": [0.0, 40.0, 100.0, 100.0, 50.0],
                        "pct_below_10mbit": [0.0, 10.0, 50.0, 0.0, 0.0],
                        "pct_gigabit": [100.0, 50.0, 0.0, 0.0, 0.0],
                        "pct_below_uso": [0.0, None, 20.0, 0.0, 0.0]})
    pcd = pd.DataFrame({"postcode": ["AB1 1AA", "AB1 1AB", "AB1 1AD", "CF1 1AA"],
                        "lsoa21_code": ["E01000001", "E01000001", "E01000002", "W01000001"],
                        "terminated": [False, True, False, False]})
    con = _db(stg_ofcom_postcode_coverage=cov, stg_postcode_directory=pcd)
    run_sql_model(con, "int_connectivity_postcode_lsoa")
    out = con.execute("SELECT * FROM int_connectivity_postcode_lsoa").df().set_index("lsoa21_code")
    assert list(out.index) == ["E01000001", "E01000002"]  # unknown and Welsh postcodes left out
    assert out.loc["E01000001", "pct_premises_below_30mbit"] == pytest.approx(30.0)  # (0*10+40*30)/40
    assert out.loc["E01000001", "pct_premises_without_gigabit"] == pytest.approx(100 - 62.5)
    assert out.loc["E01000001", "pct_premises_below_uso"] == pytest.approx(0.0)  # NULL ignored
    assert out.loc["E01000002", "premises_weight"] == 1  # no premises count: weight 1


def test_local_proxy_rates_use_census_denominator_when_absent():
    p = pd.DataFrame({"la_code": ["E08000015"] * 3, "proxy": ["assisted_bin_collection"] * 2
                      + ["pupil_premium"], "lsoa21_code": ["E01000001", "E01000002", "E01000001"],
                      "count": [13.0, 0.0, 40.0], "denominator": [None, None, 200.0],
                      "denominator_name": ["households", "households", "children_0_15"],
                      "data_status": "real", "source_file": "f.csv"})
    dated = p.iloc[[0]].assign(count=26.0, period="2025")  # an older period, not current
    con = _db(stg_local_proxies=p, stg_local_proxy_periods=dated,
              stg_census21_households=pd.DataFrame({"lsoa21_code": ["E01000001", "E01000002"],
                                                    "households": [650.0, 500.0]}),
              stg_census21_population=pd.DataFrame({"lsoa21_code": ["E01000001"],
                                                    "usual_residents": [1500.0]}),
              stg_census21_children=pd.DataFrame({"lsoa21_code": ["E01000001"],
                                                  "children_0_15": [300.0]}))
    run_sql_model(con, "int_local_proxy_rates")
    out = con.execute("SELECT proxy, lsoa21_code, rate_pct, denominator_source "
                      "FROM int_local_proxy_rates WHERE vintage = 'current'").fetchall()
    assert con.execute("SELECT rate_pct FROM int_local_proxy_rates WHERE vintage = '2025'"
                       ).fetchall() == [(pytest.approx(4.0),)]
    assert out == [("assisted_bin_collection", "E01000001", pytest.approx(2.0),
                    "Census 2021 households"),
                   ("assisted_bin_collection", "E01000002", 0.0, "Census 2021 households"),
                   ("pupil_premium", "E01000001", 20.0, "supplied in file")]


def test_gp_practice_lsoa_leaves_out_small_practices_and_other_lsoas():
    """A practice is its patients in this build's England LSOAs; one whose total there is a
    small count (1 to min_count - 1, settings.yaml: 10) is left out whole, rows of no patients
    dropped."""
    patients = pd.DataFrame({
        "practice_code": ["A", "A", "A", "B", "B", "C", "D"],
        "lsoa_code": ["E01000001", "E01000002", "W01000001", "E01000001", "W01000002",
                      "E01000002", "E01000001"],
        "patients": [80.0, 0.0, 500.0, 4.0, 900.0, 10.0, 12.0]})
    ods = pd.DataFrame({"practice_code": ["A", "B", "C"],
                        "practice_name": ["ALPHA SURGERY", "BETA", "GAMMA"]})
    geo = pd.DataFrame({"lsoa21_code": ["E01000001", "E01000002"]})
    con = _db(stg_gp_patients_lsoa=patients, stg_gp_practices=ods, int_lsoa_geography=geo)
    assert settings()["suppression"]["min_count"] == 10  # what the model runner sets
    run_sql_model(con, "int_gp_practice_lsoa")
    run_sql_model(con, "gp_practice_catchment")
    out = con.execute("SELECT * FROM int_gp_practice_lsoa").df()
    # A: 80 in England (its 500 in Wales do not make it larger here); B: 4 in England, small;
    # C: 10 = min_count, kept; D: 12, kept under its code (no epraccur row)
    assert out.values.tolist() == [["A", "ALPHA SURGERY", "E01000001", 80.0],
                                   ["C", "GAMMA", "E01000002", 10.0],
                                   ["D", "D", "E01000001", 12.0]]
    catchment = con.execute("SELECT * FROM gp_practice_catchment").df()
    assert list(catchment.columns) == ["practice_code", "practice_name", "lsoa21_code"]
    assert len(catchment) == 3
