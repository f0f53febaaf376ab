"""Run the whole DEDI build in-process with Dagster, printing progress as steps finish."""

from __future__ import annotations

import logging
import os
import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from pipeline.config import paths
from pipeline.locks import pid_lock
from pipeline.publish import PublishLocked, marts_lock


class _ProgressHandler(logging.Handler):
    """Prints one line per step start/finish and per asset check, with elapsed time."""

    def __init__(self, stream) -> None:
        super().__init__()
        self.stream = stream
        self.t0 = time.monotonic()
        self.started: dict[str, float] = {}

    def emit(self, record: logging.LogRecord) -> None:
        meta = getattr(record, "dagster_meta", None) or {}
        ev = meta.get("dagster_event")
        if ev is None:
            return
        kind, step = ev.event_type_value, ev.step_key or ""
        now = time.monotonic()
        if kind == "STEP_START":
            self.started[step] = now
            line = f"  … {step}"
        elif kind == "STEP_SUCCESS":
            line = f"  ✓ {step} ({now - self.started.get(step, now):.1f}s)"
        elif kind == "STEP_FAILURE":
            err = ev.event_specific_data.error
            err = err.cause or err if err else None
            msg = err.message.strip().splitlines()[-1] if err else "failed"
            line = f"  ✗ {step} FAILED: {msg}"
        elif kind == "ASSET_CHECK_EVALUATION":
            d = ev.event_specific_data
            line = f"    {'✓' if d.passed else '✗'} check {d.check_name}"
        elif kind == "STEP_SKIPPED":
            line = f"  - {step} skipped (an upstream step or blocking check failed)"
        else:
            return
        self.stream.write(f"[{now - self.t0:6.1f}s]{line}\n")
        self.stream.flush()


@dg.logger(config_schema={"quiet": bool}, description="Compact DEDI progress on stderr.")
def progress_logger(init_context):
    lg = logging.Logger("dedi_progress", level=logging.DEBUG)
    if not init_context.logger_config.get("quiet", False):
        lg.addHandler(_ProgressHandler(sys.stderr))
    return lg


@dataclass
class BuildOutcome:
    """What a build did: success, failed steps and checks with their messages."""

    success: bool
    failures: list[str] = field(default_factory=list)
    marts_dir: Path | None = None


class BuildLocked(RuntimeError):
    """Another build is using the same staging folder."""


BUSY = (BuildLocked, PublishLocked)  # what a second concurrent build meets


@contextmanager
def build_lock(staging: Path) -> Iterator[None]:
    """One build per staging folder at a time (an advisory lock, released if the process dies)."""
    with pid_lock(staging / ".build.lock", lambda holder: BuildLocked(
            f"another dedi build (pid {holder}) is using {staging}; wait for it to finish or "
            "set DEDI_STAGING_DIR to another folder")):
        yield


def run_build(quiet: bool = False, index_config: dict | None = None) -> BuildOutcome:
    """Materialise every asset in-process; paths come from DEDI_* env vars / settings.

    Raises :class:`pipeline.rawdir.RawDirError` (creating nothing) when the raw folder is
    missing, empty or mixes demo and real files. Staging starts empty, so nothing of an
    earlier build (tables, provenance rows) can leak into this one. ``index_config`` is the
    run config of the ``index_spec`` asset (scenario, set, spec_file, ...).
    """
    from pipeline.rawdir import require_buildable

    p = paths()
    require_buildable(p.raw)
    with build_lock(p.staging), marts_lock(p.marts):  # one build per staging and per marts
        for f in (p.staging_db, p.staging_db.with_name(p.staging_db.name + ".wal")):
            f.unlink(missing_ok=True)
        return _run(p, quiet, index_config or {})


def key_ranges(keys: list[str], present: list[str]) -> list[tuple[str, str]]:
    """Runs of consecutive partition ``keys`` that are all ``present`` (one run each)."""
    out: list[tuple[str, str]] = []
    have = set(present)
    start = prev = None
    for k in [*keys, None]:
        if k is not None and k in have:
            start, prev = start or k, k
        elif start is not None:
            out.append((start, prev))
            start = prev = None
    return out


