"""The allocation optimiser: policy, water-filling, product assignment LP and rounding.

The policy (``docs/allocation.md``) in the order it is applied:

1. Stock on hand at each child covers its own due second doses, then its first doses.
2. Due second doses are served from the parent's supply, the same product first and
   otherwise a product of the same platform. When a platform is short, every child gets
   the same share of what is due to it (progressive filling of the second-dose fill, so a
   child capped by its capacity or maximum drops out and the others keep rising).
3. First doses: progressive filling of ``fill_i / weight_i`` (max–min fairness with a
   priority tilt), each child capped by its first-dose demand, its remaining capacity and
   its maximum, and raised to its minimum.
4. Products: a second dose takes its own product (shared in proportion when short); a small
   LP (HiGHS) sets how much of each product goes to substitute second doses and to first
   doses; the northwest-corner rule spreads those totals over the children.
5. Shipments are rounded down to whole packages, then the spare packages go, one at a
   time per child and round, to the child that is furthest behind and can use a whole
   package; this repeats until no child can use a package of what is left.

Steps 2 and 3 are the progressive-filling LP sequence of the specification solved in closed
form: the aggregate problems are single-commodity per platform (step 2) and overall
(step 3), so the level at which each child freezes follows from sorting breakpoints
(step 3) or a monotone fixed point over the few platforms (step 2). ``reference.py`` runs
the literal LP sequence and the tests check both agree.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import linprog

from .errors import AllocationError
from .model import Problem

# Tolerance of the floating-point computations, in doses.
EPS = 1e-7


@dataclass(frozen=True)
class ProductAllocation:
    """Doses of one product shipped to one child."""

    code: str
    product: str
    doses: int
    first_doses: int
    second_doses: int
    packages: int


@dataclass(frozen=True)
class ChildOutcome:
    """What one child gets, how full its needs are, and what stops it getting more."""

    code: str
    doses: int
    """Doses shipped, all products."""
    first_doses: int
    """First doses it can give: from stock on hand and shipped."""
    second_doses: int
    first_dose_demand: int
    second_dose_due: int
    stock_used: int
    """Doses of its own stock on hand that the plan uses."""
    capacity: int
    first_dose_fill: float | None
    """First doses / first-dose demand; ``None`` when there is no demand."""
    second_dose_fill: float | None
    """Second doses / second doses due; ``None`` when none are due."""
    binding: str
    """``demand``, ``capacity``, ``maximum``, ``minimum`` or ``supply``."""
    second_dose_binding: str
    explanation: str
    weight: float
    second_doses_by_platform: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class ContinuousPlan:
    """Fills of the plan before rounding: the exact progressive-filling solution."""

    platforms: tuple[str, ...]
    second_dose_fill: np.ndarray
    """(children, platforms): second doses given / due; NaN where none is due."""
    first_dose_fill: np.ndarray
    """(children,): first doses given / demand; NaN where there is no demand."""
    first_dose_level: float


@dataclass
class AllocationResult:
    """The answer: allocations per child and product, outcomes per child, totals."""

    allocations: list[ProductAllocation]
    children: list[ChildOutcome]
    supply: dict[str, int]
    unallocated: dict[str, int]
    level: float
    """The common first-dose level ``fill / weight`` of the children bound by supply."""
    timings: dict[str, float] = field(default_factory=dict)
    plan: ContinuousPlan | None = None
    """The plan before rounding to packages, kept for validation."""

    def totals(self) -> dict[str, int]:
        """Doses shipped, of which second and first, and doses left at the parent."""
        return {
            "supply": sum(self.supply.values()),
            "shipped": sum(a.doses for a in self.allocations),
            "second_doses": sum(c.second_doses for c in self.children),
            "first_doses": sum(c.first_doses for c in self.children),
            "stock_used": sum(c.stock_used for c in self.children),
            "unallocated": sum(self.unallocated.values()),
        }

    def as_dict(self) -> dict[str, Any]:
        """The result in the JSON output format (``docs/allocation.md``)."""
        return {
            "allocations": [
                {
                    "code": a.code,
                    "product": a.product,
                    "doses": a.doses,
                    "packages": a.packages,
                    "first_doses": a.first_doses,
                    "second_doses": a.second_doses,
                }
                for a in self.allocations
            ],
            "children": [
                {
                    "code": c.code,
                    "doses": c.doses,
                    "first_doses": c.first_doses,
                    "second_doses": c.second_doses,
                    "stock_used": c.stock_used,
                    "first_dose_fill": None if c.first_dose_fill is None else round(c.first_dose_fill, 6),
                    "second_dose_fill": None if c.second_dose_fill is None else round(c.second_dose_fill, 6),
                    "binding": c.binding,
                    "second_dose_binding": c.second_dose_binding,
                    "explanation": c.explanation,
                }
                for c in self.children
            ],
            "totals": self.totals(),
            "unallocated": dict(self.unallocated),
            # null when every child could be served in full (no common level binds).
            "first_dose_level": round(self.level, 6) if np.isfinite(self.level) else None,
        }


@dataclass
class _Arrays:
    """The problem as numpy arrays: children along axis 0, products along axis 1."""

    k: np.ndarray  # package size
    supply: np.ndarray  # shippable supply: whole packages only
    platform: np.ndarray  # platform index of each product
    n_platforms: int
    due: np.ndarray
    stock: np.ndarray
    capacity: np.ndarray
    demand: np.ndarray
    weight: np.ndarray
    minimum: np.ndarray
    maximum: np.ndarray  # inf when none

    @classmethod
    def of(cls, problem: Problem) -> _Arrays:
        codes = [p.code for p in problem.products]
        platforms = sorted({p.platform for p in problem.products})
        n, m = len(problem.children), len(codes)
        due = np.zeros((n, m))
        stock = np.zeros((n, m))
        for i, child in enumerate(problem.children):
            for j, code in enumerate(codes):
                due[i, j] = child.second_dose_due.get(code, 0)
                stock[i, j] = child.stock_on_hand.get(code, 0)
        k = np.array([p.package_size for p in problem.products], dtype=float)
        return cls(
            k=k,
            supply=np.floor(np.array([p.supply for p in problem.products], dtype=float) / k) * k,
            platform=np.array([platforms.index(p.platform) for p in problem.products]),
            n_platforms=len(platforms),
            due=due,
            stock=stock,
            capacity=np.array([c.capacity for c in problem.children], dtype=float),
            demand=np.array([c.first_dose_demand for c in problem.children], dtype=float),
            weight=np.array([c.weight for c in problem.children], dtype=float),
            minimum=np.array([c.minimum for c in problem.children], dtype=float),
            maximum=np.array(
                [np.inf if c.maximum is None else c.maximum for c in problem.children], dtype=float
            ),
        )

    def by_platform(self, per_product: np.ndarray) -> np.ndarray:
        """Sum an (n, products) array into (n, platforms)."""
        out = np.zeros((per_product.shape[0], self.n_platforms))
        for j, g in enumerate(self.platform):
            out[:, g] += per_product[:, j]
        return out


@dataclass
class _Use:
    """How a child uses the doses it holds (stock on hand plus shipments)."""

    second: np.ndarray  # (n, products): doses of each product given as second doses
    first: np.ndarray  # (n, products): doses of each product given as first doses
    second_by_platform: np.ndarray  # (n, platforms): second doses given, by platform of the series
    due_left: np.ndarray  # (n, products): second doses still due, by product of the series


def split_capacity(avail: np.ndarray, due: np.ndarray, capacity: np.ndarray) -> np.ndarray:
    """Second doses per platform a child gives when its capacity is short.

    Each platform gives ``min(avail_g, due_g · τ)`` with one fill level ``τ`` per child, so
    a child short of capacity keeps the same second-dose fill on every platform (the rule
    of the plan); whole doses: the level is found by bisection, the result rounded down and
    the few doses of capacity left go to the platforms with the lowest fill.
    """
    avail = np.minimum(avail, due)
    capacity = np.maximum(capacity, 0.0)
    enough = avail.sum(axis=1) <= capacity
    if enough.all():
        return avail
    give = avail.copy()
    short = np.nonzero(~enough)[0]
    avail_s, due_s, cap_s = avail[short], due[short], capacity[short]
    lo = np.zeros(short.size)
    hi = np.ones(short.size)
    for _ in range(50):
        mid = (lo + hi) / 2
        ok = np.minimum(avail_s, due_s * mid[:, None]).sum(axis=1) <= cap_s
        lo = np.where(ok, mid, lo)
        hi = np.where(ok, hi, mid)
    give[short] = np.floor(np.minimum(avail_s, due_s * lo[:, None]) + 1e-9)
    for _ in range(avail.shape[1]):
        left = np.floor(capacity - give.sum(axis=1) + 1e-9)
        open_ = (give < avail) & (left[:, None] >= 1)
        if not open_.any():
            break
        with np.errstate(invalid="ignore", divide="ignore"):
            fill = np.where(open_, give / due, np.inf)
        pick = np.argmin(fill, axis=1)
        rows = np.nonzero(open_.any(axis=1))[0]
        give[rows, pick[rows]] += 1
    return give


def dispatch(a: _Arrays, held: np.ndarray, capacity: np.ndarray | None = None) -> _Use:
    """Use the doses each child holds: due second doses first, then first doses.

    Second doses take the same product first, then any product of the same platform; when
    capacity is short the platforms share it at one fill level (``split_capacity``). First
    doses take what is left, within demand and capacity. This is the one rule for how doses
    at a child are used, applied to stock on hand alone and to stock plus shipments.
    """
    n, m = held.shape
    cap = a.capacity if capacity is None else capacity
    avail = held.copy()
    remaining_due = a.due.copy()
    due_pf = a.by_platform(a.due)
    budget = split_capacity(a.by_platform(held), due_pf, cap)
    second = np.zeros((n, m))
    second_pf = np.zeros((n, a.n_platforms))
    pairs = [(q, q) for q in range(m)] + [
        (q, p) for q in range(m) for p in range(m) if p != q and a.platform[p] == a.platform[q]
    ]
    for q, p in pairs:
        g = a.platform[q]
        given = np.minimum(np.minimum(remaining_due[:, q], avail[:, p]), budget[:, g])
        remaining_due[:, q] -= given
        avail[:, p] -= given
        budget[:, g] -= given
        second[:, p] += given
        second_pf[:, g] += given
    first = np.zeros((n, m))
    first_room = np.maximum(np.minimum(a.demand, cap - second.sum(axis=1)), 0.0)
    for p in range(m):
        given = np.minimum(avail[:, p], first_room)
        first_room -= given
        first[:, p] = given
    return _Use(second, first, second_pf, remaining_due)


def _bisect_levels(usage, upper: np.ndarray, hi: float = 1.0, iterations: int = 64) -> np.ndarray:
    """Largest level in ``[0, hi]`` per row with ``usage(level) ≤ upper`` (usage non-decreasing)."""
    lo_v = np.zeros_like(upper)
    hi_v = np.full_like(upper, hi)
    fits_at_top = usage(hi_v) <= upper + EPS
    for _ in range(iterations):
        mid = (lo_v + hi_v) / 2
        ok = usage(mid) <= upper + EPS
        lo_v = np.where(ok, mid, lo_v)
        hi_v = np.where(ok, hi_v, mid)
    return np.where(fits_at_top, hi, lo_v)


def second_dose_levels(
    total_due: np.ndarray,
    covered: np.ndarray,
    capacity: np.ndarray,
    maximum: np.ndarray,
    platform_supply: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Progressive filling of the second-dose fill, per child and platform.

    Every (child, platform) entity rises at the same fill level ``t``: it gives ``due·t``
    second doses, its stock on hand covering the first ``covered`` of them and the parent
    the rest, ``clip(due·t − covered, 0, due − covered)``. A platform freezes when its
    supply runs out (level ``T_g``), except that an entity whose stock on hand covers more
    keeps rising on it; a child freezes when its capacity (all its second
    doses) or its maximum (shipped doses) runs out (level ``tc_i``), all its platforms at
    once, so a child short of capacity keeps the same fill on every platform. ``T`` and
    ``tc`` depend on each other; iterating from ``T = 1`` makes ``tc`` rise and ``T`` fall
    monotonically to the progressive-filling fixed point. Returns (levels (n, G), T, tc).
    """
    n, n_pf = total_due.shape
    need = np.maximum(total_due - covered, 0.0)

    def central(level: np.ndarray) -> np.ndarray:
        return np.clip(total_due * level - covered, 0.0, need)

    with np.errstate(invalid="ignore", divide="ignore"):
        # An entity keeps rising on its own stock after its platform's supply is gone.
        own_stock_level = np.where(total_due > 0, covered / total_due, 1.0)
    plat_level = np.ones(n_pf)
    max_level = np.ones(n)
    cap_level = np.ones(n)
    zeros = np.zeros(n)
    for _ in range(60):
        frozen_plat = plat_level[None, :]

        def over_maximum(t: np.ndarray, frozen: np.ndarray = frozen_plat) -> np.ndarray:
            return central(np.minimum(t[:, None], frozen)).sum(axis=1) - maximum

        max_level = _bisect_levels(over_maximum, zeros)
        # Entities frozen by supply or maximum still rise on their own stock; capacity stops all.
        frozen_supply = np.maximum(np.minimum(frozen_plat, max_level[:, None]), own_stock_level)

        def over_capacity(t: np.ndarray, frozen: np.ndarray = frozen_supply) -> np.ndarray:
            return (total_due * np.minimum(t[:, None], frozen)).sum(axis=1) - capacity

        cap_level = _bisect_levels(over_capacity, zeros)
        child_level = np.minimum(cap_level, max_level)
        new_plat = np.ones(n_pf)
        for g in range(n_pf):

            def plat_usage(t: np.ndarray, g: int = g, frozen: np.ndarray = child_level) -> np.ndarray:
                level = np.minimum(t[0], frozen)
                return np.clip(total_due[:, g] * level - covered[:, g], 0.0, need[:, g]).sum()[None]

            new_plat[g] = _bisect_levels(plat_usage, platform_supply[g : g + 1])[0]
        converged = np.allclose(new_plat, plat_level, atol=1e-13, rtol=0)
        plat_level = new_plat
        if converged:
            break
    frozen_supply = np.maximum(np.minimum(plat_level[None, :], max_level[:, None]), own_stock_level)
    levels = np.minimum(cap_level[:, None], frozen_supply)
    return levels, plat_level, np.stack([cap_level, max_level], axis=1)


