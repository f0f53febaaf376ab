"""Hub siting (pipeline/method/siting.py): a hand-made optimum, spopt's MCLP covering the same
demand, existing sites always chosen, a coverage curve that never falls."""

import numpy as np
import pulp
import pytest
from scipy import sparse

from pipeline.method.siting import (
    CoverageModel,
    MedianModel,
    distances_all,
    order_of_choice,
    reach_within,
)


def _hand():
    """Four demand points on a line (x = 0, 1, 2, 10; weights 5, 1, 1, 4), three candidate
    sites (x = 0.5, 1.5, 10), radius 1: site 0.5 reaches 0 and 1 (6), site 1.5 reaches 1 and
    2 (2), site 10 reaches 10 (4). So k = 1 takes 0.5 (6), k = 2 adds 10 (10), k = 3 all (11)."""
    demand = np.array([[0, 0], [1, 0], [2, 0], [10, 0]], dtype=float)
    sites = np.array([[0.5, 0], [1.5, 0], [10, 0]], dtype=float)
    return demand, sites, np.array([5.0, 1.0, 1.0, 4.0])


def test_a_hand_made_instance_has_its_known_optimum():
    demand, sites, w = _hand()
    reach = reach_within(demand, sites, 1.0)
    assert (reach.toarray() > 0).tolist() == [[True, False, False], [True, True, False],
                                              [False, True, False], [False, False, True]]
    model = CoverageModel(reach, w)
    got = [(sorted(s.chosen.tolist()), s.covered_demand, s.optimal) for s in model.curve(3)]
    assert got == [([0], 6.0, True), ([0, 2], 10.0, True), ([0, 1, 2], 11.0, True)]


def _spopt_covered(reach: sparse.csr_matrix, w: np.ndarray, k: int,
                   existing: np.ndarray | None = None) -> float:
    from spopt.locate import MCLP

    cost = np.where(reach.toarray() > 0, 1.0, 2.0)  # within reach: 1 <= radius 1.5
    model = MCLP.from_cost_matrix(cost, w, service_radius=1.5, p_facilities=k,
                                  predefined_facilities_arr=existing)
    model.solve(pulp.PULP_CBC_CMD(msg=False))
    covered = np.zeros(len(w), dtype=bool)
    for clients in model.fac2cli:
        covered[list(clients)] = True
    return float(w[covered].sum())


@pytest.mark.parametrize("seed", range(20))
def test_dedi_covers_what_spopt_covers(seed):
    rng = np.random.default_rng(seed)
    n, m = rng.integers(30, 80), rng.integers(10, 30)
    demand, sites = rng.uniform(0, 10, (n, 2)), rng.uniform(0, 10, (m, 2))
    w = rng.integers(0, 500, n).astype(float)
    reach = reach_within(demand, sites, 1.5)
    k = int(rng.integers(1, 6))
    existing = np.zeros(m, dtype=bool)
    if seed % 3 == 0:
        existing[rng.choice(m, 2, replace=False)] = True
        k = max(k, 2)
    ours = CoverageModel(reach, w, existing).solve(k)
    assert ours.optimal
    assert ours.covered_demand == pytest.approx(_spopt_covered(reach, w, k, existing))
    assert existing[ours.chosen].sum() == existing.sum()  # existing sites always chosen


def test_existing_sites_are_always_chosen_and_the_curve_never_falls():
    rng = np.random.default_rng(1)
    demand, sites = rng.uniform(0, 10, (200, 2)), rng.uniform(0, 10, (40, 2))
    w = rng.integers(1, 100, 200).astype(float)
    existing = np.zeros(40, dtype=bool)
    existing[[3, 17]] = True
    model = CoverageModel(reach_within(demand, sites, 1.2), w, existing)
    curve = model.curve(12)
    assert [len(s.chosen) for s in curve] == list(range(2, 13))
    assert all(existing[s.chosen].sum() == 2 for s in curve)
    covered = [s.covered_demand for s in curve]
    assert all(b >= a for a, b in zip(covered, covered[1:], strict=False))
    order, added = order_of_choice(curve[-1].chosen, model.reach, w, existing)
    assert set(order[:2]) == {3, 17}  # existing first
    assert added.sum() == pytest.approx(curve[-1].covered_demand)
    with pytest.raises(ValueError, match="between the 2 existing"):
        model.solve(1)
    with pytest.raises(ValueError, match="must be positive"):
        reach_within(demand, sites, 0)


