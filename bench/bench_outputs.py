"""Benchmark: the outputs people look at, on the published real-England marts.

Run: ``uv run python bench/bench_outputs.py MARTS_DIR`` (default: a fresh real build in a
temporary folder). Times `dedi explore` (whole England), `dedi report` for one ICB and for
all 42, `dedi explain` and a `dedi sql` query, each as a fresh subprocess; prints sizes too.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"


def timed(args: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "pipeline.cli.main", *args], env=env, cwd=ROOT,
                       capture_output=True, text=True)
    if r.returncode:
        sys.exit(f"{args} failed:\n{r.stderr}")
    return time.perf_counter() - t0


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        marts = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tmp) / "marts"
        env = {**os.environ, "DEDI_RAW_DIR": str(SHARED), "DEDI_MARTS_DIR": str(marts),
               "DEDI_STAGING_DIR": str(Path(tmp) / "staging")}
        if len(sys.argv) == 1:
            timed(["build", "--quiet"], env)
        rows = [
            ("dedi explore (England, 33,755 LSOAs)", timed(["explore"], env),
             marts / "explorer" / "index.html"),
            ("dedi report --icb E54000008", timed(["report", "--icb", "E54000008"], env),
             marts / "reports" / "E54000008.html"),
            ("dedi report --all (42 ICBs)", timed(["report", "--all", "--quiet"], env), None),
            ("dedi explain E01006413", timed(["explain", "E01006413"], env), None),
            ("dedi sql (v_icb_summary)", timed(["sql", "SELECT * FROM v_icb_summary"], env),
             None),
        ]
        for label, s, f in rows:
            size = f"{f.stat().st_size / 1e6:.1f} MB" if f else ""
            print(f"| {label} | {s:.1f} | {size} |")


if __name__ == "__main__":
    main()
