"""Benchmark: the local layer's rebalancing (``pipeline.method.dx.layer_local``) for one
Monte Carlo batch of 25 draws over every England LSOA, when one LA supplies a local proxy and
when every LA does (the national scale-out scenario, docs/scaling.md).

The LSOA -> LTLA lookup is the real one (``../shared/data``) when present, else the demo's;
national DX and the layer are random normal (the rebalancing's cost does not depend on the
values). Median of 5 calls in this process after a warm-up. A 1,000-draw Monte Carlo makes 40
such calls, spread over the pool's threads. Run: ``uv run python bench/bench_local_layer.py``
(prints JSON).
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared" / "data"
BATCH = 25  # draws per batch of run_monte_carlo


def la_codes() -> tuple[np.ndarray, str]:
    """Each LSOA's LTLA, from the real lookup or a freshly generated demo."""
    from pipeline.sources import geography as geo

    if SHARED.exists():
        df = geo.read_lsoa_ltla(geo.locate(SHARED, "lsoa_ltla"))
        return df["ltla24_code"].to_numpy(), "real England"
    from pipeline.demo.generator import generate

    with tempfile.TemporaryDirectory() as tmp:
        generate(Path(tmp))
        df = geo.read_lsoa_ltla(geo.locate(Path(tmp), "lsoa_ltla"))
    return df["ltla24_code"].to_numpy(), "demo (synthetic)"


def run(runs: int = 5) -> dict:
    from pipeline.method.dx import layer_local

    la, area = la_codes()
    rng = np.random.default_rng(0)
    n = len(la)
    national = rng.normal(size=(BATCH, n))
    layer = rng.normal(size=(BATCH, n))
    pop = rng.uniform(1000, 2000, n)
    out = {"area": area, "lsoas": n, "las": int(len(np.unique(la))), "draws": BATCH}
    for name, lay in (("one_la", np.where(la == la[0], layer, np.nan)), ("every_la", layer)):
        layer_local(national, lay, la, pop, 0.3)  # warm-up
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            layer_local(national, lay, la, pop, 0.3)
            times.append(time.perf_counter() - t0)
        out[name] = {"seconds": statistics.median(times), "runs": times}
    return out


if __name__ == "__main__":
    print(json.dumps(run()))
