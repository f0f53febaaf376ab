"""The catalogue of official sources: what each staging table's real file is, who publishes it,
where it is downloaded from (the URL of its ``dedi fetch`` spec), its licence and vintage.

``record_source`` uses it for real files that ``dedi fetch`` did not download (no
``provenance.json``), so that ``sources`` always names URL, licence and vintage; the
``coverage`` mart and the data dictionary take their vintages from here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

OGL = "Open Government Licence v3.0"
CENSUS = "Census 2021 (census day 21 March 2021)"
IOD25 = "IoD 2025 (published 30 October 2025; indicators mostly 2022-2024)"


@dataclass(frozen=True)
class Official:
    """One official publication behind a staging table."""

    publisher: str
    title: str
    vintage: str
    fetch: str | None = None   # the dedi fetch source whose URL is the download address
    url: str | None = None     # when there is no fetch spec
    licence: str = OGL


CATALOGUE: dict[str, Official] = {
    "stg_iod2025": Official("MHCLG", "English Indices of Deprivation 2025, File 7", IOD25,
                            fetch="iod2025"),
    "stg_iod2025_file8": Official("MHCLG", "English Indices of Deprivation 2025, File 8 "
                                  "underlying indicators", IOD25, fetch="iod2025_file8"),
    "stg_iod_release:2019": Official("MHCLG", "English Indices of Deprivation 2019, File 7",
                                     "IoD 2019 (published 26 September 2019)", fetch="iod2019"),
    "stg_iod_release:2025": Official("MHCLG", "English Indices of Deprivation 2025, File 7",
                                     IOD25, fetch="iod2025"),
    "stg_lsoa21_boundaries": Official("ONS Open Geography Portal", "LSOA (December 2021) "
                                      "boundaries, generalised", "LSOA 2021",
                                      fetch="ons_boundaries_lsoa21"),
    "stg_msoa21_names": Official("ONS Open Geography Portal", "MSOA (December 2021) boundaries "
                                 "and names", "MSOA 2021", fetch="ons_boundaries_msoa21"),
    "stg_lsoa21_icb24": Official("ONS Open Geography Portal", "LSOA 2021 to Sub-ICB Location "
                                 "to ICB (April 2024) lookup", "ICB April 2024",
                                 fetch="ons_lookup_lsoa21_icb24"),
    "stg_lsoa21_ltla24": Official("ONS Open Geography Portal", "LSOA 2021 to ward to LAD "
                                  "(2024) lookup", "LAD/ward 2024",
                                  fetch="ons_lookup_lsoa21_ward24_ltla24"),
    "stg_ltla24_region": Official("ONS Open Geography Portal", "LAD (2024) to region lookup",
                                  "LAD 2024", fetch="ons_lookup_ltla24_region24"),
    "stg_lsoa11_lsoa21": Official("ONS Open Geography Portal", "LSOA 2011 to LSOA 2021 to LAD "
                                  "(2022) lookup", "LSOA 2011 -> 2021",
                                  fetch="ons_lookup_lsoa11_lsoa21_ltla22"),
    "stg_lsoa21_ruc21": Official("ONS Open Geography Portal", "Rural Urban Classification "
                                 "(2021) of LSOAs in England and Wales", CENSUS,
                                 url="https://www.ons.gov.uk/methodology/geography/"
                                 "geographicalproducts/ruralurbanclassifications/"
                                 "2021ruralurbanclassification"),
    "stg_postcode_directory": Official("ONS Open Geography Portal", "ONS Postcode Directory",
                                       "release in the file name",
                                       url="https://geoportal.statistics.gov.uk/"),
    "stg_census21_population": Official("ONS (Nomis)", "Census 2021 usual residents by age",
                                        CENSUS, fetch="census21_usual_residents"),
    "stg_census21_children": Official("ONS (Nomis)", "Census 2021 usual residents by age",
                                      CENSUS, fetch="census21_usual_residents"),
    "stg_census21_age65plus": Official("ONS (Nomis)", "Census 2021 RM121 age by single year",
                                       CENSUS, url="https://www.nomisweb.co.uk/sources/census_2021"),
    "stg_census21_disability": Official("ONS (Nomis)", "Census 2021 TS038 disability", CENSUS,
                                        fetch="census21_ts038"),
    "stg_census21_households": Official("ONS (Nomis)", "Census 2021 TS054 tenure", CENSUS,
                                        fetch="census21_ts054"),
    "stg_census21_household_deprivation": Official(
        "ONS (Nomis)", "Census 2021 TS011 households by deprivation dimensions", CENSUS,
        fetch="census21_ts011"),
    "stg_census21_overcrowding": Official("ONS (Nomis)", "Census 2021 TS052 occupancy rating "
                                          "(bedrooms)", CENSUS, fetch="census21_ts052"),
    "stg_census21_proficiency_msoa": Official("ONS (Nomis)", "Census 2021 TS029 proficiency in "
                                              "English (MSOA)", CENSUS, fetch="census21_ts029"),
    "stg_ofcom_postcode_coverage": Official("Ofcom", "Connected Nations fixed broadband "
                                            "coverage by postcode", "release in the file name "
                                            "(YYYYMM)", fetch="ofcom_fixed_postcode_coverage"),
    "stg_deri_broadband": Official("Greater Manchester Combined Authority", "Digital Exclusion "
                                   "Risk Index v1.6, broadband component (LSOA 2011)",
                                   "DERI v1.6 (Ofcom Connected Nations May 2022 data)",
                                   url="https://github.com/GreaterManchesterCombinedAuthority"),
    "stg_gp_practices": Official("NHS England Organisation Data Service", "epraccur GP "
                                 "practices", "extract date in the file name", fetch="epraccur"),
    "stg_gp_patients_lsoa": Official("NHS England (NHS Digital)", "Patients registered at a GP "
                                     "practice by LSOA", "month in the file",
                                     url="https://digital.nhs.uk/data-and-information/"
                                     "publications/statistical/patients-registered-at-a-gp-"
                                     "practice"),
    "stg_nhs_app_practice": Official("NHS England", "NHS App registrations by GP practice",
                                     "latest month in the file",
                                     url="https://digital.nhs.uk/data-and-information/"
                                     "publications/statistical/nhs-app-management-information"),
    "stg_gias_schools": Official("Department for Education", "Get Information About Schools, "
                                 "establishments", "extract date in the file name",
                                 fetch="gias"),
    "stg_local_proxies": Official("the supplying local authority", "local-authority proxy "
                                  "records", "as dated by the supplying authority",
                                  licence="as agreed with the supplying local authority"),
    "stg_local_proxies_period": Official("the supplying local authority", "local-authority "
                                         "proxy records (dated)", "the period in the file name",
                                         licence="as agreed with the supplying local "
                                         "authority"),
}

_DATE = re.compile(r"(20\d\d)[_-]?(0[1-9]|1[0-2])(?:[_-]?(0[1-9]|[12]\d|3[01]))?")


def official(staging_table: str) -> Official | None:
    """The catalogue entry of a staging table (``table:part`` rows use ``table:part`` when
    catalogued, else ``table``)."""
    return CATALOGUE.get(staging_table) or CATALOGUE.get(staging_table.split(":")[0])


def url_of(entry: Official) -> str | None:
    """The download address: the fetch spec's URL, else the catalogue's."""
    if entry.fetch:
        from pipeline.inputs.fetch import all_specs

        specs = [s for s in all_specs() if s.source == entry.fetch]
        if specs:
            return specs[0].url
    return entry.url


def vintage_of(entry: Official, file: str | Path) -> str:
    """The entry's vintage, with a date in the file name (e.g. ``epraccur_2023_12``) read out."""
    if "file name" in entry.vintage:
        m = _DATE.search(Path(file).name)
        if m:
            return "-".join(g for g in m.groups() if g)
    return entry.vintage
