"""Scale-out: the 10 M-record local scenario staged per LA on Dagster's multiprocess executor,
against the same files staged one after another in one process (docs/scaling.md).

10 million address records (easting/northing, inside the LSOA polygons) split over four real
LAs of different sizes are generated (not timed). Both runs read the same staged real
geography (a real build's staging database) and write per-LA outputs to their own folder;
their national counts are compared (they must be equal). Each run is a fresh process.
Run: ``uv run python bench/bench_scale_out.py [--records N] [--workers W]``.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench import build_env  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
LAS = ["E06000052", "E08000035", "E08000015", "E09000033"]  # Cornwall, Leeds, Wirral, Westminster

CODE = """
import json, sys, time
from pathlib import Path
import dagster as dg
from pipeline.config import paths
from pipeline.defs.local_la import current_files, run_fanout, stage_la
t = time.perf_counter()
if sys.argv[1] == "single":
    for la in sorted(current_files(paths().raw)):
        stage_la(paths().raw, paths().staging_db, la, dg.get_dagster_logger(), force=True)
    ok = True
else:
    Path(sys.argv[2]).mkdir(parents=True, exist_ok=True)
    with dg.DagsterInstance.local_temp(tempdir=sys.argv[2]) as instance:
        ok = run_fanout(instance, int(sys.argv[3])).success
print("RESULT " + json.dumps({"seconds": time.perf_counter() - t, "ok": ok}))
"""


def _settings(folder: Path, storage: Path, workers: int) -> Path:
    cfg = yaml.safe_load((ROOT / "pipeline" / "config" / "settings.yaml").read_text())
    cfg["scale_out"].update(local_by_la=True, workers=workers, storage=str(storage))
    out = folder / "settings.yaml"
    out.write_text(yaml.safe_dump(cfg))
    return out


def _run(mode: str, env: dict, *args: str) -> dict:
    wrapped = [sys.executable, "-c", "import resource, subprocess, sys; r = subprocess.run("
               "sys.argv[1:], capture_output=True, text=True); print(r.stdout); "
               "print(r.stderr[-2000:], file=sys.stderr); u = resource.getrusage("
               "resource.RUSAGE_CHILDREN); print('CPU', u.ru_utime + u.ru_stime)",
               sys.executable, "-c", CODE, mode, *args]
    t0 = time.perf_counter()
    out = subprocess.run(wrapped, env=env, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    lines = out.stdout.splitlines()
    # DuckDB's progress bar may share the line (it ends with a carriage return)
    res = [json.loads(x.split("RESULT ", 1)[1]) for x in lines if "RESULT " in x]
    if out.returncode or not res or not res[0]["ok"]:
        sys.exit(f"{mode} failed:\n{out.stderr[-3000:]}")
    cpu = float(next(x for x in lines if "CPU " in x).split("CPU ", 1)[1])
    return {"wall": wall, "staging_seconds": res[0]["seconds"], "cpu": cpu}


def measure(records: int, workers: int, staging: Path | None = None) -> dict:
    """Both runs on ``records`` records over :data:`LAS`; returns timings and the check."""
    import pandas as pd

    from bench.bench_inputs import records_in_las

    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        if staging is None:  # a real build's staging: the geography the LAs are placed in
            staging = t / "staging"
            env = build_env(SHARED, t)
            subprocess.run([sys.executable, "-m", "pipeline.cli.main", "build", "--quiet"], env=env,
                           cwd=ROOT, check=True, capture_output=True)
        raw = t / "raw"
        written = records_in_las(raw, LAS, records // len(LAS), geography=SHARED)
        out = {}
        for mode in ("single", "multiprocess"):
            (t / mode).mkdir()
            env = {**os.environ, "DEDI_RAW_DIR": str(raw), "DEDI_STAGING_DIR": str(staging),
                   "DEDI_SETTINGS": str(_settings(t / mode, t / mode / "out", workers))}
            out[mode] = _run(mode, env, str(t / mode / "dagster"), str(workers))
        counts = {m: pd.concat([pd.read_parquet(p) for p in sorted(
            (t / m / "out").glob("la=*/counts.parquet"))]).sort_values(
            ["la_code", "lsoa21_code"]).reset_index(drop=True) for m in out}
        equal = counts["single"][["la_code", "lsoa21_code", "count"]].equals(
            counts["multiprocess"][["la_code", "lsoa21_code", "count"]])
    return {"records": sum(written.values()), "las": len(LAS), "workers": workers,
            "equal": equal, **out}


def table(r: dict) -> str:
    s, m = r["single"], r["multiprocess"]
    return (f"| run | wall (s) | CPU (s) |\n|---|---|---|\n"
            f"| one process, LA after LA | {s['wall']:.1f} | {s['cpu']:.1f} |\n"
            f"| per-LA partitions, multiprocess executor ({r['workers']} workers) | "
            f"{m['wall']:.1f} | {m['cpu']:.1f} |\n\n"
            f"{r['records']:,} records over {r['las']} LAs; speed-up "
            f"{s['wall'] / m['wall']:.2f}×; national counts equal: "
            f"{'yes' if r['equal'] else '**no**'}.\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, default=10_000_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--staging", type=Path, help="a real build's staging folder to reuse")
    a = ap.parse_args()
    if not SHARED.exists():
        sys.exit(f"bench_scale_out: needs the real geography at {SHARED}")
    print(table(measure(a.records, a.workers, a.staging)))


if __name__ == "__main__":
    main()
