"""Vaccine needs after WHO microplanning.

``doses needed = target population × coverage target × doses per person × wastage factor
+ buffer stock − stock on hand``, with ``wastage factor = 1 / (1 − wastage rate)``. The same
inputs give the first-dose demand the optimiser shares supply by: the people still to reach
for their first dose, ``target population × coverage target − already vaccinated``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class MicroplanNeeds:
    """What one area needs for a campaign round, in people and in doses."""

    target_people: int
    """People the coverage target aims at (``target population × coverage target``)."""
    first_dose_demand: int
    """Of those, people who still lack a first dose."""
    doses_needed: int
    """Doses to request: all doses of the series for the people still to reach, with wastage
    and buffer, less stock on hand (never below zero)."""
    wastage_factor: float


def wastage_factor(wastage_rate: float) -> float:
    """``1 / (1 − wastage rate)``: doses to supply per dose given (WHO)."""
    if not 0 <= wastage_rate < 1:
        raise ValueError(f"wastage_rate must be in [0, 1), got {wastage_rate}")
    return 1.0 / (1.0 - wastage_rate)


def microplan_needs(
    target_population: float,
    coverage_target: float,
    doses_per_person: float,
    wastage_rate: float = 0.0,
    buffer_doses: float = 0.0,
    stock_on_hand: float = 0.0,
    already_vaccinated: float = 0.0,
) -> MicroplanNeeds:
    """Needs of one area after WHO microplanning.

    ``already_vaccinated`` (people with a first dose) is taken off the target before the
    doses are counted, so a round in mid-campaign asks only for the people still to reach;
    with ``already_vaccinated = 0`` the formula is WHO's as written. Results are rounded up
    to whole people and whole doses: a planner short by a fraction of a dose is short.
    """
    for name, value in (
        ("target_population", target_population),
        ("doses_per_person", doses_per_person),
        ("buffer_doses", buffer_doses),
        ("stock_on_hand", stock_on_hand),
        ("already_vaccinated", already_vaccinated),
    ):
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"{name} must be a non-negative number, got {value}")
    if not 0 <= coverage_target <= 1:
        raise ValueError(f"coverage_target must be in [0, 1], got {coverage_target}")
    factor = wastage_factor(wastage_rate)
    target_people = math.ceil(target_population * coverage_target - 1e-9)
    to_reach = max(0, target_people - math.floor(already_vaccinated))
    doses = to_reach * doses_per_person * factor + buffer_doses - stock_on_hand
    return MicroplanNeeds(
        target_people=target_people,
        first_dose_demand=to_reach,
        doses_needed=max(0, math.ceil(doses - 1e-9)),
        wastage_factor=factor,
    )
