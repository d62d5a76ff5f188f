"""``vaxops allocate PROBLEM.json [--json] [--compare]``: run the optimiser on a problem file.

Prints a readable table by default, or the result as JSON. A bad or infeasible problem
prints ``error <code>: <field>: <message>`` (or the error object with ``--json``) and exits
with status 2.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

from vaxops.core.numbers import percent

from .baseline import compare_with_proportional
from .errors import AllocationError
from .model import Problem, parse_problem
from .solver import AllocationResult, allocate


def load_problem(path: str) -> Problem:
    """Read and validate a problem file; file and JSON errors become ``bad_problem_file``."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise AllocationError("bad_problem_file", f"cannot read the problem file: {error.strerror}", path)
    except json.JSONDecodeError as error:
        raise AllocationError("bad_problem_file", f"not valid JSON: {error}", path)
    return parse_problem(data)


def result_document(problem: Problem, result: AllocationResult, compare: bool) -> dict[str, Any]:
    """The JSON output: the result, the microplan needs when given, the comparison if asked."""
    document: dict[str, Any] = {"problem": problem.name, **result.as_dict()}
    needs = {
        c.code: {
            "target_people": c.microplan.target_people,
            "first_dose_demand": c.microplan.first_dose_demand,
            "doses_needed": c.microplan.doses_needed,
        }
        for c in problem.children
        if c.microplan is not None
    }
    if needs:
        document["microplan_needs"] = needs
        document["supply_request"] = sum(n["doses_needed"] for n in needs.values())
    if compare:
        document["comparison"] = compare_with_proportional(problem, result)
    return document


def _fill(value: float | None) -> str:
    # The campaign's one rounding (half up), so the table reads what the dashboard would.
    shown = percent(value, 1)
    return "—" if shown is None else f"{shown:5.1f}%"


def render_table(problem: Problem, result: AllocationResult, document: dict[str, Any]) -> str:
    """The readable report: supply, one line per child, shipments by product, totals."""
    products = [p.code for p in problem.products]
    by_child: dict[str, dict[str, int]] = {}
    for row in result.allocations:
        by_child.setdefault(row.code, {})[row.product] = row.doses
    names = {c.code: c.name for c in problem.children}
    lines = []
    if problem.name:
        lines.append(problem.name)
    lines.append(
        "supply: "
        + ", ".join(f"{p.code} {p.supply} ({p.platform}, {p.package_size}/pkg)" for p in problem.products)
    )
    level = result.level
    lines.append(
        "first-dose level (fill / weight of children bound by supply): "
        + ("none binds: every child is capped by its own limits" if math.isinf(level) else f"{level:.4f}")
    )
    lines.append("")
    header = ["child", "w", *products, "2nd", "1st", "stock", "2nd fill", "1st fill", "binding"]
    rows = []
    for c in result.children:
        label = f"{c.code} {names.get(c.code, '')}".strip()
        shipped = by_child.get(c.code, {})
        rows.append(
            [
                label,
                f"{c.weight:g}",
                *[str(shipped.get(p, 0)) for p in products],
                str(c.second_doses),
                str(c.first_doses),
                str(c.stock_used),
                _fill(c.second_dose_fill),
                _fill(c.first_dose_fill),
                c.binding,
            ]
        )
    widths = [max(len(h), *(len(r[k]) for r in rows)) if rows else len(h) for k, h in enumerate(header)]
    fmt = "  ".join(
        f"{{:<{w}}}" if k == 0 or k == len(header) - 1 else f"{{:>{w}}}" for k, w in enumerate(widths)
    )
    lines.append(fmt.format(*header))
    lines.append(fmt.format(*["-" * w for w in widths]))
    lines.extend(fmt.format(*r) for r in rows)
    lines.append("")
    lines.append("why:")
    for c in result.children:
        lines.append(f"  {c.code}: {c.binding} — {c.explanation}")
    totals = result.totals()
    lines.append("")
    lines.append(
        f"totals: supply {totals['supply']}, shipped {totals['shipped']} "
        f"(second doses given {totals['second_doses']}, first doses given {totals['first_doses']}; "
        f"stock on hand used {totals['stock_used']}), unallocated {totals['unallocated']}"
    )
    lines.append("unallocated: " + ", ".join(f"{k} {v}" for k, v in result.unallocated.items()))
    if "supply_request" in document:
        lines.append(f"microplan supply request (doses needed, all children): {document['supply_request']}")
    if "comparison" in document:
        lines.append("")
        lines.append("comparison with proportional-to-population shares:")
        keys = list(document["comparison"]["optimiser"])
        lines.append(f"  {'':22}{'optimiser':>12}{'proportional':>14}")
        for key in keys:
            o, p = document["comparison"]["optimiser"][key], document["comparison"]["proportional"][key]
            show = (lambda v: f"{v:.3f}") if isinstance(o, float) else str
            lines.append(f"  {key:22}{show(o):>12}{show(p):>14}")
    return "\n".join(lines)


def allocate_main(argv: list[str]) -> int:
    """Entry point of ``vaxops allocate``; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="vaxops allocate",
        description="Split the supply at a parent store among its children (docs/allocation.md).",
    )
    parser.add_argument("problem", help="problem file (JSON)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument(
        "--compare", action="store_true", help="compare with plain proportional-to-population shares"
    )
    args = parser.parse_args(argv)
    try:
        problem = load_problem(args.problem)
        result = allocate(problem)
    except AllocationError as error:
        if args.json:
            print(json.dumps({"error": error.as_dict()}, ensure_ascii=False))
        else:
            print(f"error {error.code}: {error}", file=sys.stderr)
        return 2
    document = result_document(problem, result, args.compare)
    if args.json:
        print(json.dumps(document, ensure_ascii=False, indent=2))
    else:
        print(render_table(problem, result, document))
    return 0
