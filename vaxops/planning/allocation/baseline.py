"""Plain proportional shares, the rule the optimiser is compared with.

The baseline splits each product's supply among the children in proportion to their
population (the ``population`` field of a child, or its first-dose demand plus due second
doses when no population is given), in whole packages by largest remainder, with no regard
to capacity, demand, stock on hand or due second doses. Doses are then used at each child by
the same rule as the optimiser's plan (``solver.dispatch``), and the two are compared on
doses placed (given within capacity and demand), doses left idle at children, due second
doses covered and first-dose fairness.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .model import Problem
from .solver import AllocationResult, _Arrays, dispatch


def proportional_shipments(problem: Problem, populations: list[float] | None = None) -> np.ndarray:
    """(children, products) doses shipped by population share, in whole packages."""
    a = _Arrays.of(problem)
    if populations is None and all(c.population is not None for c in problem.children):
        populations = [float(c.population or 0) for c in problem.children]
    if populations is None:
        populations = [float(c.first_dose_demand + sum(c.second_dose_due.values())) for c in problem.children]
    pop = np.array(populations, dtype=float)
    shipped = np.zeros(a.due.shape)
    if pop.sum() <= 0:
        return shipped
    for j in range(a.k.size):
        packages = a.supply[j] / a.k[j]
        quota = packages * pop / pop.sum()
        whole = np.floor(quota)
        spare = int(round(packages - whole.sum()))
        if spare > 0:
            whole[np.argsort(-(quota - whole), kind="stable")[:spare]] += 1
        shipped[:, j] = whole * a.k[j]
    return shipped


def _metrics(problem: Problem, shipped: np.ndarray) -> dict[str, Any]:
    a = _Arrays.of(problem)
    use = dispatch(a, a.stock + shipped)
    given_first = use.first.sum(axis=1)
    stock_used = np.minimum(use.second + use.first, a.stock).sum()
    placed = use.second.sum() + use.first.sum() - stock_used
    has_demand = a.demand > 0
    ratio = given_first[has_demand] / (a.demand[has_demand] * a.weight[has_demand])
    jain = (
        float(ratio.sum() ** 2 / (ratio.size * (ratio**2).sum()))
        if ratio.size and (ratio**2).sum() > 0
        else 1.0
    )
    due = a.due.sum()
    return {
        "shipped": int(round(shipped.sum())),
        "doses_placed": int(round(placed)),
        "idle_at_children": int(round(shipped.sum() - placed)),
        "second_dose_coverage": float(use.second.sum() / due) if due else 1.0,
        "first_doses": int(round(given_first.sum())),
        "min_fill_over_weight": float(ratio.min()) if ratio.size else 1.0,
        "jain_index": jain,
    }


def compare_with_proportional(
    problem: Problem, result: AllocationResult, populations: list[float] | None = None
) -> dict[str, dict[str, Any]]:
    """Optimiser vs proportional shares on the same problem: ``{"optimiser": …, "proportional": …}``.

    ``min_fill_over_weight`` is the smallest first-dose fill / weight over children with
    demand; ``jain_index`` is Jain's fairness index of fill / weight (1 = all equal).
    """
    codes = [p.code for p in problem.products]
    index = {c.code: i for i, c in enumerate(problem.children)}
    shipped = np.zeros((len(problem.children), len(codes)))
    for row in result.allocations:
        shipped[index[row.code], codes.index(row.product)] += row.doses
    return {
        "optimiser": _metrics(problem, shipped),
        "proportional": _metrics(problem, proportional_shipments(problem, populations)),
    }
