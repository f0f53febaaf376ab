"""``dedi validate``: compare the published marts with a reference and republish them with the
results added (table ``validation`` and ``validation_<name>.png``), atomically."""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import duckdb
import geopandas as gpd
import pandas as pd

from pipeline.config import CURRENT, paths, reader_marts, settings
from pipeline.defs.validation import chart_path, validate_reference
from pipeline.method.validation import calibration_chart
from pipeline.release.dictionary import document
from pipeline.release.publish import MANIFEST, publish
from pipeline.sources import geography
from pipeline.sources.common import SourceError
from pipeline.sources.reference import Reference


def _lookup(raw: Path) -> pd.DataFrame | None:
    try:
        return geography.read_lsoa11_lsoa21(geography.locate(raw, "lsoa11_lsoa21"))
    except SourceError:
        return None


def run_validate(args: argparse.Namespace) -> int:
    p = paths()
    marts = reader_marts()
    release = (marts / CURRENT).resolve()  # resolve once: one consistent release
    if not (release / "dedi.duckdb").exists():
        raise FileNotFoundError(f"no published marts in {marts}; run `dedi build` first")
    ref = Reference(args.reference, args.column, args.name or "", args.code_column,
                    args.group_column, args.group_values, args.direction)
    manifest = json.loads((release / MANIFEST).read_text(encoding="utf-8"))
    with duckdb.connect(str(release / "dedi.duckdb"), read_only=True) as con:
        names = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables "
                                           "WHERE table_type = 'BASE TABLE'").fetchall()]
        tables = {t: con.execute(f'SELECT * FROM "{t}"').df() for t in names
                  if t not in ("build_metadata", "data_dictionary")}  # the latter is rebuilt
    result = validate_reference(ref, tables["lsoa_index"], _lookup(p.raw))
    result["data_status"] = manifest["data_status"]
    old = tables.get("validation")
    keep = old[old["reference"] != ref.name] if old is not None and len(old) else None
    tables["validation"] = pd.concat([keep, result], ignore_index=True) if keep is not None \
        else result
    geo = {f[:-len(".geoparquet")]: gpd.read_parquet(release / f) for f in manifest["files"]
           if f.endswith(".geoparquet")}
    extra = {f: release / f for f in manifest["files"]
             if f.endswith(".png") and f != f"validation_{chart_path('', ref.name).name}"}
    metadata = {k: v for k, v in manifest.items() if k not in ("files", "row_counts")}
    with tempfile.TemporaryDirectory() as tmp:
        chart = calibration_chart(result, chart_path(tmp, ref.name),
                                  f"Calibration against {ref.name}", manifest["data_status"])
        extra[f"validation_{chart.name}"] = chart
        publish(marts, tables, metadata, geo=geo, keep=settings()["publish"]["keep_releases"],
                extra=extra, grace_seconds=settings()["publish"]["prune_grace_seconds"],
                document=lambda conn: document(conn, tables["sources"], manifest["data_status"]))
    show = result[result["measure"] != "calibration_mean_reference"]
    print(f"validation against {ref.name} ({result['reference_geography'].iloc[0]}, "
          f"{int(result['n_lsoas'].iloc[0]):,} LSOAs):")
    print(show.pivot(index="measure", columns="index", values="value")
          [["dx", "dedi", "imd"]].round(3).to_string())
    print(f"published: table validation and validation_{chart.name} in {marts}")
    return 0
