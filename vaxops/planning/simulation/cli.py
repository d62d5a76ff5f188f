"""``vaxops simulate`` and ``vaxops plan-site``.

Exit codes: 0 done, 2 bad config or arguments (the error's code and message on stderr).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from typing import Any

from .capacity import plan_site
from .config import SimulationConfig, load_config
from .errors import SimulationConfigError
from .report import plan_text, simulation_text
from .runner import simulate


def _dump(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def _load(path: str, replications: int | None, seed: int | None) -> SimulationConfig:
    config = load_config(path)
    if replications is not None:
        if replications < 1:
            raise SimulationConfigError("negative_value", "must be at least 1", "--replications")
        config = replace(config, replications=replications)
    if seed is not None:
        if seed < 0:
            raise SimulationConfigError("negative_value", "must be zero or more", "--seed")
        config = replace(config, seed=seed)
    return config


def _fail(error: SimulationConfigError) -> int:
    sys.stderr.write(f"error [{error.code}] {error}\n")
    return 2


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", help="simulation config (JSON); see docs/simulation.md")
    parser.add_argument("--json", action="store_true", help="print the full result as JSON")
    parser.add_argument("--replications", type=int, help="override the config's number of replications")
    parser.add_argument("--seed", type=int, help="override the config's seed")
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="processes for the replications (0: one per CPU); the output does not depend on it",
    )


def simulate_main(argv: list[str]) -> int:
    """``vaxops simulate CONFIG.json [--json]``: run the replications and report."""
    parser = argparse.ArgumentParser(
        prog="vaxops simulate", description="Simulate a vaccination site's day (discrete-event, SimPy)."
    )
    _common(parser)
    parser.add_argument(
        "--summary-only", action="store_true", help="with --json, leave out the per-replication figures"
    )
    args = parser.parse_args(argv)
    try:
        config = _load(args.config, args.replications, args.seed)
        result = simulate(config, workers=args.workers)
    except SimulationConfigError as error:
        return _fail(error)
    if args.json:
        if args.summary_only:
            result = {key: value for key, value in result.items() if key != "per_replication"}
        sys.stdout.write(_dump(result))
    else:
        sys.stdout.write(simulation_text(result))
    return 0


def plan_site_main(argv: list[str]) -> int:
    """``vaxops plan-site CONFIG.json --doses-per-day N --max-p95-wait MIN``: capacity search."""
    parser = argparse.ArgumentParser(
        prog="vaxops plan-site",
        description=(
            "Find the fewest vaccination stations and observation seats for a daily target, "
            "with the p95 wait within a limit. The config's arrival profile is scaled to the target."
        ),
    )
    _common(parser)
    parser.add_argument("--doses-per-day", type=int, required=True, help="daily target (people vaccinated)")
    parser.add_argument("--max-p95-wait", type=float, required=True, help="limit on the p95 wait, minutes")
    parser.add_argument(
        "--max-seat-wait", type=float, help="limit on the p95 wait for a seat (default: --max-p95-wait)"
    )
    parser.add_argument(
        "--max-overrun",
        type=float,
        default=60.0,
        help="minutes after closing by which the last person must have left (default 60)",
    )
    parser.add_argument("--max-stations", type=int, default=400, help="give up above this many stations")
    parser.add_argument(
        "--keep-arrivals",
        action="store_true",
        help="use the config's arrivals as they are, do not scale them",
    )
    args = parser.parse_args(argv)
    try:
        if args.doses_per_day < 1:
            raise SimulationConfigError("negative_value", "must be at least 1", "--doses-per-day")
        if args.max_p95_wait < 0:
            raise SimulationConfigError("negative_value", "must not be negative", "--max-p95-wait")
        # Each layout is a full set of replications; ten keep the search quick and the
        # means of p95 waits steady enough to tell neighbouring layouts apart.
        replications = args.replications or min(load_config(args.config).replications, 10)
        config = _load(args.config, replications, args.seed)
        plan = plan_site(
            config,
            doses_per_day=args.doses_per_day,
            max_p95_wait=args.max_p95_wait,
            max_seat_wait=args.max_seat_wait,
            max_overrun=args.max_overrun,
            max_stations=args.max_stations,
            scale_arrivals=not args.keep_arrivals,
            workers=args.workers,
        )
    except SimulationConfigError as error:
        return _fail(error)
    sys.stdout.write(_dump(plan) if args.json else plan_text(plan))
    return 0 if plan["found"] else 1
