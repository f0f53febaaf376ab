"""Readers of the digital-exclusion inputs on fixtures in the exact official formats."""

import zipfile

import duckdb
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from pipeline.method.school_fsm import lsoa_fsm_rate
from pipeline.sources import census, connectivity, gp, local_proxies, nhs_app, postcodes, schools
from pipeline.sources.common import SourceError

OFCOM_HEADERS = ["postcode", "postcode_space", "postcode area", "All Premises",
                 "SFBB availability (% premises)", "UFBB (100Mbit/s) availability (% premises)",
                 "UFBB availability (% premises)", "Gigabit availability (% premises)",
                 "% of premises unable to receive 10Mbit/s",
                 "% of premises unable to receive 30Mbit/s", "% of premises below the USO"]


def _ofcom_zip(path, areas: dict[str, pd.DataFrame]):
    with zipfile.ZipFile(path, "w") as z:
        for a, df in areas.items():
            z.writestr(f"202601_fixed_postcode_coverage_r01_{a}.csv",
                       "\ufeff" + df.to_csv(index=False))


def _ofcom_rows(pcs, below30):
    return pd.DataFrame({"postcode": [p.replace(" ", "") for p in pcs], "postcode_space": pcs,
                         "postcode area": [p[:2] for p in pcs], "All Premises": 10,
                         "SFBB availability (% premises)": 100,
                         "UFBB (100Mbit/s) availability (% premises)": 90,
                         "UFBB availability (% premises)": 90,
                         "Gigabit availability (% premises)": 80,
                         "% of premises unable to receive 10Mbit/s": 0,
                         "% of premises unable to receive 30Mbit/s": below30,
                         "% of premises below the USO": 0})


def test_ofcom_zip_reordered_extra_suppressed_and_nospace(tmp_path):
    ab = _ofcom_rows(["AB1 1AA", "AB1 1AB", "AB10 7XY"], ["5.5", "*", "c"])
    ab = ab[OFCOM_HEADERS[::-1]].assign(**{"Some future column": "x"})  # reordered + extra
    cf = _ofcom_rows(["CF10 1AA"], ["..", ])[["postcode"] + OFCOM_HEADERS[2:]]  # no postcode_space
    assert connectivity.locate_ofcom(tmp_path) == []
    (tmp_path / "connectivity").mkdir()
    _ofcom_zip(tmp_path / "connectivity" / "202601_fixed_postcode_coverage_r01.zip",
               {"AB": ab, "CF": cf})
    files = connectivity.locate_ofcom(tmp_path)
    con = duckdb.connect()
    facts = connectivity.stage_ofcom_coverage(con, files, "cov")
    df = con.execute("SELECT * FROM cov ORDER BY postcode").df()
    assert facts == {"files": 2, "postcodes": 4, "postcodes_with_premises": 4}
    assert df["postcode"].tolist() == ["AB1 1AA", "AB1 1AB", "AB10 7XY", "CF10 1AA"]
    assert df["pct_below_30mbit"].tolist()[0] == 5.5
    assert df["pct_below_30mbit"].isna().tolist() == [False, True, True, True]


def test_ofcom_bad_number_names_file_column_and_postcode(tmp_path):
    (tmp_path / "connectivity").mkdir()
    bad = _ofcom_rows(["AB1 1AA", "AB1 1AB"], ["5.5", "n/a"])
    f = tmp_path / "connectivity" / "202601_fixed_postcode_coverage_r01_AB.csv"
    bad.to_csv(f, index=False)
    with pytest.raises(SourceError, match=r"AB\.csv.*'% of premises unable to receive 30Mbit/s'"
                       r".*'n/a'.*AB1 1AB"):
        connectivity.stage_ofcom_coverage(duckdb.connect(), [f], "cov")


def test_ofcom_missing_column(tmp_path):
    f = tmp_path / "202601_fixed_postcode_coverage_r01_AB.csv"
    _ofcom_rows(["AB1 1AA"], [1]).drop(columns=["% of premises unable to receive 30Mbit/s"]
                                       ).to_csv(f, index=False)
    with pytest.raises(SourceError, match="'% of premises unable to receive 30Mbit/s'"):
        connectivity.stage_ofcom_coverage(duckdb.connect(), [f], "cov")


