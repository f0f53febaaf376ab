"""DX / DEDI method: spec validation, hand cases, w = 0 exactness, sub-domains, fair local
layering, one implementation for the point estimate and the Monte Carlo, invariants."""

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import ndtri

from pipeline.method import diagnostics as diag
from pipeline.method.dx import (
    aggregate,
    dedi_index,
    dedi_weights,
    dx_domain,
    layer_local,
    normalise,
    orient,
    transform_domains,
)
from pipeline.method.imd import combine_domain_ranks
from pipeline.method.spec import SPEC_FILE, SpecError, apply_overrides, load_spec, spec_hash
from pipeline.method.uncertainty import dx_weight_range, run_monte_carlo
from tests.conftest import SHARED, requires_shared

IMD_W = {"income": 22.5, "employment": 22.5, "education": 13.5, "health": 13.5, "crime": 9.3,
         "barriers": 9.3, "living_environment": 9.3}


def _spec(**dx) -> dict:
    spec = yaml.safe_load(SPEC_FILE.read_text())
    spec["dx"]["indicators"] = dx or {
        "a": {"column": "a", "direction": 1, "weight": 1, "subdomain": "access"},
        "b": {"column": "b", "direction": 1, "weight": 1, "subdomain": "deprivation"},
        "c": {"column": "c", "direction": -1, "weight": 2, "subdomain": "deprivation"}}
    spec["dx"]["min_indicators"] = 1
    return spec


def test_normal_scores_and_aggregate_hand_computed():
    x = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": [4.0, np.nan, 2.0, 1.0]})
    z = normalise(x, "normal_scores")
    assert z["a"].tolist() == pytest.approx(ndtri(np.array([0.125, 0.375, 0.625, 0.875])))
    assert z["b"].tolist()[0] == pytest.approx(ndtri(5 / 6))  # rank 3 of 3 present
    score = aggregate(z.T.to_numpy(), np.array([0.75, 0.25]))[0]
    assert score[1] == pytest.approx(z["a"][1])  # missing b: weights re-normalised
    assert score[0] == pytest.approx(0.75 * z["a"][0] + 0.25 * z["b"][0])
    assert normalise(x, "zscores")["a"].tolist() == pytest.approx(
        ((x["a"] - 2.5) / x["a"].std(ddof=0)).tolist())
    # within groups: each group normalised on its own
    g = normalise(x[["a"]], "ranks", {"a": pd.Series(["p", "p", "q", "q"])})
    assert g["a"].tolist() == pytest.approx([0.25, 0.75, 0.25, 0.75])


def test_aggregate_does_not_depend_on_the_batch():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(4, 200))
    z[rng.random(z.shape) < 0.2] = np.nan
    w = rng.dirichlet(np.ones(4), 50)
    batch = aggregate(z, w)
    for b in (0, 17, 49):
        one = aggregate(z, w[b])[0]
        assert np.array_equal(batch[b], one, equal_nan=True)  # bit for bit


def test_dedi_weights_scale_official_weights():
    w = dedi_weights(IMD_W, 0.1)
    assert w["income"] == pytest.approx(20.25) and w["dx"] == pytest.approx(9.99)
    assert sum(w.values()) == pytest.approx(99.9)


def test_spec_file_validates_and_errors_name_the_key(tmp_path):
    spec = load_spec()
    assert spec["dedi"]["dx_weight"] == 0.10 and spec["dx"]["variant"] == "full_risk"
    bad = yaml.safe_load(SPEC_FILE.read_text())
    bad["dx"]["indicators"]["connectivity"]["weight"] = -1
    f = tmp_path / "spec.yaml"
    f.write_text(yaml.safe_dump(bad))
    with pytest.raises(SpecError, match=r"dx.indicators.connectivity.weight must be a non-negative"):
        load_spec(f)
    bad["dx"]["indicators"]["connectivity"].update(weight=1, subdomain="nowhere")
    f.write_text(yaml.safe_dump(bad))
    with pytest.raises(SpecError, match=r"dx.indicators.connectivity.subdomain must be one of"):
        load_spec(f)
    with pytest.raises(SpecError, match="unknown input column 'connectivity_exclusion'"):
        load_spec(known_columns={"x"})
    with pytest.raises(SpecError, match=r"dedi.dx_weight must be a number in \[0, 1\), got 1.5"):
        load_spec(overrides={"dx_weight": 1.5})
    with pytest.raises(SpecError, match="dx.variant must be one of"):
        load_spec(overrides={"variant": "half"})
    with pytest.raises(SpecError, match="unknown indicator 'nope'"):
        apply_overrides(load_spec(), {"indicator_weights": {"nope": 1}})
    assert spec_hash(load_spec()) != spec_hash(load_spec(overrides={"dx_weight": 0.2}))


