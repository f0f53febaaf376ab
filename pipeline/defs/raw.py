"""Raw files as observed source assets, and code versions: what makes a rebuild incremental.

Each raw topic folder (``<raw>/iod``, ``<raw>/census2021``, ...) is an observable source asset
``raw_<topic>`` whose data version is the sha256 of its files (names and bytes). Each staging
asset that reads raw files depends on its topic (:data:`READS`). Every asset has a code
version: an SQL model's is the hash of its ``.sql`` file; a Python asset's the hash of the
``pipeline`` package, ``settings.yaml``, the index spec and the GX suites. Dagster records
both on every materialisation, so an asset is stale exactly when its code, or the data
version of something it reads, changed since it was last materialised; ``dedi build``
rematerialises those and what depends on them (``pipeline/build/run.py``).
"""

from __future__ import annotations

import warnings

import dagster as dg

from pipeline.build.versions import (
    TOPICS,
    folder_version,
    python_code_version,
    sql_code_version,
    with_folder,
)
from pipeline.config import PROJECT_ROOT, paths

# staging asset -> the raw topic folder it reads (a test checks every raw reader is here)
READS: dict[str, str] = {
    "stg_iod2025": "iod", "stg_iod2025_file8": "iod", "stg_iod_release": "iod",
    "stg_lsoa21_ltla24": "geography", "stg_lsoa21_icb24": "geography",
    "stg_ltla24_region": "geography", "stg_msoa21_names": "geography",
    "stg_lsoa21_boundaries": "geography", "stg_lsoa11_lsoa21": "geography",
    "stg_postcode_directory": "geography", "stg_lsoa21_ruc21": "geography",
    "stg_census21_population": "census2021", "stg_census21_children": "census2021",
    "stg_census21_age65plus": "census2021", "stg_census21_disability": "census2021",
    "stg_census21_overcrowding": "census2021", "stg_census21_households": "census2021",
    "stg_census21_household_deprivation": "census2021",
    "stg_census21_proficiency_msoa": "census2021",
    "stg_ofcom_postcode_coverage": "connectivity", "stg_deri_broadband": "connectivity",
    "stg_gp_practices": "gp", "stg_gp_patients_lsoa": "gp",
    "stg_nhs_app_practice_monthly": "nhs_app", "stg_gias_schools": "schools",
    "stg_local_proxies": "local", "stg_local_proxies_period": "local",
}


def _raw_asset(topic: str) -> dg.SourceAsset:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # observable_source_asset is marked beta

        @dg.observable_source_asset(
            name=f"raw_{topic}", group_name="raw",
            description=f"The raw files under <raw>/{topic}/ (DEDI_RAW_DIR); data version = "
            "sha256 of their names and bytes.")
        def _observe() -> dg.DataVersion:
            return dg.DataVersion(folder_version(paths().raw / topic))

    return _observe


RAW_ASSETS = [_raw_asset(t) for t in TOPICS]


def versioned(assets: list) -> list:
    """``assets`` with a code version each (an SQL model asset's from its ``.sql`` file, any
    other's from the package, plus the SQL files of the folder its ``dedi/also_versions``
    names) and, for an unpartitioned raw reader, its raw topic as a dependency."""
    def one(spec: dg.AssetSpec) -> dg.AssetSpec:
        name = spec.key.to_user_string()
        sql = spec.metadata.get("dedi/sql_model")
        code = sql_code_version(PROJECT_ROOT / sql) if sql else python_code_version()
        if spec.metadata.get("dedi/also_versions"):
            code = with_folder(code, PROJECT_ROOT / spec.metadata["dedi/also_versions"])
        deps = list(spec.deps)
        if name in READS and spec.partitions_def is None:  # partitions version their own files
            deps.append(dg.AssetDep(f"raw_{READS[name]}"))
        return spec.replace_attributes(code_version=code, deps=deps)

    return list(dg.map_asset_specs(one, assets))