def test_postcode_directory_terminated_and_normalised(tmp_path):
    f = tmp_path / "ONSPD_NOV_2026_UK.csv"
    pd.DataFrame({"pcd": ["AB1 1AA", "ab11ab"], "pcds": ["AB1 1AA", "ab1 1ab"],
                  "doterm": ["", "202001"], "oseast1m": ["394251", ""],
                  "osnrth1m": ["806376", ""], "lsoa21cd": ["S01006514", "S01006514"],
                  "ctry25cd": ["S92000003"] * 2, "extra": 1}).to_csv(f, index=False)
    con = duckdb.connect()
    facts = postcodes.stage_postcode_directory(con, [f], "pcd", tmp_path)
    assert facts["postcodes"] == 2 and facts["live_postcodes"] == 1
    assert con.execute("SELECT postcode, terminated FROM pcd ORDER BY 1").fetchall() == [
        ("AB1 1AA", False), ("AB1 1AB", True)]


def test_gp_patients_all_rows_or_sexes_summed(tmp_path):
    f = tmp_path / "gp-reg-pat-prac-lsoa-all.csv"
    pd.DataFrame({"PUBLICATION": "GP_PRAC_PAT_LIST", "EXTRACT_DATE": "01NOV2026",
                  "PRACTICE_CODE": ["A81001"] * 3 + ["B82002"] * 2,
                  "PRACTICE_NAME": "X", "LSOA_CODE": ["E01000001"] * 3 + ["E01000002"] * 2,
                  "SEX": ["ALL", "MALE", "FEMALE", "MALE", "FEMALE"],
                  "NUMBER_OF_PATIENTS": ["100", "45", "55", "7", "*"]}
                 ).to_csv(f, index=False, encoding="utf-8-sig")
    out = gp.read_patients_by_lsoa(f).set_index("practice_code")["patients"]
    assert out.to_dict() == {"A81001": 100.0, "B82002": 7.0}


def test_gp_patients_unexpected_sex(tmp_path):
    f = tmp_path / "gp-reg-pat-prac-lsoa-all.csv"
    pd.DataFrame({"PRACTICE_CODE": ["A81001"], "LSOA_CODE": ["E01000001"], "SEX": ["U"],
                  "NUMBER_OF_PATIENTS": [3]}).to_csv(f, index=False)
    with pytest.raises(SourceError, match="'SEX'"):
        gp.read_patients_by_lsoa(f)


def test_epraccur_headerless_official_csv(tmp_path):
    f = tmp_path / "epraccur.csv"
    row = ["A81001", "THE DENSHAM SURGERY", "Y63", "QHM", "THE HEALTH CENTRE", "LAWSON STREET",
           "STOCKTON", "CLEVELAND", "", "TS18 1HU", "19740401", "", "A", "B", "16C", "20200401",
           "", "01642 672351", "", "", "", "0", "", "", "", "4", ""]
    f.write_text(",".join(row) + "\n" + ",".join(["A81002"] + row[1:12] + ["C"] + row[13:]) + "\n")
    df = gp.read_epraccur(f)
    assert df["practice_code"].tolist() == ["A81001", "A81002"]
    assert df["status_code"].tolist() == ["A", "C"] and df["commissioner"].iloc[0] == "16C"


def test_nhs_app_months_files_and_bad_month(tmp_path):
    folder = tmp_path / "nhs_app"
    folder.mkdir()
    multi = folder / "nhs_app_practice_registrations.csv"  # a file holding several months
    pd.DataFrame({"Practice Code": ["A81001", "A81001", "B82002"],
                  "Month": ["2026-09", "2026-10", "2026-10"], "Registrations": ["10", "12", "c"],
                  "unknown": 1}).to_csv(multi, index=False)
    pd.DataFrame({"practice_code": ["A81001"], "month": ["2026-11"], "registrations": [15]}
                 ).to_csv(folder / "nhs_app_practice_2026-11.csv", index=False)
    assert list(nhs_app.months_available(tmp_path)) == ["2026-09", "2026-10", "2026-11"]
    df, files = nhs_app.read_months(tmp_path, ["2026-10", "2026-11"])
    df = df.set_index(["practice_code", "month"])
    assert df.loc[("A81001", "2026-11"), "registrations"] == 15
    assert pd.isna(df.loc[("B82002", "2026-10"), "registrations"])  # "c" = suppressed
    assert {f.name for f in files} == {multi.name, "nhs_app_practice_2026-11.csv"}
    with pytest.raises(SourceError, match=r"no NHS App file for month\(s\) \['2026-12'\]"):
        nhs_app.read_months(tmp_path, ["2026-12"])
    # a practice-month in two files is named, with both files
    pd.DataFrame({"practice_code": ["A81001"], "month": ["2026-10"], "registrations": [12]}
                 ).to_csv(folder / "nhs_app_practice_2026-10.csv", index=False)
    with pytest.raises(SourceError, match=r"A81001 month 2026-10 appears in \["):
        nhs_app.read_months(tmp_path, ["2026-10"])
    # a file named for one month holding another
    pd.DataFrame({"practice_code": ["A81001"], "month": ["2026-09"], "registrations": [1]}
                 ).to_csv(folder / "nhs_app_practice_2026-10.csv", index=False)
    with pytest.raises(SourceError, match=r"named for 2026-10 but file row\(s\) \[2\]"):
        nhs_app.read_practice_months(folder / "nhs_app_practice_2026-10.csv")
    pd.DataFrame({"practice_code": ["A81001"], "month": ["Oct 2026"], "registrations": [1]}
                 ).to_csv(multi, index=False)
    with pytest.raises(SourceError, match=r"'month'.*row\(s\) \[2\]"):
        nhs_app.read_practice_months(multi)


