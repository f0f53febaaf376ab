"""Disclosure control that survives differencing: no suppressed count can be recovered by
subtracting published LSOA values from a published area total."""

from __future__ import annotations

import duckdb
import pandas as pd

from pipeline.demo import generate
from tests.conftest import BuildDirs, build


def _differencing_attack(db) -> pd.DataFrame:
    """Area total minus the sum of its published LSOA populations, for every area."""
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("""
            WITH l AS (SELECT * FROM lsoa_index)
            SELECT a.geography, a.area_code, a.population - sum(l.population) AS recovered
            FROM area_summary a JOIN l ON l.ltla24_code = a.area_code AND a.geography = 'ltla24'
                OR l.icb24_code = a.area_code AND a.geography = 'icb24'
                OR l.region_code = a.area_code AND a.geography = 'region'
            WHERE a.index = 'imd'
            GROUP BY ALL""").df()


def test_suppressed_lsoa_population_cannot_be_recovered(tmp_path):
    dirs = BuildDirs(tmp_path / "raw", tmp_path / "staging", tmp_path / "marts")
    generate(dirs.raw)
    f7 = next((dirs.raw / "iod").glob("File_7_IoD2025*.csv"))
    df = pd.read_csv(f7, dtype=str)
    col = next(c for c in df.columns if c.startswith("Total population"))
    df.loc[0, col] = "5"  # one LSOA with a disclosive population
    df.to_csv(f7, index=False)
    assert build(dirs).success
    db = dirs.marts / "current" / "dedi.duckdb"
    with duckdb.connect(str(db), read_only=True) as con:
        pop = con.execute("SELECT population FROM lsoa_index WHERE lsoa21_code = ?",
                          [df.loc[0, df.columns[0]]]).fetchone()[0]
        small = con.execute("SELECT count(*) FROM lsoa_index WHERE population BETWEEN 1 AND 9"
                            ).fetchone()[0]
    assert pop is None and small == 0  # primary suppression
    rec = _differencing_attack(db)
    assert len(rec) == 6  # 4 LTLAs, 1 ICB, 1 region
    hits = rec[(rec["recovered"].abs() >= 1) & (rec["recovered"].abs() < 10)]
    assert hits.empty, f"differencing recovers a suppressed count: {hits}"
    assert (rec["recovered"].abs() < 1e-6).all()  # totals are sums of published values