def test_monte_carlo_w_range_is_centred_on_the_spec():
    assert dx_weight_range(0.10, 0.05) == pytest.approx((0.05, 0.15))
    assert dx_weight_range(0.02, 0.05) == pytest.approx((0.0, 0.04))  # shrunk, still centred
    assert dx_weight_range(0.0, 0.05) == (0.0, 0.0)


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
    base = dx_domain(df, _spec()).frame
    spec = _spec()
    spec["dx"]["indicators"]["b"]["weight"] = 6  # edit the spec file, no code change
    f = tmp_path / "index_spec.yaml"
    f.write_text(yaml.safe_dump(spec))
    heavier = dx_domain(df, load_spec(f, known_columns=set(df.columns))).frame
    top_b = df["b"] >= df["b"].quantile(0.9)
    assert heavier.loc[top_b, "dx_rank"].mean() < base.loc[top_b, "dx_rank"].mean()
    # direction -1: a higher c means less excluded
    assert np.corrcoef(df["c"], base["dx_rank"])[0, 1] > 0


def test_subdomains_combine_with_their_weights():
    """An indicator alone in a sub-domain gets that sub-domain's weight, however many
    indicators the other sub-domain has (the IoD way, not one flat mean)."""
    rng = np.random.default_rng(2)
    df = pd.DataFrame(rng.normal(size=(3000, 3)), columns=["a", "b", "c"])
    spec = _spec()
    spec["dx"]["indicators"]["c"]["direction"] = 1
    spec["dx"]["subdomains"] = {"access": {"weight": 0.8}, "deprivation": {"weight": 0.2}}
    res = dx_domain(df, spec)
    dx = res.frame["dx_score"]
    assert dx.corr(df["a"], method="spearman") > 0.9  # access dominates at 0.8
    assert res.structure.subdomain_weights == pytest.approx({"access": 0.8, "deprivation": 0.2})
    spec["dx"]["variant"] = "net_of_imd"
    spec["dx"]["indicators"]["a"]["double_counts"] = "barriers"
    net = dx_domain(df, spec)
    assert "a" not in net.structure.indicators and "a" in net.structure.dropped


def test_local_layer_keeps_the_la_mean_and_reorders_within_it():
    rng = np.random.default_rng(4)
    n = 300
    national = rng.normal(size=(1, n))
    la = np.array(["A"] * 100 + ["B"] * 200)
    pop = rng.uniform(1000, 3000, n)
    layer = np.full((1, n), np.nan)
    layer[0, :100] = rng.normal(size=100)
    out = layer_local(national, layer, la, pop, 0.25)
    a = slice(0, 100)

    def mean_rank(x):  # population-weighted mean national rank of LA A's LSOAs
        return np.average((-x).argsort().argsort()[a], weights=pop[a])
    assert abs(mean_rank(out[0]) - mean_rank(national[0])) < 1.5
    assert np.array_equal(out[0, 100:], national[0, 100:])  # other LAs untouched
    # the move is λ(v − national): with national independent of the layer, corr ≈ 1/√2
    moved = out[0, a] - national[0, a]
    assert np.corrcoef(moved, layer[0, a])[0, 1] > 0.6


