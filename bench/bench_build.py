"""Benchmark: wall time and peak RSS of `dedi build` on the demo and on real England.

Run: ``make bench`` (or ``uv run python bench/bench_build.py``). Each build runs in a fresh
subprocess with fresh staging/marts folders; peak RSS is the child's ``ru_maxrss``.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"


def run(label: str, raw: Path | None) -> tuple[str, float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        env = {**os.environ, "DEDI_RAW_DIR": str(raw or t / "raw"),
               "DEDI_STAGING_DIR": str(t / "staging"), "DEDI_MARTS_DIR": str(t / "marts")}
        if raw is None:  # builds never generate data: the demo is written first (not timed)
            subprocess.run([sys.executable, "-m", "pipeline.cli.main", "demo"], env=env, cwd=ROOT,
                           check=True, capture_output=True)
        code = (
            "import resource, subprocess, sys;"
            "r = subprocess.run([sys.executable, '-m', 'pipeline.cli.main', 'build', '--quiet']);"
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss);"
            "sys.exit(r.returncode)"
        )
        t0 = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT,
                             capture_output=True, text=True)
        wall = time.perf_counter() - t0
        if out.returncode != 0:
            sys.exit(f"{label} build failed:\n{out.stderr}")
        rss_mb = int(out.stdout.strip().splitlines()[-1]) / 1024
        return label, wall, rss_mb


def main() -> None:
    rows = [run("demo (320 synthetic LSOAs; demo written beforehand, not timed)", None)]
    if SHARED.exists():
        rows.append(run("real England (33,755 LSOAs, ../shared/data)", SHARED))
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print("| build | wall time (s) | peak RSS (MB) |\n|---|---|---|")
    for label, wall, rss in rows:
        print(f"| {label} | {wall:.1f} | {rss:.0f} |")


if __name__ == "__main__":
    main()
