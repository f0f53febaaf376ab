"""Scale-out of the local-authority ingestion: one partition per LA folder (docs/scaling.md).

With ``scale_out.local_by_la`` in settings.yaml, each ``<raw>/local/<LA code>/`` folder is a
partition of ``stg_local_la`` (dynamic partitions ``local_la``, added as folders appear). A
partition reads only its LA's files and the staged geography (read-only), and writes its
counts, quarantined rows and a manifest to ``scale_out.storage`` (a folder or an fsspec URL),
never to the staging database, so partitions run side by side: in separate runs, or in one
run of ``dedi_local_la_fanout`` on Dagster's multiprocess executor. ``stg_local_proxies``
then combines the outputs: the national ranking step needs only the LSOA-level table.
"""


import io
import json
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd

from pipeline.build.resources import DediPaths, build_resources
from pipeline.build.versions import files_sha256
from pipeline.config import paths, settings
from pipeline.defs._staging import STAGING_TAG
from pipeline.defs.local import (
    QUARANTINE_COLUMNS,
    UPSTREAM,
    la_manifest,
    stage_files,
    storage_root,
)
from pipeline.sources import local_proxies as lp
from pipeline.sources.common import SourceError

GROUP = "local"
LOCAL_LAS = dg.DynamicPartitionsDefinition(name="local_la")


def current_files(raw: Path, la: str | None = None) -> dict[str, list]:
    """LA code -> its local files without a period (the ones ``stg_local_proxies`` uses)."""
    out: dict[str, list] = {}
    for f in lp.discover(raw):
        if not f.period and (la is None or f.la_code == la):
            out.setdefault(f.la_code, []).append(f)
    return out


def stage_la(raw: Path, staging_db: Path, la: str, log, force: bool = False) -> dict:
    """Stage one LA's current local files into ``<storage>/la=<LA>/``; returns its manifest.
    Skipped (the manifest returned as is) when the files are those already staged."""
    files = current_files(raw, la).get(la, [])
    if not files:
        raise SourceError(raw / lp.TOPIC / la, "no local proxy file without a period for this "
                          "local authority (expected <proxy>.csv or .parquet)")
    root = storage_root()
    fp = files_sha256(files)
    old = la_manifest(root, la)
    if old and old["files"] == fp and not force:
        return {**old, "skipped": True}
    if not staging_db.exists():
        raise SourceError(staging_db, "no staged geography to place local files in yet; run "
                          "`dedi build` (or the dedi_build job) first")
    conn = duckdb.connect(str(staging_db), read_only=True)  # many partitions read at once
    try:
        conn.execute("SET enable_progress_bar = false")  # workers share one terminal
        out, quarantined, reports, sources = stage_files(conn, files, log)
    finally:
        conn.close()
    part = root / f"la={la}"
    part.mkdir(parents=True, exist_ok=True)
    for name, frame in (("counts", out),
                        ("quarantine", pd.DataFrame(quarantined, columns=QUARANTINE_COLUMNS)
                         .astype("string"))):
        buf = io.BytesIO()
        frame.to_parquet(buf, index=False)
        (part / f"{name}.parquet").write_bytes(buf.getvalue())
    manifest = {"la": la, "files": fp, "reports": reports, "rows": len(out),
                "sources": [[k, r, n] for k, r, n in sources]}
    (part / "manifest.json").write_text(json.dumps(manifest, default=str))  # last: complete
    return {**manifest, "skipped": False}


def _metadata(m: dict) -> dict:
    return {"dagster/row_count": m["rows"], "files": dg.MetadataValue.json(m["reports"]),
            "skipped_unchanged": m["skipped"], "storage": str(storage_root() / f"la={m['la']}")}


@dg.asset(group_name=GROUP, kinds={"parquet", "geopandas"}, deps=UPSTREAM,
          partitions_def=LOCAL_LAS,
          description="One local authority's current local proxy files (<raw>/local/<LA>/) as "
          "counts per LSOA, written to scale_out.storage (la=<LA>/), one partition per LA "
          "folder. Used when scale_out.local_by_la is on; stg_local_proxies combines them.")
def stg_local_la(context: dg.AssetExecutionContext, dedi_paths: DediPaths
                 ) -> dg.MaterializeResult:
    m = stage_la(dedi_paths.raw, paths().staging_db, context.partition_key, context.log)
    return dg.MaterializeResult(metadata=_metadata(m))


# --- every LA at once, in parallel processes: a dynamic fan-out on the multiprocess executor

@dg.op(out=dg.DynamicOut(str), description="One output per LA folder with current files.")
def local_las(dedi_paths: DediPaths):
    for la in sorted(current_files(dedi_paths.raw)):
        yield dg.DynamicOutput(la, mapping_key=la)


@dg.op(description="Stage one LA (a partition of stg_local_la) and record its materialisation.")
def stage_one_la(context: dg.OpExecutionContext, dedi_paths: DediPaths, la: str) -> str:
    m = stage_la(dedi_paths.raw, paths().staging_db, la, context.log)
    context.log_event(dg.AssetMaterialization(asset_key=stg_local_la.key, partition=la,
                                              metadata=_metadata(m)))
    return la


@dg.op(description="The LAs staged, for the run's record.")
def las_staged(context: dg.OpExecutionContext, las: list[str]) -> list[str]:
    context.log.info(f"{len(las)} LA(s) staged: {', '.join(sorted(las))}")
    return sorted(las)


@dg.graph
def local_la_fanout():
    las_staged(local_las().map(stage_one_la).collect())


def _fanout(resource_defs: dict | None) -> dg.JobDefinition:
    return local_la_fanout.to_job(
        name="dedi_local_la_fanout", resource_defs=resource_defs, tags=STAGING_TAG,
        executor_def=dg.multiprocess_executor,
        description="Stage every LA folder's current local files, one process per LA "
        "(scale_out.workers at once), each recorded as a partition of stg_local_la.")


def fanout_job() -> dg.JobDefinition:
    """The fan-out job with the current paths as resources: a module-level factory without
    arguments, so that ``dg.reconstructable`` rebuilds it in each worker process."""
    return _fanout(build_resources())


def fanout_job_for_definitions() -> dg.JobDefinition:
    """The same job without resources: Definitions supply theirs."""
    return _fanout(None)


def run_fanout(instance: dg.DagsterInstance, workers: int | None = None, extra_config=None):
    """Execute :func:`fanout_job` with the multiprocess executor on ``instance`` (which
    must be persistent: the worker processes write their events to it)."""
    workers = workers or int(settings()["scale_out"]["workers"])
    las = sorted(current_files(paths().raw))
    if las:
        instance.add_dynamic_partitions(LOCAL_LAS.name, las)
    return dg.execute_job(dg.reconstructable(fanout_job), instance=instance, run_config={
        "execution": {"config": {"max_concurrent": workers}},
        "loggers": {"console": {"config": {"log_level": "WARNING"}}}, **(extra_config or {})},
        raise_on_error=False)