def vintage_runs(raw_dir: Path) -> list[tuple[str, str, tuple[str, str]]]:
    """(job, asset, partition key range) staging every vintage present in ``raw_dir``: the
    IoD releases and the NHS App months, each contiguous range in one run, and each local
    period (dynamic partitions, one run each)."""
    from pipeline.defs.automation import (
        iod_release_job,
        local_period_job,
        nhs_app_month_job,
        vintage_files,
    )
    from pipeline.defs.iod import IOD_RELEASES
    from pipeline.defs.nhs_app import NHS_APP_MONTHS
    from pipeline.sources.common import SourceError

    present = vintage_files(raw_dir)
    months = NHS_APP_MONTHS.get_partition_keys()
    outside = [m for m in present["nhs_app"] if m not in months]
    if outside:
        raise SourceError(raw_dir / "nhs_app", f"NHS App month(s) {outside} fall outside the "
                          f"monthly partitions {months[0]}..{months[-1]}; set "
                          "indicators.nhs_app.first_month in settings.yaml to an earlier month")
    return ([(iod_release_job.name, "stg_iod_release", r)
             for r in key_ranges(IOD_RELEASES.get_partition_keys(), list(present["iod"]))]
            + [(nhs_app_month_job.name, "stg_nhs_app_practice_monthly", r)
               for r in key_ranges(months, list(present["nhs_app"]))]
            + [(local_period_job.name, "stg_local_proxies_period", (p, p))
               for p in present["local"]])


def _failures(result) -> list[str]:
    """One line per failed step or failed check of a run."""
    failures: list[str] = []
    for ev in result.all_events:
        if ev.event_type_value == "STEP_FAILURE":
            err = ev.event_specific_data.error
            msg = err.message.strip() if err else "failed"
            cause = err.cause.message.strip() if err and err.cause else ""
            # "pipeline.sources.common.SourceError: file: ..." -> "file: ..." (one clear line)
            line = re.sub(r"^[\w.]*SourceError: ", "", cause or msg)
            failures.append(f"{ev.step_key}: {line}")
        elif ev.event_type_value == "ASSET_CHECK_EVALUATION" and not ev.event_specific_data.passed:
            d = ev.event_specific_data
            detail = {k: v.value for k, v in d.metadata.items()}
            failures.append(f"check {d.check_name} failed: {detail}")
    return failures


def _run(p, quiet: bool, index_config: dict) -> BuildOutcome:
    from pipeline.definitions import build_definitions
    from pipeline.sources.common import SourceError

    defs = build_definitions()
    instance = (dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME")
                else dg.DagsterInstance.ephemeral())
    loggers = {"loggers": {"dedi_progress": {"config": {"quiet": quiet}}}}
    try:
        runs = vintage_runs(p.raw)
    except SourceError as exc:
        return BuildOutcome(success=False, failures=[str(exc)], marts_dir=p.marts)
    # 1. every vintage (partition) present, 2. everything else, which reads them. A local
    # period needs the geography staged, so its first run stages that too (with File 7, which
    # the geography checks count LSOAs from).
    from pipeline.defs.local import LOCAL_PERIODS, UPSTREAM

    periods = [r[0] for job, _, r in runs if job == "dedi_local_period"]
    if periods:
        instance.add_dynamic_partitions(LOCAL_PERIODS.name, periods)
    staged_upstream = False
    for job_name, asset, (first, last) in runs:
        job = defs.resolve_job_def(job_name).with_logger_defs({"dedi_progress": progress_logger})
        selection = [dg.AssetKey(asset)]
        if job_name == "dedi_local_period" and not staged_upstream:
            graph = defs.resolve_asset_graph()
            selection += sorted(dg.AssetSelection.assets(*UPSTREAM, "stg_iod2025").upstream()
                                .resolve(graph))
            staged_upstream = True
        result = job.execute_in_process(
            instance=instance, raise_on_error=False, run_config=loggers,
            asset_selection=selection,
            tags={"dagster/asset_partition_range_start": first,
                  "dagster/asset_partition_range_end": last})
        failures = _failures(result)
        if not result.success or failures:
            return BuildOutcome(success=False, failures=failures or [f"{asset} failed"],
                                marts_dir=p.marts)
    job = defs.resolve_job_def("dedi_build").with_logger_defs({"dedi_progress": progress_logger})
    result = job.execute_in_process(
        instance=instance, raise_on_error=False,
        run_config={**loggers,
                    **({"ops": {"index_spec": {"config": index_config}}} if index_config else {})})
    failures = _failures(result)
    return BuildOutcome(success=result.success and not failures, failures=failures,
                        marts_dir=p.marts)