def test_local_layer_of_an_la_does_not_depend_on_which_other_las_layer():
    """Every supplying LA is rebalanced in one bisection (pipeline.method.dx._rank_offsets),
    yet an LA's layered DX is exactly what it is when it alone supplies a proxy, in every
    draw: including LSOAs without national DX, a draw where it has no layer, and a constant
    layer."""
    rng = np.random.default_rng(9)
    n, b = 1200, 6
    la = np.repeat(np.array(["A", "B", "C", "D"]), n // 4)
    pop = rng.uniform(500, 3000, n)
    national = rng.normal(size=(b, n))
    national[:, [5, 700]] = np.nan
    layer = rng.normal(size=(b, n))
    layer[:, rng.integers(0, n, 100)] = np.nan
    layer[2, la == "B"] = np.nan
    layer[:, la == "C"] = 1.0
    together = layer_local(national, layer, la, pop, 0.3)
    for x in "ABCD":
        alone = layer_local(national, np.where(la == x, layer, np.nan), la, pop, 0.3)
        assert np.array_equal(together[:, la == x], alone[:, la == x], equal_nan=True), x
    assert not np.array_equal(together, national, equal_nan=True)  # the layer did move DX


def _mc_inputs(n: int, seed: int):
    rng = np.random.default_rng(seed)
    x = pd.DataFrame(rng.normal(size=(n, 4)), columns=["a", "b", "c", "loc"])
    x.loc[x.index >= n // 2, "loc"] = np.nan
    la = np.where(np.arange(n) < n // 4, "A", np.where(np.arange(n) < n // 2, "B", "C"))
    spec = _spec()
    spec["dx"]["indicators"]["loc"] = {"column": "loc", "direction": 1, "weight": 1,
                                       "local": True}
    ranks = pd.DataFrame({d: rng.permutation(n) + 1 for d in IMD_W})
    pop = rng.uniform(500, 3000, n)
    return x, la, spec, ranks, pop


@pytest.mark.parametrize("aggregation", ["exponential", "linear"])
def test_monte_carlo_with_every_perturbation_off_reproduces_the_point_estimate(aggregation):
    x, la, spec, ranks, pop = _mc_inputs(400, 7)
    spec["dx"]["aggregation"] = aggregation
    region = np.where(la == "C", "R2", "R1")
    res = dx_domain(x, spec, pd.Series(la, index=x.index), pd.Series(pop, index=x.index))
    dedi = dedi_index(ranks, res.frame["dx_rank"], IMD_W, 0.1)
    mc = dict(spec["monte_carlo"], draws=25, dx_weight_half_width=0.0,
              dirichlet_concentration=None, normalisations=["normal_scores"],
              aggregations=[aggregation], leave_one_out=False)
    out = run_monte_carlo(res.oriented, res.structure,
                          np.array([res.weights[k] for k in res.structure.indicators]),
                          transform_domains(ranks), IMD_W, 0.1, mc,
                          {"la": la, "region": region}, pop, la, aggregation=aggregation)
    for c in ("dedi_rank_p05", "dedi_rank_p50", "dedi_rank_p95"):
        assert (out.lsoa[c].to_numpy() == dedi["rank"].to_numpy()).all(), c
    assert set(out.lsoa["dedi_prob_most_deprived_decile"]) <= {0.0, 1.0}
    assert (out.sensitivity["first_order_index"] == 0).all()
    # every geography's population-weighted average score, ranked (1 = highest), in each draw
    for g, codes in out.areas.groupby("geography"):
        key = {"la": la, "region": region}[g]
        frame = pd.DataFrame({"a": key, "s": dedi["score"].to_numpy() * pop, "p": pop})
        sums = frame.groupby("a", sort=False)[["s", "p"]].sum()
        expected = (sums["s"] / sums["p"]).rank(ascending=False, method="first")
        got = codes.set_index("area_code")
        assert (got["average_score_rank_p05"] == expected.loc[got.index]).all(), g
        assert (got["average_score_rank_p95"] == expected.loc[got.index]).all(), g


def test_monte_carlo_honours_factor_analysis_weights():
    """The Dirichlet draws centre on the weights the point estimate used (here FA)."""
    rng = np.random.default_rng(5)
    f = rng.normal(size=3000)
    df = pd.DataFrame({"a": f + 0.3 * rng.normal(size=3000), "b": f + rng.normal(size=3000),
                       "c": -f + 0.5 * rng.normal(size=3000)})
    spec = _spec()
    for k in "abc":
        spec["dx"]["indicators"][k]["subdomain"] = "deprivation"
    spec["dx"]["weighting"] = "factor_analysis"
    res = dx_domain(df, spec)
    w = res.weights
    assert sum(w.values()) == pytest.approx(1.0)
    assert w["a"] > w["c"] > w["b"] > 0 and set(res.loadings) == {"a", "b", "c"}
    from pipeline.method.uncertainty import draw_factors

    d = draw_factors(np.array([w[k] for k in "abc"]), dict(spec["monte_carlo"], draws=4000,
                     leave_one_out=False), 0.1, np.random.default_rng(0))
    mean = np.vstack(d["weights"].to_numpy()).mean(axis=0)
    assert mean == pytest.approx([w[k] for k in "abc"], abs=0.01)
    assert d["dx_weight"].mean() == pytest.approx(0.10, abs=0.003)  # centred on the spec


def test_cronbach_alpha_and_effective_weights_hand_computed():
    z = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": [2.0, 1.0, 4.0, 3.0]})
    # alpha = k/(k-1) (1 - sum var_i / var(total)) = 2 (1 - (5/3 + 5/3) / (16/3))
    assert diag.cronbach_alpha(z) == pytest.approx(2 * (1 - (10 / 3) / (16 / 3)))
    eff = diag.effective_weights(z, {"s1": z["a"].to_numpy(), "s2": z["b"].to_numpy()},
                                 {"a": "s1", "b": "s2"}, {"s1": 0.5, "s2": 0.5},
                                 {"a": 1.0, "b": 1.0})
    assert eff["value"].sum() == pytest.approx(1.0)
    assert eff["value"].tolist() == pytest.approx([0.5, 0.5])  # symmetric case
    # route shares cov(W_s S_s, DX)/Var(DX), DX = Σ W_s S_s: here S = (a, b) at (0.75, 0.25);
    # var a = var b = 5/3, cov(a, b) = 1: DX var = 0.75²·5/3 + 0.25²·5/3 + 2·0.75·0.25·1
    var = 0.5625 * 5 / 3 + 0.0625 * 5 / 3 + 0.375
    eff = diag.effective_weights(z, {"s1": z["a"].to_numpy(), "s2": z["b"].to_numpy()},
                                 {"a": "s1", "b": "s2"}, {"s1": 0.75, "s2": 0.25},
                                 {"a": 1.0, "b": 1.0})
    assert eff["value"].tolist() == pytest.approx(
        [0.75 * (0.75 * 5 / 3 + 0.25) / var, 0.25 * (0.25 * 5 / 3 + 0.75) / var])


@settings(max_examples=20, deadline=None)
@given(n=st.integers(40, 150), seed=st.integers(0, 10_000), missing=st.floats(0, 0.3))
def test_invariants_of_ranks_deciles_and_monte_carlo(n, seed, missing):
    x, la, spec, ranks, pop = _mc_inputs(n, seed)
    rng = np.random.default_rng(seed)
    x[["b", "c"]] = x[["b", "c"]].mask(rng.random((n, 2)) < missing)
    res = dx_domain(x, spec, pd.Series(la, index=x.index), pd.Series(pop, index=x.index))
    dx = res.frame
    assert sorted(dx["dx_rank"]) == list(range(1, n + 1))
    counts = dx["dx_decile"].value_counts()
    assert set(counts.index) <= set(range(1, 11)) and (counts - n / 10).abs().max() <= 1
    dedi = dedi_index(ranks, dx["dx_rank"], IMD_W, 0.1)
    assert sorted(dedi["rank"]) == list(range(1, n + 1))
    mc = dict(spec["monte_carlo"], draws=30)
    out = run_monte_carlo(res.oriented, res.structure,
                          np.array([res.weights[k] for k in res.structure.indicators]),
                          transform_domains(ranks), IMD_W, 0.1, mc, {"la": la}, pop, la)
    lo, mid, hi = (out.lsoa[c] for c in ("dedi_rank_p05", "dedi_rank_p50", "dedi_rank_p95"))
    assert (lo <= mid).all() and (mid <= hi).all() and lo.min() >= 1 and hi.max() <= n
    assert out.lsoa["dedi_prob_most_deprived_decile"].between(0, 1).all()
    assert out.sensitivity["first_order_index"].between(0, 1).all()
    assert (out.areas["average_score_rank_p05"] <= out.areas["average_score_rank_p95"]).all()


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


def test_fast_average_ranks_equal_rankdata_with_ties_and_gaps():
    from scipy.stats import rankdata

    from pipeline.method.dx import _average_ranks

    rng = np.random.default_rng(9)
    x = rng.integers(0, 50, size=(20, 300)).astype(float)  # many ties
    x[:10] = rng.normal(size=(10, 300))                     # no ties
    x[rng.random(x.shape) < 0.1] = np.nan
    ref = rankdata(x, axis=-1, method="average", nan_policy="omit")
    assert np.array_equal(_average_ranks(x), ref, equal_nan=True)


def test_rank_normalisations_from_tables_equal_the_formula_bit_for_bit():
    """Rows without ties scatter a cached table of scores of ranks 1..n; the result is the
    IoD formula Φ⁻¹((r − 0.5)/n) (and (r − 0.5)/n) computed on the whole matrix, exactly,
    whatever each row's count of missing values."""
    from scipy.special import ndtri
    from scipy.stats import rankdata

    from pipeline.method.dx import _standardise

    rng = np.random.default_rng(10)
    x = rng.normal(size=(30, 400))
    x[5:10] = np.round(x[5:10], 1)                           # ties
    x[rng.random(x.shape) < rng.random((30, 1)) * 0.5] = np.nan  # a different n per row
    x[12] = np.nan                                           # nothing to rank
    r = rankdata(x, axis=-1, method="average", nan_policy="omit")
    n = np.maximum((~np.isnan(x)).sum(axis=-1, keepdims=True), 1)
    assert np.array_equal(_standardise(x, "ranks"), (r - 0.5) / n, equal_nan=True)
    assert np.array_equal(_standardise(x, "normal_scores"), ndtri((r - 0.5) / n), equal_nan=True)
    assert np.array_equal(_standardise(x[::-1], "normal_scores"),  # tables reused: same
                          ndtri((r - 0.5) / n)[::-1], equal_nan=True)


def test_transformed_ranks_and_dedi_sums_equal_the_direct_way_bit_for_bit():
    from pipeline.method.dx import dedi_scores, rank_rows, transformed_rank_rows
    from pipeline.method.imd import exponential_transform, normalise_rank

    rng = np.random.default_rng(13)
    scores = np.round(rng.normal(size=(9, 2000)), 2)  # ties broken by position
    ranks = rank_rows(scores)
    direct = exponential_transform(normalise_rank(ranks, 2000), 23.0)
    assert np.array_equal(transformed_rank_rows(scores, 23.0), direct)
    domains = {d: rng.uniform(0, 100, 2000) for d in "abc"}
    weights, w = {"a": 22.5, "b": 13.5, "c": 9.3}, rng.uniform(0.1, 0.3, 9)
    wd = {k: v * (1 - w[:, None]) for k, v in weights.items()}
    expected = 0.0
    for d in weights:
        expected = expected + domains[d][None, :] * (wd[d] / 100.0)
    expected = expected + direct * (w[:, None] * sum(weights.values()) / 100.0)
    assert np.array_equal(dedi_scores(domains, ranks, weights, w, 23.0), expected)


def test_rank_rows_breaks_ties_by_position_like_the_iod():
    from pipeline.method.dx import rank_rows
    from pipeline.method.imd import rank_most_deprived_first

    rng = np.random.default_rng(11)
    x = np.round(rng.normal(size=(6, 500)), 1)  # many ties
    x[:3] = rng.normal(size=(3, 500))            # none
    for row, got in zip(x, rank_rows(x), strict=True):
        assert np.array_equal(got, rank_most_deprived_first(pd.Series(row)).to_numpy())


def test_bucketed_row_sort_equals_numpy_stable_sort():
    """The Monte Carlo's two-pass sort (16-bit buckets, then timsort) is an exact stable
    argsort: on ties, NaN, ±0, infinities, subnormals, heavy skew and constant rows."""
    from pipeline.method.dx import _argsort_rows

    rng = np.random.default_rng(12)
    cases = [rng.random((7, 1000)), rng.integers(0, 5, (7, 1000)).astype(float),
             np.exp(rng.normal(0, 5, (4, 3000))),  # most values in the lowest bucket
             np.where(rng.random((5, 500)) < .2, np.nan, rng.random((5, 500))),
             np.full((2, 10), np.nan), np.full((2, 10), 3.0),
             np.array([[1, np.inf, -np.inf, 2, np.nan]]),
             np.array([[0.0, -0.0, 1e-300, -1e-300, 5e-324]]), rng.random((3, 1))]
    for x in cases:
        assert np.array_equal(_argsort_rows(x), np.argsort(x, axis=-1, kind="stable"))


def _five_lsoas() -> tuple[pd.DataFrame, dict]:
    """Five LSOAs, three routes: s1 of two indicators (a1, a2), s2 of b, s3 of c."""
    x = pd.DataFrame({"a1": [1.0, 2.0, 3.0, 4.0, 5.0], "a2": [2.0, 1.0, 3.0, 5.0, 4.0],
                      "b": [5.0, 4.0, 3.0, 2.0, 1.0], "c": [2.0, 5.0, 1.0, 4.0, 3.0]})
    spec = _spec(a1={"column": "a1", "direction": 1, "weight": 1, "subdomain": "s1"},
                 a2={"column": "a2", "direction": 1, "weight": 1, "subdomain": "s1"},
                 b={"column": "b", "direction": 1, "weight": 1, "subdomain": "s2"},
                 c={"column": "c", "direction": 1, "weight": 1, "subdomain": "s3"})
    spec["dx"]["subdomains"] = {"s1": {"weight": 0.5}, "s2": {"weight": 0.3},
                                "s3": {"weight": 0.2}}
    spec["dx"].update(aggregation="exponential", normalisation="normal_scores")
    return x, spec


def test_exponential_aggregation_of_five_lsoas_by_hand():
    """Each route's mean normal score is ranked (ascending, ties averaged), R = r/5, and
    X = −23·ln(1 − R·(1 − e^(−100/23))); DX = 0.5·X1 + 0.3·X2 + 0.2·X3; rank 1 = highest."""
    x, spec = _five_lsoas()
    res = dx_domain(x, spec, constant=23.0)

    def X(r: float) -> float:
        return -23.0 * np.log(1 - (r / 5) * (1 - np.exp(-100 / 23)))

    # s1: the means of z(a1), z(a2) tie for LSOAs 0 and 1 (ranks 1,2 and 2,1), and for 3 and
    # 4 (4,5 and 5,4): ranks 1.5, 1.5, 3, 4.5, 4.5. s2 = b and s3 = c: their own ranks.
    r1, r2, r3 = [1.5, 1.5, 3, 4.5, 4.5], [5, 4, 3, 2, 1], [2, 5, 1, 4, 3]
    dx = [0.5 * X(a) + 0.3 * X(b) + 0.2 * X(c) for a, b, c in zip(r1, r2, r3, strict=True)]
    assert res.frame["dx_score"].tolist() == pytest.approx(dx, rel=1e-12)
    assert res.frame["dx_s1_score"].tolist() == pytest.approx([X(r) for r in r1], rel=1e-12)
    order = sorted(range(5), key=lambda i: -dx[i])
    assert res.frame["dx_rank"].tolist() == [order.index(i) + 1 for i in range(5)]
    # the leading route is the largest of 0.5·X1, 0.3·X2, 0.2·X3
    lead = [max(("s1", "s2", "s3"), key=lambda s, i=i: {"s1": 0.5 * X(r1[i]),
            "s2": 0.3 * X(r2[i]), "s3": 0.2 * X(r3[i])}[s]) for i in range(5)]
    assert res.frame["dx_leading_route"].tolist() == lead


def test_exponential_aggregation_does_not_let_one_route_cancel_another():
    """An LSOA most excluded on one route and least on the two others: linear averaging puts
    it below an LSOA in the middle of every route; the exponential transformation does not."""
    n = 201
    mid = np.arange(n, dtype=float)
    x = pd.DataFrame({"a": mid, "b": mid[::-1].copy(), "c": mid[::-1].copy()})
    x.loc[0, ["a", "b", "c"]] = [n + 1.0, -1.0, -1.0]  # top of a, bottom of b and c
    spec = _spec(a={"column": "a", "direction": 1, "weight": 1, "subdomain": "s1"},
                 b={"column": "b", "direction": 1, "weight": 1, "subdomain": "s2"},
                 c={"column": "c", "direction": 1, "weight": 1, "subdomain": "s3"})
    spec["dx"]["subdomains"] = {s: {"weight": 1 / 3} for s in ("s1", "s2", "s3")}
    ranks = {}
    for aggregation in ("linear", "exponential"):
        spec["dx"]["aggregation"] = aggregation
        ranks[aggregation] = dx_domain(x, spec).frame["dx_rank"]
    assert ranks["linear"][0] > ranks["linear"][100]  # compensated: below the middle one
    assert ranks["exponential"][0] < ranks["exponential"][100]


def test_linear_aggregation_is_the_method_before_issue_25():
    """linear: each route's mean re-normalised (one indicator kept as is), weighted mean."""
    x, spec = _five_lsoas()
    spec["dx"]["aggregation"] = "linear"
    res = dx_domain(x, spec)
    z = normalise(x, "normal_scores")
    s1 = normalise(pd.DataFrame({"s1": (z["a1"] + z["a2"]) / 2}), "normal_scores")["s1"]
    dx = 0.5 * s1 + 0.3 * z["b"] + 0.2 * z["c"]
    assert res.frame["dx_score"].tolist() == pytest.approx(dx.tolist(), rel=1e-12)
