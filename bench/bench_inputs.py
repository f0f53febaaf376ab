"""Benchmarks for the heavy input steps (issue: inputs joined by LSOA).

1. Ofcom postcode coverage: a generated release of 1.74 million postcodes (a zip of
   per-postcode-area CSVs in the official format) plus an ONS Postcode Directory for them,
   staged with DuckDB and aggregated to LSOA 2021 (assets/intermediate/int_connectivity_postcode_lsoa.sql).
2. A local proxy record file of 10 million addresses (easting/northing) spatially joined to
   the LSOA 2021 polygons of one LA and counted per LSOA.

Each runs in a fresh subprocess; wall time covers the step only (not data generation),
peak RSS is the subprocess's ru_maxrss. Run: ``uv run python bench/bench_inputs.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
N_POSTCODES = 1_740_000
N_RECORDS = 10_000_000
LA = "E08000015"  # Wirral


def make_postcode_release(folder: Path, n: int = N_POSTCODES) -> tuple[Path, Path]:
    """A release of ``n`` postcodes across 120 areas, and a directory for 98% of them."""
    rng = np.random.default_rng(1)
    areas = [a + b for a in "ABCDEFGHKLMNPRSTW" for b in "ABCDEFGH"][:120]
    i = np.arange(n)
    area = np.array(areas)[i % len(areas)]
    letters = np.array(list("ABDEFGHJLNPQRSTUWXYZ"))
    # unique by construction, format AA9A 9AA: 120 × 9 × 20 × 10 × 400 = 86.4 million codes
    rest = i // len(areas)
    pcs = (pd.Series(area) + (rest % 9 + 1).astype(str) + letters[rest // 9 % 20] + " "
           + (rest // 180 % 10).astype(str) + letters[rest // 1800 % 20]
           + letters[rest // 36000 % 20])
    below = np.round(rng.beta(1, 6, n) * 100, 1)
    df = pd.DataFrame({"postcode": pcs.str.replace(" ", ""), "postcode_space": pcs,
                       "postcode area": area, "All Premises": rng.integers(1, 80, n),
                       "SFBB availability (% premises)": 100 - below,
                       "Gigabit availability (% premises)": np.clip(100 - 2 * below, 0, 100),
                       "% of premises unable to receive 10Mbit/s": below / 3,
                       "% of premises unable to receive 30Mbit/s": below,
                       "% of premises below the USO": below / 10})
    z = folder / "202601_fixed_postcode_coverage_r01.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for a, part in df.groupby("postcode area"):
            zf.writestr(f"202601_fixed_postcode_coverage_r01_{a}.csv", part.to_csv(index=False))
    keep = rng.random(n) < 0.98
    lsoa = "E01" + pd.Series(rng.integers(0, 33755, n)).astype(str).str.zfill(6)
    pcd = folder / "ONSPD_BENCH_UK.csv"
    pd.DataFrame({"pcds": pcs[keep], "doterm": "", "lsoa21cd": lsoa[keep]}).to_csv(pcd, index=False)
    return z, pcd


def run_postcodes(z: str, pcd: str) -> dict:
    import duckdb

    from pipeline.build.resources import duckdb_config
    from pipeline.defs._staging import run_sql_model
    from pipeline.sources.connectivity import stage_ofcom_coverage
    from pipeline.sources.postcodes import stage_postcode_directory

    with tempfile.TemporaryDirectory() as tmp:  # a staging database as the build's
        con = duckdb.connect(f"{tmp}/staging.duckdb", config=duckdb_config())
        t0 = time.perf_counter()
        facts = stage_ofcom_coverage(con, [Path(z)], "stg_ofcom_postcode_coverage")
        stage_postcode_directory(con, [Path(pcd)], "stg_postcode_directory", Path(tmp))
        run_sql_model(con, "int_connectivity_postcode_lsoa")
        n = con.execute("SELECT count(*) FROM int_connectivity_postcode_lsoa").fetchone()[0]
        seconds = time.perf_counter() - t0
        con.close()
    return {"seconds": seconds, "postcodes": facts["postcodes"], "lsoas": n}


def make_records(folder: Path, n: int = N_RECORDS) -> tuple[Path, Path]:
    """``n`` address points inside (and a few outside) one LA's LSOA polygons."""
    import geopandas as gpd

    if SHARED.exists():
        b = gpd.read_parquet(SHARED / "geography" / "boundaries_lsoa21.parquet")
        lk = pd.read_parquet(SHARED / "geography" / "lookup_lsoa21_ward24_ltla24.parquet")
        b = b.merge(lk[["lsoa21_code", "ltla24_code"]], on="lsoa21_code")
    else:  # the demo area
        from pipeline.demo.generator import generate

        generate(folder / "raw")
        b = gpd.read_parquet(folder / "raw" / "geography" / "boundaries_lsoa21.parquet")
        lk = pd.read_parquet(folder / "raw" / "geography" / "lookup_lsoa21_ward24_ltla24.parquet")
        b = b.merge(lk[["lsoa21_code", "ltla24_code"]], on="lsoa21_code")
    la = LA if LA in set(b["ltla24_code"]) else b["ltla24_code"].iloc[0]
    polys = folder / "polys.parquet"
    b[["lsoa21_code", "ltla24_code", "geometry"]].to_parquet(polys)
    minx, miny, maxx, maxy = b[b["ltla24_code"] == la].to_crs("EPSG:27700").total_bounds
    rng = np.random.default_rng(2)
    f = folder / "assisted_bin_collection.csv"
    chunk = 2_000_000
    for k in range(n // chunk):
        part = pd.DataFrame({"uprn": np.arange(k * chunk, (k + 1) * chunk),
                             "easting": rng.uniform(minx, maxx, chunk).round(1),
                             "northing": rng.uniform(miny, maxy, chunk).round(1)})
        part.to_csv(f, mode="a", header=k == 0, index=False)
    return f, polys


def run_records(f: str, polys: str, la: str) -> dict:
    import duckdb
    import geopandas as gpd

    from pipeline.sources.local_proxies import count_records

    lsoa = gpd.read_parquet(polys)
    t0 = time.perf_counter()
    counts, rep = count_records(duckdb.connect(), Path(f), lsoa, la)
    return {"seconds": time.perf_counter() - t0, **rep, "lsoas": len(counts)}


def peak_rss_mb() -> float:
    """This process's own peak RSS (VmHWM). Not ``ru_maxrss``: on Linux that keeps the high
    mark of the process image before ``exec``, i.e. of the (large) parent that forked it."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(fn: str, *args: str) -> dict:
    code = (f"import json, resource, sys; sys.path.insert(0, {str(ROOT)!r}); "
            f"from bench.bench_inputs import {fn}, peak_rss_mb; r = {fn}(*{list(args)!r}); "
            "r['peak_rss_mb'] = peak_rss_mb(); "
            "print('RESULT ' + json.dumps(r))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    # DuckDB's progress bar may share the line (it ends with a carriage return, not a newline)
    lines = [x.split("RESULT ", 1)[1] for x in out.stdout.splitlines() if "RESULT " in x]
    if out.returncode != 0 or not lines:
        sys.exit(f"{fn}{args} failed:\n{out.stderr[-3000:]}")
    return json.loads(lines[0])


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        z, pcd = make_postcode_release(t)
        r1 = child("run_postcodes", str(z), str(pcd))
        f, polys = make_records(t)
        import geopandas as gpd
        la = LA if LA in set(gpd.read_parquet(polys)["ltla24_code"]) else gpd.read_parquet(
            polys)["ltla24_code"].iloc[0]
        r2 = child("run_records", str(f), str(polys), la)
    print(f"machine: {os.cpu_count()} cores; polygons: "
          f"{'real LSOA 2021 (' + LA + ')' if SHARED.exists() else 'demo'}")
    print("| step | rows | wall time (s) | peak RSS (MB) | detail |\n|---|---|---|---|---|")
    print(f"| Ofcom postcodes -> LSOA | {r1['postcodes']:,} | {r1['seconds']:.1f} | "
          f"{r1['peak_rss_mb']:.0f} | {r1['lsoas']:,} LSOAs |")
    print(f"| local records -> LSOA (spatial join) | {r2['records']:,} | {r2['seconds']:.1f} | "
          f"{r2['peak_rss_mb']:.0f} | {r2['lsoas']} LSOAs; outside LA {r2['outside_la']:,}, "
          f"outside any LSOA {r2['outside_any_lsoa']:,} |")


if __name__ == "__main__":
    main()


def records_in_las(raw: Path, las: list[str], n_per_la: int, proxy: str = "assisted_bin_collection",
                   seed: int = 3, geography: Path | None = None) -> dict[str, int]:
    """Address-level record files (uprn, easting, northing) for ``las``, each point drawn
    uniformly inside one of the LA's LSOA 2021 polygons (``geography``, default ``raw``'s),
    written as ``<raw>/local/<LA>/<proxy>.csv`` in chunks and labelled synthetic in the
    folder's provenance.json. Returns LA -> records written."""
    import geopandas as gpd
    import shapely

    from pipeline.demo.synthetic import write_provenance

    geo = (geography or raw) / "geography"
    b = gpd.read_parquet(geo / "boundaries_lsoa21.parquet")
    lk = pd.read_parquet(geo / "lookup_lsoa21_ward24_ltla24.parquet")
    b = b.merge(lk[["lsoa21_code", "ltla24_code"]].drop_duplicates("lsoa21_code"),
                on="lsoa21_code").to_crs("EPSG:27700")
    rng = np.random.default_rng(seed)
    out = {}
    for la in las:
        polys = b[b["ltla24_code"] == la].geometry.reset_index(drop=True)
        folder = raw / "local" / la
        folder.mkdir(parents=True, exist_ok=True)
        f = folder / f"{proxy}.csv"
        f.unlink(missing_ok=True)
        done, chunk = 0, 1_000_000
        while done < n_per_la:
            k = min(chunk, n_per_la - done)
            counts = np.bincount(rng.integers(0, len(polys), k), minlength=len(polys))
            pts = polys.sample_points(counts, rng=rng)  # one MultiPoint per polygon
            xy = shapely.get_coordinates(pts[counts > 0].to_numpy())
            pd.DataFrame({"uprn": np.arange(done, done + len(xy)),
                          "easting": xy[:, 0].round(1), "northing": xy[:, 1].round(1)}
                         ).to_csv(f, mode="a", header=done == 0, index=False)
            done += len(xy)
        write_provenance(folder, [f], "DEDI benchmark: SYNTHETIC address records")
        out[la] = done
    return out
