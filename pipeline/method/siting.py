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

The p-median (Hakimi 1964; ``--objective distance``) instead minimises the demand-weighted
distance from every demand point to its nearest chosen site. It is solved exactly in the
radius formulation (Cornuéjols, Nemhauser & Wolsey 1980; Elloumi 2010): for each demand point
i with distinct candidate distances D_i1 < ... < D_iL, z_il = 1 when no chosen site lies
within D_il, and

    minimise  sum_i w_i (D_i1 + sum_{l<L} (D_i,l+1 - D_il) z_il)
    subject   z_i1 + sum_{j: d_ij = D_i1} y_j >= 1
              z_il - z_i,l-1 + sum_{j: d_ij = D_il} y_j >= 0     (1 < l < L)
              sum_{j: d_ij = D_iL} y_j - z_i,L-1 >= 0            (i is always served)
              sum_j y_j = k,  y_j = 1 for every existing site,  y_j in {0, 1},  z_il >= 0

which has two non-zeros per pair instead of the classical formulation's n·m constraints, and
a tighter relaxation. spopt's ``PMedian`` is the reference (same objective, same tests).
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
    weighted_distance: float = float("nan")  # sum_i w_i d(i, nearest chosen), p-median only


def _solve(c: np.ndarray, integrality: np.ndarray, bounds: Bounds, constraints: list,
           time_limit: float | None, k: int):
    """One HiGHS solve; the solution (or an error when there is none) and its proof."""
    res = milp(c, integrality=integrality, bounds=bounds, constraints=constraints,
               options={"time_limit": time_limit} if time_limit else {})
    if res.x is None:
        raise RuntimeError(f"the solver found no solution for k = {k}: {res.message}")
    gap = getattr(res, "mip_gap", None)
    return res, res.status == 0, 0.0 if res.status == 0 else float(
        np.nan if gap is None else gap)


def _check_k(k: int, existing: np.ndarray, m: int) -> None:
    n_existing = int(existing.sum())
    if not n_existing <= k <= m:
        raise ValueError(f"k = {k} must lie between the {n_existing} existing site(s) and "
                         f"the {m} candidates")


class SitingModel:
    """What both objectives share: k sites with the existing ones fixed, and the curve."""

    existing: np.ndarray

    def solve(self, k: int) -> Siting:
        raise NotImplementedError

    def curve(self, k_max: int) -> list[Siting]:
        """Solutions for k = max(1, existing) .. ``k_max``."""
        start = max(1, int(self.existing.sum()))
        return [self.solve(k) for k in range(start, k_max + 1)]


class CoverageModel(SitingModel):
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
        _check_k(k, self.existing, self.m)
        res = milp(self.c, integrality=self.integrality, bounds=self.bounds,
                   constraints=[LinearConstraint(self.rows, -np.inf, 0),
                                LinearConstraint(self.count, k, k)],
                   options={"time_limit": self.time_limit} if self.time_limit else {})
        y = self._greedy(k) if res.x is None else res.x[: self.m] > 0.5
        if res.status != 0:  # the limit was reached: keep the better of HiGHS's and greedy's
            g = self._greedy(k)
            if self._covered_demand(g) > self._covered_demand(y):
                y = g
        found = self._covered_demand(y)
        bound = (-res.mip_dual_bound if getattr(res, "mip_dual_bound", None) is not None
                 else self.weights[self.bounds.ub[self.m:] > 0].sum())
        gap = 0.0 if res.status == 0 else max(0.0, (bound - found) / max(found, 1e-12))
        covered = np.asarray(self.reach @ y.astype("float64")).ravel() > 0
        return Siting(np.flatnonzero(y), covered, found, res.status == 0, gap)

    def _covered_demand(self, y: np.ndarray) -> float:
        return float(self.weights[np.asarray(self.reach @ y.astype("float64")).ravel() > 0]
                     .sum())

    def _greedy(self, k: int) -> np.ndarray:
        """Existing sites, then each next the one adding the most uncovered demand: the
        solution kept when the time limit comes before HiGHS finds a better one."""
        y = self.existing.copy()
        left = self.weights * (np.asarray(self.reach @ y.astype("float64")).ravel() == 0)
        cover = self.reach.T.tocsr()
        for _ in range(k - int(y.sum())):
            gain = cover @ left
            gain[y] = -1
            j = int(np.argmax(gain))
            y[j] = True
            left[cover[j].indices] = 0
        return y