def test_the_p_median_of_a_hand_made_instance():
    """The same line: k = 1 at 0.5 costs 5*0.5 + 1*0.5 + 1*1.5 + 4*9.5 = 42.5, better than 1.5
    (5*1.5 + 0.5 + 0.5 + 4*8.5 = 42.5 too: a tie) or 10 (5*10 + 9 + 8 = 67); k = 2 takes 0.5
    and 10 (2.5 + 0.5 + 1.5 + 0 = 4.5); k = 3 all (2.5 + 0.5 + 0.5 = 3.5)."""
    demand, sites, w = _hand()
    model = MedianModel(distances_all(demand, sites), w, within=1.0)
    got = [(round(s.weighted_distance, 6), s.optimal) for s in model.curve(3)]
    assert got == [(42.5, True), (4.5, True), (3.5, True)]
    assert sorted(model.solve(2).chosen.tolist()) == [0, 2]
    assert model.solve(2).covered.tolist() == [True, True, False, True]  # 2 is 1.5 from 0.5


def _spopt_median(cost: np.ndarray, w: np.ndarray, k: int, existing: np.ndarray) -> float:
    from spopt.locate import PMedian

    model = PMedian.from_cost_matrix(cost, w, p_facilities=k,
                                     predefined_facilities_arr=existing)
    model.solve(pulp.PULP_CBC_CMD(msg=False))
    return float(model.problem.objective.value())


@pytest.mark.parametrize("seed", range(10))
def test_the_p_median_costs_what_spopt_costs(seed):
    """Exact, though each demand point starts with only its 2 nearest sites: the relaxation
    grows until it is tight."""
    rng = np.random.default_rng(100 + seed)
    n, m = rng.integers(30, 70), rng.integers(10, 25)
    demand, sites = rng.uniform(0, 10, (n, 2)), rng.uniform(0, 10, (m, 2))
    w = rng.integers(0, 500, n).astype(float)
    k = int(rng.integers(1, 6))
    existing = np.zeros(m, dtype=bool)
    if seed % 3 == 0:
        existing[rng.choice(m, 2, replace=False)] = True
        k = max(k, 2)
    cost = distances_all(demand, sites)
    model = MedianModel(cost, w, 1.5, existing, first_q=2)  # starts short: q must grow
    ours = model.solve(k)
    assert ours.optimal and existing[ours.chosen].sum() == existing.sum()
    assert ours.weighted_distance == pytest.approx(_spopt_median(cost.toarray(), w, k,
                                                                 existing))


def test_a_travel_time_matrix_with_missing_pairs_is_served_within_its_pairs():
    """Sparse minutes: demand 0 can only reach site 1 (9 min), so k = 1 must pick site 1 even
    though site 0 is nearer everyone else; a demand point with no pair is refused."""
    minutes = sparse.csr_matrix(np.array([[0, 9, 0], [1, 5, 0], [2, 6, 0]], dtype=float))
    model = MedianModel(minutes, np.array([10.0, 1.0, 1.0]), within=8.0)
    s = model.solve(1)
    assert s.chosen.tolist() == [1] and s.weighted_distance == pytest.approx(90 + 5 + 6)
    assert s.covered.tolist() == [False, True, True]
    with pytest.raises(ValueError, match="1 demand point"):
        MedianModel(sparse.csr_matrix(np.array([[1.0, 0], [0, 0]])), np.ones(2), within=1.0)


def test_a_time_limit_reached_is_not_proven_optimal_and_gives_the_gap():
    """A hard MCLP (many overlapping sites, random weights) with a time limit far below what
    HiGHS needs (before it has any solution of its own): the greedy solution stands, and it
    says it is not proven and gives its gap to the best bound known."""
    rng = np.random.default_rng(7)
    demand, sites = rng.uniform(0, 100, (3000, 2)), rng.uniform(0, 100, (600, 2))
    w = rng.uniform(1, 100, 3000)
    model = CoverageModel(reach_within(demand, sites, 9.0), w, time_limit=0.05)
    s = model.solve(25)
    assert not s.optimal
    assert s.mip_gap > 0 and np.isfinite(s.mip_gap)
    assert len(s.chosen) == 25 and s.covered_demand == pytest.approx(w[s.covered].sum())
    proven = CoverageModel(model.reach, w).solve(25)
    assert proven.optimal and proven.covered_demand >= s.covered_demand
    assert (proven.covered_demand - s.covered_demand) / s.covered_demand <= s.mip_gap + 1e-9
