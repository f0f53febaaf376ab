"""Growth: the two heavy input steps at 1×, 3× and 10× their benchmark size.

Ofcom postcode coverage + ONS Postcode Directory -> LSOA (1.74 M -> 17.4 M postcodes) and an
address-level local proxy file -> LSOA by spatial join (10 M -> 100 M records). Data are
generated first (not timed); each step then runs in a fresh subprocess (wall time of the step,
peak RSS of the process). Writes a table (stdout) and ``bench/growth.png``.
Run: ``uv run python bench/bench_growth.py [--scales 1 3 10]``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_inputs import (  # noqa: E402
    LA,
    N_POSTCODES,
    N_RECORDS,
    child,
    make_postcode_release,
    make_records,
)

CHART = ROOT / "bench" / "growth.png"


def measure(scales: list[int]) -> list[dict]:
    """One row per (step, scale): rows, seconds, peak RSS."""
    import geopandas as gpd

    rows = []
    for k in scales:
        with tempfile.TemporaryDirectory() as tmp:
            t = Path(tmp)
            z, pcd = make_postcode_release(t, N_POSTCODES * k)
            r = child("run_postcodes", str(z), str(pcd))
            rows.append({"step": "Ofcom postcodes -> LSOA", "scale": k,
                         "rows": r["postcodes"], **r})
            print(f"  postcodes ×{k}: {r['seconds']:.1f} s, {r['peak_rss_mb']:.0f} MB",
                  file=sys.stderr)
        with tempfile.TemporaryDirectory() as tmp:
            t = Path(tmp)
            f, polys = make_records(t, N_RECORDS * k)
            las = set(gpd.read_parquet(polys)["ltla24_code"])
            la = LA if LA in las else sorted(las)[0]
            r = child("run_records", str(f), str(polys), la)
            rows.append({"step": "local records -> LSOA (spatial join)", "scale": k,
                         "rows": r["records"], **r})
            print(f"  records ×{k}: {r['seconds']:.1f} s, {r['peak_rss_mb']:.0f} MB",
                  file=sys.stderr)
    return rows


def table(rows: list[dict]) -> str:
    base = {r["step"]: r for r in rows if r["scale"] == min(x["scale"] for x in rows)}
    out = ["| step | scale | rows | wall (s) | s per million rows | time vs 1× | "
           "peak RSS (MB) |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        b = base[r["step"]]
        out.append(f"| {r['step']} | {r['scale']}× | {r['rows']:,} | {r['seconds']:.1f} | "
                   f"{r['seconds'] / r['rows'] * 1e6:.2f} | "
                   f"{r['seconds'] / b['seconds']:.1f}× | {r['peak_rss_mb']:.0f} |")
    return "\n".join(out) + "\n"


def chart(rows: list[dict], path: Path = CHART) -> Path:
    """Time and peak memory against rows, one line per step (log-log)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    for step in dict.fromkeys(r["step"] for r in rows):
        rs = [r for r in rows if r["step"] == step]
        x = [r["rows"] / 1e6 for r in rs]
        a.plot(x, [r["seconds"] for r in rs], "o-", label=step)
        b.plot(x, [r["peak_rss_mb"] / 1024 for r in rs], "o-", label=step)
        a.plot(x, [rs[0]["seconds"] * v / x[0] for v in x], ":", color="grey")
    a.set(xscale="log", yscale="log", xlabel="rows (millions)", ylabel="wall time (s)",
          title="Time (dotted: linear from 1×)")
    b.set(xscale="log", xlabel="rows (millions)", ylabel="peak RSS (GB)",
          title="Peak memory (flat = streamed)")
    b.axhline(4, color="#b00020", ls="--", lw=1)
    b.text(b.get_xlim()[0], 4, " 4 GB target", color="#b00020", va="bottom", fontsize=8)
    b.set_ylim(0, max(4.5, max(r["peak_rss_mb"] for r in rows) / 1024 * 1.1))
    a.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--scales", type=int, nargs="+", default=[1, 3, 10])
    args = ap.parse_args()
    rows = measure(args.scales)
    print(table(rows))
    print(f"chart: {chart(rows)}")


if __name__ == "__main__":
    main()
