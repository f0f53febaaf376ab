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


def run(staging: str) -> dict:
    import resource
    import time

    import duckdb
    import numpy as np

    from pipeline.config import settings
    from pipeline.method.dx import orient
    from pipeline.method.iod import exponential_transform, normalise_rank
    from pipeline.method.spec import load_spec
    from pipeline.method.uncertainty import run_monte_carlo

    con = duckdb.connect(str(Path(staging) / "staging.duckdb"), read_only=True)
    ind = con.execute("SELECT * FROM lsoa_indicators ORDER BY lsoa21_code").df()
    iod = con.execute("SELECT * FROM stg_iod2025 ORDER BY lsoa21_code").df()
    geo = con.execute("SELECT g.*, p.population FROM int_lsoa_geography g JOIN "
                      "int_lsoa_population p USING (lsoa21_code) ORDER BY lsoa21_code").df()
    spec = load_spec(known_columns=set(ind.columns))
    w = settings()["iod"]["domain_weights"]
    cfg = spec["dx"]["indicators"]
    used = [k for k, v in cfg.items() if ind[v["column"]].notna().any()]
    oriented = orient(ind[[cfg[k]["column"] for k in used]].set_axis(used, axis=1),
                      {k: cfg[k]["direction"] for k in used})
    n = len(iod)
    x = sum(exponential_transform(normalise_rank(iod[f"{k}_rank"], n)) * v / 100
            for k, v in w.items())
    t0 = time.perf_counter()
    run_monte_carlo(oriented, np.ones(len(used)), np.asarray(x), sum(w.values()),
                    spec["monte_carlo"], {g: geo[f"{g}_code"].to_numpy() for g in
                                          ("ltla24", "icb24", "region")},
                    geo["population"].to_numpy(dtype="float64"))
    return {"seconds": time.perf_counter() - t0, "lsoas": n,
            "draws": spec["monte_carlo"]["draws"], "indicators": len(used),
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "DEDI_STAGING_DIR": f"{tmp}/staging", "DEDI_MARTS_DIR": f"{tmp}/m",
               "DEDI_RAW_DIR": str(SHARED) if SHARED.exists() else f"{tmp}/raw"}
        subprocess.run([sys.executable, "-m", "pipeline.cli", "build", "--quiet"], env=env,
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
