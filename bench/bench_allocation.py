"""Benchmark of the allocation optimiser: 5,000 children × 5 products, target ≤ 2 s.

Run: ``.venv/bin/python bench/bench_allocation.py [--children 5000] [--repeat 5]``.
The problem is random but seeded: three inactivated products (package 2), one adenovirus
vector (package 1) and one recombinant protein (package 1); supply covers about 60 % of
the need, so both the second-dose sharing and the first-dose water-filling are exercised.
The time is ``allocate()`` end to end (arrays, both fillings, the product LP, rounding and
the per-child outcome), not the JSON parsing.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vaxops.planning.allocation import allocate, parse_problem  # noqa: E402

PRODUCTS = {
    "BIBP": {"platform": "inactivated", "package_size": 2},
    "WIBP": {"platform": "inactivated", "package_size": 2},
    "CORONAVAC": {"platform": "inactivated", "package_size": 2},
    "AD5": {"platform": "adenovirus_vector", "package_size": 1},
    "ZF2001": {"platform": "recombinant_protein", "package_size": 1},
}


def random_problem(children: int, seed: int = 2021) -> dict:
    """A seeded random problem with ``children`` children and the five products."""
    rng = random.Random(seed)
    rows = []
    need = 0
    for i in range(children):
        demand = rng.randint(0, 20_000)
        due = {p: rng.randint(0, 1_500) for p in PRODUCTS if rng.random() < 0.5}
        stock = {p: rng.randint(0, 400) for p in PRODUCTS if rng.random() < 0.3}
        capacity = rng.randint(500, 15_000)
        row = {
            "code": f"C{i:05d}",
            "weight": rng.choice([1.0, 1.0, 1.0, 1.5, 2.0]),
            "capacity": capacity,
            "first_dose_demand": demand,
            "second_dose_due": due,
            "stock_on_hand": stock,
        }
        if rng.random() < 0.05:
            row["max"] = rng.randint(1_000, 10_000)
        if rng.random() < 0.02 and not stock and demand > 5_000:
            row["min"] = rng.randint(0, 300)
        rows.append(row)
        need += min(capacity, demand + sum(due.values()))
    shares = {"BIBP": 0.25, "WIBP": 0.15, "CORONAVAC": 0.3, "AD5": 0.1, "ZF2001": 0.2}
    supply = {p: int(need * 0.6 * s) // 2 * 2 for p, s in shares.items()}
    return {"products": PRODUCTS, "supply": supply, "children": rows}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--target", type=float, default=2.0, help="seconds")
    args = parser.parse_args(argv)
    problem = parse_problem(random_problem(args.children))
    allocate(problem)  # warm-up: imports and HiGHS initialisation
    times = []
    result = None
    for _ in range(args.repeat):
        started = time.perf_counter()
        result = allocate(problem)
        times.append(time.perf_counter() - started)
    assert result is not None
    totals = result.totals()
    print(f"children={args.children} products={len(PRODUCTS)} repeat={args.repeat}")
    print(f"supply={totals['supply']} shipped={totals['shipped']} unallocated={totals['unallocated']}")
    print(
        f"allocate(): median {statistics.median(times):.3f} s, min {min(times):.3f} s, "
        f"max {max(times):.3f} s (target ≤ {args.target:g} s)"
    )
    phases = ", ".join(f"{k} {v:.3f}" for k, v in result.timings.items())
    print(f"cumulative phase times of the last run (s): {phases}")
    ok = statistics.median(times) <= args.target
    print("PASS" if ok else "MISS")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
