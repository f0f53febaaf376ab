"""Helpers shared by the staging assets: write a frame to DuckDB and describe it."""


from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd

from pipeline.config import PROJECT_ROOT, settings
from pipeline.errors import DATA_WARNING

SQL_DIR = PROJECT_ROOT / "assets"


# Every run that writes the staging database carries this tag; the run queue lets one such run
# go at a time (dagster.yaml run_queue.tag_concurrency_limits).
STAGING_TAG = {"dedi/staging": "shared"}

def write_table(conn, table: str, df: pd.DataFrame) -> None:
    """Create or replace ``table`` in DuckDB from a pandas frame."""
    conn.register("_incoming", df)
    try:
        conn.execute(f'CREATE OR REPLACE TABLE "{table}" AS SELECT * FROM _incoming')
    finally:
        conn.unregister("_incoming")


def replace_partitions(conn, table: str, df: pd.DataFrame, column: str, keys: list) -> None:
    """Replace the rows of ``table`` whose ``column`` is one of ``keys`` by ``df``, in one
    transaction: how a partitioned asset restages only its own partitions."""
    conn.register("_incoming", df)
    try:
        conn.execute("BEGIN")
        conn.execute(f'DELETE FROM "{table}" WHERE "{column}" IN (SELECT unnest(?))', [keys])
        conn.execute(f'INSERT INTO "{table}" BY NAME SELECT * FROM _incoming')
        conn.execute("COMMIT")
    except Exception:
        conn.execute("ROLLBACK")
        raise
    finally:
        conn.unregister("_incoming")


def read_table(conn, table: str) -> pd.DataFrame:
    """A staging table as pandas."""
    return conn.execute(f'SELECT * FROM "{table}"').df()


LAYERS = ("staging", "intermediate", "marts")


def model_file(name: str) -> Path:
    """``assets/<layer>/<name>.sql``: the one SQL model of table ``name``."""
    hits = [SQL_DIR / layer / f"{name}.sql" for layer in LAYERS
            if (SQL_DIR / layer / f"{name}.sql").exists()]
    if len(hits) != 1:
        raise FileNotFoundError(f"expected exactly one SQL model {name}.sql under "
                                f"{SQL_DIR}/{{{','.join(LAYERS)}}}, found {len(hits)}")
    return hits[0]


def run_sql_model(conn, name: str, view: bool = False) -> int:
    """Materialise ``assets/<layer>/<name>.sql`` as table (or view) ``name``; returns its row
    count."""
    sql = model_file(name).read_text(encoding="utf-8")
    # the rules models share, and their one parameter: the disclosure threshold
    conn.execute(f"SET VARIABLE min_count = {int(settings()['suppression']['min_count'])}")
    for macros in sorted((SQL_DIR / "macros").glob("*.sql")):
        conn.execute(macros.read_text(encoding="utf-8"))
    conn.execute(f'CREATE OR REPLACE {"VIEW" if view else "TABLE"} "{name}" AS {sql}')
    return conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]


def preview(df: pd.DataFrame, rows: int = 5) -> dg.MetadataValue:
    """A small markdown preview for the Dagster UI."""
    return dg.MetadataValue.md(df.head(rows).to_markdown(index=False))


def source_metadata(record: dict[str, Any], df: pd.DataFrame) -> dict[str, Any]:
    """Standard metadata of a staged source: rows, file, checksum, real or synthetic, preview."""
    return {
        "dagster/row_count": len(df),
        "source_file": dg.MetadataValue.path(record["file"]),
        "sha256": record["sha256"],
        "data_status": record["data_status"],
        "source_url": record.get("url") or "",
        "preview": preview(df.drop(columns=["geometry"], errors="ignore")),
    }


def stage_source(conn, table: str, df: pd.DataFrame, path: Path,
                 extra: dict[str, Any] | None = None) -> dg.MaterializeResult:
    """Tag a reader's frame of ``path`` with its data status, store it with its provenance,
    and return its metadata."""
    record = stamp_provenance(conn, table, path, len(df), df)  # sees the synthetic column
    df = df.drop(columns=["dedi_synthetic"], errors="ignore").copy()
    df["data_status"] = record["data_status"]
    write_table(conn, table, df)
    return dg.MaterializeResult(metadata={**source_metadata(record, df), **(extra or {})})


