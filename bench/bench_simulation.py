"""Benchmark of the site-flow simulator against its speed targets.

Targets: a 6,000-dose site-day in at most 0.5 s per replication; 100 replications in at
most 30 s on 2 cores (``workers=2``), with output identical to a single-process run.

Run: ``.venv/bin/python bench/bench_simulation.py`` (about a minute).
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vaxops.planning.simulation import parse_config, run_replication, simulate  # noqa: E402

# A gymnasium day of about 6,000 doses: booked slots plus walk-ins, four stages.
SITE_DAY = {
    "name": "bench: 6,000-dose gymnasium day",
    "arrivals": [
        {
            "kind": "appointments",
            "per_slot": 330,
            "slot_minutes": 30,
            "from": "08:30",
            "until": "17:00",
            "no_show": 0.05,
            "punctuality_sd_minutes": 12,
        },
        {"kind": "poisson", "rate_per_hour": 70, "from": "08:30", "until": "17:30"},
    ],
    "stages": [
        {"name": "registration", "servers": 14, "service": {"dist": "lognormal", "mean": 1.2, "sd": 0.5}},
        {
            "name": "screening",
            "servers": [
                {"from": "08:30", "count": 14},
                {"from": "12:00", "count": 11},
                {"from": "13:30", "count": 14},
            ],
            "service": {"dist": "lognormal", "mean": 1.0, "sd": 0.5},
        },
        {
            "name": "vaccination",
            "servers": [
                {"from": "08:30", "count": 24},
                {"from": "12:00", "count": 18},
                {"from": "13:30", "count": 24},
            ],
            "service": {"dist": "triangular", "low": 1.0, "mode": 1.5, "high": 3.0},
        },
        {"name": "observation", "seats": 420},
    ],
    "open": "08:30",
    "close": "18:00",
    "replications": 100,
    "seed": 2026,
}


def main() -> int:
    config = parse_config(SITE_DAY)
    print(f"python {platform.python_version()}, {os.cpu_count()} CPUs")

    # Per replication, one process: engine plus figures (timeline included), as `simulate` does.
    run_replication(config, 0)  # warm imports and caches
    # Wall time is the target; CPU time is printed too, since a shared machine's load
    # inflates wall time and the two together show how much.
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    times, cpu, doses = [], [], []
    for r in range(20):
        start, start_cpu = time.perf_counter(), time.process_time()
        figures = run_replication(config, r)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
        doses.append(figures["completed"])
    per_rep = statistics.median(times)
    print(
        f"site-day: {statistics.mean(doses):,.0f} doses on average; per replication median {per_rep:.3f} s wall "
        f"(max {max(times):.3f} s), median {statistics.median(cpu):.3f} s CPU (target <= 0.5 s)"
    )

    results = {}
    for workers in (1, 2):
        start, before = time.perf_counter(), os.times()
        result = simulate(replace(config, replications=100), workers=workers)
        elapsed = time.perf_counter() - start
        after = os.times()
        used = (after.user + after.system + after.children_user + after.children_system) - (
            before.user + before.system + before.children_user + before.children_system
        )
        digest = hashlib.sha256(json.dumps(result).encode()).hexdigest()[:16]
        results[workers] = (elapsed, digest)
        print(
            f"100 replications, workers={workers}: {elapsed:.1f} s wall, {used:.1f} s CPU "
            f"(target <= 30 s wall with 2 workers), output sha256 {digest}"
        )
    identical = results[1][1] == results[2][1]
    print(f"identical output for 1 and 2 workers: {identical}")
    ok = per_rep <= 0.5 and results[2][0] <= 30 and identical
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    print("targets met" if ok else "targets MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
