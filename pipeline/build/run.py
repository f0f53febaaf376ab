"""Run the whole DEDI build in-process with Dagster, printing progress as steps finish."""

from __future__ import annotations

import logging
import os
import re
import sys
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from pipeline.build.locks import BUSY, BuildLocked, build_lock, marts_lock  # noqa: F401
from pipeline.build.tuning.dagster_internals import stale_assets
from pipeline.build.tuning.side_process import SideProcess
from pipeline.build.versions import (
    STATE_FILE,
    inputs,
    last_build,
    published_release,
    up_to_date,
    vintage_fingerprints,
)
from pipeline.config import paths, settings
from pipeline.errors import DATA_WARNING


class _ProgressHandler(logging.Handler):
    """Prints one line per step start/finish and per asset check, with elapsed time, and
    every warning (a quarantine, a fallback): ``quiet`` prints the warnings only."""

    def __init__(self, stream, quiet: bool = False) -> None:
        super().__init__()
        self.stream = stream
        self.quiet = quiet
        self.t0 = time.monotonic()
        self.started: dict[str, float] = {}

    def emit(self, record: logging.LogRecord) -> None:
        meta = getattr(record, "dagster_meta", None) or {}
        ev = meta.get("dagster_event")
        now = time.monotonic()
        if ev is None:
            msg = str(meta.get("orig_message") or record.getMessage())
            if record.levelno >= logging.WARNING and msg.startswith(DATA_WARNING):
                self.stream.write(f"[{now - self.t0:6.1f}s]  ! WARNING "
                                  f"{msg.removeprefix(DATA_WARNING)}\n")
                self.stream.flush()
            return
        if self.quiet:
            return
        kind, step = ev.event_type_value, ev.step_key or ""
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
    # quiet: warnings only (the handler also keeps Python's last-resort handler from printing
    # each failed step's message and stack trace to stderr)
    lg.addHandler(_ProgressHandler(sys.stderr, init_context.logger_config.get("quiet", False)))
    return lg


@dataclass
class BuildOutcome:
    """What a build did: success, failed steps and checks with their messages."""

    success: bool
    failures: list[str] = field(default_factory=list)
    marts_dir: Path | None = None
    step_seconds: dict[str, float] = field(default_factory=dict)  # with profile=True
    materialised: list[str] = field(default_factory=list)  # asset keys (partition in [])
    up_to_date: bool = False  # nothing changed since the last build: nothing was published
    warnings: list[str] = field(default_factory=list)  # tolerated problems, one line each


def run_build(quiet: bool = False, index_config: dict | None = None,
              full: bool = False, profile: bool = False,
              side: SideProcess | None = None, replace_current: bool = False) -> BuildOutcome:
    """Materialise what changed in-process; paths come from DEDI_* env vars / settings.

    Incremental by default: Dagster records the code version and input data versions of every
    materialisation (raw topics observed by sha256, ``pipeline/defs/raw.py``), so only stale
    assets and what depends on them run; with nothing stale, nothing is published
    (``BuildOutcome.up_to_date``). Staging starts empty (``full``) when asked, on the first
    build, when the raw folder or the index configuration changed, or when a vintage was
    removed, so nothing of another raw folder can leak into a build.

    Raises :class:`pipeline.inputs.rawdir.RawDirError` (creating nothing) when the raw folder is
    missing, empty or mixes demo and real files. ``index_config`` is the run config of the
    ``index_spec`` asset (scenario, set, spec_file, ...). ``profile`` fills
    ``BuildOutcome.step_seconds`` (read back from the runs' event logs). A build whose kind
    (real or the synthetic demo) or coverage differs from the published ``current`` raises
    :class:`~pipeline.errors.CurrentGuardError` (kind, before anything runs) or fails at
    publication (coverage) unless ``replace_current``.
    """
    from pipeline.inputs.rawdir import require_buildable
    from pipeline.release.publish import guard_current

    p = paths()
    state = require_buildable(p.raw)
    guard_current(published_to(p, index_config or {}),
                  "synthetic" if state.kind == "demo" else "real", replace=replace_current,
                  raw=p.raw)
    if not full and up_to_date(p.staging, published_to(p, index_config or {}), p.raw,
                                index_config or {}):
        return BuildOutcome(True, [], p.marts, up_to_date=True)  # Dagster need not load
    # one side process for every run of this build (``side``: one the caller started before
    # importing Dagster, so GX loaded there meanwhile), stopped when the build ends
    live = not (index_config or {}).get("scenario")
    with build_lock(p.staging), marts_lock(published_to(p, index_config or {}), live), \
            (nullcontext(side) if side else SideProcess()) as side:
        return _run(p, quiet, index_config or {}, full, profile, side,  # one build at a time
                    replace_current)


