"""Benchmark: 1,000 Monte Carlo draws of DX and DEDI over every LSOA.

Builds the staging tables once (real England from ../shared/data when present, else the demo),
then in a fresh subprocess loads the inputs and times ``run_monte_carlo`` alone (the peak RSS
reported is that whole subprocess's, inputs included). Run:
``uv run python bench/bench_monte_carlo.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"


def run(staging: str, draws: int | None = None, geographies: list[str] | None = None) -> dict:
    """Time ``run_monte_carlo`` on the inputs the build's ``int_dedi_uncertainty`` reads, with
    the area intervals of ``geographies`` (default: settings.yaml area_summary.geographies)."""
    import resource
    import time

    import duckdb

    from pipeline.build.tuning.process import reuse_freed_memory
    from pipeline.config import settings
    from pipeline.method.dx import resolve_structure, transform_domains
    from pipeline.method.uncertainty import run_monte_carlo

    reuse_freed_memory()  # as `dedi` and Dagster's workers do (pipeline/definitions.py)

    con = duckdb.connect(str(Path(staging) / "staging.duckdb"), read_only=True)
    spec = json.loads(con.execute("SELECT spec FROM _index_spec_json").fetchone()[0])
    oriented = con.execute("SELECT * FROM int_dx_indicators ORDER BY lsoa21_code").df()
    weights = con.execute("SELECT * FROM int_dx_weights").df().set_index("indicator")["weight"]
    iod = con.execute("SELECT * FROM stg_iod2025 ORDER BY lsoa21_code").df()
    geo = con.execute("SELECT g.*, p.population FROM int_lsoa_geography g JOIN "
                      "int_lsoa_population p USING (lsoa21_code) ORDER BY lsoa21_code").df()
    cfg = settings()["iod"]
    geographies = geographies or settings()["area_summary"]["geographies"]
    w = cfg["domain_weights"]
    st = resolve_structure(spec, set(weights.index))
    if draws:
        spec["monte_carlo"]["draws"] = draws
    ranks = iod[[f"{k}_rank" for k in w]].set_axis(list(w), axis=1)
    t0 = time.perf_counter()
    run_monte_carlo(oriented.set_index("lsoa21_code")[st.indicators], st,
                    weights.loc[st.indicators].to_numpy(), transform_domains(ranks), w,
                    float(spec["dedi"]["dx_weight"]), spec["monte_carlo"],
                    {g: geo[f"{g}_code"].to_numpy() for g in geographies},
                    geo["population"].to_numpy(dtype="float64"), geo["ltla24_code"].to_numpy(),
                    cfg["exponential_constant"])
    return {"seconds": time.perf_counter() - t0, "lsoas": len(iod),
            "draws": spec["monte_carlo"]["draws"], "indicators": len(st.indicators),
            "geographies": geographies,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main() -> None:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--staging", help="time on this built staging folder (prints JSON)")
    ap.add_argument("--draws", type=int, help="draws instead of the spec's")
    ap.add_argument("--geographies", nargs="+", help="area intervals of these geographies "
                    "instead of settings.yaml's (e.g. ltla24 icb24 region)")
    args = ap.parse_args()
    if args.staging:
        print(json.dumps(run(args.staging, args.draws, args.geographies)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "DEDI_STAGING_DIR": f"{tmp}/staging", "DEDI_MARTS_DIR": f"{tmp}/m",
               "DEDI_RAW_DIR": str(SHARED) if SHARED.exists() else f"{tmp}/raw"}
        if not SHARED.exists():  # builds never generate data: write the demo first
            subprocess.run([sys.executable, "-m", "pipeline.cli.main", "demo"], env=env, cwd=ROOT,
                           check=True)
        subprocess.run([sys.executable, "-m", "pipeline.cli.main", "build", "--quiet"], env=env,
                       cwd=ROOT, check=True)
        code = (f"import json, sys; sys.path.insert(0, {str(ROOT)!r}); "
                "from bench.bench_monte_carlo import run; "
                f"print('RESULT ' + json.dumps(run({tmp + '/staging'!r})))")
        out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                             text=True, check=True)
    r = json.loads(next(x for x in out.stdout.splitlines() if x.startswith("RESULT "))[7:])
    print(f"| {r['draws']} draws × {r['lsoas']:,} LSOAs, {r['indicators']} indicators | "
          f"{r['seconds']:.1f} s | {r['peak_rss_mb']:.0f} MB |")


if __name__ == "__main__":
    main()