def first_dose_level(
    rate: np.ndarray, start: np.ndarray, floor: np.ndarray, room: np.ndarray, supply: float
) -> tuple[float, np.ndarray]:
    """Exact water-filling of first doses.

    Child ``i`` takes ``clip(rate_i·t − start_i, floor_i, room_i)`` doses of the central
    supply at level ``t`` (``rate = weight × demand``, ``start`` = first doses its stock on
    hand covers, ``floor`` = its remaining minimum). The total is piecewise linear and
    non-decreasing in ``t``; the breakpoints are sorted and the level where it meets the
    supply is found on its segment. Returns (level, doses per child); the level is
    ``inf`` when every child can be served in full.
    """
    active = (rate > 0) & (room > floor + EPS)
    base = floor.sum()
    if supply <= base + EPS:
        return 0.0, floor.copy()
    r = rate[active]
    begin = (start[active] + floor[active]) / r
    end = (start[active] + room[active]) / r
    points = np.concatenate([begin, end])
    slopes = np.concatenate([r, -r])
    order = np.argsort(points, kind="stable")
    points, slopes = points[order], np.cumsum(slopes[order])
    # Usage at each breakpoint: the slope after point j holds until point j+1.
    used = base + np.concatenate([[0.0], np.cumsum(slopes[:-1] * np.diff(points))])
    if used.size == 0 or used[-1] <= supply + EPS:
        level = np.inf
    else:
        j = int(np.searchsorted(used, supply, side="right")) - 1
        level = float(points[j] + (supply - used[j]) / slopes[j]) if slopes[j] > 0 else float(points[j])
    with np.errstate(invalid="ignore"):
        doses = np.clip(rate * level - start, floor, np.maximum(room, floor))
    doses = np.where(rate > 0, doses, floor)
    total = doses.sum()
    if total > supply and total > base:
        # Floating-point noise only: trim the rising part back onto the supply.
        excess = total - supply
        rising = doses - floor
        doses -= rising * (excess / rising.sum())
    return level, doses


