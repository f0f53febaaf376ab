"""Dagster's own cost per step: a chain of N no-op assets executed in process on an
ephemeral (in-memory) instance, on Dagster's stock persistent sqlite instance, and on the one
`dedi build` keeps beside staging for incremental builds (the same sqlite files, written by
``pipeline.dagster_storage.BuildEventLogStorage``).
Run: ``uv run python bench/bench_dagster_overhead.py``.
"""

import argparse
import tempfile
import time

import dagster as dg

from pipeline.dagster_storage import event_log_config


def chain(n: int) -> dg.JobDefinition:
    """A job of ``n`` no-op assets, each depending on the previous one."""
    assets, prev = [], None
    for i in range(n):
        @dg.asset(name=f"step_{i}", deps=[prev] if prev else [])
        def _step() -> dg.MaterializeResult:
            return dg.MaterializeResult(metadata={"rows": 1})
        assets.append(_step)
        prev = _step
    return dg.Definitions(assets=assets, executor=dg.in_process_executor
                          ).resolve_implicit_global_asset_job_def()


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


if __name__ == "__main__":
    main()