def test_gias_cp1252_blank_fsm_and_range(tmp_path):
    f = tmp_path / "gias_establishments_test.csv"
    df = pd.DataFrame({"URN": [1, 2, 3], "EstablishmentName": ["Café School", "B", "C"],
                       "EstablishmentStatus (name)": ["Open", "Open", "Closed"],
                       "PhaseOfEducation (name)": ["Primary", "Not applicable", "Secondary"],
                       "NumberOfPupils": ["200", "", "900"], "PercentageFSM": ["21.7", "", "3"],
                       "Easting": ["533498", "", "1"], "Northing": ["181201", "", "1"]})
    df.to_csv(f, index=False, encoding="cp1252")
    out = schools.read_gias(f)
    assert out["name"].tolist() == ["Café School", "B"]  # closed school dropped
    assert pd.isna(out.loc[1, "pct_fsm"])
    df.loc[0, "PercentageFSM"] = "120"
    df.to_csv(f, index=False, encoding="cp1252")
    with pytest.raises(SourceError, match=r"PercentageFSM.*row\(s\) \[2\]"):
        schools.read_gias(f)


def test_census_long_table_missing_category(tmp_path):
    f = tmp_path / "dis.parquet"
    pd.DataFrame({"lsoa21_code": ["E01000001"], "disability": ["Other"], "n": [1.0],
                  "total_residents": [5.0]}).to_parquet(f)
    with pytest.raises(SourceError, match="Disabled under the Equality Act"):
        census.read_long_table(f, ["Disabled under the Equality Act"])


def test_school_fsm_hand_computed():
    lsoa = pd.DataFrame({"lsoa21_code": ["E01000001"], "x": [0.0], "y": [0.0]})
    s = pd.DataFrame({"x": [1000.0, 2000.0, 0.0, 100.0], "y": [0.0, 0.0, 3000.0, 0.0],
                      "pupils": [200.0, 400.0, 1000.0, 0.0], "pct_fsm": [10.0, 40.0, 30.0, 99.0],
                      "phase": ["Primary", "Primary", "Secondary", "Primary"]})
    out = lsoa_fsm_rate(lsoa, s, {"Primary"}, {"Secondary"}, k_primary=2, k_secondary=1, d0=500)
    w1, w2 = 200 / 1000, 400 / 2000  # the 0-pupil school is ignored
    assert out.loc[0, "fsm_primary_pct"] == pytest.approx((w1 * 10 + w2 * 40) / (w1 + w2))
    assert out.loc[0, "fsm_secondary_pct"] == 30.0
    assert out.loc[0, "fsm_pct"] == pytest.approx((7 * 25 + 5 * 30) / 12)


# --- local data contract ---------------------------------------------------------------

def _la_polygons() -> gpd.GeoDataFrame:
    """Four 1 km squares in British National Grid: three in LA E08000015, one in E08000014."""
    cells = [box(330000 + i * 1000, 380000, 331000 + i * 1000, 381000) for i in range(4)]
    return gpd.GeoDataFrame({"lsoa21_code": [f"E0100000{i}" for i in range(1, 5)],
                             "ltla24_code": ["E08000015"] * 3 + ["E08000014"]},
                            geometry=cells, crs="EPSG:27700").to_crs("EPSG:4326")


def test_records_easting_northing_reports_outside(tmp_path):
    f = tmp_path / "assisted_bin_collection.csv"
    pd.DataFrame({"uprn": range(7),
                  "easting": [330500, 330600, 331500, 332500, 333500, 340000, None],
                  "northing": [380500] * 6 + [None]}).to_csv(f, index=False)
    counts, rep = local_proxies.count_records(duckdb.connect(), f, _la_polygons(), "E08000015")
    assert counts.set_index("lsoa21_code")["count"].to_dict() == {
        "E01000001": 2, "E01000002": 1, "E01000003": 1}
    assert rep.pop("dropped") == [(6, "in another LA (E08000014)"),  # file rows, quarantined
                                  (7, "outside every LSOA in England"),
                                  (8, "no location (unknown postcode or no coordinates)")]
    assert rep == {"records": 7, "no_location": 1, "outside_any_lsoa": 1, "outside_la": 1}


