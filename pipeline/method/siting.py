"""Where to put digital health hubs: the maximal covering location problem (Church & ReVelle
1974), solved exactly as a mixed-integer programme with HiGHS (``scipy.optimize.milp``).

Given demand weights w_i (e.g. residents of the LSOAs in DX deciles 1-3), candidate sites j
and the sites N_i within reach of demand point i (a radius, or a travel-time limit):

    maximise  sum_i w_i x_i
    subject   x_i <= sum_{j in N_i} y_j      for every demand point i
              sum_j y_j = k                  (k sites, existing ones included)
              y_j = 1                        for every existing site
              y_j in {0, 1},  0 <= x_i <= 1

x_i need not be declared integer: for integral y the optimum sets x_i = 1 exactly where a
chosen site reaches i. The reach relation is built sparsely (a KD-tree within the radius), so
an ICB of 1,500 LSOAs and as many candidates is a few thousand non-zeros. PySAL's ``spopt``
is the reference implementation (``tests/unit/method/test_siting.py`` checks that both cover
the same demand).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.spatial import cKDTree


def reach_within(demand_xy: np.ndarray, site_xy: np.ndarray, radius: float) -> sparse.csr_matrix:
    """Demand × sites matrix of the distances (metres, British National Grid) of every pair
    within ``radius``; pairs beyond it are absent. A pair at distance 0 is stored as a tiny
    positive number, so that it stays in the sparse structure."""
    if radius <= 0:
        raise ValueError(f"the radius must be positive, got {radius}")
    d = cKDTree(demand_xy).sparse_distance_matrix(cKDTree(site_xy), radius,
                                                  output_type="coo_matrix")
    data = np.maximum(d.data, 1e-9)
    return sparse.csr_matrix((data, (d.row, d.col)), shape=(len(demand_xy), len(site_xy)))


def reach_from_minutes(minutes: sparse.csr_matrix, max_minutes: float) -> sparse.csr_matrix:
    """The pairs of a travel-time matrix (demand × sites, minutes) within ``max_minutes``."""
    m = minutes.tocsr(copy=True)
    m.data[m.data > max_minutes] = 0
    m.eliminate_zeros()
    return m


@dataclass
class Siting:
    """A solution: the chosen sites, the demand points covered, and whether it is proven."""

    chosen: np.ndarray        # site positions, in the order of ``order`` (existing first)
    covered: np.ndarray       # bool per demand point
    covered_demand: float
    optimal: bool
    mip_gap: float            # relative gap (0 when proven optimal)


class CoverageModel:
    """The MCLP of one instance, built once: ``solve(k)`` changes only the number of sites,
    so the coverage curve for k = 1..K reuses the same matrices."""

    def __init__(self, reach: sparse.csr_matrix, weights: np.ndarray,
                 existing: np.ndarray | None = None, time_limit: float | None = None):
        self.reach = (reach > 0).astype("float64").tocsr()
        self.weights = np.asarray(weights, dtype="float64")
        n, m = self.reach.shape
        self.n, self.m = n, m
        self.existing = (np.zeros(m, dtype=bool) if existing is None
                         else np.asarray(existing, dtype=bool))
        self.time_limit = time_limit
        # x_i - sum_{j in N_i} y_j <= 0 ; variables [y (m), x (n)]
        self.rows = sparse.hstack([-self.reach, sparse.identity(n, format="csr")], format="csr")
        self.count = sparse.hstack([sparse.csr_matrix(np.ones((1, m))),
                                    sparse.csr_matrix((1, n))], format="csr")
        self.c = np.concatenate([np.zeros(m), -self.weights])
        lower = np.concatenate([self.existing.astype("float64"), np.zeros(n)])
        # a demand point nothing reaches cannot be covered: fixed at 0
        upper_x = (np.asarray(self.reach.sum(axis=1)).ravel() > 0).astype("float64")
        self.bounds = Bounds(lower, np.concatenate([np.ones(m), upper_x]))
        self.integrality = np.concatenate([np.ones(m), np.zeros(n)])

    def solve(self, k: int) -> Siting:
        """The best ``k`` sites (existing ones always among them)."""
        n_existing = int(self.existing.sum())
        if not n_existing <= k <= self.m:
            raise ValueError(f"k = {k} must lie between the {n_existing} existing site(s) and "
                             f"the {self.m} candidates")
        res = milp(self.c, integrality=self.integrality, bounds=self.bounds,
                   constraints=[LinearConstraint(self.rows, -np.inf, 0),
                                LinearConstraint(self.count, k, k)],
                   options={"time_limit": self.time_limit} if self.time_limit else {})
        if res.x is None:
            raise RuntimeError(f"the solver found no solution for k = {k}: {res.message}")
        y = res.x[: self.m] > 0.5
        covered = np.asarray(self.reach @ y.astype("float64")).ravel() > 0
        chosen = np.flatnonzero(y)
        return Siting(chosen, covered, float(self.weights[covered].sum()), res.status == 0,
                      0.0 if res.status == 0 else float(getattr(res, "mip_gap", np.nan)))

    def curve(self, k_max: int) -> list[Siting]:
        """Solutions for k = max(1, existing) .. ``k_max``."""
        start = max(1, int(self.existing.sum()))
        return [self.solve(k) for k in range(start, k_max + 1)]


def order_of_choice(chosen: np.ndarray, reach: sparse.csr_matrix, weights: np.ndarray,
                    existing: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The chosen sites in the order that reads best in a table: existing sites first, then
    each next site the one adding the most uncovered demand; returns (order, demand added)."""
    cover = (reach > 0).tocsc()
    left = list(chosen)
    covered = np.zeros(reach.shape[0], dtype=bool)
    order, added = [], []
    for j in [j for j in left if existing[j]] + [None] * sum(not existing[j] for j in left):
        pool = [j] if j is not None else [j for j in left if not existing[j]]
        gains = [weights[cover[:, p].indices[~covered[cover[:, p].indices]]].sum() for p in pool]
        best = pool[int(np.argmax(gains))]
        order.append(best)
        added.append(float(max(gains)))
        covered[cover[:, best].indices] = True
        left.remove(best)
    return np.array(order, dtype=int), np.array(added)


def nearest_chosen(demand_xy: np.ndarray, site_xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each demand point's nearest chosen site (position) and its straight-line distance."""
    d, i = cKDTree(site_xy).query(demand_xy, k=1)
    return i, d