def _northwest_corner(needs: np.ndarray, amounts: np.ndarray) -> np.ndarray:
    """Spread product amounts over children in order: a basic transportation solution.

    Child ``i`` covers the interval ``[D_{i-1}, D_i)`` of the cumulative needs and product
    ``p`` the interval ``[C_{p-1}, C_p)`` of the cumulative amounts; the child gets the
    overlap. At most ``children + products − 1`` pairs are non-zero, so nearly every child
    receives one product of a kind, which keeps packages whole.
    """
    d_hi = np.cumsum(needs)
    d_lo = d_hi - needs
    c_hi = np.cumsum(amounts)
    c_lo = c_hi - amounts
    overlap = np.minimum(d_hi[:, None], c_hi[None, :]) - np.maximum(d_lo[:, None], c_lo[None, :])
    return np.maximum(overlap, 0.0)


def assign_products(
    a: _Arrays, second_need: np.ndarray, first_need: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Name the product of every central dose: same product, then an LP for the rest.

    1. A second dose takes the product its series began with; where that product is short,
       every child gets the same share of it (closed form, and it maximises same-product
       doses).
    2. A small LP (HiGHS) decides how many doses of each product go to substitute second
       doses (cost 1, same platform only) and to first doses (cost 0), within what is left
       of each product. Its size depends on the products only, not on the children.
    3. Those totals are spread over the children by the northwest-corner rule.
    """
    n, m = second_need.shape
    second = np.zeros((n, m))
    first = np.zeros((n, m))
    left = a.supply.astype(float).copy()
    need_left = second_need.copy()
    for q in range(m):
        total = second_need[:, q].sum()
        if total <= EPS:
            continue
        share = min(1.0, left[q] / total)
        second[:, q] = second_need[:, q] * share
        left[q] -= second[:, q].sum()
        need_left[:, q] -= second[:, q]
    left = np.maximum(left, 0.0)
    substitute_need = need_left.sum(axis=0)
    first_total = float(first_need.sum())
    # LP variables: u[q, p] for p ≠ q on the same platform, then v[p].
    pairs = [
        (q, p)
        for q in range(m)
        if substitute_need[q] > EPS
        for p in range(m)
        if p != q and a.platform[p] == a.platform[q]
    ]
    n_var = len(pairs) + m
    cost = np.concatenate([np.ones(len(pairs)), np.zeros(m)])
    a_eq_rows, b_eq = [], []
    for q in range(m):
        if substitute_need[q] > EPS:
            row = np.zeros(n_var)
            for k, (qq, _) in enumerate(pairs):
                if qq == q:
                    row[k] = 1.0
            a_eq_rows.append(row)
            b_eq.append(substitute_need[q])
    row = np.zeros(n_var)
    row[len(pairs) :] = 1.0
    a_eq_rows.append(row)
    b_eq.append(first_total)
    a_ub = np.zeros((m, n_var))
    for k, (_, p) in enumerate(pairs):
        a_ub[p, k] = 1.0
    a_ub[np.arange(m), len(pairs) + np.arange(m)] = 1.0
    result = linprog(
        cost,
        A_ub=a_ub,
        b_ub=left * (1 + 1e-9) + 1e-6,  # float noise in the needs; rounding restores the bound
        A_eq=np.array(a_eq_rows),
        b_eq=np.array(b_eq),
        bounds=(0, None),
        method="highs",
    )
    if result.status != 0:
        raise AllocationError("solver_failed", f"the product assignment LP failed: {result.message}")
    x = np.maximum(result.x, 0.0)
    for q in range(m):
        if substitute_need[q] <= EPS:
            continue
        amounts = np.zeros(m)
        for k, (qq, p) in enumerate(pairs):
            if qq == q:
                amounts[p] = x[k]
        amounts *= substitute_need[q] / max(amounts.sum(), EPS)
        second += _northwest_corner(need_left[:, q], amounts)
    v = x[len(pairs) :]
    if first_total > EPS:
        v = v * (first_total / max(v.sum(), EPS))
        first = _northwest_corner(first_need, v)
    return second, first


def allocate(problem: Problem) -> AllocationResult:
    """Split the parent's supply among the children by the policy in the module docstring."""
    started = time.perf_counter()
    timings: dict[str, float] = {}
    a = _Arrays.of(problem)
    n, m = a.due.shape

    # 1. Stock on hand covers its own child's due second doses first (capacity comes in step 2).
    local = dispatch(a, a.stock, capacity=np.full(n, np.inf))
    total_due_pf = a.by_platform(a.due)
    covered_pf = local.second_by_platform

    # 2. Due second doses from the parent, shared in proportion to what is due.
    platform_supply = np.array([a.supply[a.platform == g].sum() for g in range(a.n_platforms)])
    levels, plat_level, child_level = second_dose_levels(
        total_due_pf, covered_pf, a.capacity, a.maximum, platform_supply
    )
    given_pf = total_due_pf * levels
    stock_second_pf = np.minimum(given_pf, covered_pf)
    second_pf = np.clip(given_pf - covered_pf, 0.0, None)
    # The last fixed-point step may leave a platform over its supply by rounding noise.
    platform_total = second_pf.sum(axis=0)
    over = platform_total > platform_supply
    if over.any():
        second_pf[:, over] *= platform_supply[over] / platform_total[over]
    second_central = second_pf.sum(axis=1)
    cap_left = a.capacity - given_pf.sum(axis=1)
    stock_left = a.stock.sum(axis=1) - stock_second_pf.sum(axis=1)
    timings["second_doses"] = time.perf_counter() - started

    # 3. First doses: progressive filling of fill / weight.
    stock_first = stock_left
    cap_first = np.maximum(cap_left, 0.0)
    max_first = a.maximum - second_central
    upper = np.maximum(np.minimum(np.minimum(a.demand, cap_first), stock_first + max_first), 0.0)
    start = np.minimum(stock_first, upper)
    room = upper - start
    floor = np.maximum(a.minimum - second_central, 0.0)
    remaining_supply = float(a.supply.sum() - second_pf.sum())
    _check_minimums(problem, a, floor, room, remaining_supply, cap_first, max_first, stock_first)
    level, first_central = first_dose_level(a.weight * a.demand, start, floor, room, remaining_supply)
    timings["first_doses"] = time.perf_counter() - started

    # 4. Products: own product first, a small LP for the rest, northwest-corner spread.
    due_left = local.due_left
    share = np.zeros((n, m))
    need_pf = np.maximum(total_due_pf - covered_pf, 0.0)
    for q in range(m):
        g = a.platform[q]
        with np.errstate(invalid="ignore", divide="ignore"):
            share[:, q] = np.where(need_pf[:, g] > 0, due_left[:, q] / need_pf[:, g], 0.0)
    second_need = share * second_pf[:, a.platform]
    ship_second, ship_first = assign_products(a, second_need, first_central)
    timings["assignment_lp"] = time.perf_counter() - started

    # 5. Whole packages.
    shipped = _round_to_packages(a, ship_second + ship_first, floor_total=a.minimum)
    timings["rounding"] = time.perf_counter() - started

    result = _outcome(
        problem, a, shipped, level, plat_level, child_level, upper, floor, first_central, cap_first
    )
    timings["total"] = time.perf_counter() - started
    result.timings = timings
    with np.errstate(invalid="ignore", divide="ignore"):
        result.plan = ContinuousPlan(
            platforms=tuple(sorted({p.platform for p in problem.products})),
            second_dose_fill=np.where(total_due_pf > 0, (stock_second_pf + second_pf) / total_due_pf, np.nan),
            first_dose_fill=np.where(a.demand > 0, (start + first_central) / a.demand, np.nan),
            first_dose_level=level,
        )
    return result


def _check_minimums(
    problem: Problem,
    a: _Arrays,
    floor: np.ndarray,
    room: np.ndarray,
    remaining_supply: float,
    cap_first: np.ndarray,
    max_first: np.ndarray,
    stock_first: np.ndarray,
) -> None:
    """Raise ``infeasible_minimums`` with the reason when the minimums cannot be honoured."""
    short = np.nonzero(floor > room + EPS)[0]
    if short.size:
        i = int(short[0])
        child = problem.children[i]
        usable = room[i] + (a.minimum[i] - floor[i])
        reasons = []
        if a.demand[i] < floor[i] + stock_first[i]:
            reasons.append(f"first-dose demand {int(a.demand[i])}")
        if cap_first[i] < floor[i] + stock_first[i]:
            reasons.append(f"capacity {int(a.capacity[i])}")
        if stock_first[i] > 0:
            reasons.append(f"{int(stock_first[i])} doses of its own stock on hand used first")
        raise AllocationError(
            "infeasible_minimums",
            f"child {child.code!r} must receive at least {child.minimum} doses but can use only "
            f"{usable:.0f} shipped doses (limited by {', '.join(reasons) or 'its due second doses'})",
            f"children[{i}].min",
        )
    if floor.sum() > remaining_supply + EPS:
        total_min = int(a.minimum.sum())
        raise AllocationError(
            "infeasible_minimums",
            f"the minimums add up to {total_min} doses but the supply is {int(a.supply.sum())} doses in whole "
            f"packages, of which {int(a.supply.sum() - remaining_supply)} go first to due second doses",
            "children[].min",
        )


def _rooms(a: _Arrays, shipped: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, _Use]:
    """Per child: room for more second doses (by platform), for first doses, the capacity and
    maximum limit on a package, and that limit for second doses, which may also take the
    capacity that first doses from the child's own stock hold (the stock then waits)."""
    use = dispatch(a, a.stock + shipped)
    given = use.second.sum(axis=1) + use.first.sum(axis=1)
    cap_room = a.capacity - given
    max_room = a.maximum - shipped.sum(axis=1)
    due_room = np.maximum(a.by_platform(a.due) - use.second_by_platform, 0.0)
    first_room = np.maximum(a.demand - use.first.sum(axis=1), 0.0)
    stock_first = np.minimum(use.first, np.maximum(a.stock - use.second, 0.0)).sum(axis=1)
    limit = np.minimum(cap_room, max_room)
    second_limit = np.minimum(cap_room + stock_first, max_room)
    return due_room, first_room, limit, second_limit, use


def _round_to_packages(a: _Arrays, continuous: np.ndarray, floor_total: np.ndarray) -> np.ndarray:
    """Whole packages that keep every constraint, then no package left that a child could use.

    Rounding down keeps supply, capacity, demand and maximum; only a minimum may be lost,
    and every lost dose sits in a spare package at the parent. Spare packages then go one
    per child per round: first to children below their minimum, then to children whose due
    second doses of that platform are short (lowest second-dose fill first), then to first
    doses (lowest fill / weight first). A package goes only where all its doses can be
    given within capacity, maximum and demand.
    """
    # Solver output carries noise around 1e-9: snap it before taking whole packages.
    continuous = np.round(continuous, 6)
    packages = np.floor(continuous / a.k + 1e-9)
    shipped = packages * a.k
    _, n_products = shipped.shape
    for p in range(n_products):
        # Guard against noise pushing a product over its supply: take back the package that
        # overshoots its continuous value most (in practice never taken).
        while shipped[:, p].sum() > a.supply[p] + EPS:
            shipped[np.argmax(shipped[:, p] - continuous[:, p]), p] -= a.k[p]
    due_pf = a.by_platform(a.due)
    with np.errstate(invalid="ignore", divide="ignore"):
        inv_demand_w = np.where(a.demand > 0, 1.0 / (a.demand * a.weight), 0.0)
    # Two passes: minimums and due second doses first across all products, so a package of
    # one product cannot take the capacity a second dose of another product needs.
    for include_first_doses in (False, True):
        for _ in range(10_000):
            changed = False
            for p in range(n_products):
                spare = int(round((a.supply[p] - shipped[:, p].sum()) / a.k[p]))
                if spare <= 0:
                    continue
                due_room, first_room, limit, second_limit, use = _rooms(a, shipped)
                g = a.platform[p]
                below_min = shipped.sum(axis=1) < floor_total - EPS
                second_short = due_room[:, g] > EPS
                usable = np.minimum(limit, due_room[:, g] + first_room)
                if not include_first_doses:
                    usable = np.maximum(usable, np.minimum(second_limit, due_room[:, g]))
                wanted = below_min | second_short if not include_first_doses else usable > 0
                candidates = np.nonzero((usable >= a.k[p] - EPS) & wanted)[0]
                if candidates.size == 0:
                    continue
                with np.errstate(invalid="ignore", divide="ignore"):
                    second_fill = np.where(
                        due_pf[candidates, g] > 0,
                        use.second_by_platform[candidates, g] / due_pf[candidates, g],
                        1.0,
                    )
                first_key = use.first.sum(axis=1)[candidates] * inv_demand_w[candidates]
                klass = np.where(below_min[candidates], 0, np.where(second_short[candidates], 1, 2))
                key = np.where(klass == 1, second_fill, first_key)
                # A package wholly given as second doses goes before one that is partly first doses.
                partly_first = due_room[candidates, g] < a.k[p] - EPS
                order = np.lexsort((candidates, key, partly_first, klass))
                chosen = candidates[order[:spare]]
                shipped[chosen, p] += a.k[p]
                changed = True
            if not changed:
                break
        if not include_first_doses:
            _reclaim_for_second_doses(a, shipped, floor_total)
    below = np.nonzero(shipped.sum(axis=1) < floor_total - EPS)[0]
    if below.size:
        i = int(below[0])
        raise AllocationError(
            "infeasible_minimums",
            f"the minimum of {int(floor_total[i])} doses cannot be met in whole packages within the "
            f"child's capacity, demand and maximum",
            f"children[{i}].min",
        )
    return shipped


def _reclaim_for_second_doses(a: _Arrays, shipped: np.ndarray, floor_total: np.ndarray) -> None:
    """Move whole packages from first doses to due second doses that rounding left short.

    Package sizes can leave a due second dose unserved while a package of the same platform
    serves a first dose elsewhere (a box of 2 does not fit a child with room for 1, and the
    box of 1 went to a first dose). Second doses come first, so such a package moves: from
    the donor with the highest first-dose fill / weight that keeps its minimum, to the
    short child with the lowest second-dose fill that can give all its doses.
    """
    due_pf = a.by_platform(a.due)
    with np.errstate(invalid="ignore", divide="ignore"):
        inv_demand_w = np.where(a.demand > 0, 1.0 / (a.demand * a.weight), 0.0)
    for _ in range(shipped.shape[0] * shipped.shape[1] + 1):
        due_room, _, _, second_limit, use = _rooms(a, shipped)
        moved = False
        for p in np.argsort(a.k, kind="stable"):
            g = a.platform[p]
            usable = np.minimum(second_limit, due_room[:, g])
            takers = np.nonzero(usable >= a.k[p] - EPS)[0]
            if takers.size == 0:
                continue
            first_shipped = np.minimum(shipped[:, p], use.first[:, p])
            donors = np.nonzero(
                (first_shipped >= a.k[p] - EPS) & (shipped.sum(axis=1) - a.k[p] >= floor_total - EPS)
            )[0]
            donors = donors[~np.isin(donors, takers)]
            if donors.size == 0:
                continue
            with np.errstate(invalid="ignore", divide="ignore"):
                fill = use.second_by_platform[takers, g] / due_pf[takers, g]
            taker = takers[np.argmin(fill)]
            donor = donors[np.argmax(use.first.sum(axis=1)[donors] * inv_demand_w[donors])]
            shipped[donor, p] -= a.k[p]
            shipped[taker, p] += a.k[p]
            moved = True
            break
        if not moved:
            return


def _outcome(
    problem: Problem,
    a: _Arrays,
    shipped: np.ndarray,
    level: float,
    plat_level: np.ndarray,
    child_level: np.ndarray,
    upper: np.ndarray,
    floor: np.ndarray,
    first_central: np.ndarray,
    cap_first: np.ndarray,
) -> AllocationResult:
    use = dispatch(a, a.stock + shipped)
    stock_second = np.minimum(use.second, a.stock)
    stock_first = np.minimum(use.first, a.stock - stock_second)
    ship_second = use.second - stock_second
    ship_first = use.first - stock_first
    idle = shipped - ship_second - ship_first
    if (idle > EPS).any():  # an invariant of the rounding: never ship a dose that cannot be given
        raise AllocationError("solver_failed", "internal error: a shipped dose would stay idle")
    allocations: list[ProductAllocation] = []
    outcomes: list[ChildOutcome] = []
    due_pf = a.by_platform(a.due)
    platform_names = sorted({p.platform for p in problem.products})
    max_first = a.maximum - (a.by_platform(ship_second)).sum(axis=1)

    # Whole numbers once, as Python ints: per-element numpy access is slow at 5,000 children.
    def ints(x: np.ndarray) -> list:
        return np.rint(x).astype(np.int64).tolist()

    shipped_i, first_i, second_i = ints(shipped), ints(ship_first), ints(ship_second)
    packages_i = ints(shipped / a.k)
    doses_c, first_c, second_c = (
        ints(shipped.sum(axis=1)),
        ints(use.first.sum(axis=1)),
        ints(use.second.sum(axis=1)),
    )
    due_c, stock_c = ints(a.due.sum(axis=1)), ints((stock_second + stock_first).sum(axis=1))
    second_pf_c = ints(use.second_by_platform)
    # After rounding, a child left with less room than the smallest package is capped by
    # that limit, not by the supply: packages cannot be split.
    offered = a.supply >= a.k
    smallest = float(a.k[offered].min()) if offered.any() else np.inf
    given_all = use.second.sum(axis=1) + use.first.sum(axis=1)
    room_by = np.stack(
        [
            a.demand - use.first.sum(axis=1),
            a.capacity - given_all,
            a.maximum - shipped.sum(axis=1),
        ],
        axis=1,
    )
    tight = ints(np.argmin(room_by, axis=1))
    tight_room = room_by.min(axis=1).tolist()
    product_codes = [p.code for p in problem.products]
    for i, child in enumerate(problem.children):
        for j, code in enumerate(product_codes):
            if shipped_i[i][j] > 0:
                allocations.append(
                    ProductAllocation(
                        code=child.code,
                        product=code,
                        doses=shipped_i[i][j],
                        first_doses=first_i[i][j],
                        second_doses=second_i[i][j],
                        packages=packages_i[i][j],
                    )
                )
        first, second, due = first_c[i], second_c[i], due_c[i]
        demand = child.first_dose_demand
        if due == 0 or second >= due:
            second_binding = "demand"
        else:
            second_binding = _second_binding(
                a, i, due_pf[i], use.second_by_platform[i], plat_level, child_level[i]
            )
        binding, why = _first_binding(
            child,
            a,
            i,
            level,
            float(upper[i]),
            float(floor[i]),
            float(first_central[i]),
            float(cap_first[i]),
            float(max_first[i]),
            second_binding,
        )
        if binding == "supply" and np.isfinite(smallest) and tight_room[i] < smallest - EPS:
            binding = ("demand", "capacity", "maximum")[tight[i]]
            why = (
                f"{binding} leaves {max(tight_room[i], 0):.0f} doses of room, "
                f"less than one package of {smallest:.0f}"
            )
        outcomes.append(
            ChildOutcome(
                code=child.code,
                doses=doses_c[i],
                first_doses=first,
                second_doses=second,
                first_dose_demand=demand,
                second_dose_due=due,
                stock_used=stock_c[i],
                capacity=child.capacity,
                first_dose_fill=first / demand if demand else None,
                second_dose_fill=second / due if due else None,
                binding=binding,
                second_dose_binding=second_binding,
                explanation=why,
                weight=child.weight,
                second_doses_by_platform=dict(zip(platform_names, second_pf_c[i], strict=True)),
            )
        )
    unallocated = {p.code: int(round(p.supply - shipped[:, j].sum())) for j, p in enumerate(problem.products)}
    return AllocationResult(
        allocations=allocations,
        children=outcomes,
        supply={p.code: p.supply for p in problem.products},
        unallocated=unallocated,
        level=float(level) if np.isfinite(level) else float("inf"),
    )


def _second_binding(
    a: _Arrays, i: int, due: np.ndarray, given: np.ndarray, plat_level: np.ndarray, child_level: np.ndarray
) -> str:
    """Why a child's due second doses are not all covered: its capacity, maximum or the supply."""
    if due.sum() == 0 or given.sum() >= due.sum() - EPS:
        return "demand"
    cap_level, max_level = child_level
    short = (due > given + EPS) & (due > 0)
    if cap_level < 1 - 1e-9 and cap_level <= plat_level[short].min() + 1e-9:
        return "capacity"
    if max_level < 1 - 1e-9 and max_level <= plat_level[short].min() + 1e-9:
        return "maximum"
    return "supply"


def _first_binding(
    child: Any,
    a: _Arrays,
    i: int,
    level: float,
    upper: float,
    floor: float,
    central: float,
    cap_first: float,
    max_first: float,
    second_binding: str,
) -> tuple[str, str]:
    """The constraint that stops the child getting more first doses, with one line of why."""
    demand = child.first_dose_demand
    if demand == 0:
        if second_binding == "demand":
            return "demand", "no first-dose demand; every due second dose is covered"
        return second_binding, f"no first-dose demand; due second doses are limited by {second_binding}"
    if (
        floor > 0
        and central <= floor + EPS
        and (not np.isfinite(level) or a.weight[i] * demand * level < upper)
    ):
        return "minimum", f"held at its minimum of {child.minimum} doses, above its fair share"
    if central + min(a.stock[i].sum(), upper) >= upper - EPS or not np.isfinite(level):
        if upper >= demand - EPS:
            return "demand", "all first-dose demand is met"
        if upper >= cap_first - EPS:
            if cap_first <= EPS:
                return "capacity", "capacity is used up by due second doses"
            return "capacity", f"capacity of {child.capacity} doses is full"
        return "maximum", f"shipments reach its maximum of {child.maximum} doses"
    return "supply", f"supply runs out at the common level: fill = {a.weight[i]:g} × {level:.4f}"
