"""Benchmark: peak memory of a cold real-England build's processes together.

Run: ``uv run python bench/bench_process_memory.py [RAW]`` (default ``../shared/data``). One
``dedi build`` with empty staging and marts; every 50 ms it reads the resident memory
(``/proc/<pid>/status`` VmRSS) of the build's process and of its children (the side process,
``pipeline/build/tuning/side_process.py``). ``make bench``'s peak RSS column is the largest single process
(``ru_maxrss``); this gives the peak of their sum. Linux only.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench import build_env  # noqa: E402


def rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` in MB (0 once it has gone)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            return next(int(line.split()[1]) for line in fh if line.startswith("VmRSS")) / 1024
    except (OSError, StopIteration):
        return 0.0


def children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as fh:
            return [int(c) for c in fh.read().split()]
    except OSError:
        return []


def measure(raw: Path) -> dict[str, float]:
    """Peaks (MB) of the build's process, of its children and of their sum."""
    with tempfile.TemporaryDirectory() as tmp:
        env = build_env(raw, Path(tmp))
        p = subprocess.Popen([sys.executable, "-m", "pipeline.cli.main", "build", "--quiet"],
                             env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE)
        main = side = total = 0.0
        while p.poll() is None:
            a, b = rss_mb(p.pid), sum(rss_mb(c) for c in children(p.pid))
            main, side, total = max(main, a), max(side, b), max(total, a + b)
            time.sleep(0.05)
        if p.returncode != 0:
            sys.exit(f"build failed:\n{p.stderr.read().decode()[-2000:]}")
    return {"main": main, "children": side, "total": total}


def main() -> None:
    raw = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "data"
    m = measure(raw)
    print(f"cold build of {raw}: peak RSS of the build's process {m['main']:.0f} MB, of its "
          f"children (the side process) {m['children']:.0f} MB, of both together "
          f"{m['total']:.0f} MB")


if __name__ == "__main__":
    main()
