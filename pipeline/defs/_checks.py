"""Asset-check factory: a Great Expectations suite run as a blocking Dagster check."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from pipeline.build.resources import SideProcessResource
from pipeline.defs._early import LATE, start_after
from pipeline.quality.expectations import start_validation, validated


def n_lsoa(conn) -> int:
    """England LSOA count of this build: File 7's, the set the IoD defines. (Not a lookup's: a
    lookup with rows missing must be blamed by its own check, ``lookups_cover_file7``, not
    make every suite fail on a row count.) A real build's count is checked against the
    official 33,755 by ``lsoa_sets_consistent``."""
    return conn.execute("SELECT count(*) FROM stg_iod2025").fetchone()[0]


def gx_check(asset, suite: str, table: str | None = None, name: str | None = None,
             deps: list[str] | None = None) -> dg.AssetChecksDefinition:
    """Blocking check validating staging table ``table`` (default: the asset's name) against
    ``expectations/<suite>.json`` with ``$PARAMETER n_lsoa``. The suite starts in the side
    process as soon as the asset's step succeeds, once File 7 is staged
    (``pipeline/defs/_early.py``); the check runs after the other ready steps and collects it."""
    key = asset if isinstance(asset, str) else asset.key.path[-1]
    table = table or key

    def start(run_id: str, conn) -> None:
        if conn.execute("SELECT count(*) FROM duckdb_tables() "
                        "WHERE table_name = 'stg_iod2025'").fetchone()[0]:
            start_validation(run_id, conn, table, suite, {"n_lsoa": n_lsoa(conn)})

    start_after(key, start)

    @dg.asset_check(asset=asset, name=name or f"{suite}_expectations", blocking=True,
                    op_tags=LATE,
                    additional_deps=list(set((deps or []) + ["stg_iod2025"]) - {key}),
                    description=f"GX suite expectations/{suite}.json on {table}")
    def _check(context: dg.AssetCheckExecutionContext, staging_db: DuckDBResource,
               side: SideProcessResource) -> dg.AssetCheckResult:
        with staging_db.get_connection() as conn:
            res, rows = validated(context.run.run_id, conn, table, suite,
                                  {"n_lsoa": n_lsoa(conn)})
        return dg.AssetCheckResult(passed=res.success, metadata={
            "summary": res.summary(), "evaluated": res.evaluated, "failed": len(res.failures),
            "rows": rows})

    return _check