def stamp_provenance(conn, key: str, path: Path, rows: int,
                     df: pd.DataFrame | None = None) -> dict[str, Any]:
    """The one provenance stamp of a staged file: its record (name, sha256, size, real or
    synthetic, URL, licence) kept in ``_sources`` under ``key`` in place of the key's earlier
    rows, and returned, so the asset stamps its ``data_status`` on the rows it read."""
    from pipeline.sources.common import file_record

    record = file_record(Path(path), df)
    forget_sources(conn, key)
    record_source(conn, key, record, rows)
    return record


SOURCES_DDL = ("CREATE TABLE IF NOT EXISTS _sources (staging_table VARCHAR PRIMARY KEY, "
               "file VARCHAR, sha256 VARCHAR, bytes BIGINT, data_status VARCHAR, url VARCHAR, "
               "retrieved_at VARCHAR, licence VARCHAR, rows BIGINT, publisher VARCHAR, "
               "title VARCHAR, vintage VARCHAR, retrieved_basis VARCHAR)")


def source_files(conn, tables: list[str]) -> dict[str, str]:
    """The file(s) each staging table was read from (``_sources``), for messages: the newest
    of several (monthly files) with how many others."""
    out = {}
    for t in tables:
        files = [r[0] for r in conn.execute(
            "SELECT file FROM _sources WHERE staging_table = ? OR staging_table LIKE ? "
            "ORDER BY file DESC", [t, f"{t}:%"]).fetchall()]
        if files:
            out[t] = files[0] + (f" (and {len(files) - 1} other file(s))" if len(files) > 1
                                 else "")
    return out


def forget_sources(conn, table: str) -> None:
    """Drop the provenance rows of ``table`` (and its ``table:file`` parts) before restaging it,
    so ``sources`` lists exactly the files of this build."""
    conn.execute(SOURCES_DDL)
    conn.execute("DELETE FROM _sources WHERE staging_table = ? OR staging_table LIKE ?",
                 [table, table + ":%"])


def catalogued(table: str, record: dict[str, Any]) -> dict[str, Any]:
    """``record`` completed from the catalogue of official sources: a real file that
    ``dedi fetch`` did not download still gets its URL, licence, publisher and vintage, and
    its modification time as the retrieval time (``retrieved_basis`` says which)."""
    from datetime import UTC, datetime

    from pipeline.sources.catalogue import official, url_of, vintage_of

    out = dict(record)
    if record["data_status"] == "synthetic":
        return {**out, "publisher": "DEDI demo generator (synthetic)", "title": None,
                "vintage": "synthetic", "retrieved_basis": "generated by dedi demo"}
    entry = official(table)
    out["retrieved_basis"] = "dedi fetch (provenance.json)" if record.get("retrieved_at") else \
        "file modification time (not downloaded by dedi fetch)"
    if not record.get("retrieved_at"):
        mtime = Path(record["file"]).stat().st_mtime
        out["retrieved_at"] = datetime.fromtimestamp(mtime, UTC).isoformat(timespec="seconds")
    if entry is None:
        return {**out, "publisher": None, "title": None, "vintage": None}
    return {**out, "url": record.get("url") or url_of(entry),
            "licence": record.get("licence") or entry.licence, "publisher": entry.publisher,
            "title": entry.title, "vintage": vintage_of(entry, record["file"])}


def record_source(conn, table: str, record: dict[str, Any], rows: int) -> None:
    """Keep the provenance of every staged file in ``_sources`` (published with the marts)."""
    conn.execute(SOURCES_DDL)
    r = catalogued(table, record)
    conn.execute("INSERT OR REPLACE INTO _sources VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                 [table, r["file"], r["sha256"], r["bytes"], r["data_status"], r.get("url"),
                  r.get("retrieved_at"), r.get("licence"), rows, r.get("publisher"),
                  r.get("title"), r.get("vintage"), r.get("retrieved_basis")])


def warn(log, file: str | Path, problem: str, detail: str) -> None:
    """A tolerated problem (a quarantine, a fallback): one warning line naming the file, what
    happened and where the detail is. ``dedi build`` prints it (with ``--quiet`` too) and
    lists it in its closing summary; the Dagster UI shows it as a warning event."""
    log.warning(f"{DATA_WARNING}{file}: {problem}; {detail}")


