"""Benchmark: where a cold real-England build spends its time, step by step.

Run: ``uv run python bench/bench_steps.py [RAW]`` (default ``../shared/data``). The build runs
once in a fresh subprocess with empty staging and marts folders; each Dagster step's wall time
comes from its STEP_START/STEP_SUCCESS events (``pipeline.build.step_seconds``). What is not
in any step (interpreter start, imports, Dagster's own per-step and per-run overhead) is the
difference between the process's wall time and the sum of the steps.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CODE = """
import json, sys, time
t0 = time.perf_counter()
from pipeline.build import run_build
t_import = time.perf_counter() - t0
o = run_build(quiet=True, full=True, profile=True)
print(json.dumps({"ok": o.success, "failures": o.failures, "steps": o.step_seconds,
                  "import_s": t_import}), flush=True)
import gc; gc.freeze()  # exit as `dedi build` does (pipeline.cli.entry)
"""


def profile(raw: Path) -> dict:
    """Run one cold build; returns wall, steps (name -> seconds), import time."""
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        env = {**os.environ, "DEDI_RAW_DIR": str(raw), "DEDI_STAGING_DIR": str(t / "staging"),
               "DEDI_MARTS_DIR": str(t / "marts")}
        env.pop("DAGSTER_HOME", None)
        t0 = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", CODE], env=env, cwd=ROOT,
                             capture_output=True, text=True)
        wall = time.perf_counter() - t0
    if out.returncode != 0:
        sys.exit(f"build failed:\n{out.stderr[-2000:]}")
    res = json.loads(out.stdout.strip().splitlines()[-1])
    if not res["ok"]:
        sys.exit(f"build failed: {res['failures']}")
    return {"wall": wall, **res}


def main() -> None:
    raw = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "data"
    r = profile(raw)
    steps = sorted(r["steps"].items(), key=lambda kv: -kv[1])
    total = sum(v for _, v in steps)
    print(f"cold build of {raw}: wall {r['wall']:.1f} s; {len(steps)} steps sum to "
          f"{total:.1f} s; imports {r['import_s']:.1f} s; the rest (interpreter, Dagster "
          f"run and step overhead) {r['wall'] - total - r['import_s']:.1f} s\n")
    print("| step | wall (s) | share |\n|---|---|---|")
    for name, sec in steps[:20]:
        print(f"| `{name}` | {sec:.2f} | {100 * sec / r['wall']:.0f}% |")
    rest = steps[20:]
    print(f"| {len(rest)} other steps | {sum(v for _, v in rest):.2f} | "
          f"{100 * sum(v for _, v in rest) / r['wall']:.0f}% |")


if __name__ == "__main__":
    main()
