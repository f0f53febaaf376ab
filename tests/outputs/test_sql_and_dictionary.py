"""SQL users: read-only warehouse, views, example queries, the data dictionary and comments;
researchers: parquet/GeoParquet metadata and source provenance."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest

from pipeline.cli.main import main
from tests.conftest import ROOT, dedi_env

QUERIES = sorted((ROOT / "assets" / "queries").glob("*.sql"))
RESEARCHER_KEYS = {"data_status", "index_spec_sha256", "source_vintages", "licence",
                   "attribution", "code_version", "schema_version"}


def _published_columns(marts: Path) -> list[tuple[str, str]]:
    with duckdb.connect(str(marts / "current" / "dedi.duckdb"), read_only=True) as conn:
        return conn.execute("SELECT table_name, column_name FROM information_schema.columns c "
                            "JOIN information_schema.tables USING (table_name) "
                            "WHERE table_type = 'BASE TABLE'").fetchall()


def test_sql_is_read_only_and_exports(demo_build, capsys, tmp_path):
    with dedi_env(demo_build):
        assert main(["sql", "SELECT count(*) AS n FROM lsoa_index"]) == 0
        assert "320" in capsys.readouterr().out
        before = (demo_build.marts / "current" / "dedi.duckdb").resolve().read_bytes()
        for write in ("CREATE TABLE x AS SELECT 1", "DELETE FROM lsoa_index",
                      "DROP VIEW v_icb_lsoa"):
            assert main(["sql", write]) == 1
            err = capsys.readouterr().err
            assert "read-only" in err and "Traceback" not in err and err.count("\n") == 2
            assert "ATTACH 'mine.duckdb' AS mine" in err
        assert (demo_build.marts / "current" / "dedi.duckdb").resolve().read_bytes() == before
        out = tmp_path / "top.csv"
        assert main(["sql", "SELECT * FROM v_icb_lsoa ORDER BY dedi_rank LIMIT 7",
                     "--csv", str(out)]) == 0
        assert len(pd.read_csv(out)) == 7
        pq_out = tmp_path / "top.parquet"
        assert main(["sql", "SELECT * FROM v_decile1_entrants", "--parquet", str(pq_out)]) == 0
        assert pq.read_metadata(pq_out).num_columns == 10
        # readers do not lock each other out
        with duckdb.connect(str(demo_build.marts / "current" / "dedi.duckdb"), read_only=True) as other:
            assert main(["sql", "SELECT 1"]) == 0
            assert other.execute("SELECT count(*) FROM lsoa_index").fetchone()[0] == 320


def test_sql_read_only_advice_works(demo_build, capsys, tmp_path, monkeypatch):
    """The refused write's advice, followed word for word, keeps a table in the user's file."""
    from pipeline.cli.sql import READ_ONLY_HINT

    monkeypatch.chdir(tmp_path)
    advice = READ_ONLY_HINT.split("session: ")[1].replace("...", "lsoa21_code")
    with dedi_env(demo_build):
        assert main(["sql", f"{advice} SELECT count(*) AS n FROM mine.t"]) == 0
    assert "320" in capsys.readouterr().out
    with duckdb.connect(str(tmp_path / "mine.duckdb"), read_only=True) as mine:
        assert mine.execute("SELECT count(*) FROM t").fetchone()[0] == 320


def test_sql_keeps_duckdb_hints(demo_build, capsys):
    """DuckDB's candidates, suggestions and caret reach the user, not just its first line."""
    with dedi_env(demo_build):
        assert main(["sql", "SELECT n_lsoas_with_value FROM coverage"]) == 1
        err = capsys.readouterr().err
        assert "Candidate bindings" in err and '"lsoas_with_value"' in err
        assert main(["sql", "SELECT * FROM lsoa_indx"]) == 1
        assert 'Did you mean "lsoa_index"' in capsys.readouterr().err
        assert main(["sql", "SELEC 1"]) == 1
        err = capsys.readouterr().err
        assert "LINE 1: SELEC 1" in err and "^" in err and "Traceback" not in err