class MedianModel(SitingModel):
    """The p-median of one instance in the radius formulation; ``solve(k)`` changes only the
    number of sites. ``distance`` (demand × sites) holds every pair a demand point may be
    served by (all pairs for straight-line distance; a travel-time matrix's pairs); ``within``
    is the reach that counts a demand point as covered.

    Each demand point first gets only its ``q`` nearest sites, and a last step to the
    distance of its next one, a lower bound on its cost when none of the ``q`` is chosen. That
    model is a relaxation; when its optimum serves every demand point within its ``q``
    nearest, the relaxation is tight and the solution is optimal for the whole problem. Else
    ``q`` doubles where it was short and the model is solved again (the larger ``q`` is kept
    for the next k)."""

    def __init__(self, distance: sparse.csr_matrix, weights: np.ndarray, within: float,
                 existing: np.ndarray | None = None, time_limit: float | None = None,
                 first_q: int = 16):
        self.distance = distance.tocsr()
        self.weights = np.asarray(weights, dtype="float64")
        n, m = self.distance.shape
        self.n, self.m = n, m
        self.within = within
        self.existing = (np.zeros(m, dtype=bool) if existing is None
                         else np.asarray(existing, dtype=bool))
        self.time_limit = time_limit
        unserved = np.flatnonzero(np.diff(self.distance.indptr) == 0)
        if len(unserved):
            raise ValueError(f"{len(unserved)} demand point(s) have no site to be served by, "
                             f"e.g. position {unserved[0]}")
        # only demand points with weight count; each one's pairs, nearest first
        self.served_rows = np.flatnonzero(self.weights > 0)
        coo = self.distance[self.served_rows].tocoo()
        order = np.lexsort((coo.data, coo.row))
        self.row, self.col, self.d = coo.row[order], coo.col[order], coo.data[order]
        self.length = np.bincount(self.row, minlength=len(self.served_rows))
        self.start = np.r_[0, np.cumsum(self.length)[:-1]]
        self.rank = np.arange(len(self.row)) - self.start[self.row]
        self.q = np.minimum(self.length, first_q)
        self.rounds = 0  # models solved, over every k

    def _model(self) -> tuple:
        """The relaxation for the current ``q``: (c, constant, A, lower, bounds, integrality)."""
        m, w = self.m, self.weights[self.served_rows]
        keep = self.rank < self.q[self.row]
        row, col, d = self.row[keep], self.col[keep], self.d[keep]
        new_level = np.r_[True, (row[1:] != row[:-1]) | (d[1:] != d[:-1])]
        level = np.cumsum(new_level) - 1                  # each pair's level
        lv_row, lv_d = row[new_level], d[new_level]
        n_lv = len(lv_row)
        lv_first = np.r_[True, lv_row[1:] != lv_row[:-1]]
        lv_last = np.r_[lv_row[1:] != lv_row[:-1], True]
        short = self.q < self.length                      # truncated demand points
        bound = np.zeros(len(self.length))
        bound[short] = self.d[self.start[short] + self.q[short]]
        nxt = np.r_[lv_d[1:], 0.0]
        nxt[lv_last] = np.where(short[lv_row[lv_last]], bound[lv_row[lv_last]], lv_d[lv_last])
        # level g: sum of y at g + z_g - z_(g-1) >= 1 at a point's first level, else 0
        prev = np.flatnonzero(~lv_first)
        a = sparse.csr_matrix(
            (np.r_[np.ones(len(level)), np.ones(n_lv), -np.ones(len(prev))],
             (np.r_[level, np.arange(n_lv), prev], np.r_[col, m + np.arange(n_lv), m + prev - 1])),
            shape=(n_lv, m + n_lv))
        upper_z = np.where(lv_last & ~short[lv_row], 0.0, 1.0)  # a whole list: always served
        c = np.r_[np.zeros(m), w[lv_row] * (nxt - lv_d)]
        constant = float((w[lv_row[lv_first]] * lv_d[lv_first]).sum())
        bounds = Bounds(np.r_[self.existing.astype("float64"), np.zeros(n_lv)],
                        np.r_[np.ones(m), upper_z])
        return c, constant, a, lv_first.astype("float64"), bounds, np.r_[np.ones(m),
                                                                          np.zeros(n_lv)]

    def solve(self, k: int) -> Siting:
        """The ``k`` sites (existing ones among them) nearest the demand, weighted."""
        _check_k(k, self.existing, self.m)
        while True:
            c, _, a, lower, bounds, integrality = self._model()
            count = sparse.csr_matrix((np.ones(self.m), (np.zeros(self.m, int),
                                                         np.arange(self.m))),
                                      shape=(1, a.shape[1]))
            res, optimal, gap = _solve(c, integrality, bounds,
                                       [LinearConstraint(a, lower, np.inf),
                                        LinearConstraint(count, k, k)], self.time_limit, k)
            self.rounds += 1
            y = res.x[: self.m] > 0.5
            nearest = nearest_of(self.distance[:, y])[1]
            short = self.q < self.length
            bound = np.full(len(self.length), np.inf)
            bound[short] = self.d[self.start[short] + self.q[short]]
            beyond = nearest[self.served_rows] > bound
            if not beyond.any() or not optimal:
                break
            self.q[beyond] = np.minimum(self.length[beyond], 2 * self.q[beyond])
        covered = nearest <= self.within
        served = np.isfinite(nearest)
        return Siting(np.flatnonzero(y), covered, float(self.weights[covered].sum()), optimal,
                      gap, float((self.weights[served] * nearest[served]).sum()))


def nearest_of(cost: sparse.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
    """Each row's cheapest stored pair: (column, or -1 when the row has none; cost, or inf)."""
    coo = cost.tocoo()
    best = np.full(cost.shape[0], np.inf)
    np.minimum.at(best, coo.row, coo.data)
    at = np.full(cost.shape[0], -1)
    hit = coo.data == best[coo.row]
    at[coo.row[hit]] = coo.col[hit]
    return at, best


def distances_all(demand_xy: np.ndarray, site_xy: np.ndarray) -> sparse.csr_matrix:
    """Every demand × site straight-line distance (metres), as a sparse matrix whose every
    pair is present (0 stored as a tiny positive number), for the p-median."""
    from scipy.spatial.distance import cdist

    return sparse.csr_matrix(np.maximum(cdist(demand_xy, site_xy), 1e-9))


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
