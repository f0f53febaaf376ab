"""Dagster's own cost per step: a chain of N no-op assets executed in process on an
ephemeral (in-memory) instance, on Dagster's stock persistent sqlite instance, and on the one
`dedi build` keeps beside staging for incremental builds (the same sqlite files, written by
``pipeline.build.tuning.dagster_internals.BuildEventLogStorage``); then N independent no-op assets on
Dagster's multiprocess executor (2 workers, forked from a forkserver that has preloaded
Dagster, pandas and DuckDB): what running DEDI's steps side by side in processes would cost.
Run: ``uv run python bench/bench_dagster_overhead.py``.
"""

import argparse
import os
import tempfile
import time

import dagster as dg

from pipeline.build.tuning.dagster_internals import event_log_config


def noop_assets(n: int, chained: bool) -> list[dg.AssetsDefinition]:
    """``n`` no-op assets, each depending on the previous one when ``chained``."""
    assets: list[dg.AssetsDefinition] = []
    for i in range(n):
        @dg.asset(name=f"step_{i}", deps=assets[-1:] if chained else [])
        def _step() -> dg.MaterializeResult:
            return dg.MaterializeResult(metadata={"rows": 1})
        assets.append(_step)
    return assets


def chain(n: int) -> dg.JobDefinition:
    """A job of ``n`` chained no-op assets, run in process."""
    return dg.Definitions(assets=noop_assets(n, chained=True), executor=dg.in_process_executor
                          ).resolve_implicit_global_asset_job_def()


def fan_job() -> dg.JobDefinition:
    """``DEDI_BENCH_STEPS`` independent no-op assets on the multiprocess executor (loaded
    again by each worker: Dagster reconstructs the job by this function's name)."""
    executor = dg.multiprocess_executor.configured({"max_concurrent": 2, "start_method": {
        "forkserver": {"preload_modules": ["dagster", "pandas", "duckdb"]}}})
    return dg.Definitions(assets=noop_assets(int(os.environ.get("DEDI_BENCH_STEPS", "75")),
                                             chained=False),
                          jobs=[dg.define_asset_job("fan")], executor=executor
                          ).resolve_job_def("fan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=75)
    n = ap.parse_args().steps
    job = chain(n)
    print(f"| instance | {n} no-op steps (s) | per step (ms) |\n|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp, tempfile.TemporaryDirectory() as mine:
        build = dg.DagsterInstance.local_temp(
            mine, overrides={"event_log_storage": event_log_config(mine)})
        for label, instance in (("ephemeral (in memory)", dg.DagsterInstance.ephemeral()),
                                ("persistent sqlite (Dagster's default)",
                                 dg.DagsterInstance.local_temp(tmp)),
                                ("persistent sqlite, dedi build's event log", build)):
            t = time.perf_counter()
            job.execute_in_process(instance=instance)
            s = time.perf_counter() - t
            print(f"| {label} | {s:.2f} | {1000 * s / n:.0f} |")
        os.environ["DEDI_BENCH_STEPS"] = str(n)
        t = time.perf_counter()
        dg.execute_job(dg.reconstructable(fan_job), instance=build)
        s = time.perf_counter() - t
        print(f"| multiprocess executor, 2 forkserver workers, dedi build's event log "
              f"(independent steps) | {s:.2f} | {1000 * s / n:.0f} |")


if __name__ == "__main__":
    main()
