"""Dagster ``Definitions`` for DEDI: assets per source and per mart, checks, schedule, sensor."""


import hashlib
from pathlib import Path

import dagster as dg

from pipeline.config import paths
from pipeline.defs import (
    census,
    connectivity,
    geography,
    index,
    indicators,
    iod,
    local,
    marts,
    nhs_app,
    schools,
    validation,
)
from pipeline.resources import build_resources

MODULES = [iod, geography, census, connectivity, nhs_app, schools, local, indicators, index,
           validation, marts]

build_job = dg.define_asset_job(
    "dedi_build", selection=dg.AssetSelection.all(),
    description="Materialise every DEDI asset (raw -> staging -> marts) and publish the marts.")

monthly_schedule = dg.ScheduleDefinition(
    name="dedi_monthly", job=build_job, cron_schedule="0 6 2 * *",
    execution_timezone="Europe/London",
    description="Rebuild on the 2nd of each month at 06:00 (after monthly NHS releases).")


def raw_fingerprint(raw_dir: Path) -> str:
    """Hash of (path, size, mtime) of every file under the raw folder."""
    h = hashlib.sha256()
    if raw_dir.exists():
        for f in sorted(p for p in raw_dir.rglob("*") if p.is_file()):
            st = f.stat()
            h.update(f"{f.relative_to(raw_dir)}|{st.st_size}|{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


@dg.sensor(job=build_job, minimum_interval_seconds=300,
           description="Starts a build when files under DEDI_RAW_DIR are added or changed.")
def raw_files_sensor(context: dg.SensorEvaluationContext):
    fp = raw_fingerprint(paths().raw)
    if context.cursor == fp:
        return dg.SkipReason("raw files unchanged")
    first_look = context.cursor is None
    context.update_cursor(fp)
    if first_look:
        return dg.SkipReason("first look at raw files; fingerprint recorded")
    return dg.RunRequest(run_key=fp)


def build_definitions() -> dg.Definitions:
    """All definitions for the current environment (paths from DEDI_* env vars)."""
    assets = [a for m in MODULES for a in dg.load_assets_from_modules([m])]
    checks = [c for m in MODULES for c in dg.load_asset_checks_from_modules([m])]
    return dg.Definitions(
        assets=assets, asset_checks=checks, jobs=[build_job], schedules=[monthly_schedule],
        sensors=[raw_files_sensor], resources=build_resources(),
        executor=dg.in_process_executor,
    )


defs = build_definitions()
