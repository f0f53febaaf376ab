"""``dedi sql``: query the published warehouse read-only, one query or interactively."""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb

from pipeline.outputs.warehouse import connect

READ_ONLY_HINT = ("the published warehouse is read-only, so writes are refused; keep your own "
                  "tables in your own file: ATTACH 'mine.duckdb' AS mine; CREATE TABLE mine.t AS "
                  "SELECT ...")


def _error_line(exc: duckdb.Error) -> str:
    msg = str(exc).strip().splitlines()[0]
    if "read-only" in msg or "read only" in msg:
        return READ_ONLY_HINT
    return msg


def run_query(conn: duckdb.DuckDBPyConnection, query: str, csv: Path | None = None,
              parquet: Path | None = None, max_rows: int = 40) -> int:
    """Run one query: print the result (or export it); 0 ok, 1 on an SQL error."""
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
            rel.show(max_rows=max_rows, max_width=200)
    except duckdb.Error as exc:
        print(f"dedi sql: {_error_line(exc)}", file=sys.stderr)
        return 1
    return 0


def repl(conn: duckdb.DuckDBPyConnection) -> int:
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
            run_query(conn, "SELECT table_name, table_type FROM information_schema.tables "
                      "ORDER BY 2, 1")
            continue
        buf.append(line)
        if cmd.endswith(";"):
            run_query(conn, "\n".join(buf))
            buf = []


def main(query: str | None, scenario: str | None, csv: str | None, parquet: str | None) -> int:
    """Entry of ``dedi sql``."""
    with connect(scenario) as conn:
        if query is None:
            return repl(conn)
        return run_query(conn, query, Path(csv) if csv else None,
                         Path(parquet) if parquet else None)
