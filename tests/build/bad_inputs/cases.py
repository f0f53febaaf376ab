"""The bad-input corpus: one case per (source, class of fault), each a mutation of a copy of the
demo's raw folder and the one-line message the build must stop with.

Classes: structure (empty, HTML, workbook named .csv, corrupt, header only, cut short),
values (non-numeric, infinite, negative, implausible, not whole, part above total, out of
range), codes (invalid, duplicated, LSOA 2011, wrong LA), coordinates (swapped, degrees in
metre columns, outside the LA), keys (duplicates), schema (missing columns, unknown names).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

F7 = "iod/File_7_IoD2025_All_Ranks_Scores_Deciles_Population_Denominators.csv"
F8 = "iod/File_8_IoD2025_Underlying_Indicators_synthshire.csv"
LTLA = "geography/lookup_lsoa21_ward24_ltla24.parquet"
ICB = "geography/lookup_lsoa21_icb24.parquet"
REGION = "geography/lookup_ltla24_region24.parquet"
BOUNDS = "geography/boundaries_lsoa21.parquet"
AGE65 = "census2021/census21_age65plus_lsoa21.parquet"
AGE6 = "census2021/census21_age6_lsoa21_long.parquet"
DISAB = "census2021/census21_disability_lsoa21.parquet"
TENURE = "census2021/census21_household_tenure_lsoa21.parquet"
CROWD = "census2021/census21_household_overcrowding_lsoa21.parquet"
PROF = "census2021/census21_proficiency_msoa21.parquet"
OFCOM = "connectivity/202601_fixed_postcode_coverage_r01.zip"
ONSPD = "geography/ONSPD_SYNTHSHIRE_UK.csv"
EPRAC = "gp/epraccur_synthshire.parquet"
PATIENTS = "gp/gp-reg-pat-prac-lsoa-all.csv"
APP = "nhs_app/nhs_app_practice_2026-10.csv"
GIAS = "schools/gias_establishments_synthshire.csv"
PUPIL = "local/E06009902/pupil_premium.csv"
BINS = "local/E06009901/assisted_bin_collection.csv"

Mutation = Callable[[Path], None]


@dataclass(frozen=True)
class Case:
    id: str
    source: str
    mutate: Mutation
    expect: str      # regex the one-line failure must match
    names: str = ""  # the file name the line must carry ("" = the mutated file's)


# --- mutations -------------------------------------------------------------------------------

def write(rel: str, data: bytes) -> Mutation:
    return lambda raw: (raw / rel).write_bytes(data)


def text_lines(rel: str, fn: Callable[[list[str]], list[str]], end: str = "\n") -> Mutation:
    def m(raw: Path) -> None:
        lines = (raw / rel).read_text(encoding="utf-8").splitlines()
        (raw / rel).write_text("\n".join(fn(lines)) + end, encoding="utf-8")
    return m


def csv_edit(rel: str, fn: Callable[[pd.DataFrame], pd.DataFrame]) -> Mutation:
    def m(raw: Path) -> None:
        df = pd.read_csv(raw / rel, dtype=str, keep_default_na=False)
        fn(df).to_csv(raw / rel, index=False)
    return m


def pq_edit(rel: str, fn: Callable[[pd.DataFrame], pd.DataFrame]) -> Mutation:
    def m(raw: Path) -> None:
        df = pd.read_parquet(raw / rel)
        fn(df).to_parquet(raw / rel, index=False)
    return m


def cell(col: str, value, row: int = 0) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def f(df: pd.DataFrame) -> pd.DataFrame:
        c = next(c for c in df.columns if c == col or c.startswith(col))
        df[c] = df[c].astype(object)
        df.loc[row, c] = value
        return df
    return f


def col_where(pred: Callable[[str], bool], value, row: int = 0):
    def f(df: pd.DataFrame) -> pd.DataFrame:
        c = next(c for c in df.columns if pred(c))
        df[c] = df[c].astype(object)
        df.loc[row, c] = value
        return df
    return f


def drop_col(col: str):
    return lambda df: df.drop(columns=[c for c in df.columns if c == col or c.startswith(col)])


def dup_row(row: int = 0):
    return lambda df: pd.concat([df, df.iloc[[row]]], ignore_index=True)


def cut_mid_line(rel: str) -> Mutation:
    def m(raw: Path) -> None:
        b = (raw / rel).read_bytes().rstrip(b"\r\n")
        last = b.rsplit(b"\n", 1)[1]
        (raw / rel).write_bytes(b[: len(b) - len(last) // 2])
    return m


def workbook_named_csv(rel: str) -> Mutation:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
    return write(rel, buf.getvalue())


def corrupt(rel: str) -> Mutation:
    def m(raw: Path) -> None:
        b = (raw / rel).read_bytes()
        (raw / rel).write_bytes(b[: len(b) // 3])
    return m


def move(src: str, dst: str) -> Mutation:
    """Move a demo file, carrying its provenance entry (it stays a demo file)."""
    import json

    def m(raw: Path) -> None:
        s, d = raw / src, raw / dst
        d.parent.mkdir(parents=True, exist_ok=True)
        s.rename(d)
        prov = json.loads((s.parent / "provenance.json").read_text())
        entry = prov["files"].pop(s.name)
        dprov_path = d.parent / "provenance.json"
        dprov = json.loads(dprov_path.read_text()) if dprov_path.exists() else {"files": {}}
        dprov["files"][d.name] = entry
        dprov_path.write_text(json.dumps(dprov))
        if s.parent != d.parent:
            (s.parent / "provenance.json").write_text(json.dumps(prov))
    return m


def bins_as_latlon(swap: bool) -> Mutation:
    """Assisted-bin records with lat/lon columns (optionally the two headers swapped)."""
    def m(raw: Path) -> None:
        import geopandas as gpd

        df = pd.read_csv(raw / BINS)
        pts = gpd.GeoSeries(gpd.points_from_xy(df["easting"], df["northing"]), crs=27700)
        ll = pts.to_crs(4326)
        out = pd.DataFrame({"uprn": df["uprn"], "lat": ll.y, "lon": ll.x,
                            "dedi_synthetic": df["dedi_synthetic"]})
        if swap:
            out = out.rename(columns={"lat": "lon", "lon": "lat"})[
                ["uprn", "lat", "lon", "dedi_synthetic"]]
        out.to_csv(raw / BINS, index=False)
    return m


def shift_bins(dx: float, dy: float) -> Mutation:
    return csv_edit(BINS, lambda df: df.assign(
        easting=(df["easting"].astype(float) + dx).astype(str),
        northing=(df["northing"].astype(float) + dy).astype(str)))


def bins_by_unknown_postcode(raw: Path) -> None:
    """Assisted-bin records located by postcodes the ONS Postcode Directory does not hold."""
    df = pd.read_csv(raw / BINS)
    pd.DataFrame({"uprn": df["uprn"], "postcode": "ZZ99 9ZZ",
                  "dedi_synthetic": df["dedi_synthetic"]}).to_csv(raw / BINS, index=False)


def lsoa11_lookup(raw: Path, new: pd.Series) -> list[str]:
    """A 2011 -> 2021 lookup (as a real build has, marked a demo file) giving each LSOA 2021
    code of ``new`` an LSOA 2011 code no LSOA 2021 has; returns those 2011 codes."""
    import json

    old = [f"E0100{i:04d}" for i in range(len(new))]
    name = "lookup_lsoa11_lsoa21_ltla22.parquet"
    pd.DataFrame({"LSOA11CD": old, "LSOA21CD": new.to_numpy(), "CHGIND": "U",
                  "LAD22CD": "E06009902", "dedi_synthetic": True}).to_parquet(
        raw / "geography" / name, index=False)
    prov_path = raw / "geography" / "provenance.json"
    prov = json.loads(prov_path.read_text())
    prov["files"][name] = {"synthetic": True, "source": "bad-input fixture"}
    prov_path.write_text(json.dumps(prov))
    return old


def with_lsoa11_lookup_and_codes(raw: Path) -> None:
    """A 2011 -> 2021 lookup and a local file in 2011 codes."""
    old = lsoa11_lookup(raw, pd.read_csv(raw / PUPIL, dtype=str)["lsoa21_code"])
    csv_edit(PUPIL, lambda df: df.assign(lsoa21_code=old))(raw)


def file7_in_lsoa11_codes(raw: Path) -> None:
    """File 7 keyed by LSOA 2011 codes (as IoD 2019 is), beside a 2011 -> 2021 lookup."""
    df = pd.read_csv(raw / F7, dtype=str, keep_default_na=False)
    old = lsoa11_lookup(raw, df["LSOA code (2021)"])
    df.assign(**{"LSOA code (2021)": old}).to_csv(raw / F7, index=False)


def shift_down(col: str) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """One column moved down a row (its first value repeated), as a bad paste does."""
    def f(df: pd.DataFrame) -> pd.DataFrame:
        c = next(c for c in df.columns if c == col or c.startswith(col))
        df[c] = [df[c].iloc[0], *df[c].iloc[:-1]]
        return df
    return f


def geo_edit(rel: str, fn: Callable) -> Mutation:
    """Edit a GeoParquet file as a GeoDataFrame (it stays GeoParquet)."""
    def m(raw: Path) -> None:
        import geopandas as gpd

        fn(gpd.read_parquet(raw / rel)).to_parquet(raw / rel, index=False)
    return m


def swap_xy(gdf):
    import shapely

    return gdf.set_geometry(shapely.transform(gdf.geometry.values, lambda xy: xy[:, ::-1]))


def bowtie(gdf):
    import shapely

    geom = list(gdf.geometry.values)
    x0, y0, x1, y1 = geom[0].bounds
    geom[0] = shapely.Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1)])  # self-crossing
    return gdf.set_geometry(geom, crs=gdf.crs)


def empty_first(gdf):
    import shapely

    geom = list(gdf.geometry.values)
    geom[0] = shapely.Polygon()
    return gdf.set_geometry(geom, crs=gdf.crs)


def ofcom_postcode_twice(raw: Path) -> None:
    """The first postcode of the XS file again in the XT file, with another coverage value."""
    src = raw / OFCOM
    with zipfile.ZipFile(src) as z:
        members = {n: z.read(n) for n in z.namelist()}
    xs, xt = sorted(members)
    first = members[xs].decode().splitlines()[1].split(",")
    first[8] = "55.5"  # % of premises unable to receive 10 Mbit/s
    members[xt] = members[xt].rstrip(b"\n") + ("\n" + ",".join(first) + "\n").encode()
    with zipfile.ZipFile(src, "w") as z:
        for n, b in members.items():
            z.writestr(n, b)


def census_part_above_total(df: pd.DataFrame) -> pd.DataFrame:
    df["aged_85_plus"] = df["aged_85_plus"].astype(float)
    df.loc[0, "aged_85_plus"] = float(df.loc[0, "total"]) + 1
    return df


def long_n_above_total(df: pd.DataFrame) -> pd.DataFrame:
    total = next(c for c in df.columns if c.startswith("total"))
    df["n"] = df["n"].astype(float)
    df.loc[0, "n"] = float(df.loc[0, total]) + 5
    return df


# --- the corpus --------------------------------------------------------------------------------

EMPTY = r"the file is empty \(0 bytes\)"
HTML_PAGE = r"is an HTML page, not data"
HEADER_ONLY = r"has a header row but no data rows"
CUT = r"the file was cut short"
NOT_PARQUET = r"is not a valid parquet file"
NOT_ZIP = r"is not a valid \.zip archive"

CASES = [
    # IoD 2025 File 7
    Case("iod_empty", "iod", write(F7, b""), EMPTY),
    # score, rank and decile that disagree; ranks repeated; the 2011 geography
    Case("iod_score_column_shifted", "iod", csv_edit(F7, shift_down("Income Score")),
         r"column 'Income Score \(rate\)'.*expected scores that fall as 'Income Rank"),
    Case("iod_decile_disagrees_with_rank", "iod", csv_edit(F7, lambda df: cell(
        "Employment Decile", str(11 - int(df.filter(like="Employment Decile").iloc[0, 0]) or 1)
    )(df)), r"column 'Employment Decile.*expected deciles of"),
    Case("iod_imd_rank_repeated", "iod", csv_edit(F7, lambda df: cell(
        "Index of Multiple Deprivation (IMD) Rank", df.filter(like="(IMD) Rank").iloc[1, 0])(df)),
        r"column 'Index of Multiple Deprivation \(IMD\) Rank.*expected each rank once"),
    Case("iod_lsoa2011_codes", "iod", file7_in_lsoa11_codes,
         r"are LSOA 2011 codes that no LSOA 2021 has.*File 7 is on the LSOA 2011 geography",
         "File_7"),
    Case("iod_html", "iod", write(F7, b"<!DOCTYPE html><html><body>Not found</body></html>"),
         HTML_PAGE),
    Case("iod_workbook_named_csv", "iod", workbook_named_csv(F7), r"Excel workbook renamed to \.csv"),
    Case("iod_header_only", "iod", text_lines(F7, lambda ls: ls[:1]), HEADER_ONLY),
    Case("iod_cut_mid_line", "iod", cut_mid_line(F7), CUT),
    Case("iod_duplicate_lsoa", "iod", csv_edit(F7, dup_row(3)), r"duplicated LSOA code"),
    Case("iod_bad_lsoa_code", "iod", csv_edit(F7, cell("LSOA code (2021)", "X01990001")),
         r"invalid LSOA code"),
    Case("iod_missing_column", "iod", csv_edit(F7, drop_col("Income Rank")),
         r"missing required column"),
    Case("iod_non_numeric_score", "iod",
         csv_edit(F7, cell("Index of Multiple Deprivation (IMD) Score", "n/a?")),
         r"non-numeric value"),
    Case("iod_infinite_score", "iod", csv_edit(F7, cell("Income Score", "inf")), r"infinite value"),
    Case("iod_rank_out_of_range", "iod", csv_edit(F7, cell("Income Rank", "99999")),
         r"ranks must lie in 1\.\."),
    Case("iod_decile_11", "iod", csv_edit(F7, cell("Income Decile", "11")),
         r"deciles outside 1\.\.10"),
    Case("iod_population_huge", "iod", csv_edit(F7, col_where(
        lambda c: c.startswith("Total population"), "1e300")), r"expected at most 50000"),
    Case("iod_population_negative", "iod", csv_edit(F7, col_where(
        lambda c: c.startswith("Total population"), "-40")), r"expected at least 0"),
    Case("iod_population_fraction", "iod", csv_edit(F7, col_where(
        lambda c: c.startswith("Total population"), "1500.5")), r"a whole number"),
    # IoD 2025 File 8
    Case("file8_empty", "iod_file8", write(F8, b""), EMPTY),
    Case("file8_html", "iod_file8", write(F8, b"<html><body>error</body></html>"), HTML_PAGE),
    Case("file8_cut_mid_line", "iod_file8", cut_mid_line(F8), CUT),
    Case("file8_duplicate_lsoa", "iod_file8", csv_edit(F8, dup_row(0)), r"duplicated LSOA code"),
    # geography
    Case("ltla_lookup_corrupt", "geography", corrupt(LTLA), NOT_PARQUET),
    Case("icb_lookup_empty", "geography", write(ICB, b""), EMPTY),
    Case("region_lookup_garbage", "geography", write(REGION, b"PAR1 not really parquet"),
         NOT_PARQUET),
    Case("boundaries_corrupt", "geography", corrupt(BOUNDS), NOT_PARQUET),
    # one key, two values: refused by name
    Case("ltla_code_with_two_names", "geography", pq_edit(LTLA, lambda df: cell(
        next(c for c in df.columns if c.upper().startswith("LAD24NM") or c == "ltla24_name"),
        "Somewhere Else", 0)(df)), r"has 2 different values \['Somewhere Else'"),
    Case("region_code_with_two_names", "geography", pq_edit(REGION, lambda df: cell(
        next(c for c in df.columns if c.startswith("region") and c.endswith("name")),
        "Another Region", 0)(df)), r"has 2 different values"),
    # damaged boundaries are named before a local file placed on them is blamed
    Case("boundaries_missing_polygons", "geography", geo_edit(BOUNDS, lambda df: df.iloc[3:]),
         r"boundaries_lsoa21\.parquet: 3 LSOA\(s\) of IoD File 7 have no boundary"),
    Case("boundaries_empty_polygon", "geography", geo_edit(BOUNDS, empty_first),
         r"1 LSOA\(s\) have no polygon"),
    Case("boundaries_swapped_xy", "geography", geo_edit(BOUNDS, swap_xy),
         r"polygon\(s\) lie outside England.*check the CRS"),
    Case("boundaries_invalid_polygon", "geography", geo_edit(BOUNDS, bowtie),
         r"1 invalid polygon\(s\)"),
    Case("ltla_lookup_missing_column", "geography", pq_edit(LTLA, drop_col("lsoa21_code")),
         r"missing required column"),
    Case("ltla_lookup_rows_dropped", "geography", pq_edit(LTLA, lambda df: df.iloc[3:]),
         r"lookup_lsoa21_ward24_ltla24\.parquet: 3 LSOA\(s\) of IoD File 7 have no row here"),
    Case("icb_lookup_duplicate_lsoa", "geography", pq_edit(ICB, dup_row(0)), r"duplicated"),
    # wards are summarised: the lookup must carry them, and every England LSOA needs one
    Case("ltla_lookup_without_wards", "geography", pq_edit(LTLA, drop_col("ward24")),
         r"missing required column\(s\): '(WD24CD|ward24_code)'; '(WD24NM|ward24_name)'"),
    Case("ltla_lookup_blank_ward", "geography", pq_edit(LTLA, cell("ward24_code", None, 2)),
         r"column 'ward24_code': \['E01\d{6}'\] at file row\(s\) \[4\] \(1 in all\); expected a "
         r"value in every row"),
    Case("ltla_lookup_blank_ltla", "geography", pq_edit(LTLA, cell("ltla24_code", " ", 5)),
         r"column 'ltla24_code': \['E01\d{6}'\] at file row\(s\) \[7\]"),
    # Census 2021
    Case("age65_negative", "census", pq_edit(AGE65, cell("aged_70_74", -3)),
         r"expected at least 0"),
    Case("age65_part_above_total", "census", pq_edit(AGE65, census_part_above_total),
         r"no larger than 'total'"),
    Case("age65_huge_total", "census", pq_edit(AGE65, cell("total", 1e300)),
         r"expected at most 50000"),
    Case("age65_fraction", "census", pq_edit(AGE65, cell("aged_75_79", 12.5)),
         r"a whole number"),
    Case("age65_corrupt", "census", corrupt(AGE65), NOT_PARQUET),
    Case("population_huge", "census", pq_edit(AGE6, cell("usual_residents", 1e300)),
         r"expected at most 50000"),
    Case("disability_part_above_total", "census", pq_edit(DISAB, long_n_above_total),
         r"no larger than 'total'"),
    Case("tenure_negative", "census", pq_edit(TENURE, cell("n", -1)), r"expected at least 0"),
    Case("overcrowding_infinite", "census", pq_edit(CROWD, cell("n", float("inf"))),
         r"infinite value|a finite number"),
    Case("proficiency_missing_column", "census", pq_edit(PROF, drop_col("msoa21_code")),
         r"missing required column"),
    Case("tenure_empty", "census", write(TENURE, b""), EMPTY),
    # connectivity: Ofcom zip and the postcode directory
    Case("ofcom_zip_cut", "connectivity", corrupt(OFCOM), NOT_ZIP),
    Case("ofcom_postcode_twice_different_values", "connectivity", ofcom_postcode_twice,
         r"column 'postcode': XS1 ?1AA has two rows with different coverage values",
         "202601_fixed_postcode_coverage_r01"),
    Case("ofcom_zip_empty", "connectivity", write(OFCOM, b""), EMPTY),
    Case("onspd_html", "connectivity", write(ONSPD, b"<!doctype html><title>x</title>"),
         HTML_PAGE),
    Case("onspd_header_only", "connectivity", text_lines(ONSPD, lambda ls: ls[:1]), HEADER_ONLY),
    # GP practices and patients by LSOA
    Case("epraccur_corrupt", "gp", corrupt(EPRAC), NOT_PARQUET),
    Case("patients_empty", "gp", write(PATIENTS, b""), EMPTY),
    Case("patients_duplicate_key", "gp", csv_edit(PATIENTS, dup_row(5)), r"each key once"),
    Case("patients_negative", "gp", csv_edit(PATIENTS, cell("NUMBER_OF_PATIENTS", "-4")),
         r"expected at least 0"),
    Case("patients_fraction", "gp", csv_edit(PATIENTS, cell("NUMBER_OF_PATIENTS", "3.5")),
         r"a whole number"),
    Case("patients_cut_mid_line", "gp", cut_mid_line(PATIENTS), CUT),
    # NHS App
    # supplied but not joining: an error naming both files, never "absent"
    Case("app_practices_not_in_patients_file", "nhs_app", csv_edit(APP, lambda df: df.assign(
        practice_code=[f"Y{i:05d}" for i in range(len(df))])),
        r"practices have no row in .*gp-reg-pat-prac-lsoa-all\.csv \(e\.g\. Y00000"),
    Case("app_without_patients_file", "nhs_app", lambda raw: (raw / PATIENTS).unlink(),
         r"NHS App files supplied but no GP patients-by-LSOA file", "nhs_app_practice_2026-10"),
    Case("patients_lsoas_of_another_geography", "gp", csv_edit(PATIENTS, lambda df: df.assign(
        LSOA_CODE="E0188" + df["LSOA_CODE"].str[-4:])),
        r"name an LSOA that is not an LSOA 2021 of this build \(e\.g\. E0188"),
    Case("app_duplicate_practice_month", "nhs_app", csv_edit(APP, dup_row(2)),
         r"practice_code \+ month'.*each key once"),
    Case("app_registrations_above_list", "nhs_app", csv_edit(APP, cell("registrations", "99999")),
         r"no larger than 'list_size'"),
    Case("app_negative", "nhs_app", csv_edit(APP, cell("registrations", "-1")),
         r"expected at least 0"),
    Case("app_bad_month", "nhs_app", csv_edit(APP, cell("month", "Aug 2026")),
         r"expected YYYY-MM"),
    Case("app_infinite", "nhs_app", csv_edit(APP, cell("logins", "inf")), r"infinite value"),
    Case("app_workbook_named_csv", "nhs_app", workbook_named_csv(APP), r"renamed to \.csv"),
    # GIAS schools
    Case("gias_degrees_in_bng", "schools", csv_edit(GIAS, lambda df: df.assign(
        Easting="2.1", Northing="54.1")), r"look like longitude/latitude"),
    Case("gias_swapped_bng", "schools", csv_edit(GIAS, lambda df: df.assign(
        Easting=df["Northing"], Northing=df["Easting"]).assign(
        Easting=lambda d: (d["Easting"].astype(float) + 200_000).astype(str))),
        r"Easting/Northing"),
    Case("gias_negative_pupils", "schools", csv_edit(GIAS, cell("NumberOfPupils", "-30")),
         r"expected at least 0"),
    Case("gias_fsm_over_100", "schools", csv_edit(GIAS, cell("PercentageFSM", "150")),
         r"outside 0\.\.100"),
    Case("gias_duplicate_urn", "schools", csv_edit(GIAS, dup_row(4)),
         r"column 'URN'.*expected each key once"),
    Case("gias_html", "schools", write(GIAS, b"<html>moved</html>"), HTML_PAGE),
    Case("gias_cut_mid_line", "schools", cut_mid_line(GIAS), CUT),
    # local-authority proxies
    Case("local_wrong_la_folder", "local", move(PUPIL, "local/E06009901/pupil_premium.csv"),
         r"are not in E06009901 but in E06009902", "pupil_premium.csv"),
    Case("local_lsoa2011_codes", "local", with_lsoa11_lookup_and_codes,
         r"look like the LSOA 2011 geography"),
    Case("local_latlon_swapped", "local", bins_as_latlon(swap=True), r"look swapped"),
    Case("local_records_elsewhere", "local", shift_bins(-300_000, -200_000),
         r"outside E06009901|outside every LSOA"),
    Case("local_records_unknown_postcodes", "local", bins_by_unknown_postcode,
         r"records cannot be located \(unknown postcode"),
    Case("local_unknown_proxy", "local", move(PUPIL, "local/E06009902/free_school_meals.csv"),
         r"unknown proxy 'free_school_meals'", "free_school_meals.csv"),
    Case("local_bad_folder", "local", move(PUPIL, "local/Hartlepool/pupil_premium.csv"),
         r"folder name must be a local authority code", "Hartlepool"),
    Case("local_non_numeric_count", "local", csv_edit(PUPIL, cell("count", "lots")),
         r"non-numeric value"),
    Case("local_empty", "local", write(PUPIL, b""), EMPTY),
    Case("local_duplicate_lsoa", "local", csv_edit(PUPIL, dup_row(1)), r"duplicated LSOA code"),
    Case("local_records_header_only", "local", text_lines(BINS, lambda ls: ls[:1]), HEADER_ONLY),
]

FILES = {c.id: c for c in CASES}
