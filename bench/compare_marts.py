"""Compare two published mart sets table by table (behaviour-unchanged checks for refactors).

Usage: ``uv run python bench/compare_marts.py BEFORE_MARTS_DIR AFTER_MARTS_DIR``. Every table
of ``dedi.duckdb`` must hold the same rows and columns (same order); ``build_metadata`` may
differ only in build time and run id. Prints one line per table; exits 1 on any difference.
"""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb
import pandas as pd

VOLATILE = {"built_at", "run_id"}  # build_metadata keys that differ by construction


def tables(marts: Path) -> dict[str, pd.DataFrame]:
    """Every table of a published ``dedi.duckdb``, rows in a stable order."""
    with duckdb.connect(str(marts / "current" / "dedi.duckdb"), read_only=True) as con:
        names = [r[0] for r in con.execute("SHOW TABLES").fetchall()]
        out = {n: con.execute(f'SELECT * FROM "{n}"').df() for n in names}
    meta = out.get("build_metadata")
    if meta is not None:
        out["build_metadata"] = meta[~meta["key"].isin(VOLATILE)]
    return {n: df.sort_values(list(df.columns)).reset_index(drop=True) if len(df.columns) else df
            for n, df in out.items()}


def compare(before: Path, after: Path) -> list[str]:
    """Differences between two mart sets (empty when identical)."""
    a, b = tables(before), tables(after)
    problems = [f"table {t}: only before" for t in sorted(set(a) - set(b))]
    problems += [f"table {t}: only after" for t in sorted(set(b) - set(a))]
    for t in sorted(set(a) & set(b)):
        try:
            pd.testing.assert_frame_equal(a[t], b[t], check_dtype=False)
        except AssertionError as exc:
            problems.append(f"table {t}: {str(exc).splitlines()[0]}")
    return problems


def main() -> int:
    before, after = map(Path, sys.argv[1:3])
    problems = compare(before, after)
    for name, df in tables(after).items():
        differs = any(p.startswith(f"table {name}:") for p in problems)
        print(f"{name:<24} {len(df):>8,} rows  {'DIFFERS' if differs else 'identical'}")
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
