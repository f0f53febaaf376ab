"""Disclosure control that survives differencing: no suppressed count can be recovered by
subtracting published LSOA values from a published area total."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from pipeline.defs.marts import build_area_summary
from pipeline.method.disclosure import published_population, suppress_small_counts

ATTACK = """
    SELECT a.geography, a.area_code, any_value(a.population) - sum(l.population) AS recovered
    FROM area_summary a JOIN lsoa l ON l.ltla24_code = a.area_code AND a.geography = 'ltla24'
        OR l.icb24_code = a.area_code AND a.geography = 'icb24'
        OR l.region_code = a.area_code AND a.geography = 'region'
    WHERE a.index = 'imd' GROUP BY a.geography, a.area_code"""


def _attack(lsoa: pd.DataFrame, area: pd.DataFrame) -> pd.DataFrame:
    with duckdb.connect() as con:
        con.register("lsoa", lsoa)
        con.register("area_summary", area)
        return con.execute(ATTACK).df()


def _lsoas(n: int = 40) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    return pd.DataFrame({
        "lsoa21_code": [f"E01{i:06d}" for i in range(n)],
        "ltla24_code": [f"E0600000{i % 4}" for i in range(n)],
        "ltla24_name": [f"LA {i % 4}" for i in range(n)],
        "icb24_code": "E54000001", "icb24_name": "ICB", "region_code": "E12000001",
        "region_name": "Region", "imd_score": rng.random(n) * 50,
        "imd_rank": np.arange(1, n + 1), "population": rng.integers(1200, 2500, n).astype(float)})


def test_differencing_recovers_nothing():
    lsoa = _lsoas()
    lsoa.loc[7, "population"] = 5  # a disclosive LSOA population
    threshold = 10
    published_lsoa = suppress_small_counts(lsoa, ["population"], threshold)
    area = build_area_summary(published_population(lsoa, threshold), "imd")
    area = suppress_small_counts(area, ["population"], threshold)  # as published_marts does
    assert pd.isna(published_lsoa.loc[7, "population"])
    rec = _attack(published_lsoa, area)
    assert len(rec) == 6
    hits = rec[(rec["recovered"].abs() >= 1) & (rec["recovered"].abs() < threshold)]
    assert hits.empty, f"differencing recovers a suppressed count: {hits}"
    # the old way (area totals from true populations) was open to the attack
    naive = build_area_summary(lsoa, "imd")
    leaked = _attack(published_lsoa, naive)
    assert (leaked["recovered"] == 5).any()


def test_published_area_totals_are_sums_of_published_lsoas(demo_build):
    with duckdb.connect(str(demo_build.marts / "current" / "dedi.duckdb"), read_only=True) as c:
        lsoa = c.execute("SELECT * FROM lsoa_index").df()
        area = c.execute("SELECT * FROM area_summary").df()
    rec = _attack(lsoa, area)
    assert len(rec) == 6 and (rec["recovered"].abs() < 1e-6).all()
