"""Automation: the build job, the partition jobs, the monthly schedule and the raw-files sensor.

Vintages are partitions: IoD releases (``stg_iod_release``, static ``2019``/``2025``), NHS
App months (``stg_nhs_app_practice_monthly``, monthly) and the periods local proxy files carry
in their names (``stg_local_proxies_period``, dynamic: added when a file of a new period
lands). ``dedi_build`` materialises every unpartitioned asset; the sensor materialises a new
vintage's partition and only what depends on it.
"""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg

from pipeline.build.versions import file_stat, raw_fingerprint, vintage_files
from pipeline.config import paths, settings
from pipeline.defs._staging import STAGING_TAG
from pipeline.defs.hubs import dedi_hubs
from pipeline.defs.iod import stg_iod_release
from pipeline.defs.local import LOCAL_PERIODS, stg_local_proxies_period
from pipeline.defs.local_la import (
    LOCAL_LAS,
    current_files,
    fanout_job_for_definitions,
    stg_local_la,
)
from pipeline.defs.nhs_app import stg_nhs_app_practice_monthly
from pipeline.defs.raw import RAW_ASSETS
from pipeline.sources import local_proxies as lp
from pipeline.sources import nhs_app

PARTITIONED = dg.AssetSelection.assets(stg_iod_release, stg_nhs_app_practice_monthly,
                                       stg_local_proxies_period, stg_local_la)
build_job = dg.define_asset_job(
    "dedi_build", selection=dg.AssetSelection.all() - PARTITIONED, tags=STAGING_TAG,
    description="Materialise every unpartitioned DEDI asset (raw -> staging -> marts) and "
    "publish the marts. Partitioned vintages are staged by their own jobs first.")


def partition_job(name: str, asset, what: str):
    """A job that stages one partition of ``asset`` and rebuilds what depends on it."""
    return dg.define_asset_job(
        name, tags=STAGING_TAG, selection=dg.AssetSelection.assets(asset).downstream(),
            description=f"Stage {what} (a partition) and rebuild what depends on it.")


nhs_app_month_job = partition_job("dedi_nhs_app_month", stg_nhs_app_practice_monthly,
                                  "one NHS App month")
local_period_job = partition_job("dedi_local_period", stg_local_proxies_period,
                                 "the local proxy files of one period")
iod_release_job = partition_job("dedi_iod_release", stg_iod_release, "one IoD release")

monthly_schedule = dg.ScheduleDefinition(
    name="dedi_monthly", job=build_job, cron_schedule="0 6 2 * *",
    execution_timezone="Europe/London",
    description="Rebuild on the 2nd of each month at 06:00 (after monthly NHS releases).")


observe_raw_job = dg.define_asset_job(
    "dedi_observe_raw", selection=dg.AssetSelection.assets(*[a.key for a in RAW_ASSETS]),
    description="Observe the raw topic folders: their sha256 is their data version.")


def sensor_state(raw_dir: Path) -> dict:
    """What the sensor compares between ticks: the vintages' files and everything else."""
    vint = vintage_files(raw_dir)
    dated = set(nhs_app.locate_all(raw_dir)) | {f.path for f in lp.discover(raw_dir) if f.period}
    las = {la: ";".join(f"{f.path.name}|{file_stat(f.path)}" for f in fs)
           for la, fs in current_files(raw_dir).items()}  # LA folders: partitions of local_la
    return {**vint, "local_la": las, "other": raw_fingerprint(raw_dir, exclude=dated)}


def run_requests(before: dict, now: dict) -> list[dg.RunRequest]:
    """Runs for what changed: a new or changed NHS App month -> that partition and its
    downstream assets; a changed IoD File 7 -> that release's partition and downstream; a new or
    changed local period -> that period's partition and downstream; any other raw change (an
    IoD file included) -> the full build of unpartitioned assets, preceded (with
    scale_out.local_by_la) by the per-LA fan-out when an LA's local files changed."""
    reqs = []
    for month, fp in now["nhs_app"].items():
        if before.get("nhs_app", {}).get(month) != fp:
            reqs.append(dg.RunRequest(job_name=nhs_app_month_job.name, partition_key=month,
                                      run_key=f"nhs_app:{month}:{fp}"))
    for release, fp in now["iod"].items():
        if before.get("iod", {}).get(release) != fp:
            reqs.append(dg.RunRequest(job_name=iod_release_job.name, partition_key=release,
                                      run_key=f"iod:{release}:{fp}"))
    for period, fp in now["local"].items():
        if before.get("local", {}).get(period) != fp:
            reqs.append(dg.RunRequest(job_name=local_period_job.name, partition_key=period,
                                      run_key=f"local:{period}:{fp}"))
    changed_las = [la for la, fp in now.get("local_la", {}).items()
                   if before.get("local_la", {}).get(la) != fp]
    if changed_las and settings()["scale_out"]["local_by_la"]:  # queued before the build
        reqs.append(dg.RunRequest(job_name="dedi_local_la_fanout",
                                  run_key=f"local_la:{now['other']}"))
    if before.get("other") != now["other"]:
        reqs.append(dg.RunRequest(job_name=build_job.name, run_key=f"build:{now['other']}"))
    return reqs


local_la_fanout_job = fanout_job_for_definitions()


@dg.sensor(jobs=[build_job, nhs_app_month_job, iod_release_job, local_period_job,
                 local_la_fanout_job],
           minimum_interval_seconds=300,
           description="When a new vintage lands (an NHS App month file, an IoD File 7, a dated "
           "local proxy file), runs its partition and what depends on it (adding a new local "
           "period as a partition); when other raw files change, the full build.")
def raw_files_sensor(context: dg.SensorEvaluationContext):
    now = sensor_state(paths().raw)
    if context.cursor is None:
        context.update_cursor(json.dumps(now))
        return dg.SkipReason("first look at raw files; fingerprints recorded")
    before = json.loads(context.cursor)
    reqs = run_requests(before, now)
    context.update_cursor(json.dumps(now))
    if not reqs:
        return dg.SkipReason("raw files unchanged")
    new_periods = [p for p in now["local"] if p not in before.get("local", {})]
    new_las = [la for la in now["local_la"] if la not in before.get("local_la", {})]
    return dg.SensorResult(run_requests=reqs, dynamic_partitions_requests=[
        *([LOCAL_PERIODS.build_add_request(new_periods)] if new_periods else []),
        *([LOCAL_LAS.build_add_request(new_las)] if new_las else [])])


JOBS = [build_job, dedi_hubs, nhs_app_month_job, iod_release_job, local_period_job, observe_raw_job,
        local_la_fanout_job]
SCHEDULES = [monthly_schedule]
SENSORS = [raw_files_sensor]
