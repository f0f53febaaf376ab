"""Census 2021: population and the demography behind the digital-exclusion indicators."""

import pandas as pd

from pipeline.defs._checks import gx_check
from pipeline.defs._staging import file_asset, sql_model_asset
from pipeline.sources import census

GROUP = "census2021"


def _locate(names: list[str]):
    return lambda raw: census.locate_any(raw, names)


stg_census21_population = file_asset(
    "stg_census21_population", GROUP,
    "ONS Census 2021 usual residents per England LSOA 2021; the population denominator when "
    "IoD File 7 has no mid-2022 population.", _locate(census.FILES), census.read_population,
    lambda df: {"total_usual_residents": int(df["usual_residents"].sum())})


def _children(path) -> pd.DataFrame:
    df = census.read_table(path)
    if "age_group" not in df:
        raise census.SourceError(path, "missing required column(s): 'age_group'")
    kids = df[df["age_group"] == "Aged 15 years and under"]
    out = kids.groupby("lsoa21_code", as_index=False)["usual_residents"].sum()
    out = out.rename(columns={"usual_residents": "children_0_15"})
    if "dedi_synthetic" in df:
        out["dedi_synthetic"] = bool(df["dedi_synthetic"].any())
    return out[out["lsoa21_code"].str.startswith("E")]


stg_census21_children = file_asset(
    "stg_census21_children", GROUP,
    "Census 2021 residents aged 15 and under (TS007A) per LSOA 2021.",
    _locate(["census21_age6_lsoa21_long.parquet"]), _children)
stg_census21_age65plus = file_asset(
    "stg_census21_age65plus", GROUP, "Census 2021 RM121: residents by age 65+ bands per LSOA 2021.",
    _locate(census.AGE65_FILES), census.read_age65plus)
stg_census21_disability = file_asset(
    "stg_census21_disability", GROUP,
    "Census 2021 TS038: disabled under the Equality Act, per LSOA 2021.",
    _locate(["census21_disability_lsoa21.parquet", census.BULK_FILES["ts038"]]),
    lambda p: census.read_long_table(p, ["Disabled under the Equality Act"], "ts038"))
stg_census21_overcrowding = file_asset(
    "stg_census21_overcrowding", GROUP,
    "Census 2021 TS052: households by occupancy rating (bedrooms), LSOA 2021.",
    _locate(["census21_household_overcrowding_lsoa21.parquet", census.BULK_FILES["ts052"]]),
    lambda p: census.read_long_table(p, ["-1 (overcrowded)", "-2 or less (overcrowded)"],
                                     "ts052"))
stg_census21_household_deprivation = file_asset(
    "stg_census21_household_deprivation", GROUP,
    "Census 2021 TS011: households by dimensions of deprivation, LSOA 2021.",
    _locate(census.DEPRIVATION_FILES), census.read_household_deprivation)
stg_census21_households = file_asset(
    "stg_census21_households", GROUP,
    "Census 2021 TS054 tenure per LSOA 2021: households (proxy denominators) and socially "
    "rented households.",
    _locate(["census21_household_tenure_lsoa21.parquet", census.BULK_FILES["ts054"]]),
    census.read_tenure)
stg_census21_proficiency_msoa = file_asset(
    "stg_census21_proficiency_msoa", GROUP, "Census 2021 TS029 English proficiency by MSOA 2021.",
    _locate(census.PROFICIENCY_FILES), census.read_proficiency_msoa)


int_census_indicators = sql_model_asset(
    "int_census_indicators", GROUP,
    ["int_lsoa_geography", stg_census21_age65plus, stg_census21_disability,
     stg_census21_overcrowding, stg_census21_household_deprivation, stg_census21_households,
     stg_census21_proficiency_msoa,
     "stg_msoa21_names"],
    "Census 2021 indicators per LSOA 2021; English proficiency is each LSOA's MSOA rate",
    {"lsoas_without_msoa_match": "SELECT count(*) FILTER (msoa21_code IS NULL) "
                                 "FROM int_census_indicators",
     "lsoas_without_age": "SELECT count(*) FILTER (pct_aged_70plus IS NULL) "
                          "FROM int_census_indicators"})


int_census_indicators_expectations = gx_check(int_census_indicators, "census_indicators")


int_lsoa_population = sql_model_asset(
    "int_lsoa_population", GROUP, ["stg_iod2025", stg_census21_population],
    "Population denominator per LSOA: File 7 mid-2022, else Census 2021",
    {"census_denominator_lsoas": "SELECT count(*) FILTER (population_source LIKE 'Census%') "
                                 "FROM int_lsoa_population"})
