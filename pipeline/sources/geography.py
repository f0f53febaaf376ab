"""ONS Open Geography: LSOA 2021 lookups (ward/LTLA 2024, sub-ICB/ICB 2024, region) and boundaries.

Files read as the ONS publishes them (CSV/GeoJSON with ``LSOA21CD``-style headers) or as the
tidy parquet/GeoParquet copies in ``../shared/data/geography`` (``lsoa21_code``-style headers).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd

from pipeline.sources.common import (
    FetchSpec,
    SourceError,
    check_lsoa_codes,
    find_one,
    map_headers,
    read_table,
)
from pipeline.sources.guards import LAT, LON, check_filled, check_one_value

TOPIC = "geography"
ARCGIS = "https://services1.arcgis.com/ESMARspQHYMw9BZ9/arcgis/rest/services"

LSOA_LTLA_MAP = {
    "LSOA21CD": "lsoa21_code", "lsoa21_code": "lsoa21_code",
    "LSOA21NM": "lsoa21_name", "lsoa21_name": "lsoa21_name",
    "WD24CD": "ward24_code", "ward24_code": "ward24_code",
    "WD24NM": "ward24_name", "ward24_name": "ward24_name",
    "LAD24CD": "ltla24_code", "ltla24_code": "ltla24_code",
    "LAD24NM": "ltla24_name", "ltla24_name": "ltla24_name",
}
LSOA_ICB_MAP = {
    "LSOA21CD": "lsoa21_code", "lsoa21_code": "lsoa21_code",
    "LSOA21NM": "lsoa21_name", "lsoa21_name": "lsoa21_name",
    "SICBL24CD": "sicbl24_code", "sicbl24_code": "sicbl24_code",
    "SICBL24CDH": "sicbl24_code_nhs", "sicbl24_code_nhs": "sicbl24_code_nhs",
    "SICBL24NM": "sicbl24_name", "sicbl24_name": "sicbl24_name",
    "ICB24CD": "icb24_code", "icb24_code": "icb24_code",
    "ICB24CDH": "icb24_code_nhs", "icb24_code_nhs": "icb24_code_nhs",
    "ICB24NM": "icb24_name", "icb24_name": "icb24_name",
}
LTLA_REGION_MAP = {
    "LAD24CD": "ltla24_code", "ltla24_code": "ltla24_code",
    "LAD24NM": "ltla24_name", "ltla24_name": "ltla24_name",
    "RGN24CD": "region_code", "region24_code": "region_code",
    "RGN24NM": "region_name", "region24_name": "region_name",
}
LSOA_BOUNDARY_MAP = {"LSOA21CD": "code", "lsoa21_code": "code",
                     "LSOA21NM": "name", "lsoa21_name": "name"}

LSOA11_21_MAP = {
    "LSOA11CD": "lsoa11_code", "lsoa11_code": "lsoa11_code",
    "LSOA21CD": "lsoa21_code", "lsoa21_code": "lsoa21_code",
    "CHGIND": "change_code", "change_code": "change_code",
}
RUC21_MAP = {"LSOA21CD": "lsoa21_code", "lsoa21_code": "lsoa21_code",
             "RUC21CD": "ruc21_code", "ruc21_code": "ruc21_code",
             "RUC21NM": "ruc21_name", "classification": "ruc21_name",
             "Urban_rura": "urban_rural", "Urban_rural_flag": "urban_rural",
             "ruc": "urban_rural", "urban_rural": "urban_rural"}
MSOA_MAP = {"MSOA21CD": "msoa21_code", "msoa21_code": "msoa21_code",
            "MSOA21NM": "msoa21_name", "msoa21_name": "msoa21_name"}

FILES = {
    "lsoa11_lsoa21": ["lookup_lsoa11_lsoa21_ltla22.parquet", "lookup_lsoa11_lsoa21_ltla22.csv"],
    "boundaries_msoa21": ["boundaries_msoa21.parquet", "boundaries_msoa21.geojson"],
    "lsoa_ltla": ["lookup_lsoa21_ward24_ltla24.parquet", "lookup_lsoa21_ward24_ltla24.csv"],
    "lsoa_icb": ["lookup_lsoa21_icb24.parquet", "lookup_lsoa21_icb24.csv"],
    "ltla_region": ["lookup_ltla24_region24.parquet", "lookup_ltla24_region24.csv"],
    "boundaries_lsoa21": ["boundaries_lsoa21.parquet", "boundaries_lsoa21.geojson"],
    "ruc21": ["ruc21_lsoa21.parquet", "ruc21_lsoa21.csv", "RUC21*LSOA*.csv"],
}


def _arcgis(service: str, target: str, description: str, geometry: bool = False) -> FetchSpec:
    return FetchSpec(
        source=f"ons_{Path(target).stem}",
        url=f"{ARCGIS}/{service}/FeatureServer/0/query",
        target=f"{TOPIC}/{target}",
        description=description,
        extra={"kind": "arcgis", "geometry": geometry},
    )


FETCH = [
    _arcgis("LSOA21_WD24_LAD24_EW_LU", "lookup_lsoa21_ward24_ltla24.csv",
            "LSOA (2021) to Electoral Ward (2024) to LAD (2024) best-fit lookup, E&W"),
    _arcgis("LSOA21_SICBL24_ICB24_LAD24_EN_LU", "lookup_lsoa21_icb24.csv",
            "LSOA (2021) to Sub ICB Location to ICB (April 2024) lookup, England"),
    _arcgis("LAD24_RGN24_EN_LU", "lookup_ltla24_region24.csv",
            "Local Authority District (2024) to Region lookup, England"),
    _arcgis("LSOA11_LSOA21_LAD22_EW_LU", "lookup_lsoa11_lsoa21_ltla22.csv",
            "LSOA (2011) to LSOA (2021) to LAD (2022) exact-fit lookup with change codes, E&W"),
    _arcgis("Middle_layer_Super_Output_Areas_December_2021_Boundaries_EW_BGC_V3",
            "boundaries_msoa21.geojson", "MSOA (Dec 2021) boundaries, generalised clipped",
            geometry=True),
    _arcgis("Lower_layer_Super_Output_Areas_December_2021_Boundaries_EW_BGC_V5",
            "boundaries_lsoa21.geojson", "LSOA (Dec 2021) boundaries, generalised clipped",
            geometry=True),
]


def locate(raw_dir: Path, key: str) -> Path:
    """Path of one geography file in the raw layout (``key`` from :data:`FILES`)."""
    return find_one(raw_dir, TOPIC, FILES[key])


def _england(df: pd.DataFrame, path: Path) -> pd.DataFrame:
    eng = df[df["lsoa21_code"].astype(str).str.startswith("E")].reset_index(drop=True)
    check_lsoa_codes(eng, path)
    return eng


def read_lsoa_ltla(path: Path) -> pd.DataFrame:
    """LSOA21 -> ward24 -> LTLA24 (best fit), England rows only: every LSOA has a ward and an
    LTLA (area summaries are made of both)."""
    df = map_headers(read_table(path), LSOA_LTLA_MAP,
                     ["lsoa21_code", "lsoa21_name", "ward24_code", "ward24_name", "ltla24_code",
                      "ltla24_name"], path)
    eng = df[df["lsoa21_code"].astype(str).str.startswith("E")]  # file rows kept for messages
    check_filled(eng, ["ward24_code", "ltla24_code"], path, "lsoa21_code")
    for key, value in (("ltla24_code", "ltla24_name"), ("ward24_code", "ward24_name")):
        check_one_value(eng, key, value, path)
    return _england(df, path)


def read_lsoa_icb(path: Path) -> pd.DataFrame:
    """LSOA21 -> sub-ICB location -> ICB (2024), England."""
    df = map_headers(read_table(path), LSOA_ICB_MAP,
                     ["lsoa21_code", "sicbl24_code", "icb24_code", "icb24_name"], path)
    check_one_value(df, "icb24_code", "icb24_name", path)
    check_one_value(df, "sicbl24_code", "icb24_code", path)  # a sub-ICB lies in one ICB
    return _england(df, path)


def read_ltla_region(path: Path) -> pd.DataFrame:
    """LTLA24 -> region (England)."""
    df = map_headers(read_table(path), LTLA_REGION_MAP,
                     ["ltla24_code", "region_code", "region_name"], path)
    if df["ltla24_code"].duplicated().any():
        dup = df.loc[df["ltla24_code"].duplicated(), "ltla24_code"].head(5).tolist()
        raise SourceError(path, f"column 'ltla24_code': duplicated LTLA code(s) {dup}")
    check_one_value(df, "region_code", "region_name", path)
    return df.reset_index(drop=True)


def read_lsoa_boundaries(path: Path) -> gpd.GeoDataFrame:
    """England LSOA 2021 boundaries: ``code``, ``name``, ``geometry`` (EPSG:4326)."""
    from pipeline.sources.guards import check_file

    check_file(path)
    if not path.exists():
        raise SourceError(path, "file not found")
    try:
        gdf = gpd.read_parquet(path) if path.suffix == ".parquet" else gpd.read_file(path)
    except Exception as exc:  # noqa: BLE001 - any reader failure is a bad file
        raise SourceError(path, f"cannot read boundaries: {exc}") from exc
    df = map_headers(pd.DataFrame(gdf.drop(columns="geometry")), LSOA_BOUNDARY_MAP,
                     ["code", "name"], path)
    out = gpd.GeoDataFrame(df, geometry=gdf.geometry.values, crs=gdf.crs or "EPSG:4326")
    out = out[out["code"].astype(str).str.startswith("E")]
    out = out.to_crs("EPSG:4326").reset_index(drop=True)
    check_boundaries(out, path, gdf.crs)
    return out


def check_boundaries(gdf: gpd.GeoDataFrame, path: Path, crs) -> None:
    """LSOA polygons: one per code, present, valid and inside England. Checked when the
    boundaries are read, so a damaged file is named before any file placed on it is blamed."""
    check_lsoa_codes(pd.DataFrame({"code": gdf["code"]}), path, column="code")
    geom = gdf.geometry
    missing = geom.isna() | geom.is_empty
    if missing.any():
        raise SourceError(path, f"{int(missing.sum())} LSOA(s) have no polygon, e.g. "
                          f"{gdf.loc[missing, 'code'].head(5).tolist()}; use the complete ONS "
                          "LSOA 2021 boundaries")
    invalid = ~geom.is_valid
    if invalid.any():
        raise SourceError(path, f"{int(invalid.sum())} invalid polygon(s), e.g. "
                          f"{gdf.loc[invalid, 'code'].head(5).tolist()}; use the ONS "
                          "generalised boundaries as published")
    pt = geom.representative_point()
    out = ~(pt.x.between(*LON) & pt.y.between(*LAT))  # wrong CRS, swapped axes
    if out.any():
        raise SourceError(path, f"{int(out.sum())} polygon(s) lie outside England, e.g. "
                          f"{gdf.loc[out, 'code'].head(5).tolist()} at ({pt.x[out].iloc[0]:.2f}, "
                          f"{pt.y[out].iloc[0]:.2f}); the file says CRS "
                          f"{getattr(crs, 'name', None) or 'none (read as EPSG:4326)'}: check "
                          "the CRS and that x and y are not swapped")


def read_lsoa11_lsoa21(path: Path) -> pd.DataFrame:
    """ONS LSOA 2011 -> 2021 lookup with change codes U/S/M/X (England rows)."""
    df = map_headers(read_table(path), LSOA11_21_MAP,
                     ["lsoa11_code", "lsoa21_code", "change_code"], path)
    bad = sorted(set(df["change_code"]) - {"U", "S", "M", "X"})
    if bad:
        raise SourceError(path, f"column 'change_code': unexpected value(s) {bad[:5]}")
    return df[df["lsoa21_code"].astype(str).str.startswith("E")].reset_index(drop=True)


def read_ruc21(path: Path) -> pd.DataFrame:
    """ONS 2021 Rural-Urban Classification of LSOAs (England rows): the six-class code and
    name, and the urban/rural flag (derived from the code's first letter when absent)."""
    df = map_headers(read_table(path), RUC21_MAP, ["lsoa21_code", "ruc21_code"], path)
    df = df[df["lsoa21_code"].astype(str).str.startswith("E")].reset_index(drop=True)
    first = df["ruc21_code"].astype(str).str[0]
    bad = df.index[~first.isin(["U", "R"])]
    if len(bad):
        raise SourceError(path, f"column 'ruc21_code': expected a 2021 RUC code (UN1, RLF1, ...) "
                          f"at file row(s) {[int(i) + 2 for i in bad[:5]]}")
    if "urban_rural" not in df:
        df["urban_rural"] = first.map({"U": "Urban", "R": "Rural"})
    if "ruc21_name" not in df:
        df["ruc21_name"] = None
    return df[["lsoa21_code", "ruc21_code", "ruc21_name", "urban_rural"]]


def read_msoa_names(path: Path) -> pd.DataFrame:
    """MSOA 2021 codes and names (from the boundary file's attributes)."""
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        names = [c for c in pq.read_schema(path).names if c != "geometry"]
        raw = pd.read_parquet(path, columns=names)
    else:
        raw = pd.DataFrame(gpd.read_file(path, ignore_geometry=True))
    df = map_headers(raw, MSOA_MAP, ["msoa21_code", "msoa21_name"], path)
    return df[df["msoa21_code"].astype(str).str.startswith("E")].reset_index(drop=True)