def published_to(p, index_config: dict) -> Path:
    """The marts folder this build publishes to: a scenario's own, or the live one."""
    return p.marts_for(index_config.get("scenario"))


def _start_fresh(p) -> None:
    """Empty staging: the database and the build state (the Dagster instance keeps its run
    history; :func:`_forget_partitions` drops the old raw folder's partitions)."""
    for f in (p.staging_db, p.staging_db.with_name(p.staging_db.name + ".wal"),
              p.staging / STATE_FILE):
        f.unlink(missing_ok=True)


def _forget_partitions(instance: dg.DagsterInstance) -> None:
    """A fresh build keeps the instance's run history (the UI shows every build) but not the
    dynamic partitions of another raw folder: this build adds its own."""
    from pipeline.defs.local import LOCAL_PERIODS
    from pipeline.defs.local_la import LOCAL_LAS

    for name in (LOCAL_PERIODS.name, LOCAL_LAS.name):
        for key in instance.get_dynamic_partitions(name):
            instance.delete_dynamic_partition(name, key)


def instance_home(staging: Path) -> Path:
    """The one Dagster instance of a staging folder: ``<staging>/dagster``, used by ``dedi
    build`` and by ``dedi dev`` (so the UI shows every build), with the project's
    ``dagster.yaml`` (queued runs, one DEDI run at a time) copied in."""
    from pipeline.config import PROJECT_ROOT

    home = staging / "dagster"
    home.mkdir(parents=True, exist_ok=True)
    template = (PROJECT_ROOT / "dagster.yaml").read_text(encoding="utf-8")
    target = home / "dagster.yaml"
    if not target.exists() or target.read_text(encoding="utf-8") != template:
        target.write_text(template, encoding="utf-8")
    return home


def _instance(p) -> dg.DagsterInstance:
    """``DAGSTER_HOME``'s instance when set, else the staging folder's (:func:`instance_home`;
    it holds the versions that make the next build incremental)."""
    from pipeline.build.tuning.dagster_internals import build_instance_overrides

    if os.environ.get("DAGSTER_HOME"):
        return dg.DagsterInstance.get()
    home = instance_home(p.staging)
    return dg.DagsterInstance.local_temp(tempdir=str(home), overrides={
        "telemetry": {"enabled": False},
        **build_instance_overrides(home)})


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


def vintage_runs(raw_dir: Path, unchanged: dict[str, dict[str, str]] | None = None,
                 present: dict[str, dict[str, str]] | None = None
                 ) -> list[tuple[str, str, tuple[str, str]]]:
    """(job, asset, partition key range) staging every vintage present in ``raw_dir``: the
    IoD releases and the NHS App months, each contiguous range in one run, and each local
    period (dynamic partitions, one run each). ``unchanged``: topic -> partition -> file
    fingerprint of the last build; partitions whose files still have that fingerprint are
    left out. ``present``: :func:`~pipeline.build.versions.vintage_fingerprints` when known."""
    from pipeline.defs.automation import (
        iod_release_job,
        local_period_job,
        nhs_app_month_job,
    )
    from pipeline.defs.iod import IOD_RELEASES
    from pipeline.defs.nhs_app import NHS_APP_MONTHS
    from pipeline.sources.common import SourceError

    present = present or vintage_fingerprints(raw_dir)
    months = NHS_APP_MONTHS.get_partition_keys()
    outside = [m for m in present["nhs_app"] if m not in months]
    if outside:
        raise SourceError(raw_dir / "nhs_app", f"NHS App month(s) {outside} fall outside the "
                          f"monthly partitions {months[0]}..{months[-1]}; set "
                          "indicators.nhs_app.first_month in settings.yaml to an earlier month")
    old = unchanged or {}

    def todo(topic: str) -> list[str]:
        return [k for k, fp in present[topic].items() if old.get(topic, {}).get(k) != fp]

    return ([(iod_release_job.name, "stg_iod_release", r)
             for r in key_ranges(IOD_RELEASES.get_partition_keys(), todo("iod"))]
            + [(nhs_app_month_job.name, "stg_nhs_app_practice_monthly", r)
               for r in key_ranges(months, todo("nhs_app"))]
            + [(local_period_job.name, "stg_local_proxies_period", (p, p))
               for p in todo("local")])


