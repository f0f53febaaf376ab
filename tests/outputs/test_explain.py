"""`dedi explain`: the audit trail lets a person recompute the LSOA's DEDI score and rank."""

from __future__ import annotations

import re

import duckdb
import pytest

from tests.conftest import dedi_env


def test_explain_recomputes_by_hand(demo_build):
    from pipeline.outputs.explain import explain

    with dedi_env(demo_build):
        text = explain("E01990005")
    with duckdb.connect(str(demo_build.marts / "current" / "dedi.duckdb"), read_only=True) as conn:
        row = conn.execute("SELECT * FROM lsoa_index WHERE lsoa21_code = 'E01990005'").df().iloc[0]
        n = conn.execute("SELECT count(*) FROM lsoa_index").fetchone()[0]
    assert "data status SYNTHETIC" in text
    for step in ("1. Raw values", "2. Normalise", "3. Routes", "4. DX score",
                 "5. Exponential transformation", "6. DEDI score", "7. Monte Carlo"):
        assert step in text
    # the printed contributions add up to the printed and published score
    table = text.split("5. Exponential")[1].split("6. DEDI")[0]
    rows = re.findall(r"^\s+(\w+)\s+([\d,]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)$",
                      table, re.M)
    assert len(rows) == 8
    total = 0.0
    for _, rank, R, X, w, c in rows:
        rank = int(rank.replace(",", ""))
        assert abs(float(R) - (n - rank + 1) / n) < 1e-6
        assert abs(float(X) * float(w) / 100 - float(c)) < 1e-3
        total += float(c)
    assert abs(total - row["dedi_score"]) < 1e-3
    assert f"= {int(row['dedi_rank']):,} of {n:,}" in text
    assert f"{row['dedi_score']:.6f}" in text
    assert "local layer" in text  # the demo has local proxies


@pytest.mark.parametrize("code", ["E01990005", "E01990085", "E01990250"])
def test_printed_ranks_give_the_printed_normal_scores(demo_build, code):
    """Every 'r = ... of n = ...  z = ...' line agrees: z = Φ⁻¹((r − 0.5) / n), also for the
    local proxies ranked within their LA (LAs at any position in the LSOA order)."""
    from scipy.special import ndtri

    from pipeline.outputs.explain import explain

    with dedi_env(demo_build):
        text = explain(code)
    lines = re.findall(r"r = ([\d.]+) of n = (\d+)( within its LA)?  z = (-?[\d.]+)", text)
    assert len(lines) >= 7 and any(w for _, _, w, _ in lines)
    for r, n, _, z in lines:
        assert abs(ndtri((float(r) - 0.5) / int(n)) - float(z)) < 1e-5, (r, n, z)


@pytest.mark.real
def test_real_connectivity_units_are_its_sources(real_build):
    """On real England connectivity is the IoD File 8 standardised score, and explain says so
    (not "per cent of premises")."""
    from pipeline.outputs.explain import explain

    with dedi_env(real_build):
        text = explain("E01000001")
    line = next(ln for ln in text.splitlines() if "connectivity_exclusion" in ln)
    assert "[standardised score (IoD 2025 broadband indicator" in line
    assert "per cent" not in line