def test_records_lat_lon_and_postcode(tmp_path):
    polys = _la_polygons()
    c = polys.representative_point()
    f = tmp_path / "housing_condition.csv"
    pd.DataFrame({"Latitude": [c.y[0], c.y[1]], "Longitude": [c.x[0], c.x[1]]}).to_csv(f, index=False)
    counts, rep = local_proxies.count_records(duckdb.connect(), f, polys, "E08000015")
    assert counts["count"].tolist() == [1, 1, 0] and rep["records"] == 2
    con = duckdb.connect()
    con.execute("CREATE TABLE pcd AS SELECT * FROM (VALUES ('CH41 1AA', 330500.0, 380500.0)) "
                "t(postcode, easting, northing)")
    g = tmp_path / "english_second_language.csv"
    pd.DataFrame({"postcode": ["ch411aa", "CH41 1AA", "ZZ99 9ZZ"]}).to_csv(g, index=False)
    counts, rep = local_proxies.count_records(con, g, polys, "E08000015", "pcd")
    assert counts["count"].tolist() == [2, 0, 0] and rep["no_location"] == 1
    with pytest.raises(SourceError, match="Postcode Directory"):
        local_proxies.count_records(con, g, polys, "E08000015", None)


def test_counts_form_suppressed_stay_missing(tmp_path):
    f = tmp_path / "pupil_premium.csv"
    pd.DataFrame({"LSOA21CD": ["E01000001", "E01000002"], "count": ["25", "*"]}
                 ).to_csv(f, index=False)
    df = local_proxies.read_counts(f)
    assert df["count"].iloc[0] == 25 and pd.isna(df["count"].iloc[1])
    assert local_proxies.file_form(duckdb.connect(), f) == "counts"


def test_local_contract_rejects_unknown_names(tmp_path):
    (tmp_path / "local" / "E08000015").mkdir(parents=True)
    (tmp_path / "local" / "E08000015" / "bins.csv").write_text("a\n1\n")
    with pytest.raises(SourceError, match="unknown proxy 'bins'"):
        local_proxies.discover(tmp_path)
    (tmp_path / "local" / "E08000015" / "bins.csv").unlink()
    (tmp_path / "local" / "Wirral").mkdir()
    with pytest.raises(SourceError, match="local authority code"):
        local_proxies.discover(tmp_path)



def test_census_nomis_bulk_wide_csvs(tmp_path):
    """The official Nomis bulk downloads (census2021-tsNNN-lsoa.csv) read like the tidy copies."""
    f = tmp_path / "census2021-ts038-lsoa.csv"
    pd.DataFrame({"date": 2021, "geography": ["City of London 001A", "Cardiff 001A"],
                  "geography code": ["E01000001", "W01001701"],
                  "Disability: Total: All usual residents": [1475, 1600],
                  "Disability: Disabled under the Equality Act": [152, 300],
                  "Disability: Not disabled under the Equality Act": [1323, 1300]}
                 ).to_csv(f, index=False, encoding="utf-8-sig")
    out = census.read_long_table(f, ["Disabled under the Equality Act"], "ts038")
    assert out.to_dict("records") == [{"lsoa21_code": "E01000001", "total": 1475.0,
                                       "Disabled under the Equality Act": 152.0}]
    g = tmp_path / "census2021-ts052-lsoa.csv"
    pd.DataFrame({"geography code": ["E01000001"],
                  "Occupancy rating for bedrooms: Total: All households": [840],
                  "Occupancy rating for bedrooms: Occupancy rating of bedrooms: -1": [20],
                  "Occupancy rating for bedrooms: Occupancy rating of bedrooms: -2 or less": [3]}
                 ).to_csv(g, index=False)
    out = census.read_long_table(g, ["-1 (overcrowded)", "-2 or less (overcrowded)"], "ts052")
    assert out[["-1 (overcrowded)", "-2 or less (overcrowded)", "total"]].iloc[0].tolist() == [
        20, 3, 840]
    h = tmp_path / "census2021-ts029-msoa.csv"
    pre = "Proficiency in English language: "
    pd.DataFrame({"geography code": ["E02000001"],
                  pre + "Main language is English (English or Welsh in Wales)": [6624],
                  pre + "Main language is not English (English or Welsh in Wales)": [1826],
                  pre + census.PROF_WELL: [100], pre + census.PROF_NONE: [20]}).to_csv(h, index=False)
    p = census.read_proficiency_msoa(h)
    assert p[["residents", "cannot_speak_english_well"]].iloc[0].tolist() == [8450, 120]


