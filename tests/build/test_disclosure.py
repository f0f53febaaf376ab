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
    FROM area_summary a JOIN lsoa l ON l.ward24_code = a.area_code AND a.geography = 'ward24'
        OR l.ltla24_code = a.area_code AND a.geography = 'ltla24'
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
        "ward24_code": [f"E0500000{i % 8}" for i in range(n)],  # two wards in each LA
        "ward24_name": [f"Ward {i % 8}" for i in range(n)],
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
    assert len(rec) == 8 + 4 + 1 + 1  # wards, LTLAs, ICB, region
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
    n_areas = lsoa[["ward24_code", "ltla24_code", "icb24_code", "region_code"]].nunique().sum()
    assert len(rec) == n_areas > 30 and (rec["recovered"].abs() < 1e-6).all()


def test_rates_with_public_inputs_recover_nothing(demo_build, tmp_path):
    """Both routes by which published rates and the public inputs DEDI reads gave back a
    suppressed count: a population of 7 from pct_older_income_deprived and the public File 8
    IDAOPI numerator; a practice's 6 NHS App registrations from the LSOA uptakes, list sizes
    and the public patients-by-LSOA file."""
    import shutil

    from tests.build.bad_inputs.cases import APP, F7, F8, PATIENTS
    from tests.conftest import BuildDirs, build

    raw = tmp_path / "raw"
    shutil.copytree(demo_build.raw, raw)
    f7 = pd.read_csv(raw / F7, dtype=str, keep_default_na=False)
    target = f7.loc[5, "LSOA code (2021)"]
    f7.loc[5, "Total population: mid 2022"] = "7"
    f7.to_csv(raw / F7, index=False)
    app = pd.read_csv(raw / APP, dtype=str)
    patients = pd.read_csv(raw / PATIENTS, dtype=str)
    reach = patients.groupby("PRACTICE_CODE")["LSOA_CODE"].nunique()
    practice = reach[reach.index.isin(app["practice_code"])].idxmin()  # serves fewest LSOAs
    row = app.index[app["practice_code"] == practice][0]
    app.loc[row, ["registrations", "p9_registrations", "logins"]] = ["6", "3", "6"]
    app.to_csv(raw / APP, index=False)
    dirs = BuildDirs(raw, tmp_path / "staging", tmp_path / "marts")
    out = build(dirs)
    assert out.success, out.failures
    threshold = 10
    with duckdb.connect(str(dirs.marts / "current" / "dedi.duckdb"), read_only=True) as c:
        ind = c.execute("SELECT * FROM lsoa_indicators").df().set_index("lsoa21_code")
        pop = c.execute("SELECT lsoa21_code, population FROM lsoa_index").df().set_index(
            "lsoa21_code")["population"]
        month = c.execute("SELECT max(month) FROM nhs_app_practice_history").fetchone()[0]
        prac = c.execute("SELECT * FROM nhs_app_practice_history WHERE month = ?",
                         [month]).df().set_index("practice_code")
        hist = c.execute("SELECT lsoa21_code, nhs_app_uptake_pct FROM nhs_app_uptake_history "
                         "WHERE month = ?", [month]).df().set_index("lsoa21_code")
    # route 1: population = 100 x public numerator / published rate
    f8 = pd.read_csv(raw / F8, dtype=str).set_index("LSOA code (2021)")
    numerator = pd.to_numeric(f8["Income Deprivation Affecting Older People Index (IDAOPI) "
                                 "numerator"], errors="coerce")
    recovered = 100 * numerator.reindex(ind.index) / ind["pct_older_income_deprived"]
    assert pd.isna(pop[target])  # the count itself is suppressed ...
    assert pd.isna(recovered[target])  # ... and so is the rate that would give it back
    small = recovered[(recovered.round(6) >= 1) & (recovered.round(6) < threshold)]
    assert small.empty, small
    assert pd.isna(ind.loc[target, "income_deprived_pct"])  # a rate over that population
    # route 2: the practice appears in no published LSOA uptake, so no linear system built on
    # the public patients file can solve for its registrations
    served = patients.loc[patients["PRACTICE_CODE"] == practice, "LSOA_CODE"].unique()
    assert len(served) > 0
    assert ind.loc[served, "nhs_app_non_uptake_pct"].isna().all()
    assert hist.loc[served, "nhs_app_uptake_pct"].isna().all()
    assert pd.isna(prac.loc[practice, "registrations"])
    assert pd.isna(prac.loc[practice, "nhs_app_uptake_pct"])
    others = ind.index.difference(served)
    assert ind.loc[others, "nhs_app_non_uptake_pct"].notna().mean() > 0.8  # the rest publish
