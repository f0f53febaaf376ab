"""One disclosure rule: assets/macros/disclosure.sql and pipeline/method/disclosure.py agree."""

from __future__ import annotations

import duckdb
import pandas as pd

from pipeline.method.disclosure import is_small_count, suppress_small_counts
from tests.conftest import ROOT


def test_the_sql_macro_and_the_python_rule_suppress_the_same_counts():
    counts = pd.Series([None, 0, 1, 5, 9, 10, 11, 250], dtype="Float64")
    with duckdb.connect() as con:
        con.execute("SET VARIABLE min_count = 10")
        con.execute((ROOT / "assets" / "macros" / "disclosure.sql").read_text())
        con.register("t", pd.DataFrame({"n": counts}))
        sql = con.execute("SELECT is_small_count(n) AS small, published_count(n) AS pub "
                          "FROM t").df()
    py = is_small_count(counts, 10)
    assert py.fillna(False).tolist() == sql["small"].fillna(False).tolist() == [
        False, False, True, True, True, False, False, False]
    published = suppress_small_counts(pd.DataFrame({"n": counts}), ["n"], 10)["n"]
    assert published.isna().tolist() == sql["pub"].isna().tolist()
    assert published.tolist()[1] == 0  # zero is published: it reveals no one


def test_every_sql_mart_suppresses_through_the_macros():
    """No mart writes its own threshold comparison (one rule, one meaning of zero)."""
    for f in (ROOT / "assets").rglob("*.sql"):
        if f.parent.name != "macros":
            assert "getvariable('min_count')" not in f.read_text(), f
