"""Random problems (Hypothesis): invariants of every answer, and agreement with the LP sequence."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vaxops.planning.allocation import AllocationError, allocate, parse_problem
from vaxops.planning.allocation.reference import reference_fills

from .allocation_checks import check_invariants

PLATFORMS = ["inactivated", "adenovirus_vector"]


@st.composite
def problems(draw, with_minimums: bool = True, package_sizes=(1, 2, 5), max_children: int = 6) -> dict:
    """A random problem: 1–3 products on two platforms, 1–6 children, small numbers."""
    n_products = draw(st.integers(1, 3))
    codes = ["P1", "P2", "P3"][:n_products]
    products = {
        code: {
            "platform": draw(st.sampled_from(PLATFORMS)),
            "package_size": draw(st.sampled_from(package_sizes)),
        }
        for code in codes
    }
    supply = {code: draw(st.integers(0, 120)) for code in codes}
    children = []
    for i in range(draw(st.integers(1, max_children))):
        child = {
            "code": f"c{i}",
            "weight": draw(st.sampled_from([1.0, 1.5, 2.0])),
            "capacity": draw(st.integers(0, 80)),
            "first_dose_demand": draw(st.integers(0, 60)),
            "second_dose_due": draw(st.dictionaries(st.sampled_from(codes), st.integers(0, 25), max_size=2)),
            "stock_on_hand": draw(st.dictionaries(st.sampled_from(codes), st.integers(0, 12), max_size=2)),
        }
        if draw(st.booleans()):
            child["max"] = draw(st.integers(0, 60))
        if with_minimums and draw(st.integers(0, 4)) == 0:
            child["min"] = draw(st.integers(0, 15))
            child["max"] = max(child.get("max") or 0, child["min"]) if "max" in child else None
        children.append(child)
    return {"products": products, "supply": supply, "children": children}


@settings(max_examples=250, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_every_answer_keeps_the_invariants(data: dict) -> None:
    problem = parse_problem(data)
    try:
        result = allocate(problem)
    except AllocationError as error:
        # Only the minimums may make a valid problem unsolvable, and only when they bind.
        assert error.code == "infeasible_minimums"
        assert any(c.minimum > 0 for c in problem.children)
        return
    check_invariants(problem, result)


@settings(max_examples=40, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(with_minimums=False, package_sizes=(1,), max_children=4))
def test_fills_match_the_progressive_filling_lp_sequence(data: dict) -> None:
    """The closed-form filling and the literal LP sequence of the specification agree."""
    problem = parse_problem(data)
    result = allocate(problem)
    second, first = reference_fills(problem)
    plan = result.plan
    assert plan is not None
    for (i, platform), fill in second.items():
        assert abs(plan.second_dose_fill[i, plan.platforms.index(platform)] - fill) < 1e-4
    for i, fill in first.items():
        assert abs(plan.first_dose_fill[i] - fill) < 1e-4
    assert np.isnan(plan.first_dose_fill[[c.first_dose_demand == 0 for c in problem.children]]).all()
