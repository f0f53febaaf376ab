"""Benchmark: where a cold real-England build spends its time, step by step.

Run: ``uv run python bench/bench_steps.py [RAW] [--local]`` (default ``../shared/data``). The
build runs once in a fresh subprocess with empty staging and marts folders. With ``--local``,
that build is followed by ``make bench``'s incremental scenario (one new local proxy file,
:func:`add_local_file`), and the second build is the one profiled. Each Dagster step's wall time
comes from its STEP_START/STEP_SUCCESS events (``pipeline.build.run.step_seconds``). What is not
in any step (interpreter start, imports, Dagster's own per-step and per-run overhead) is the
difference between the process's wall time and the sum of the steps.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench import build_env  # noqa: E402

LOCAL_LA = "E08000015"  # Wirral: the incremental scenario's local authority

CODE = """
import json, sys, time
t0 = time.perf_counter()
from pipeline.build.run import run_build
t_import = time.perf_counter() - t0
o = run_build(quiet=True, full=FULL, profile=True)
print(json.dumps({"ok": o.success, "failures": o.failures, "steps": o.step_seconds,
                  "import_s": t_import}), flush=True)
import gc; gc.freeze()  # exit as `dedi build` does (pipeline.cli.main.entry)
"""


def add_local_file(raw: Path, marts: Path) -> Path:
    """The incremental scenario's new file: a pupil premium count for each of Wirral's LSOAs
    in the published index, as ``<raw>/local/E08000015/pupil_premium.csv``."""
    import duckdb

    con = duckdb.connect(str(marts / "current" / "dedi.duckdb"), read_only=True)
    codes = [r[0] for r in con.execute("SELECT lsoa21_code FROM lsoa_index WHERE "
                                       f"ltla24_code = '{LOCAL_LA}' ORDER BY 1").fetchall()]
    con.close()
    path = raw / "local" / LOCAL_LA / "pupil_premium.csv"
    path.parent.mkdir(parents=True)
    path.write_text("lsoa21_code,count,denominator\n" + "".join(
        f"{c},{10 + (7 * i) % 60},300\n" for i, c in enumerate(codes)))
    return path


def _build(env: dict, full: bool) -> tuple[float, dict]:
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", CODE.replace("FULL", str(full))], env=env,
                         cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if out.returncode != 0:
        sys.exit(f"build failed:\n{out.stderr[-2000:]}")
    res = json.loads(out.stdout.strip().splitlines()[-1])
    if not res["ok"]:
        sys.exit(f"build failed: {res['failures']}")
    return wall, res


def profile(raw: Path, local: bool = False) -> dict:
    """Run one cold build (with ``local``: then one after a new local file); returns the
    profiled build's wall, steps (name -> seconds) and import time."""
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        if local:  # a copy of the raw folder by links, so that a file can be added
            (t / "raw").mkdir()
            for d in raw.iterdir():
                if d.name != "local":
                    (t / "raw" / d.name).symlink_to(d.resolve())
            raw = t / "raw"
        env = build_env(raw, t)
        wall, res = _build(env, full=not local)
        if local:
            add_local_file(raw, t / "marts")
            wall, res = _build(env, full=False)
    return {"wall": wall, **res}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("raw", nargs="?", default=str(ROOT.parent / "shared" / "data"))
    ap.add_argument("--local", action="store_true",
                    help="profile the build after one new local proxy file instead")
    args = ap.parse_args()
    raw = Path(args.raw)
    r = profile(raw, args.local)
    steps = sorted(r["steps"].items(), key=lambda kv: -kv[1])
    total = sum(v for _, v in steps)
    what = "build after one new local file" if args.local else "cold build"
    print(f"{what} of {raw}: wall {r['wall']:.1f} s; {len(steps)} steps sum to "
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
