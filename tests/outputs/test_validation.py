"""Validation harness: known answers on generated references, and `dedi validate` end to end."""

import json

import duckdb
import numpy as np
import pandas as pd
import pytest
from scipy.special import ndtri

from pipeline.cli import main as cli
from pipeline.method.validation import convergent_validity
from tests.conftest import BuildDirs, dedi_env, requires_shared


def _m(v: pd.DataFrame) -> pd.Series:
    """Summary measures by (index, measure), calibration rows left out."""
    return v[v["measure"] != "calibration_mean_reference"].set_index(["index", "measure"])["value"]


def test_reference_equal_to_dx_plus_noise_gives_the_known_rho():
    rng = np.random.default_rng(0)
    n, sigma = 30000, 0.75
    dx = pd.Series(rng.normal(size=n), index=[f"E01{i:06d}" for i in range(n)])
    ref = dx + sigma * rng.normal(size=n)
    scores = pd.DataFrame({"dx": dx, "imd": rng.normal(size=n)})
    res = convergent_validity(scores, ref, group=dx > dx.quantile(0.9))
    out = _m(res)
    cal = res[(res["measure"] == "calibration_mean_reference") & (res["index"] == "dx")]
    assert cal["value"].is_monotonic_decreasing and len(cal) == 10
    r = 1 / np.sqrt(1 + sigma ** 2)  # Pearson of the bivariate normal
    assert out[("dx", "spearman_rho")] == pytest.approx(6 / np.pi * np.arcsin(r / 2), abs=0.01)
    assert abs(out[("imd", "spearman_rho")]) < 0.03          # unrelated index: no signal
    assert out[("dx", "auc")] == pytest.approx(1.0)          # the group is DX's own top decile
    assert out[("imd", "auc")] == pytest.approx(0.5, abs=0.02)
    same = _m(convergent_validity(scores, dx))
    assert same[("dx", "decile_agreement")] == 1.0 and same[("dx", "spearman_rho")] == 1.0


def test_dedi_validate_publishes_validation(demo_build, tmp_path, capsys):
    con = duckdb.connect(str(demo_build.marts / "current" / "dedi.duckdb"), read_only=True)
    lsoa = con.execute("SELECT lsoa21_code, dx_rank FROM lsoa_index").df()
    con.close()
    rng = np.random.default_rng(1)
    z = ndtri((len(lsoa) - lsoa["dx_rank"] + 0.5) / len(lsoa))
    ref = pd.DataFrame({"LSOA21CD": lsoa["lsoa21_code"], "pct_offline": z + 0.5 * rng.normal(
        size=len(lsoa)), "cluster": np.where(z > 1.2, "e-withdrawn", "other")})
    f = tmp_path / "ref.csv"
    ref.to_csv(f, index=False)
    marts = tmp_path / "marts"
    import shutil

    shutil.copytree(demo_build.marts, marts, symlinks=True)
    with dedi_env(BuildDirs(demo_build.raw, demo_build.staging, marts)):
        rc = cli.main(["validate", "--reference", str(f), "--column", "pct_offline",
                       "--group-column", "cluster", "--group-values", "e-withdrawn",
                       "--name", "offline"])
    assert rc == 0, capsys.readouterr().err
    con = duckdb.connect(str(marts / "current" / "dedi.duckdb"), read_only=True)
    v = con.execute("SELECT * FROM validation WHERE reference = 'offline'").df()
    m = _m(v)
    expected = 6 / np.pi * np.arcsin(1 / np.sqrt(1.25) / 2)
    assert m[("dx", "spearman_rho")] == pytest.approx(expected, abs=0.06)
    assert m[("dx", "auc")] > 0.9 and m[("dx", "auc")] > m[("imd", "auc")] - 0.2
    assert (v["data_status"] == "synthetic").all() and v["n_lsoas"].eq(320).all()
    manifest = json.loads((marts / "current" / "manifest.json").read_text())
    assert "validation_offline.png" in manifest["files"]
    png = (marts / "current" / "validation_offline.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000
    # the other marts came along unchanged
    assert con.execute("SELECT count(*) FROM lsoa_index").fetchone()[0] == 320
    # a bad reference: one clear line, nothing republished
    bad = tmp_path / "bad.csv"
    ref.drop(columns="LSOA21CD").to_csv(bad, index=False)
    with dedi_env(BuildDirs(demo_build.raw, demo_build.staging, marts)):
        assert cli.main(["validate", "--reference", str(bad), "--column", "pct_offline"]) == 1
    assert "no LSOA code column found" in capsys.readouterr().err


@requires_shared
def test_reference_on_lsoa_2011_codes_is_harmonised(real_build):
    from pipeline.defs.validation import validate_reference
    from pipeline.sources import geography
    from pipeline.sources.reference import Reference

    con = duckdb.connect(str(real_build.marts / "current" / "dedi.duckdb"), read_only=True)
    lsoa = con.execute("SELECT * FROM lsoa_index").df()
    lookup = geography.read_lsoa11_lsoa21(geography.locate(real_build.raw, "lsoa11_lsoa21"))
    lk = lookup[lookup["lsoa21_code"].str.startswith("E")]
    ref = lk.merge(lsoa[["lsoa21_code", "dx_score"]], on="lsoa21_code").groupby(
        "lsoa11_code", as_index=False)["dx_score"].mean()
    f = real_build.staging / "ref11.parquet"
    ref.rename(columns={"lsoa11_code": "LSOA11CD"}).to_parquet(f)
    v = validate_reference(Reference(str(f), "dx_score"), lsoa, lookup)
    m = _m(v)
    assert v["reference_geography"].iloc[0].startswith("LSOA 2011")
    assert v["n_lsoas"].iloc[0] == 33755
    assert m[("dx", "spearman_rho")] > 0.97


def test_gx_suite_passes_the_built_table_and_names_what_fails(demo_build):
    """The lsoa_index suite passes the published table; one decile out of range fails it,
    with the expectation, the column and the unexpected value named (pass/fail is checked
    first without unexpected-value lists; a failure is described in full)."""
    from pipeline.quality.expectations import validate

    con = duckdb.connect(str(demo_build.marts / "current" / "dedi.duckdb"), read_only=True)
    df = con.execute("SELECT * EXCLUDE (data_status) FROM lsoa_index").df()
    ok = validate("lsoa_index", df, {"n_lsoa": len(df)})
    assert ok.success and not ok.failures and ok.evaluated > 20
    bad = df.copy()
    bad.loc[3, "dedi_decile"] = 11
    res = validate("lsoa_index", bad, {"n_lsoa": len(df)})
    assert not res.success and res.evaluated == ok.evaluated
    assert len(res.failures) == 1
    assert "expect_column_values_to_be_between" in res.failures[0]
    assert "dedi_decile" in res.failures[0] and "[11" in res.failures[0], res.failures[0]
