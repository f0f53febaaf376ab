"""Dagster definitions: every asset, check, schedule and sensor loads and validates."""

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from tests.conftest import ROOT


def test_definitions_validate_cli():
    exe = Path(sys.executable).with_name("dagster")
    env = {**os.environ, "DAGSTER_HOME": str(ROOT)}
    r = subprocess.run([str(exe), "definitions", "validate", "-m", "pipeline.definitions"],
                       capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr


def test_all_assets_checks_schedule_and_sensor():
    from pipeline.definitions import defs

    keys = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    assert {"stg_iod2025", "stg_lsoa21_ltla24", "stg_lsoa21_icb24", "stg_ltla24_region",
            "stg_lsoa21_boundaries", "stg_census21_population", "int_lsoa_geography",
            "lsoa_index", "area_summary", "published_marts", "england_maps", "lsoa_index_history",
            # digital-exclusion inputs
            "stg_ofcom_postcode_coverage", "stg_postcode_directory", "stg_deri_broadband",
            "stg_lsoa11_lsoa21", "int_connectivity_lsoa", "stg_gp_practices",
            "stg_gp_patients_lsoa", "stg_nhs_app_practice", "int_nhs_app_uptake_lsoa",
            "stg_census21_age65plus", "stg_census21_disability", "stg_census21_overcrowding",
            "stg_census21_households", "stg_census21_household_deprivation",
            "stg_census21_children", "stg_census21_proficiency_msoa",
            "stg_msoa21_names", "int_census_indicators", "stg_gias_schools",
            "int_school_fsm_lsoa", "stg_local_proxies", "int_local_proxy_rates",
            "lsoa_indicators", "int_lsoa_population", "int_imd2019_lsoa21",
            # the index, one asset per method step, and external validation
            "stg_iod2025_file8", "int_iod_indicators", "index_spec", "int_dx_lsoa",
            "int_dedi_lsoa", "int_dedi_uncertainty", "indicator_diagnostics",
            "validation", "dedi_decile1_changes",
            # vintages as partitions and their history marts (issue 11)
            "stg_iod_release", "stg_nhs_app_practice_monthly", "int_nhs_app_uptake_lsoa_monthly",
            "nhs_app_uptake_history", "nhs_app_practice_history", "gp_practice_profile",
            "stg_lsoa21_ruc21", "stg_local_proxies_period", "local_proxy_history",
            # raw topic folders, observed (data version = sha256), and per-LA scale-out (issue 12)
            "stg_local_la",
            # the England maps' outlines, simplified once per boundary file
            "int_lsoa21_map_shapes",
            # GP practices as areas: their patients by LSOA and published catchments
            "int_gp_practice_lsoa", "gp_practice_catchment",
            *(f"raw_{t}" for t in ("iod", "geography", "census2021", "connectivity", "gp",
                                   "nhs_app", "schools", "local"))} == keys
    checks = {c.name for c in defs.resolve_asset_graph().asset_check_keys}
    assert {"imd_reproduction", "stg_iod2025_expectations", "lsoa_index_expectations",
            "lsoa_sets_consistent", "area_summary_expectations"} <= checks
    assert defs.resolve_schedule_def("dedi_monthly").cron_schedule == "0 6 2 * *"
    assert defs.resolve_job_def("dedi_build").executor_def.name == "in_process"
    assert defs.resolve_job_def("dedi_local_la_fanout").executor_def.name == "multiprocess"


def test_sensor_requests_run_when_raw_files_change(tmp_path, monkeypatch):
    from pipeline.defs.automation import raw_files_sensor

    monkeypatch.setenv("DEDI_RAW_DIR", str(tmp_path))
    (tmp_path / "iod").mkdir()
    (tmp_path / "iod" / "a.csv").write_text("x")
    first = raw_files_sensor(dg.build_sensor_context())
    assert isinstance(first, dg.SkipReason)
    ctx = dg.build_sensor_context(cursor=None)
    raw_files_sensor(ctx)
    unchanged = raw_files_sensor(dg.build_sensor_context(cursor=ctx.cursor))
    assert isinstance(unchanged, dg.SkipReason)
    (tmp_path / "iod" / "b.csv").write_text("new file")
    changed = raw_files_sensor(dg.build_sensor_context(cursor=ctx.cursor))
    assert [r.job_name for r in changed.run_requests] == ["dedi_build"]


MALLINFO = """
import ctypes, os, sys
import numpy as np
libc = ctypes.CDLL(None)
if not hasattr(libc, "mallinfo2"):
    print("skip"); sys.exit()
class Info(ctypes.Structure):
    _fields_ = [(k, ctypes.c_size_t) for k in ("arena", "ordblks", "smblks", "hblks", "hblkhd",
                "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]
libc.mallinfo2.restype = Info
{setup}
a = np.empty(40 << 20, dtype=np.uint8)  # a 40 MB array
print(libc.mallinfo2().hblkhd >= 40 << 20)  # served by a fresh mapping?
"""


TUNE = "from pipeline.build.tuning.process import reuse_freed_memory; reuse_freed_memory()"


@pytest.mark.parametrize("setup, env, mapped", [
    (TUNE, {}, False), (TUNE, {"MALLOC_TRIM_THRESHOLD_": "131072"}, True),
    ("import pipeline.definitions", {}, True)])
def test_the_dedi_entry_point_alone_lets_malloc_reuse_freed_memory(setup, env, mapped):
    """Large arrays come from the heap, whose freed blocks the next array reuses, not from a
    fresh mapping per array (pipeline/build/tuning/process.py), once ``dedi`` has tuned its
    process; unless the user set glibc's own MALLOC_ variables, which win. Loading the
    definitions (the webserver, Dagster's workers) leaves the allocator alone."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    out = subprocess.run([sys.executable, "-c", MALLINFO.replace("{setup}", setup)], env={**base, **env},
                         capture_output=True, text=True, check=True).stdout.split()[-1]
    if out == "skip":
        pytest.skip("not glibc >= 2.33 (no mallinfo2)")
    assert out == str(mapped)
