"""Experiment: would running Dagster steps side by side on threads make a cold build faster?

Not used by DEDI. ``dedi build`` runs one step at a time (Dagster's in-process executor).
This script replaces that executor's plan loop, in its own process only, with one that keeps
two ready steps running on threads. Events are still handled on the main thread, in Dagster's
own order of bookkeeping. It then times cold real-England builds of both kinds,
alternating, each in a fresh process, and checks that the two publish the same marts
(``bench/compare_marts.py``).

It patches Dagster internals (``dagster._core``), which is why it is an experiment and not
the build. Run: ``uv run python bench/bench_step_overlap.py [--runs N] [RAW]``.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench import build_env  # noqa: E402

THREADED = """
import queue, sys
from concurrent.futures import ThreadPoolExecutor
import dagster._core.executor.in_process as in_process
from dagster._core.execution.plan.execute_plan import (_trigger_hook,
                                                       dagster_event_sequence_for_step)
from dagster._core.execution.plan.instance_concurrency_context import (
    InstanceConcurrencyContext)

WORKERS, DONE = 2, object()


def threaded(job_context, execution_plan, _instance_concurrency_context=None):
    with InstanceConcurrencyContext(job_context.instance, job_context.dagster_run) as icc, \\
            execution_plan.start(retry_mode=job_context.retry_mode,
                                 instance_concurrency_context=icc,
                                 step_dependency_config=job_context.step_dependency_config
                                 ) as active, ThreadPoolExecutor(WORKERS) as pool:
        events, running = queue.Queue(), {}
        while not active.is_complete:
            for step in active.get_steps_to_execute(limit=WORKERS - len(running)):
                ctx = job_context.for_step(step, active.get_known_state())

                def run(ctx=ctx, key=step.key):
                    try:
                        for event in dagster_event_sequence_for_step(ctx):
                            events.put((key, event))
                    finally:
                        events.put((key, DONE))
                running[step.key] = (ctx, [])
                pool.submit(run)
            yield from active.concurrency_event_iterator(job_context)
            if not running:
                active.sleep_til_ready()
                continue
            key, event = events.get()
            if event is DONE:
                ctx, seen = running.pop(key)
                active.verify_complete(job_context, key)
                for e in active.plan_events_iterator(job_context):
                    seen.append(e)
                    yield e
                yield from _trigger_hook(ctx, seen)
                continue
            running[key][1].append(event)
            yield event
            active.handle_event(event)


in_process.inprocess_execution_iterator = threaded
from pipeline.cli.main import entry
sys.argv = ["dedi", "build", "--quiet"]
entry()
"""


def build(kind: str, raw: Path, out: Path) -> float:
    """One cold build (``plain`` or ``threaded``) into ``out``; returns its wall time."""
    env = build_env(raw, out)
    cmd = ([sys.executable, "-m", "pipeline.cli.main", "build", "--quiet"] if kind == "plain"
           else [sys.executable, "-c", THREADED])
    t0 = time.perf_counter()
    subprocess.run(cmd, env=env, cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("raw", nargs="?", default=str(ROOT.parent / "shared" / "data"))
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    times: dict[str, list[float]] = {"plain": [], "threaded": []}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.runs):
            for kind in ("plain", "threaded"):
                out = Path(tmp) / f"{kind}{i}"
                times[kind].append(build(kind, Path(args.raw), out))
        same = subprocess.run([sys.executable, str(ROOT / "bench" / "compare_marts.py"),
                               f"{tmp}/plain0/marts", f"{tmp}/threaded0/marts"],
                              capture_output=True, text=True).stdout
    differ = [line.split()[0] for line in same.splitlines() if "DIFFERS" in line]
    print("| build | median wall (s) | runs (s) |\n|---|---|---|")
    for kind, ts in times.items():
        print(f"| {kind} | {statistics.median(ts):.2f} | "
              f"{', '.join(f'{t:.2f}' for t in ts)} |")
    print(f"\ntables that differ: {differ or 'none'} (build_metadata lists sources in the "
          "order they were staged)")


if __name__ == "__main__":
    main()