def _file8_workbook(path, codes, values, notes=True):
    """IoD 2025 File 8 in the official layout: a Notes sheet, then one sheet per domain with
    headers in row 1 keyed by 'LSOA code (2021)'."""
    with pd.ExcelWriter(path, engine="openpyxl") as xw:
        if notes:
            pd.DataFrame({"Notes": ["File 8: underlying indicators"]}).to_excel(
                xw, sheet_name="Notes", index=False)
        key = {"LSOA code (2021)": codes, "LSOA name (2021)": [f"Somewhere {c[-3:]}" for c in codes]}
        pd.DataFrame({**key, "Income Domain numerator": 1.0,
                      "Income Deprivation Affecting Older People Index (IDAOPI) numerator":
                          values["idaopi"]}).to_excel(xw, sheet_name="IoD25 Income Domain",
                                                      index=False)
        pd.DataFrame({**key, "Adult skills and English language proficiency indicator":
                      values["skills"]}).to_excel(xw, sheet_name="IoD25 Education Domain",
                                                  index=False)
        pd.DataFrame({**key, "Comparative illness and disability ratio indicator":
                      values["cidr"]}).to_excel(xw, sheet_name="IoD25 Health Domain", index=False)
        pd.DataFrame({**key, "Digital connectivity (broadband download and upload speeds)":
                      values["bb"]}).to_excel(xw, sheet_name="IoD25 Barriers Domain", index=False)


def test_file8_official_workbook_reads_like_the_tidy_copy(tmp_path):
    from pipeline.sources import iod

    codes = [f"E01{i:06d}" for i in range(1, 41)] + ["W01000001"]
    rng = np.random.default_rng(0)
    vals = {"idaopi": [None if i % 9 == 0 else float(rng.integers(5, 200)) for i in range(41)],
            "skills": rng.uniform(0, 0.5, 41).round(3), "cidr": rng.uniform(20, 300, 41).round(3),
            "bb": rng.normal(size=41).round(3)}
    (tmp_path / "iod").mkdir()
    xlsx = tmp_path / "iod" / "File_8_IoD2025_Underlying_Indicators.xlsx"
    _file8_workbook(xlsx, codes, vals)
    got = iod.read_file8(xlsx)
    assert len(got) == 40 and got["lsoa21_code"].str.startswith("E01").all()  # Wales dropped
    assert got["idaopi_numerator"].isna().sum() == 5  # blank cells stay missing
    tidy = pd.DataFrame({"lsoa21_code": codes,
                         "income_deprivation_affecting_older_people_index_idaopi_numerator":
                             vals["idaopi"],
                         "adult_skills_and_english_language_proficiency_indicator": vals["skills"],
                         "comparative_illness_and_disability_ratio_indicator": vals["cidr"],
                         "digital_connectivity_broadband_download_and_upload_speeds": vals["bb"]})
    tidy.to_parquet(tmp_path / "iod" / "iod2025_file8_indicators_lsoa21.parquet")
    same = iod.read_file8(tmp_path / "iod" / "iod2025_file8_indicators_lsoa21.parquet")
    pd.testing.assert_frame_equal(got, same, check_dtype=False)
    assert iod.locate_file8(tmp_path) == xlsx  # the official workbook is preferred


def test_file8_errors_name_the_file_and_column(tmp_path):
    from pipeline.sources import iod
    from pipeline.sources.common import SourceError

    bad = tmp_path / "File_8_IoD2025_Underlying_Indicators.xlsx"
    bad.write_bytes(b"<html>Service unavailable</html>")
    with pytest.raises(SourceError, match="not a readable xlsx workbook"):
        iod.read_file8(bad)
    codes = [f"E01{i:06d}" for i in range(1, 11)]
    vals = {"idaopi": [1.0] * 10, "skills": ["0.1"] * 9 + ["n/a?"], "cidr": [1.0] * 10,
            "bb": [0.0] * 10}
    _file8_workbook(bad, codes, vals)
    with pytest.raises(SourceError, match=r"adult_skills_english': non-numeric value\(s\) \['n/a\?'\]"):
        iod.read_file8(bad)
    pd.DataFrame({"lsoa21_code": codes}).to_csv(tmp_path / "File_8_IoD2025_x.csv", index=False)
    with pytest.raises(SourceError, match="missing required column"):
        iod.read_file8(tmp_path / "File_8_IoD2025_x.csv")
