"""DX / DEDI method: spec validation, hand cases, w = 0 exactness, weight changes, invariants."""

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import ndtri

from pipeline.method import diagnostics as diag
from pipeline.method.dx import aggregate, dedi_index, dedi_weights, dx_domain, normalise, orient
from pipeline.method.iod import combine_domain_ranks
from pipeline.method.spec import SPEC_FILE, SpecError, apply_overrides, load_spec, spec_hash
from pipeline.method.uncertainty import run_monte_carlo
from tests.conftest import SHARED, requires_shared

IMD_W = {"income": 22.5, "employment": 22.5, "education": 13.5, "health": 13.5, "crime": 9.3,
         "barriers": 9.3, "living_environment": 9.3}


def _spec(**dx) -> dict:
    spec = yaml.safe_load(SPEC_FILE.read_text())
    spec["dx"]["indicators"] = dx or {
        "a": {"column": "a", "direction": 1, "weight": 1},
        "b": {"column": "b", "direction": 1, "weight": 1},
        "c": {"column": "c", "direction": -1, "weight": 2}}
    spec["dx"]["min_indicators"] = 1
    return spec


def test_normal_scores_and_aggregate_hand_computed():
    x = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": [4.0, np.nan, 2.0, 1.0]})
    z = normalise(x, "normal_scores")
    assert z["a"].tolist() == pytest.approx(ndtri(np.array([0.125, 0.375, 0.625, 0.875])))
    assert z["b"].tolist()[0] == pytest.approx(ndtri(5 / 6))  # rank 3 of 3 present
    score, count = aggregate(z, np.array([0.75, 0.25]))
    assert count.tolist() == [2, 1, 2, 2]
    assert score[1] == pytest.approx(z["a"][1])  # missing b: weights re-normalised
    assert score[0] == pytest.approx(0.75 * z["a"][0] + 0.25 * z["b"][0])
    assert normalise(x, "zscores")["a"].tolist() == pytest.approx(
        ((x["a"] - 2.5) / x["a"].std(ddof=0)).tolist())


def test_dedi_weights_scale_official_weights():
    w = dedi_weights(IMD_W, 0.1)
    assert w["income"] == pytest.approx(20.25) and w["dx"] == pytest.approx(9.99)
    assert sum(w.values()) == pytest.approx(99.9)


def test_spec_file_validates_and_errors_name_the_key(tmp_path):
    spec = load_spec()
    assert spec["dedi"]["dx_weight"] == 0.10
    bad = yaml.safe_load(SPEC_FILE.read_text())
    bad["dx"]["indicators"]["connectivity"]["weight"] = -1
    f = tmp_path / "spec.yaml"
    f.write_text(yaml.safe_dump(bad))
    with pytest.raises(SpecError, match=r"dx.indicators.connectivity.weight must be a non-negative"):
        load_spec(f)
    with pytest.raises(SpecError, match="unknown input column 'connectivity_exclusion'"):
        load_spec(known_columns={"x"})
    with pytest.raises(SpecError, match=r"dedi.dx_weight must be in \[0, 1\)"):
        load_spec(overrides={"dx_weight": 1.5})
    with pytest.raises(SpecError, match="unknown indicator 'nope'"):
        apply_overrides(load_spec(), {"indicator_weights": {"nope": 1}})
    assert spec_hash(load_spec()) != spec_hash(load_spec(overrides={"dx_weight": 0.2}))


def test_w_zero_is_the_imd_exactly():
    rng = np.random.default_rng(0)
    ranks = pd.DataFrame({k: rng.permutation(500) + 1 for k in IMD_W})
    dx_rank = pd.Series(rng.permutation(500) + 1)
    d = dedi_index(ranks, dx_rank, IMD_W, 0.0)
    imd = combine_domain_ranks(ranks, IMD_W)
    assert (d["score"].to_numpy() == imd["score"].to_numpy()).all()
    assert (d["rank"].to_numpy() == imd["rank"].to_numpy()).all()


def test_raising_an_indicator_weight_moves_ranks_its_way(tmp_path):
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"a": rng.normal(size=400), "b": rng.normal(size=400),
                       "c": rng.normal(size=400)})
    base, _ = dx_domain(df, _spec())
    spec = yaml.safe_load(SPEC_FILE.read_text())
    spec["dx"]["indicators"] = _spec()["dx"]["indicators"]
    spec["dx"]["indicators"]["a"]["weight"] = 6  # edit the spec file, no code change
    spec["dx"]["min_indicators"] = 1
    f = tmp_path / "index_spec.yaml"
    f.write_text(yaml.safe_dump(spec))
    heavier, _ = dx_domain(df, load_spec(f, known_columns=set(df.columns)))
    top_a = df["a"] >= df["a"].quantile(0.9)
    assert heavier.loc[top_a, "dx_rank"].mean() < base.loc[top_a, "dx_rank"].mean()
    assert heavier.loc[~top_a, "dx_rank"].mean() > base.loc[~top_a, "dx_rank"].mean()
    # direction -1: a higher c means less excluded
    assert np.corrcoef(df["c"], base["dx_rank"])[0, 1] > 0


