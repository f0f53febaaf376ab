"""The data dictionary (``pipeline/config/data_dictionary.yaml``): the ``data_dictionary`` mart,
DuckDB ``COMMENT ON`` for every table, view and column, and ``docs/data_dictionary.md``.

A published column with no entry stops the publication (:class:`UndocumentedColumns`), so the
dictionary cannot fall behind the marts.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from pipeline.config import PROJECT_ROOT

DICTIONARY_FILE = PROJECT_ROOT / "pipeline" / "config" / "data_dictionary.yaml"
VIEWS_DIR = PROJECT_ROOT / "assets" / "views"
DOCS_FILE = PROJECT_ROOT / "docs" / "data_dictionary.md"
FIELDS = ("definition", "units", "direction", "source")


class UndocumentedColumns(ValueError):
    """Published columns without a dictionary entry."""


@lru_cache(maxsize=1)
def load() -> dict[str, Any]:
    """The parsed dictionary file."""
    return yaml.safe_load(DICTIONARY_FILE.read_text(encoding="utf-8"))


def table_description(table: str) -> str | None:
    return (load()["tables"].get(table) or {}).get("description")


def entry(table: str, column: str) -> dict[str, str] | None:
    """The column's entry: the table's own, else the common one, else a matching pattern."""
    d = load()
    own = ((d["tables"].get(table) or {}).get("columns") or {}).get(column)
    if own:
        return own
    if column in d["common"]:
        return d["common"][column]
    for p in d["patterns"]:
        m = re.match(p["match"], column)
        if m:
            return {f: str(p[f]).format(**m.groupdict()) for f in FIELDS}
    return None


def units_of(table: str, column: str, row: Any = None) -> str:
    """The units of a column, for one LSOA's ``row`` where they depend on its source
    (``connectivity_exclusion`` holds what ``connectivity_units`` says)."""
    if column == "connectivity_exclusion" and row is not None and row.get("connectivity_units"):
        return str(row["connectivity_units"])
    return str((entry(table, column) or {}).get("units", ""))


def _vintage(source: str, sources: pd.DataFrame) -> str:
    """Vintages of the staging tables named in ``source`` (from the build's ``sources``)."""
    tables = [t.strip() for t in source.split(",") if re.match(r"^(stg|int)_\w+$", t.strip())]
    if not tables:
        return "derived in this build" if source.startswith("derived") else "n/a"
    if sources.empty:
        return "not supplied in this build"
    base = sources["staging_table"].str.split(":").str[0]
    v = sources.loc[base.isin(tables), "vintage"].dropna().unique().tolist()
    return "; ".join(sorted(v)) or "not supplied in this build"


def _quote(s: str) -> str:
    return "'" + str(s).replace("'", "''") + "'"


def document(conn, sources: pd.DataFrame, status: str) -> pd.DataFrame:
    """Build ``data_dictionary`` for every table of ``conn`` (its types included), write it as
    a table, and COMMENT ON every table, view and column. Raises UndocumentedColumns."""
    cols = conn.execute("SELECT c.table_name, c.column_name, c.data_type, t.table_type FROM "
                        "information_schema.columns c JOIN information_schema.tables t USING "
                        "(table_name) ORDER BY c.table_name, c.ordinal_position").fetchall()
    rows, missing = [], []
    for table, column, dtype, kind in [*cols, *_self_columns()]:
        if kind == "VIEW":
            continue
        e = entry(table, column)
        if e is None:
            missing.append(f"{table}.{column}")
            continue
        rows.append({"table_name": table, "column_name": column, "type": dtype,
                     **{f: e[f] for f in FIELDS}, "vintage": _vintage(e["source"], sources),
                     "data_status": status})
    if missing:
        raise UndocumentedColumns(
            f"{len(missing)} published column(s) have no entry in {DICTIONARY_FILE.name}: "
            f"{', '.join(missing[:20])} - add them (definition, units, direction, source)")
    out = pd.DataFrame(rows)
    conn.register("_dd", out)
    conn.execute("CREATE TABLE data_dictionary AS SELECT * FROM _dd")
    conn.unregister("_dd")
    for view in sorted(VIEWS_DIR.glob("v_*.sql")):
        conn.execute(f'CREATE VIEW "{view.stem}" AS {view.read_text(encoding="utf-8")}')
        conn.execute(f'COMMENT ON VIEW "{view.stem}" IS {_quote(view_description(view))}')
    for table in out["table_name"].unique():
        desc = table_description(table) or ""
        conn.execute(f'COMMENT ON TABLE "{table}" IS {_quote(desc)}')
    for r in out.itertuples():
        text = f"{r.definition} [{r.units}; {r.direction}; source: {r.source}]"
        conn.execute(f'COMMENT ON COLUMN "{r.table_name}"."{r.column_name}" IS {_quote(text)}')
    return out


def _self_columns() -> list[tuple[str, str, str, str]]:
    """The dictionary's own columns (it is published too)."""
    return [("data_dictionary", c, "VARCHAR", "BASE TABLE") for c in
            ("table_name", "column_name", "type", *FIELDS, "vintage", "data_status")]


def view_description(path: Path) -> str:
    """The leading ``--`` comment lines of a view's SQL file."""
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("--"):
            break
        lines.append(line.lstrip("- ").strip())
    return " ".join(lines)


def markdown(dictionary: pd.DataFrame) -> str:
    """docs/data_dictionary.md from a published ``data_dictionary``."""
    out = ["# DEDI data dictionary", "",
           "Generated by `uv run dedi docs` from `pipeline/config/data_dictionary.yaml` and the published "
           "marts; do not edit by hand. In SQL: `SELECT * FROM data_dictionary` (and DuckDB "
           "`COMMENT`s: `SELECT table_name, column_name, comment FROM duckdb_columns()`). "
           "The vintage of each column's source, and whether it is real or synthetic, depend "
           "on the build: they are in that build's `data_dictionary` (columns `vintage`, "
           "`data_status`) and `sources` tables.", ""]
    views = sorted(VIEWS_DIR.glob("v_*.sql"))
    if views:
        out += ["## Views", "", "| view | what |", "|---|---|"]
        out += [f"| `{v.stem}` | {view_description(v)} |" for v in views]
        out.append("")
    for table, rows in dictionary.groupby("table_name", sort=False):
        out += [f"## `{table}`", "", table_description(table) or "", "",
                "| column | type | definition | units | direction | source |",
                "|---|---|---|---|---|---|"]
        for r in rows.itertuples():
            cells = [f"`{r.column_name}`", r.type, r.definition, r.units, r.direction, r.source]
            out.append("| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |")
        out.append("")
    return "\n".join(out)


def write_docs(scenario: str | None = None) -> list[Path]:
    """Regenerate docs/data_dictionary.md from a published release."""
    from pipeline.outputs.warehouse import connect

    with connect(scenario) as conn:
        dd = conn.execute("SELECT * FROM data_dictionary").df()
    DOCS_FILE.write_text(markdown(dd), encoding="utf-8")
    return [DOCS_FILE]
