"""Invariants every allocation must keep; shared by the allocation tests."""

from __future__ import annotations

from vaxops.planning.allocation import AllocationResult, Problem

BOUND_BY_OWN_LIMIT = {"demand", "capacity", "maximum"}


def check_invariants(problem: Problem, result: AllocationResult) -> None:
    """Assert conservation, bounds, whole packages, no idle doses, policy order and fairness."""
    products = {p.code: p for p in problem.products}
    children = {c.code: c for c in problem.children}
    outcome = {c.code: c for c in result.children}
    shipped_by_product = dict.fromkeys(products, 0)
    shipped_by_child = dict.fromkeys(children, 0)
    first_by_product = dict.fromkeys(products, 0)
    for row in result.allocations:
        product = products[row.product]
        assert row.doses > 0
        assert row.doses % product.package_size == 0, "shipments are whole packages"
        assert row.first_doses + row.second_doses == row.doses, "no shipped dose stays idle"
        assert row.first_doses >= 0 and row.second_doses >= 0
        shipped_by_product[row.product] += row.doses
        shipped_by_child[row.code] += row.doses
        first_by_product[row.product] += row.first_doses
    for code, product in products.items():
        assert shipped_by_product[code] <= product.supply, "never more than the supply"
        assert result.unallocated[code] == product.supply - shipped_by_product[code]
    for code, child in children.items():
        got = outcome[code]
        assert got.doses == shipped_by_child[code]
        assert got.first_doses + got.second_doses <= child.capacity, "never above capacity"
        assert got.first_doses <= child.first_dose_demand
        assert got.second_doses <= sum(child.second_dose_due.values())
        assert got.stock_used <= sum(child.stock_on_hand.values())
        assert got.doses >= child.minimum, "minimums honoured"
        if child.maximum is not None:
            assert got.doses <= child.maximum
        assert got.binding in {"demand", "capacity", "maximum", "minimum", "supply"}
        assert got.explanation

    # Second doses first: while a child could take a whole package of a platform for its
    # due second doses, no package of that platform that would fit goes to first doses anywhere. (A minimum is
    # a hard guarantee and may claim the last package, so problems with minimums are exempt.)
    platform_of = {p.code: p.platform for p in problem.products}
    shipped_first = dict.fromkeys(children, 0)
    for row in result.allocations:
        shipped_first[row.code] += row.first_doses
    for code, child in children.items():
        got = outcome[code]
        for platform in {platform_of[q] for q, v in child.second_dose_due.items() if v > 0}:
            due = sum(v for q, v in child.second_dose_due.items() if platform_of[q] == platform)
            room = min(
                due - got.second_doses_by_platform.get(platform, 0),
                child.capacity - got.first_doses - got.second_doses + got.first_doses,
                (child.maximum if child.maximum is not None else 10**12) - got.doses + shipped_first[code],
            )
            if any(c.minimum for c in problem.children):
                continue
            for product in problem.products:
                if product.platform == platform and product.package_size <= room:
                    assert first_by_product[product.code] == 0, (code, product.code, room)

    # Max–min fairness with priority tilt, beyond one package of rounding per product: a
    # child below another is capped by its own limits, unless the other is above only on
    # its own stock on hand (it received no first doses from the parent) or its minimum.
    slack = sum(p.package_size for p in problem.products)
    rated = [
        (code, outcome[code].first_dose_fill / child.weight, slack / (child.first_dose_demand * child.weight))
        for code, child in children.items()
        if child.first_dose_demand > 0 and outcome[code].binding != "minimum"
    ]
    for code_i, ratio_i, tol_i in rated:
        for code_j, ratio_j, tol_j in rated:
            if ratio_i < ratio_j - tol_i - tol_j - 1e-9 and shipped_first[code_j] > 0:
                assert outcome[code_i].binding in BOUND_BY_OWN_LIMIT, (code_i, ratio_i, code_j, ratio_j)

    # No vaccine left idle while a child could still use a whole package of it.
    for code, product in products.items():
        if result.unallocated[code] < product.package_size:
            continue
        for child_code, child in children.items():
            got = outcome[child_code]
            due_on_platform = sum(
                v for q, v in child.second_dose_due.items() if platform_of[q] == product.platform
            )
            room = min(
                child.capacity - got.first_doses - got.second_doses,
                (child.maximum if child.maximum is not None else 10**12) - got.doses,
                child.first_dose_demand
                - got.first_doses
                + due_on_platform
                - got.second_doses_by_platform.get(product.platform, 0),
            )
            assert room < product.package_size, (code, child_code, room)
