"""``dedi sql``: query the published warehouse read-only, one query or interactively."""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb

from pipeline.outputs.warehouse import session

MAX_ROWS = 40  # rows shown on screen unless --max-rows says otherwise; exports are never cut
READ_ONLY_HINT = ("the published warehouse (attached as dedi) is read-only; keep your own "
                  "tables in your own file, in this same session: ATTACH 'mine.duckdb' AS mine; "
                  "CREATE TABLE mine.t AS SELECT ... FROM lsoa_index;")


def _error_text(exc: duckdb.Error) -> str:
    """DuckDB's whole message (its "Did you mean", candidate columns and caret are the help),
    with the way round a refused write."""
    msg = str(exc).strip()
    if "read-only" in msg or "read only" in msg:
        return f"{msg.splitlines()[0]}\n  {READ_ONLY_HINT}"
    return msg


def run_query(conn: duckdb.DuckDBPyConnection, query: str, csv: Path | None = None,
              parquet: Path | None = None, max_rows: int = MAX_ROWS) -> int:
    """Run one query: print up to ``max_rows`` rows (0: all) or export every row; 0 ok, 1 on
    an SQL error."""
    try:
        rel = conn.sql(query)
        if rel is None:
            print("ok")
            return 0
        if csv or parquet:
            target = csv or parquet
            target.parent.mkdir(parents=True, exist_ok=True)
            (rel.write_csv if csv else rel.write_parquet)(str(target))
            n = rel.shape[0]
            print(f"wrote {n:,} rows to {target}")
        else:
            rows = max_rows if max_rows > 0 else max(rel.shape[0], 1)
            rel.show(max_rows=rows, max_width=200)
    except duckdb.Error as exc:
        print(f"dedi sql: {_error_text(exc)}", file=sys.stderr)
        return 1
    return 0


def repl(conn: duckdb.DuckDBPyConnection, max_rows: int = MAX_ROWS) -> int:
    """A small interactive prompt: statements end with ';', .tables lists tables, .quit ends."""
    print("dedi sql (read-only). End statements with ';'. .tables lists tables, "
          "SELECT * FROM data_dictionary explains columns, .quit leaves.")
    buf: list[str] = []
    while True:
        try:
            line = input("dedi> " if not buf else "   ...> ")
        except EOFError:
            print()
            return 0
        cmd = line.strip()
        if not buf and cmd in (".quit", ".exit", "\\q"):
            return 0
        if not buf and cmd == ".tables":
            run_query(conn, "SELECT table_catalog AS database, table_name, table_type "
                      "FROM information_schema.tables ORDER BY 1 DESC, 3, 2", max_rows=0)
            continue
        buf.append(line)
        if cmd.endswith(";"):
            run_query(conn, "\n".join(buf), max_rows=max_rows)
            buf = []


def main(query: str | None, scenario: str | None, csv: str | None, parquet: str | None,
         max_rows: int | None = None) -> int:
    """Entry of ``dedi sql``."""
    max_rows = MAX_ROWS if max_rows is None else max_rows
    with session(scenario) as conn:
        if query is None:
            return repl(conn, max_rows)
        return run_query(conn, query, Path(csv) if csv else None,
                         Path(parquet) if parquet else None, max_rows)