def step_seconds(result, instance: dg.DagsterInstance) -> dict[str, float]:
    """Wall seconds of each step of a run, from its STEP_START / STEP_SUCCESS events."""
    start, out = {}, {}
    for entry in instance.all_logs(result.run_id):
        ev = entry.dagster_event
        if ev is None:
            continue
        if ev.event_type_value == "STEP_START":
            start[ev.step_key] = entry.timestamp
        elif ev.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE") and ev.step_key in start:
            out[ev.step_key] = entry.timestamp - start[ev.step_key]
    return out


def materialised(result) -> list[str]:
    """``asset`` or ``asset[partition]`` of every materialisation of a run."""
    out = []
    for ev in result.all_events:
        if ev.event_type_value == "ASSET_MATERIALIZATION":
            m = ev.event_specific_data.materialization
            key = m.asset_key.to_user_string()
            out.append(f"{key}[{m.partition}]" if m.partition else key)
    return out


def explain_system_error(line: str) -> str:
    """A system error a user can fix, said in one line with what to do (else ``line``)."""
    if "No space left on device" in line or "Disk quota exceeded" in line:
        return ("the disk is full (No space left on device) while writing the staging or "
                "marts folder; free space there, or set DEDI_STAGING_DIR / DEDI_MARTS_DIR to a "
                "disk with room, and build again (the published marts are unchanged)")
    return line.strip().splitlines()[0] if line.strip() else line