def test_sql_max_rows(demo_build, capsys, tmp_path):
    """40 rows on screen by default, --max-rows N or 0 for all; exports are never cut."""
    q = "SELECT lsoa21_code FROM lsoa_index ORDER BY 1"
    with dedi_env(demo_build):
        codes = duckdb.connect(str(demo_build.marts / "current" / "dedi.duckdb"),
                               read_only=True).execute(q).df()["lsoa21_code"]

        def shown(*flags: str) -> int:
            assert main(["sql", q, *flags]) == 0
            out = capsys.readouterr().out
            return sum(c in out for c in codes)

        assert shown() == 40
        assert shown("--max-rows", "100") == 100
        assert shown("--max-rows", "0") == 320
        out = tmp_path / "all.csv"
        assert main(["sql", q, "--csv", str(out), "--max-rows", "5"]) == 0
        assert len(pd.read_csv(out)) == 320


def test_every_published_column_is_in_the_dictionary(demo_build):
    from pipeline.release.dictionary import entry

    cols = _published_columns(demo_build.marts)
    assert len(cols) > 150
    missing = [f"{t}.{c}" for t, c in cols if entry(t, c) is None]
    assert missing == []
    with duckdb.connect(str(demo_build.marts / "current" / "dedi.duckdb"), read_only=True) as conn:
        dd = conn.execute("SELECT * FROM data_dictionary").df()
        comments = conn.execute("SELECT table_name, column_name, comment FROM duckdb_columns() "
                                "WHERE NOT internal AND table_name IN (SELECT table_name FROM "
                                "duckdb_tables())").df()
        views = conn.execute("SELECT view_name, comment FROM duckdb_views() WHERE NOT internal"
                             ).df()
    assert set(map(tuple, dd[["table_name", "column_name"]].to_numpy())) == set(cols)
    for f in ("type", "definition", "units", "direction", "source", "vintage"):
        assert dd[f].fillna("").str.len().gt(0).all(), f
    assert (dd["data_status"] == "synthetic").all()
    assert comments["comment"].notna().all() and len(comments) >= len(cols)
    assert {"v_icb_lsoa", "v_decile1_entrants", "v_icb_summary"} <= set(views["view_name"])
    assert views["comment"].str.len().gt(10).all()
    doc = (ROOT / "docs" / "data_dictionary.md").read_text(encoding="utf-8")
    undocumented = [f"{t}.{c}" for t, c in cols if f"`{c}`" not in doc or f"`{t}`" not in doc]
    assert undocumented == [], "run `uv run dedi docs` after a demo build"


def test_an_undocumented_column_stops_publication():
    from pipeline.release.dictionary import UndocumentedColumns, document

    with duckdb.connect() as conn:
        conn.execute("CREATE TABLE lsoa_index AS SELECT 'E01000001' AS lsoa21_code, 1 AS mystery")
        with pytest.raises(UndocumentedColumns, match="lsoa_index.mystery"):
            document(conn, pd.DataFrame(columns=["staging_table", "vintage"]), "synthetic")


def test_parquet_and_geoparquet_carry_dedi_metadata(demo_build):
    release = (demo_build.marts / "current").resolve()
    for f in sorted(release.glob("*.parquet")) + [release / "lsoa_index.geoparquet"]:
        meta = json.loads(pq.read_schema(f).metadata[b"dedi"])
        assert RESEARCHER_KEYS <= set(meta), f
        assert meta["data_status"] == "synthetic"
        assert meta["schema_version"] and meta["code_version"].startswith("0.")
    geo = pq.read_schema(demo_build.marts / "current" / "lsoa_index.geoparquet").metadata
    assert b"geo" in geo  # still valid GeoParquet


@pytest.mark.real
@pytest.mark.parametrize("query", QUERIES, ids=[q.stem for q in QUERIES])
def test_example_queries_run_on_the_real_build(real_build, query):
    with duckdb.connect(str(real_build.marts / "current" / "dedi.duckdb"), read_only=True) as conn:
        df = conn.execute(query.read_text(encoding="utf-8")).df()
    assert len(df) > 0, query.name
    if query.stem == "top20_lsoas_in_icb":
        assert len(df) == 20 and df["dedi_rank"].is_monotonic_increasing
    if query.stem == "icb_league_table":
        assert len(df) == 42 and (df["rank_low"] <= df["rank"]).all()
        assert (df["rank"] <= df["rank_high"]).all()
    if query.stem == "indicator_by_imd_decile":
        assert list(df["imd_decile"]) == list(range(1, 11))
        assert df["mean_dx_score"].iloc[0] > df["mean_dx_score"].iloc[-1]


