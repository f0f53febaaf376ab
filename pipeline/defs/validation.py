"""External validation: DX, DEDI and the IMD against reference files listed in settings.yaml."""

import re
from pathlib import Path

import dagster as dg
import pandas as pd
from dagster_duckdb import DuckDBResource

from pipeline.build.resources import DediPaths
from pipeline.config import settings
from pipeline.defs._staging import build_status, preview, read_table, write_table
from pipeline.method.validation import INDEXES, calibration_chart, convergent_validity
from pipeline.sources.reference import Reference, read_reference

GROUP = "validation"
COLUMNS = ["reference", "reference_file", "reference_column", "reference_geography", "index",
           "measure", "decile", "value", "n_lsoas"]


def validate_reference(ref: Reference, lsoa_index: pd.DataFrame,
                       lookup: pd.DataFrame | None) -> pd.DataFrame:
    """The ``validation`` rows of one reference against the published index columns."""
    scores = lsoa_index.set_index("lsoa21_code")[list(INDEXES.values())]
    scores.columns = list(INDEXES)
    data, geography = read_reference(ref, set(scores.index), lookup)
    res = convergent_validity(scores, data["reference"], data.get("group"))
    res.insert(0, "reference", ref.name)
    res.insert(1, "reference_file", str(ref.file))
    res.insert(2, "reference_column", ref.column)
    res.insert(3, "reference_geography", geography)
    return res[COLUMNS]


def chart_path(folder, name: str) -> Path:
    """Where the calibration chart of reference ``name`` is written (published alongside)."""
    return Path(folder) / "validation" / (re.sub(r"[^\w.-]+", "_", name) + ".png")


def empty() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="float64" if c in ("value", "n_lsoas") else
                                      "Int64" if c == "decile" else "object") for c in COLUMNS})


@dg.asset(group_name=GROUP, kinds={"duckdb", "png"},
          deps=["lsoa_index", "stg_lsoa11_lsoa21"],
          description="Convergent validity of DX, DEDI and the IMD against the reference files "
          "in settings.yaml (validation.references): Spearman rho, AUC, decile agreement, "
          "calibration (pipeline/method/validation.py). Empty when none is configured; "
          "`dedi validate` adds one to the published marts.")
def validation(context: dg.AssetExecutionContext, dedi_paths: DediPaths,
               staging_db: DuckDBResource) -> dg.MaterializeResult:
    refs = [Reference(**r) for r in (settings().get("validation") or {}).get("references") or []]
    with staging_db.get_connection() as conn:
        lsoa = read_table(conn, "lsoa_index")
        lookup = read_table(conn, "stg_lsoa11_lsoa21")
        status = build_status(conn)
        parts = []
        for ref in refs:
            context.log.info(f"validating against {ref.name} ({ref.file})")
            part = validate_reference(ref, lsoa, lookup if len(lookup) else None)
            calibration_chart(part, chart_path(dedi_paths.staging_dir, ref.name),
                              f"Calibration against {ref.name}", status)
            parts.append(part)
        out = pd.concat(parts, ignore_index=True) if parts else empty()
        write_table(conn, "validation", out)
    return dg.MaterializeResult(metadata={"dagster/row_count": len(out),
                                          "references": [r.name for r in refs],
                                          "preview": preview(out, 12)})