def run_warnings(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    """The warning lines a run logged (quarantines, fallbacks), in order."""
    return [e.user_message.removeprefix(DATA_WARNING) for e in instance.all_logs(run_id)
            if not e.is_dagster_event and e.level >= logging.WARNING
            and e.user_message.startswith(DATA_WARNING)]


def _failures(result) -> list[str]:
    """One line per failed step or failed check of a run."""
    failures: list[str] = []
    for ev in result.all_events:
        if ev.event_type_value == "STEP_FAILURE":
            err = ev.event_specific_data.error
            msg = err.message.strip() if err else "failed"
            cause = err.cause.message.strip() if err and err.cause else ""
            # "pipeline.sources.common.SourceError: file: ..." -> "file: ..." (one clear line)
            # (any of DEDI's own errors, pipeline/errors.py: the message is the line)
            line = re.sub(r"^(pipeline\.[\w.]*\.)?\w*(SourceError|SpecError|GuardError): ", "",
                          cause or msg)
            failures.append(f"{ev.step_key}: {explain_system_error(line)}")
        elif ev.event_type_value == "ASSET_CHECK_EVALUATION" and not ev.event_specific_data.passed:
            d = ev.event_specific_data
            detail = {k: v.value for k, v in d.metadata.items()}
            failures.append(f"check {d.check_name} failed: {detail}")
    return failures


def _run(p, quiet: bool, index_config: dict, full: bool, profile: bool,
         side: SideProcess, replace_current: bool = False) -> BuildOutcome:

    from pipeline.definitions import build_definitions
    from pipeline.sources.common import SourceError

    try:
        vintages = vintage_fingerprints(p.raw)
    except SourceError as exc:
        return BuildOutcome(success=False, failures=[str(exc)], marts_dir=p.marts)
    before = last_build(p.staging)
    removed = any(k not in vintages.get(t, {}) for t, ks in before.get("vintages", {}).items()
                  for k in ks)
    now = inputs(p.raw, index_config)
    old = before.get("inputs", {})
    fresh = (full or not before or removed or old.get("raw_dir") != now["raw_dir"]
             or old.get("index_config") != now["index_config"])
    if fresh:
        _start_fresh(p)
        before = {}
    try:
        runs = vintage_runs(p.raw, before.get("vintages"), vintages)
    except SourceError as exc:
        return BuildOutcome(success=False, failures=[str(exc)], marts_dir=p.marts)
    defs = build_definitions(side)
    instance = _instance(p)
    if fresh:
        _forget_partitions(instance)
    loggers = {"loggers": {"dedi_progress": {"config": {"quiet": quiet}}}}
    steps: dict[str, float] = {}
    done: list[str] = []
    warned: list[str] = []

    def execute(job_name: str, **kw):
        job = defs.resolve_job_def(job_name).with_logger_defs({"dedi_progress": progress_logger})
        result = job.execute_in_process(instance=instance, raise_on_error=False, **kw)
        if profile:  # reads the run's event log back: only for bench/bench_steps.py
            steps.update(step_seconds(result, instance))
        done.extend(materialised(result))
        warned.extend(run_warnings(instance, result.run_id))
        return result, _failures(result)

    # 0. observe the raw topic folders (their data versions)
    result, failures = execute("dedi_observe_raw", run_config=loggers)
    if not result.success or failures:
        return BuildOutcome(False, failures or ["observing the raw files failed"], p.marts,
                            steps, done, warnings=warned)
    # 1. every new or changed vintage (partition); a local period needs the geography staged,
    # so its first run stages that too (with File 7, which the geography checks count from)
    from pipeline.defs.local import LOCAL_PERIODS, UPSTREAM
    from pipeline.defs.local_la import current_files, run_fanout

    periods = [r[0] for job, _, r in runs if job == "dedi_local_period"]
    if periods:
        instance.add_dynamic_partitions(LOCAL_PERIODS.name, periods)
    graph = defs.resolve_asset_graph()
    forced: set[dg.AssetKey] = set()
    staged_upstream = False
    for job_name, asset, (first, last) in runs:
        selection = [dg.AssetKey(asset)]
        if job_name == "dedi_local_period" and not staged_upstream:
            selection += sorted(dg.AssetSelection.assets(*UPSTREAM, "stg_iod2025").upstream()
                                .resolve(graph) - {dg.AssetKey(f"raw_{x}") for x in
                                                   ("iod", "geography")})
            staged_upstream = True
        result, failures = execute(job_name, run_config=loggers, asset_selection=selection,
                                   tags={"dagster/asset_partition_range_start": first,
                                         "dagster/asset_partition_range_end": last})
        if not result.success or failures:
            return BuildOutcome(False, failures or [f"{asset} failed"], p.marts, steps, done, warnings=warned)
        forced |= dg.AssetSelection.assets(asset).downstream().resolve(graph)
    keys = defs.resolve_job_def("dedi_build").asset_layer.executable_asset_keys
    # 1b. scale-out: each LA folder's local files staged in its own process (docs/scaling.md)
    pre: set[dg.AssetKey] = set()
    las = current_files(p.raw) if settings()["scale_out"]["local_by_la"] else {}
    if las:
        pre = (dg.AssetSelection.assets(*UPSTREAM, "stg_iod2025").upstream().resolve(graph)
               & keys)  # the geography checks count from File 7
        todo = pre if fresh else pre & stale_assets(defs, instance)
        if todo:
            result, failures = execute("dedi_build", run_config=loggers,
                                       asset_selection=sorted(todo))
            if not result.success or failures:
                return BuildOutcome(False, failures or ["staging the geography failed"],
                                    p.marts, steps, done, warnings=warned)
        if not quiet:
            print(f"  … staging {len(las)} local authorities in parallel "
                  f"(scale_out.workers = {settings()['scale_out']['workers']})", file=sys.stderr)
        result = run_fanout(instance)
        done.extend(materialised(result))
        warned.extend(run_warnings(instance, result.run_id))
        if not result.success:
            return BuildOutcome(False, _failures(result) or ["staging local files per LA failed"],
                                p.marts, steps, done, warnings=warned)
    # 2. everything unpartitioned that is stale, and what depends on it
    if before.get("release") != published_release(published_to(p, index_config)):
        # e.g. after `dedi rollback`: publish again
        forced.add(dg.AssetKey("published_marts"))
    # empty staging: everything runs (a DAGSTER_HOME instance may remember older builds)
    stale = set(keys) - pre if fresh else (stale_assets(defs, instance) | forced) & keys
    if not stale:
        _save_state(p, vintages, now, index_config)
        return BuildOutcome(True, [], p.marts, steps, done, up_to_date=True,
                            warnings=warned)
    selection = dg.AssetSelection.assets(*stale).downstream().resolve(graph) & keys
    ops = {}
    if index_config and dg.AssetKey("index_spec") in selection:
        ops["index_spec"] = {"config": index_config}
    if replace_current and dg.AssetKey("published_marts") in selection:
        ops["published_marts"] = {"config": {"replace_current": True}}
    result, failures = execute("dedi_build", asset_selection=sorted(selection),
                               run_config={**loggers, **({"ops": ops} if ops else {})})
    ok = result.success and not failures
    if ok:
        _save_state(p, vintages, now, index_config)
    return BuildOutcome(ok, failures, p.marts, steps, done, warnings=warned)


def _save_state(p, vintages: dict, now: dict, index_config: dict) -> None:
    """What this successful build read (``pipeline/build/versions.py``) and the release it
    published, for the next one."""
    import json

    release = published_release(published_to(p, index_config))
    (p.staging / STATE_FILE).write_text(json.dumps(
        {"inputs": now, "vintages": vintages, "release": release}, indent=1),
        encoding="utf-8")