def test_cronbach_alpha_and_effective_weights_hand_computed():
    z = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": [2.0, 1.0, 4.0, 3.0]})
    # alpha = k/(k-1) (1 - sum var_i / var(total)) = 2 (1 - (5/3 + 5/3) / (16/3))
    assert diag.cronbach_alpha(z) == pytest.approx(2 * (1 - (10 / 3) / (16 / 3)))
    dx = 0.5 * z["a"] + 0.5 * z["b"]
    eff = diag.effective_weights(z, {"a": 0.5, "b": 0.5}, dx)
    assert eff["value"].sum() == pytest.approx(1.0)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(20, 150), k=st.integers(2, 5), seed=st.integers(0, 10_000),
       missing=st.floats(0, 0.3))
def test_invariants_of_ranks_deciles_and_monte_carlo(n, k, seed, missing):
    rng = np.random.default_rng(seed)
    cols = [f"i{j}" for j in range(k)]
    x = pd.DataFrame(rng.normal(size=(n, k)), columns=cols)
    x = x.mask(rng.random((n, k)) < missing)
    x.iloc[:, 0] = rng.normal(size=n)  # at least one indicator everywhere
    spec = _spec(**{c: {"column": c, "direction": 1, "weight": float(rng.integers(1, 4))}
                    for c in cols})
    dx, _ = dx_domain(x, spec)
    assert sorted(dx["dx_rank"]) == list(range(1, n + 1))
    counts = dx["dx_decile"].value_counts()
    assert set(counts.index) <= set(range(1, 11))
    assert (counts - n / 10).abs().max() <= 1
    ranks = pd.DataFrame({d: rng.permutation(n) + 1 for d in IMD_W})
    dedi = dedi_index(ranks, dx["dx_rank"], IMD_W, 0.1)
    assert sorted(dedi["rank"]) == list(range(1, n + 1))
    mc = dict(spec["monte_carlo"], draws=30)
    res = run_monte_carlo(x, np.ones(k), rng.uniform(0, 60, n), 99.9, mc,
                          {"la": np.array(["A", "B", "C"])[np.arange(n) % 3]}, np.ones(n))
    lo, mid, hi = (res.lsoa[c] for c in ("dedi_rank_p05", "dedi_rank_p50", "dedi_rank_p95"))
    assert (lo <= mid).all() and (mid <= hi).all()
    assert lo.min() >= 1 and hi.max() <= n
    assert res.lsoa["dedi_prob_most_deprived_decile"].between(0, 1).all()
    assert res.sensitivity["first_order_index"].between(0, 1).all()
    assert (res.areas["average_score_rank_p05"] <= res.areas["average_score_rank_p95"]).all()


def test_sensitivity_detects_the_only_varying_factor():
    rng = np.random.default_rng(3)
    n = 300
    x = pd.DataFrame(rng.normal(size=(n, 3)), columns=["a", "b", "c"])
    spec = _spec()
    mc = dict(spec["monte_carlo"], draws=200, dx_weight_range=[0.0, 0.9],
              normalisations=["normal_scores"], leave_one_out=False,
              dirichlet_concentration=1e6)  # weights effectively fixed
    res = run_monte_carlo(x, np.ones(3), rng.uniform(0, 60, n), 99.9, mc,
                          {"la": np.zeros(n, dtype=int).astype(str)}, np.ones(n))
    s = res.sensitivity.set_index("factor")["first_order_index"]
    assert s["dx_weight"] > 0.8
    assert s["normalisation"] == 0 and s["indicator_left_out"] == 0


@requires_shared
def test_w_zero_reproduces_the_published_imd_on_real_data():
    from pipeline.sources.iod import read_iod2025

    df = read_iod2025(SHARED / "iod" / "File_7_IoD2025_reconstructed.csv")
    ranks = df[[f"{k}_rank" for k in IMD_W]].set_axis(list(IMD_W), axis=1)
    d = dedi_index(ranks, df["imd_rank"], IMD_W, 0.0)  # any DX rank: weight 0
    imd = combine_domain_ranks(ranks, IMD_W)
    assert (d["score"].to_numpy() == imd["score"].to_numpy()).all()
    assert (d["rank"].to_numpy() == imd["rank"].to_numpy()).all()
    assert (d["score"] - df["imd_score"]).abs().mean() < 0.001


def test_orient_flips_direction():
    assert orient(pd.DataFrame({"a": [1.0, -2.0]}), {"a": -1})["a"].tolist() == [-1.0, 2.0]


def test_factor_analysis_weights_follow_the_loadings():
    rng = np.random.default_rng(5)
    f = rng.normal(size=2000)
    df = pd.DataFrame({"a": f + 0.3 * rng.normal(size=2000),   # strong loading
                       "b": f + 1.0 * rng.normal(size=2000),   # weaker
                       "c": -f + 0.5 * rng.normal(size=2000)})  # direction -1 in the spec
    spec = _spec()
    spec["dx"]["weighting"] = "factor_analysis"
    dx, info = dx_domain(df, spec)
    w = info["weights"]
    assert sum(w.values()) == pytest.approx(1.0)
    assert w["a"] > w["c"] > w["b"] > 0
    assert set(info["factor_loadings"]) == {"a", "b", "c"}
    assert sorted(dx["dx_rank"]) == list(range(1, 2001))
