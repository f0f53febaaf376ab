"""Hub siting: DEDI's exact MCLP (HiGHS, sparse reach) against PySAL spopt (CBC through PuLP,
dense cost matrix), wall time and peak memory, median of 5 runs, each in a fresh process.

Usage: ``uv run python bench/bench_hubs.py MARTS_DIR [RUNS]`` after a real-England build
(``DEDI_RAW_DIR=../shared/data DEDI_MARTS_DIR=... uv run dedi build``). Cases:
  icb_k10     NHS Cheshire and Merseyside, every LSOA a candidate, k = 10, 2 km
  icb_curve   the same, the coverage curve k = 1..30
  england     England, every LSOA a demand point, open schools (GIAS) as candidates, k = 300
              (spopt is not run: its dense cost matrix would be 33,755 x ~21,000 doubles)
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import time

CASES = {"icb_k10": ("icb24:E54000008", "lsoa", 10, False),
         "icb_curve": ("icb24:E54000008", "lsoa", 30, True),
         "england": ("england", "schools", 300, False)}


def one(case: str, engine: str) -> dict:
    """Run one case in this process; print wall seconds, peak RSS and covered demand."""
    import numpy as np

    from pipeline.method.siting import CoverageModel, reach_within
    from pipeline.outputs import hubs

    area, candidates, k, curve = CASES[case]
    # the instance exactly as dedi hubs builds it (demand, points, candidates, reach), untimed
    inst = hubs.instance(hubs.HubsRequest(area=area, k=k, radius_km=2, candidates=candidates))
    xy = inst.areas[["x", "y"]].to_numpy()
    sxy, weights = inst.sites[["x", "y"]].to_numpy(), inst.areas["demand"].to_numpy()
    t0 = time.perf_counter()
    if engine == "dedi":
        model = CoverageModel(reach_within(xy, sxy, 2000.0), weights, time_limit=120)
        sols = model.curve(k) if curve else [model.solve(k)]
        covered = sols[-1].covered_demand
        optimal = all(s.optimal for s in sols)
    else:
        import pulp
        from scipy.spatial import distance_matrix
        from spopt.locate import MCLP

        cost = distance_matrix(xy, sxy)
        covered = 0.0
        for p in (range(1, k + 1) if curve else [k]):
            m = MCLP.from_cost_matrix(cost, weights, service_radius=2000.0, p_facilities=p)
            m.solve(pulp.PULP_CBC_CMD(msg=False))
            hit = np.zeros(len(weights), dtype=bool)
            for clients in m.fac2cli:
                hit[list(clients)] = True
            covered = float(weights[hit].sum())
        optimal = True
    wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # MB (Linux: kB)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # CBC runs as one
    print(json.dumps({"wall": wall, "peak_mb": max(peak, kids), "covered": covered,
                      "optimal": optimal}))


def main(runs: int) -> None:
    rows = []
    for case in CASES:
        for engine in ("dedi", "spopt"):
            if case == "england" and engine == "spopt":
                continue
            out = [json.loads(subprocess.run(
                [sys.executable, __file__, "--one", case, engine], capture_output=True,
                text=True, check=True, env=os.environ).stdout.strip().splitlines()[-1])
                for _ in range(runs)]
            rows.append((case, engine, statistics.median(o["wall"] for o in out),
                         statistics.median(o["peak_mb"] for o in out), out[0]["covered"],
                         all(o["optimal"] for o in out)))
            print(f"{case:<10} {engine:<6} wall {rows[-1][2]:8.2f} s  peak {rows[-1][3]:7.0f} MB"
                  f"  covered {rows[-1][4]:,.0f}  optimal {rows[-1][5]}", flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "--one":
        one(sys.argv[2], sys.argv[3])
    else:
        os.environ["DEDI_MARTS_DIR"] = sys.argv[1]
        main(int(sys.argv[2]) if len(sys.argv) > 2 else 5)
