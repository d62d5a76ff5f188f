"""The allocation policy, rule by rule, on small problems with known answers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vaxops.planning.allocation import AllocationError, allocate, microplan_needs, parse_problem
from vaxops.planning.allocation.baseline import compare_with_proportional
from vaxops.planning.allocation.cli import allocate_main

from .allocation_checks import check_invariants

SCENARIOS = Path(__file__).resolve().parents[3] / "scenarios"
ONE = {"BIBP": {"platform": "inactivated", "package_size": 1}}


def solve(data: dict):
    problem = parse_problem(data)
    result = allocate(problem)
    check_invariants(problem, result)
    return problem, {c.code: c for c in result.children}, result


def test_due_second_doses_are_served_before_any_first_dose() -> None:
    _, kids, _ = solve(
        {
            "products": ONE,
            "supply": {"BIBP": 100},
            "children": [
                {"code": "A", "capacity": 500, "first_dose_demand": 500, "second_dose_due": {"BIBP": 80}},
                {"code": "B", "capacity": 500, "first_dose_demand": 500},
            ],
        }
    )
    assert kids["A"].second_doses == 80
    assert kids["A"].first_doses + kids["B"].first_doses == 20


def test_short_second_doses_are_shared_in_proportion_to_what_is_due() -> None:
    _, kids, _ = solve(
        {
            "products": ONE,
            "supply": {"BIBP": 300},
            "children": [
                {"code": "A", "capacity": 900, "first_dose_demand": 10, "second_dose_due": {"BIBP": 400}},
                {"code": "B", "capacity": 900, "first_dose_demand": 10, "second_dose_due": {"BIBP": 200}},
            ],
        }
    )
    assert (kids["A"].second_doses, kids["B"].second_doses) == (200, 100)
    assert kids["A"].first_doses == kids["B"].first_doses == 0
    assert kids["A"].second_dose_binding == "supply"


def test_same_product_first_then_same_platform_never_another_platform() -> None:
    products = {
        "BIBP": {"platform": "inactivated", "package_size": 1},
        "CORONAVAC": {"platform": "inactivated", "package_size": 1},
        "AD5": {"platform": "adenovirus_vector", "package_size": 1},
    }
    _, kids, result = solve(
        {
            "products": products,
            "supply": {"BIBP": 0, "CORONAVAC": 50, "AD5": 100},
            "children": [
                {"code": "A", "capacity": 500, "first_dose_demand": 0, "second_dose_due": {"BIBP": 80}}
            ],
        }
    )
    shipped = {a.product: a for a in result.allocations}
    assert shipped["CORONAVAC"].second_doses == 50  # substitutes within the platform
    assert "AD5" not in shipped  # never across platforms; AD5 stays at the parent
    assert result.unallocated["AD5"] == 100


def test_first_doses_max_min_fair_with_priority_weight() -> None:
    _, kids, result = solve(
        {
            "products": ONE,
            "supply": {"BIBP": 4000},
            "children": [
                {"code": "mass", "weight": 2, "capacity": 9000, "first_dose_demand": 4000},
                {"code": "border", "weight": 1.5, "capacity": 9000, "first_dose_demand": 4000},
                {"code": "plain", "capacity": 9000, "first_dose_demand": 4000},
            ],
        }
    )
    # fill = weight × t with 4000 t (2 + 1.5 + 1) = 4000.
    t = 1 / 4.5
    assert kids["mass"].first_doses == pytest.approx(4000 * 2 * t, abs=1)
    assert kids["border"].first_doses == pytest.approx(4000 * 1.5 * t, abs=1)
    assert kids["plain"].first_doses == pytest.approx(4000 * t, abs=1)
    assert {c.binding for c in kids.values()} == {"supply"}
    assert result.level == pytest.approx(t, rel=1e-6)


def test_a_capped_child_drops_out_and_the_others_keep_rising() -> None:
    _, kids, _ = solve(
        {
            "products": ONE,
            "supply": {"BIBP": 1000},
            "children": [
                {"code": "small", "capacity": 100, "first_dose_demand": 1000},
                {"code": "big", "capacity": 5000, "first_dose_demand": 1000},
            ],
        }
    )
    assert kids["small"].first_doses == 100 and kids["small"].binding == "capacity"
    assert kids["big"].first_doses == 900 and kids["big"].binding == "supply"


def test_stock_on_hand_is_used_first_and_reduces_shipments() -> None:
    _, kids, result = solve(
        {
            "products": ONE,
            "supply": {"BIBP": 1000},
            "children": [
                {"code": "A", "capacity": 600, "first_dose_demand": 600, "stock_on_hand": {"BIBP": 300}},
                {"code": "B", "capacity": 600, "first_dose_demand": 600},
            ],
        }
    )
    # Fair level 1300 / 1200 > 1: both reach their demand; A needs only 300 shipped.
    assert kids["A"].doses == 300 and kids["A"].stock_used == 300
    assert kids["B"].doses == 600
    assert result.unallocated["BIBP"] == 100


def test_whole_packages_and_minimum_and_maximum() -> None:
    _, kids, result = solve(
        {
            "products": {"BIBP": {"platform": "inactivated", "package_size": 10}},
            "supply": {"BIBP": 1005},
            "children": [
                {"code": "A", "capacity": 2000, "first_dose_demand": 2000, "min": 700},
                {"code": "B", "capacity": 2000, "first_dose_demand": 2000, "max": 95},
                {"code": "C", "capacity": 2000, "first_dose_demand": 2000},
            ],
        }
    )
    assert all(a.doses % 10 == 0 for a in result.allocations)
    assert kids["A"].doses >= 700 and kids["A"].binding == "minimum"
    assert kids["B"].doses == 90 and kids["B"].binding == "maximum"
    assert result.unallocated["BIBP"] == 5  # less than one package


def test_zero_supply_and_zero_demand_give_an_all_zero_answer() -> None:
    _, kids, result = solve(
        {
            "products": ONE,
            "supply": {"BIBP": 0},
            "children": [{"code": "A", "capacity": 10, "first_dose_demand": 10}],
        }
    )
    assert result.allocations == [] and kids["A"].binding == "supply"
    _, kids, result = solve(
        {
            "products": ONE,
            "supply": {"BIBP": 50},
            "children": [{"code": "A", "capacity": 10, "first_dose_demand": 0}],
        }
    )
    assert result.allocations == [] and result.unallocated == {"BIBP": 50}
    assert kids["A"].first_dose_fill is None and kids["A"].binding == "demand"


def test_optimiser_beats_proportional_shares_on_ganzi() -> None:
    """Same supply, same counties: fairer by fill / weight and no dose idle at a county."""
    problem = parse_problem(json.loads((SCENARIOS / "alloc_ganzi.json").read_text(encoding="utf-8")))
    result = allocate(problem)
    check_invariants(problem, result)
    comparison = compare_with_proportional(problem, result)
    optimiser, proportional = comparison["optimiser"], comparison["proportional"]
    assert optimiser["idle_at_children"] == 0
    assert optimiser["doses_placed"] >= proportional["doses_placed"]
    assert optimiser["min_fill_over_weight"] > proportional["min_fill_over_weight"]
    assert optimiser["jain_index"] > proportional["jain_index"]
    assert optimiser["second_dose_coverage"] == 1.0


def test_proportional_shares_leave_doses_idle_where_capacity_is_short() -> None:
    problem = parse_problem(
        {
            "products": ONE,
            "supply": {"BIBP": 1000},
            "children": [
                {"code": "town", "population": 500, "capacity": 200, "first_dose_demand": 500},
                {"code": "city", "population": 500, "capacity": 900, "first_dose_demand": 500},
            ],
        }
    )
    comparison = compare_with_proportional(problem, allocate(problem))
    assert comparison["proportional"]["idle_at_children"] == 300  # town gets 500, can give 200
    assert comparison["optimiser"]["idle_at_children"] == 0
    assert comparison["optimiser"]["doses_placed"] == 700
    assert comparison["proportional"]["doses_placed"] == 700  # city is demand-bound at 500
    assert comparison["optimiser"]["shipped"] == 700


def test_microplan_needs_follow_who_formula() -> None:
    needs = microplan_needs(1000, 0.8, 2, wastage_rate=0.2, buffer_doses=100, stock_on_hand=50)
    assert needs.target_people == 800 and needs.first_dose_demand == 800
    assert needs.doses_needed == 800 * 2 * 1.25 + 100 - 50
    problem = parse_problem(
        {
            "products": ONE,
            "supply": {"BIBP": 10},
            "children": [
                {
                    "code": "A",
                    "capacity": 9,
                    "microplan": {"target_population": 100, "coverage_target": 0.5, "already_vaccinated": 20},
                }
            ],
        }
    )
    assert problem.children[0].first_dose_demand == 30


@pytest.mark.parametrize(
    ("patch", "code", "field"),
    [
        (lambda d: d["children"][0].update(capacity=-1), "negative_value", "children[0].capacity"),
        (
            lambda d: d["children"][0].pop("first_dose_demand"),
            "missing_field",
            "children[0].first_dose_demand",
        ),
        (lambda d: d["children"][0].pop("capacity"), "missing_field", "children[0].capacity"),
        (lambda d: d["supply"].update(XX=5), "unknown_product", "supply.XX"),
        (
            lambda d: d["children"][0].update(second_dose_due={"XX": 1}),
            "unknown_product",
            "children[0].second_dose_due.XX",
        ),
        (lambda d: d["supply"].pop("BIBP"), "missing_field", "supply.BIBP"),
        (lambda d: d["supply"].update(BIBP=-5), "negative_value", "supply.BIBP"),
        (lambda d: d["supply"].update(BIBP="many"), "invalid_value", "supply.BIBP"),
        (lambda d: d["children"][0].update(weight=-1), "negative_value", "children[0].weight"),
        (lambda d: d["children"][0].update(min=50, max=10), "infeasible_minimums", "children[0].min"),
        (lambda d: d["children"][0].update(min=500), "infeasible_minimums", "children[0].min"),
        (lambda d: d["children"].append(dict(d["children"][0])), "duplicate_code", "children[1].code"),
        (lambda d: d.pop("products"), "missing_field", "products"),
    ],
)
def test_bad_input_is_refused_with_a_stable_code_naming_the_field(patch, code: str, field: str) -> None:
    data = {
        "products": dict(ONE),
        "supply": {"BIBP": 100},
        "children": [{"code": "A", "capacity": 80, "first_dose_demand": 90}],
    }
    patch(data)
    with pytest.raises(AllocationError) as caught:
        allocate(parse_problem(data))
    assert caught.value.code == code
    assert caught.value.field == field
    assert field in str(caught.value)


def test_minimums_above_supply_are_infeasible_with_the_reason() -> None:
    data = json.loads((SCENARIOS / "alloc_infeasible_minimums.json").read_text(encoding="utf-8"))
    with pytest.raises(AllocationError) as caught:
        allocate(parse_problem(data))
    assert caught.value.code == "infeasible_minimums"
    assert "14000" in caught.value.message and "10000" in caught.value.message


def test_command_prints_table_and_json_and_exits_2_on_errors(capsys) -> None:
    assert allocate_main([str(SCENARIOS / "alloc_ganzi.json")]) == 0
    table = capsys.readouterr().out
    assert "513301 Kangding" in table and "unallocated" in table
    assert allocate_main([str(SCENARIOS / "alloc_example.json"), "--json", "--compare"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert {"allocations", "children", "unallocated", "totals", "comparison"} <= set(document)
    assert {"code", "product", "doses", "first_doses", "second_doses"} <= set(document["allocations"][0])
    assert {"code", "first_dose_fill", "second_dose_fill", "binding", "explanation"} <= set(
        document["children"][0]
    )
    assert allocate_main([str(SCENARIOS / "alloc_infeasible_minimums.json")]) == 2
    assert "infeasible_minimums" in capsys.readouterr().err
    assert allocate_main([str(SCENARIOS / "does_not_exist.json"), "--json"]) == 2
    assert json.loads(capsys.readouterr().out)["error"]["code"] == "bad_problem_file"
