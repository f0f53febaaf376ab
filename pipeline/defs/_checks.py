"""Asset-check factory: a Great Expectations suite run as a blocking Dagster check."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from pipeline.build.resources import SideProcessResource
from pipeline.quality.expectations import validate_arrow

# Dagster's in-process executor runs, among the ready steps, those of higher priority first:
# a step that hands work to the side process runs after the other ready steps, so the side
# process has loaded what it needs by then instead of keeping the step waiting
AFTER_READY_STEPS = {"dagster/priority": "-1"}


def n_lsoa(conn) -> int:
    """England LSOA count of this build: File 7's, the set the IoD defines. (Not a lookup's: a
    lookup with rows missing must be blamed by its own check, ``lookups_cover_file7``, not
    make every suite fail on a row count.) A real build's count is checked against the
    official 33,755 by ``lsoa_sets_consistent``."""
    return conn.execute("SELECT count(*) FROM stg_iod2025").fetchone()[0]


def gx_check(asset, suite: str, table: str | None = None, name: str | None = None,
             deps: list[str] | None = None) -> dg.AssetChecksDefinition:
    """Blocking check validating staging table ``table`` (default: the asset's name) against
    ``expectations/<suite>.json`` with ``$PARAMETER n_lsoa``, in the run's side process."""
    key = asset if isinstance(asset, str) else asset.key.path[-1]
    table = table or key

    @dg.asset_check(asset=asset, name=name or f"{suite}_expectations", blocking=True,
                    op_tags=AFTER_READY_STEPS,
                    additional_deps=list(set((deps or []) + ["stg_iod2025"]) - {key}),
                    description=f"GX suite expectations/{suite}.json on {table}")
    def _check(context: dg.AssetCheckExecutionContext, staging_db: DuckDBResource,
               side: SideProcessResource) -> dg.AssetCheckResult:
        with staging_db.get_connection() as conn:
            arrow = conn.execute(f'SELECT * FROM "{table}"').to_arrow_table()
            parameters = {"n_lsoa": n_lsoa(conn)}
        res, rows = side.run(validate_arrow, suite, arrow, parameters), arrow.num_rows
        return dg.AssetCheckResult(passed=res.success, metadata={
            "summary": res.summary(), "evaluated": res.evaluated, "failed": len(res.failures),
            "rows": rows})

    return _check
