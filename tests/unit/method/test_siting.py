"""Hub siting (pipeline/method/siting.py): a hand-made optimum, spopt's MCLP covering the same
demand, existing sites always chosen, a coverage curve that never falls."""

import numpy as np
import pulp
import pytest
from scipy import sparse

from pipeline.method.siting import CoverageModel, order_of_choice, reach_within


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