@pytest.mark.real
def test_real_sources_name_url_licence_and_vintage(real_build):
    with duckdb.connect(str(real_build.marts / "current" / "dedi.duckdb"), read_only=True) as conn:
        src = conn.execute("SELECT * FROM sources").df()
        cov = conn.execute("SELECT indicator, vintage, supplied FROM coverage").df()
    assert (src["data_status"] == "real").all()
    for col in ("url", "licence", "retrieved_at", "publisher", "vintage", "retrieved_basis"):
        assert src[col].notna().all(), src.loc[src[col].isna(), "staging_table"].tolist()
    assert src["url"].str.startswith("https://").all()
    placeholders = {"as supplied", "GIAS extract date", "see connectivity_source",
                    "latest month in the practice file"}
    assert not set(cov["vintage"]) & placeholders
    assert cov.loc[~cov["supplied"], "vintage"].eq("not supplied").all()
    vint = dict(zip(cov["indicator"], cov["vintage"], strict=True))
    assert vint["pct_aged_75plus"].startswith("Census 2021")
    assert vint["school_fsm_pct"] == "2025-05"
    assert "IoD 2025" in vint["adult_skills_english_pct"]


def test_interactive_sql_prompt(demo_build):
    import os
    import subprocess
    import sys

    env = {**os.environ, "DEDI_MARTS_DIR": str(demo_build.marts)}
    script = ".tables\nSELECT count(*) AS n\n  FROM lsoa_index;\nDROP TABLE lsoa_index;\n.quit\n"
    p = subprocess.run([sys.executable, "-m", "pipeline.cli.main", "sql"], input=script, env=env,
                       cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0
    assert "v_icb_summary" in p.stdout and "VIEW" in p.stdout  # .tables lists views too
    assert "320" in p.stdout  # the two-line statement ran
    assert "read-only" in p.stderr and "Traceback" not in p.stderr


# what each kind of unit allows: (units matching this regex, SQL condition on the column {c})
UNIT_RULES = [
    (r"^(per cent|percentile 0-100)", "{c} BETWEEN 0 AND 100"),
    (r"^per 100 ", "{c} >= 0"),
    (r"^(proportion|probability|fraction) 0-1$", "{c} BETWEEN 0 AND 1"),
    (r"^(decile 1-10|1-10)$", "{c} BETWEEN 1 AND 10 AND {c} = round({c})"),
    (r"^rank$", "{c} >= 1 AND {c} = round({c})"),
    (r"^(rank \(may be fractional|mean rank)", "{c} >= 1"),
    (r"^decile 1-10 \(may be fractional", "{c} BETWEEN 1 AND 10"),
    (r"^(persons|count)$", "{c} >= 0"),
    (r"^ONS code \(E01", "{c} LIKE 'E01%'"),
    (r"^ONS code \(E54", "{c} LIKE 'E54%'"),
    (r"^ONS code \(E12", "{c} LIKE 'E12%'"),
    (r"^ONS code \(E06", "regexp_matches({c}, '^E0[6-9]')"),
    (r"^year$", "{c} BETWEEN 2000 AND 2100"),
]


@pytest.mark.real
def test_dictionary_units_hold_on_the_real_build(real_build):
    """Every published value is what its dictionary unit says (a % lies in 0-100, a decile
    in 1-10, a code has its prefix...), and connectivity says its units per LSOA."""
    import re

    from pipeline.release.dictionary import entry

    wrong, checked = [], 0
    with duckdb.connect(str(real_build.marts / "current" / "dedi.duckdb"), read_only=True) as conn:
        for table, col in _published_columns(real_build.marts):
            units = (entry(table, col) or {}).get("units", "")
            for pattern, ok in UNIT_RULES:
                if re.search(pattern, units):
                    cond = ok.format(c=f'"{col}"')
                    bad = conn.execute(f'SELECT count(*) FROM "{table}" WHERE NOT ({cond})'
                                       ).fetchone()[0]
                    checked += 1
                    if bad:
                        wrong.append(f"{table}.{col} [{units}]: {bad} rows")
        units = conn.execute("SELECT connectivity_source, connectivity_units, "
                             "min(connectivity_exclusion) < 0 FROM lsoa_indicators "
                             "GROUP BY ALL").fetchall()
    assert checked > 60, checked
    assert wrong == [], "\n".join(wrong)
    assert [(s.split(" (")[0], u.split(" (")[0], neg) for s, u, neg in units] == [
        ("IoD 2025 broadband download and upload speeds indicator", "standardised score", True)]