def warn_quarantine(log, quarantine: pd.DataFrame) -> None:
    """One :func:`warn` line per file with quarantined rows (``quarantine`` mart rows)."""
    for file, rows in quarantine.groupby("file", sort=True):
        first = rows.iloc[0]
        warn(log, file, f"{len(rows)} row(s) quarantined and left out, e.g. file row "
             f"{first['file_row']}: {first['reason']}", "every row is in the `quarantine` mart")


def stage_absent(conn, table: str, columns_sql: str, reason: str) -> dg.MaterializeResult:
    """An optional source that is not present: an empty table with its usual columns."""
    conn.execute(f'CREATE OR REPLACE TABLE "{table}" ({columns_sql})')
    forget_sources(conn, table)
    return dg.MaterializeResult(metadata={"dagster/row_count": 0, "present": False,
                                          "reason": reason})


def file_asset(name: str, group: str, description: str, locate, reader, extra=None,
               kinds: set[str] | None = None,
               absent_columns: str | None = None) -> dg.AssetsDefinition:
    """A staging asset for one raw file: locate it, read it with its source reader, store it
    as table ``name`` with provenance metadata (``extra(df)`` adds more).

    With ``absent_columns`` (SQL column list) the source is optional: when ``locate`` finds no
    file, the table is created empty with those columns and the source is recorded absent.
    """
    from dagster_duckdb import DuckDBResource

    from pipeline.build.resources import DediPaths
    from pipeline.sources.common import SourceError

    @dg.asset(name=name, group_name=group, kinds=kinds or {"duckdb"}, description=description)
    def _asset(context: dg.AssetExecutionContext, dedi_paths: DediPaths,
               staging_db: DuckDBResource) -> dg.MaterializeResult:
        try:
            path = locate(dedi_paths.raw)
        except SourceError as exc:
            if absent_columns is None:
                raise
            with staging_db.get_connection() as conn:
                return stage_absent(conn, name, absent_columns, str(exc))
        context.log.info(f"reading {path}")
        df = reader(path)
        with staging_db.get_connection() as conn:
            return stage_source(conn, name, df, path, extra(df) if extra else None)

    return _asset


def build_status(conn) -> str:
    """The build's data status: the one rule, ``assets/intermediate/int_build_status.sql``,
    over the provenance of every staged file.

    A build never publishes a mixture: if real and synthetic files were both staged (e.g. a
    demo parquet copied into a real raw folder), this raises naming them.
    """
    conn.execute(SOURCES_DDL)
    run_sql_model(conn, "int_build_status", view=True)
    status, syn = conn.execute("SELECT data_status, synthetic_files FROM int_build_status"
                               ).fetchone()
    if status == "mixed":
        raise ValueError(f"this build staged synthetic demo files ({syn}) beside real ones; a "
                         "build uses one or the other. Remove the synthetic files from the raw "
                         "folder, or build the demo from its own folder")
    return status


def sql_model_asset(name: str, group: str, deps: list, description: str,
                    facts: dict[str, str] | None = None,
                    variables: dict[str, Any] | None = None) -> dg.AssetsDefinition:
    """An asset that materialises the SQL model ``assets/<layer>/<name>.sql`` as table
    ``name``. ``facts``: metadata key -> a scalar SQL query reported with the row count;
    ``variables``: name -> a function giving the number the model reads with
    ``getvariable(name)`` (from settings, read at run time)."""
    from dagster_duckdb import DuckDBResource

    @dg.asset(name=name, group_name=group, kinds={"duckdb", "sql"}, deps=deps,
              description=f"{description} ({model_file(name).relative_to(SQL_DIR.parent)})",
              metadata={"dedi/sql_model": str(model_file(name).relative_to(SQL_DIR.parent))})
    def _asset(staging_db: DuckDBResource) -> dg.MaterializeResult:
        with staging_db.get_connection() as conn:
            for var, value in (variables or {}).items():
                conn.execute(f"SET VARIABLE {var} = {float(value())}")
            n = run_sql_model(conn, name)
            extra = {k: conn.execute(q).fetchone()[0] for k, q in (facts or {}).items()}
        return dg.MaterializeResult(metadata={"dagster/row_count": n, **extra})

    return _asset
