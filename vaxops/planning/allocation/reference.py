"""The progressive-filling policy as the literal sequence of LPs, on the full model.

Slow (one LP per child per round) and meant for validation: the tests solve small random
problems with it and check that the fast solver (``solver``), which computes the same
policy in closed form plus one product LP, finds the same fills. The model here has every
product explicit, so it checks the decomposition of the fast solver as well.

Variables per child ``i``: ``s[i,q,p]`` second doses of a series begun with product ``q``
given with product ``p`` of the same platform, ``f[i,p]`` first doses given with product
``p``, ``x[i,p]`` doses of ``p`` shipped. Constraints: use of ``p`` ≤ stock on hand +
shipped; second doses ≤ due; first doses ≤ demand; all doses ≤ capacity; shipped ≤ maximum;
shipped ≥ minimum; shipped of ``p`` over all children ≤ supply in whole packages.

Round of a progressive filling: maximise ``t`` subject to ``level_e ≥ weight_e · t`` for the
entities still rising and ``level_e ≥ frozen value`` for the others; then an entity freezes
when, with every other entity held at its level, it cannot rise above ``weight_e · t``.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.optimize import linprog

from .model import Problem

TOL = 1e-7


class _Model:
    """Sparse rows of the full allocation model."""

    def __init__(self, problem: Problem) -> None:
        self.products = [p.code for p in problem.products]
        self.platforms = sorted({p.platform for p in problem.products})
        plat = {p.code: p.platform for p in problem.products}
        self.vars: list[tuple] = []
        index: dict[tuple, int] = {}

        def var(key: tuple) -> int:
            index[key] = len(self.vars)
            self.vars.append(key)
            return index[key]

        for i, _ in enumerate(problem.children):
            for q in self.products:
                for p in self.products:
                    if plat[p] == plat[q]:
                        var(("s", i, q, p))
            for p in self.products:
                var(("f", i, p))
                var(("x", i, p))
        self.index = index
        rows: list[dict[int, float]] = []
        rhs: list[float] = []

        def row(coefs: dict[int, float], bound: float) -> None:
            rows.append(coefs)
            rhs.append(bound)

        for i, child in enumerate(problem.children):
            for p in self.products:
                coefs = {index[("s", i, q, p)]: 1.0 for q in self.products if plat[q] == plat[p]}
                coefs[index[("f", i, p)]] = 1.0
                coefs[index[("x", i, p)]] = -1.0
                row(coefs, child.stock_on_hand.get(p, 0))
            for q in self.products:
                row(
                    {index[("s", i, q, p)]: 1.0 for p in self.products if plat[p] == plat[q]},
                    child.second_dose_due.get(q, 0),
                )
            row({index[("f", i, p)]: 1.0 for p in self.products}, child.first_dose_demand)
            given = {j: 1.0 for j, key in enumerate(self.vars) if key[0] in "sf" and key[1] == i}
            row(given, child.capacity)
            shipped = {index[("x", i, p)]: 1.0 for p in self.products}
            if child.maximum is not None:
                row(shipped, child.maximum)
            if child.minimum:
                row(dict.fromkeys(shipped, -1.0), -child.minimum)
        for product in problem.products:
            whole = product.supply // product.package_size * product.package_size
            row({index[("x", i, product.code)]: 1.0 for i in range(len(problem.children))}, whole)
        self.a_ub = self._matrix(rows)
        self.b_ub = np.array(rhs, dtype=float)
        self.problem = problem
        self.plat = plat

    def _matrix(self, rows: list[dict[int, float]]) -> sparse.csr_matrix:
        data, r, c = [], [], []
        for k, coefs in enumerate(rows):
            for j, v in coefs.items():
                r.append(k)
                c.append(j)
                data.append(v)
        return sparse.csr_matrix((data, (r, c)), shape=(len(rows), len(self.vars)))

    def second_entities(self) -> tuple[list[tuple[int, str]], np.ndarray]:
        """Rows (i, platform) of second doses given / due, for entities with doses due."""
        keys, rows = [], []
        for i, child in enumerate(self.problem.children):
            for g in self.platforms:
                due = sum(v for q, v in child.second_dose_due.items() if self.plat[q] == g)
                if due <= 0:
                    continue
                coefs = np.zeros(len(self.vars))
                for j, key in enumerate(self.vars):
                    if key[0] == "s" and key[1] == i and self.plat[key[2]] == g:
                        coefs[j] = 1.0 / due
                keys.append((i, g))
                rows.append(coefs)
        return keys, np.array(rows).reshape(len(rows), len(self.vars))

    def first_entities(self) -> tuple[list[int], np.ndarray]:
        """Rows of first doses given / demand, for children with demand."""
        keys, rows = [], []
        for i, child in enumerate(self.problem.children):
            if child.first_dose_demand <= 0:
                continue
            coefs = np.zeros(len(self.vars))
            for p in self.products:
                coefs[self.index[("f", i, p)]] = 1.0 / child.first_dose_demand
            keys.append(i)
            rows.append(coefs)
        return keys, np.array(rows).reshape(len(rows), len(self.vars))


def progressive_filling(
    a_ub: sparse.csr_matrix,
    b_ub: np.ndarray,
    levels: np.ndarray,
    weights: np.ndarray,
    held: list[tuple[np.ndarray, float]] | None = None,
) -> np.ndarray:
    """Max–min fair values of ``levels @ x / weights`` by the LP sequence; returns the levels."""
    n_ent, n_var = levels.shape
    held = list(held or [])
    frozen = np.full(n_ent, np.nan)
    bounds = [(0, None)] * n_var
    while np.isnan(frozen).any():
        rising = np.isnan(frozen)
        # Variables: x and t. Rows: constraints; −level_e + w_e t ≤ 0 (rising); −level_e ≤ −v.
        extra_rows, extra_rhs = [], []
        for e in range(n_ent):
            r = np.zeros(n_var + 1)
            r[:n_var] = -levels[e]
            if rising[e]:
                r[n_var] = weights[e]
                extra_rhs.append(0.0)
            else:
                extra_rhs.append(-frozen[e] + TOL)
            extra_rows.append(r)
        for coefs, value in held:
            r = np.zeros(n_var + 1)
            r[:n_var] = -coefs
            extra_rows.append(r)
            extra_rhs.append(-value + TOL)
        base = sparse.hstack([a_ub, sparse.csr_matrix((a_ub.shape[0], 1))])
        a_all = sparse.vstack([base, sparse.csr_matrix(np.array(extra_rows))]).tocsr()
        b_all = np.concatenate([b_ub, extra_rhs])
        cost = np.zeros(n_var + 1)
        cost[n_var] = -1.0
        res = linprog(cost, A_ub=a_all, b_ub=b_all, bounds=[*bounds, (0, None)], method="highs")
        assert res.status in (0, 3), res.message
        if res.status == 3:  # unbounded t: every rising entity can be served without limit
            top = 1.0 / weights[rising].min() + 1.0
            res = linprog(cost, A_ub=a_all, b_ub=b_all, bounds=[*bounds, (0, top)], method="highs")
        t = res.x[n_var]
        any_frozen = False
        for e in np.nonzero(rising)[0]:
            # Can e rise with every other entity held at its level?
            a_e = a_all.copy().tolil()
            b_e = b_all.copy()
            row_e = a_ub.shape[0] + e
            a_e[row_e, n_var] = 0.0
            b_e[row_e] = 0.0
            cost_e = np.zeros(n_var + 1)
            cost_e[:n_var] = -levels[e]
            t_held = max(0.0, t - 1e-7)  # a hair below the optimum keeps the LP feasible
            fixed_t = [*bounds, (t_held, t_held)]
            res_e = linprog(cost_e, A_ub=a_e.tocsr(), b_ub=b_e, bounds=fixed_t, method="highs")
            best = -res_e.fun if res_e.status == 0 else weights[e] * t
            if best <= weights[e] * t + 1e-6:
                frozen[e] = weights[e] * t
                any_frozen = True
        if not any_frozen:
            frozen[rising] = weights[rising] * t
    return frozen


def reference_fills(problem: Problem) -> tuple[dict[tuple[int, str], float], dict[int, float]]:
    """Second-dose fills per (child, platform) and first-dose fills per child, by the LP sequence."""
    model = _Model(problem)
    keys2, rows2 = model.second_entities()
    second = progressive_filling(model.a_ub, model.b_ub, rows2, np.ones(len(keys2))) if keys2 else np.zeros(0)
    held = [(rows2[e], second[e]) for e in range(len(keys2))]
    keys1, rows1 = model.first_entities()
    weights = np.array([problem.children[i].weight for i in keys1])
    first = progressive_filling(model.a_ub, model.b_ub, rows1, weights, held) if keys1 else np.zeros(0)
    return (
        {k: float(v) for k, v in zip(keys2, second, strict=True)},
        {k: float(v) for k, v in zip(keys1, first, strict=True)},
    )
