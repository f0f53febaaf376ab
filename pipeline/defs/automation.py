"""Automation: the build job, the monthly schedule and the raw-files sensor."""

import hashlib
from pathlib import Path

import dagster as dg

from pipeline.config import paths

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


JOBS = [build_job]
SCHEDULES = [monthly_schedule]
SENSORS = [raw_files_sensor]
