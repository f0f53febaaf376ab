"""Readers on format-faithful fixtures: official headers, BOM, reordering, extras, bad rows."""

from pathlib import Path

import pandas as pd
import pytest

from pipeline.sources import census, geography, iod
from pipeline.sources.common import SourceError, to_number
from tests.conftest import SHARED, requires_shared


@pytest.fixture(scope="module")
def demo_raw(demo_build) -> Path:
    """The session's demo raw folder (read only here; tests write modified copies)."""
    return demo_build.raw


@pytest.fixture
def file7(demo_raw) -> pd.DataFrame:
    return pd.read_csv(iod.locate(demo_raw), dtype=str)


def test_full_official_file7_reads_with_population(demo_raw):
    df = iod.read_iod2025(iod.locate(demo_raw))
    assert len(df) == 320
    assert df["population_mid2022"].notna().all()
    assert {"idaci_rank", "idaopi_decile", "imd_score"} <= set(df.columns)
    assert df["dedi_synthetic"].all()


@requires_shared
def test_reconstructed_file7_reads_without_population():
    df = iod.read_iod2025(SHARED / "iod" / "File_7_IoD2025_reconstructed.csv")
    assert len(df) == 33755
    assert "population_mid2022" not in df
    assert df["imd_rank"].is_unique


def test_bom_reordered_and_unknown_columns(file7, tmp_path):
    cols = list(file7.columns)
    shuffled = file7[cols[::-1]].assign(**{"Some new column": "x"})
    f = tmp_path / "File_7_IoD2025_test.csv"
    shuffled.to_csv(f, index=False, encoding="utf-8-sig")
    df = iod.read_iod2025(f)
    assert df["lsoa21_code"].tolist() == file7["LSOA code (2021)"].tolist()
    assert df["imd_rank"].dtype.name == "Int64"


def test_file7_read_twice_is_one_parse_of_the_same_file(file7, tmp_path):
    """A build reads File 7 for stg_iod2025 and for stg_iod_release[2025]: the second read of
    the unchanged file is a copy of the first; a rewritten file is read again."""
    f = tmp_path / "File_7_IoD2025_test.csv"
    file7.to_csv(f, index=False)
    first = iod.read_iod2025(f)
    first.loc[0, "imd_rank"] = -1  # a caller changing its frame changes no other read
    again = iod.read_iod2025(f)
    assert again.loc[0, "imd_rank"] == int(file7.loc[0, "Index of Multiple Deprivation (IMD) "
                                                      "Rank (where 1 is most deprived)"])
    assert iod._read_iod2025.cache_info().hits >= 1
    file7.loc[0, "LSOA name (2021)"] = "Renamed 001A"
    file7.to_csv(f, index=False)
    assert iod.read_iod2025(f).loc[0, "lsoa21_name"] == "Renamed 001A"


def test_windows_1252_encoding(file7, tmp_path):
    file7.loc[0, "LSOA name (2021)"] = "Synthshire Café 001A"
    f = tmp_path / "File_7_cp1252.csv"
    file7.to_csv(f, index=False, encoding="cp1252")
    assert iod.read_iod2025(f).loc[0, "lsoa21_name"] == "Synthshire Café 001A"


def test_missing_column_names_file_and_column(file7, tmp_path):
    f = tmp_path / "File_7_missing.csv"
    file7.drop(columns=["Crime Score"]).to_csv(f, index=False)
    with pytest.raises(SourceError) as e:
        iod.read_iod2025(f)
    assert str(f) in str(e.value) and "'Crime Score'" in str(e.value)


def test_duplicated_lsoa_names_rows(file7, tmp_path):
    f = tmp_path / "File_7_dup.csv"
    file7.loc[5, "LSOA code (2021)"] = file7.loc[2, "LSOA code (2021)"]
    file7.to_csv(f, index=False)
    with pytest.raises(SourceError, match=r"duplicated LSOA code.*E01990003.*row\(s\) \[4, 7\]"):
        iod.read_iod2025(f)


def test_bad_code_and_non_numeric_named(file7, tmp_path):
    f = tmp_path / "File_7_bad.csv"
    bad = file7.copy()
    bad.loc[3, "Income Score (rate)"] = "n/a"
    bad.to_csv(f, index=False)
    with pytest.raises(SourceError, match=r"'income_score'.*'n/a'.*row\(s\) \[5\]"):
        iod.read_iod2025(f)
    bad = file7.copy()
    bad.loc[0, "LSOA code (2021)"] = "E0100001"
    bad.to_csv(f, index=False)
    with pytest.raises(SourceError, match="invalid LSOA code"):
        iod.read_iod2025(f)


def test_suppressed_cells_become_missing_only_when_allowed():
    df = pd.DataFrame({"v": ["1", "*", "c", "z", "..", "2,345"]})
    out = to_number(df, "v", "f.csv", allow_suppressed=True)
    assert out.isna().tolist() == [False, True, True, True, True, False]
    assert out.iloc[-1] == 2345
    with pytest.raises(SourceError, match="non-numeric"):
        to_number(df, "v", "f.csv")


def test_geography_reads_ons_official_headers(tmp_path):
    f = tmp_path / "lookup.csv"
    pd.DataFrame({"LSOA21CD": ["E01000001", "W01000001"], "LSOA21NM": ["a", "b"],
                  "WD24CD": ["E05000001", "W05000001"], "WD24NM": ["w", "x"],
                  "LAD24CD": ["E09000001", "W06000001"], "LAD24NM": ["L", "M"],
                  "ObjectId": [1, 2]}).to_csv(f, index=False, encoding="utf-8-sig")
    df = geography.read_lsoa_ltla(f)
    assert df["lsoa21_code"].tolist() == ["E01000001"] and df["ltla24_code"].tolist() == ["E09000001"]


def test_census_population_from_nomis_csv(tmp_path):
    f = tmp_path / "census.csv"
    pd.DataFrame({"GEOGRAPHY_CODE": ["E01000001", "E01000002", "W01000001"],
                  "GEOGRAPHY_NAME": ["a", "b", "c"], "OBS_VALUE": ["1,500", "1615", "9"]}
                 ).to_csv(f, index=False)
    df = census.read_population(f)
    assert df.set_index("lsoa21_code")["usual_residents"].to_dict() == {
        "E01000001": 1500.0, "E01000002": 1615.0}


@requires_shared
def test_census_population_real_total():
    df = census.read_population(SHARED / "census2021" / "census21_age6_lsoa21_long.parquet")
    assert len(df) == 33755
    assert df["usual_residents"].sum() == 56_489_608  # Census 2021 England usual residents


@requires_shared
def test_real_geography_counts():
    raw = SHARED
    ltla = geography.read_lsoa_ltla(geography.locate(raw, "lsoa_ltla"))
    icb = geography.read_lsoa_icb(geography.locate(raw, "lsoa_icb"))
    reg = geography.read_ltla_region(geography.locate(raw, "ltla_region"))
    assert len(ltla) == len(icb) == 33755
    assert ltla["ltla24_code"].nunique() == 296 and icb["icb24_code"].nunique() == 42
    assert reg["region_code"].nunique() == 9
