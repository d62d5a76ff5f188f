"""How people come to a site: walk-ins, a crowd at the door, booked appointments.

Every source draws all of a replication's arrival times up front with numpy; the engine
then replays them in time order.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Protocol

import numpy as np

from .errors import SimulationConfigError
from .timefmt import parse_time


class ArrivalSource(Protocol):
    """What every arrival kind provides."""

    def draw(self, rng: np.random.Generator) -> np.ndarray: ...

    def expected_count(self) -> float: ...

    def scaled(self, factor: float) -> ArrivalSource: ...

    def as_dict(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class PoissonArrivals:
    """Walk-ins at a constant rate between ``start`` and ``end`` (several windows make a profile)."""

    rate_per_hour: float
    start: float
    end: float

    def draw(self, rng: np.random.Generator) -> np.ndarray:
        duration = self.end - self.start
        # Given the count, the points of a homogeneous Poisson process are independent
        # uniforms over the window: one vector draw instead of a loop of exponential gaps.
        count = rng.poisson(self.rate_per_hour / 60.0 * duration)
        return self.start + rng.random(count) * duration

    def expected_count(self) -> float:
        return self.rate_per_hour * (self.end - self.start) / 60.0

    def scaled(self, factor: float) -> PoissonArrivals:
        return replace(self, rate_per_hour=self.rate_per_hour * factor)

    def as_dict(self) -> dict[str, Any]:
        return {"kind": "poisson", "rate_per_hour": self.rate_per_hour, "from": self.start, "until": self.end}


@dataclass(frozen=True)
class CrowdArrivals:
    """``count`` people already waiting at ``at`` (the queue at the door when a site opens).

    ``spread_minutes`` > 0 lets them trickle in uniformly over that many minutes instead.
    """

    count: int
    at: float
    spread_minutes: float = 0.0

    def draw(self, rng: np.random.Generator) -> np.ndarray:
        if self.spread_minutes > 0:
            return self.at + rng.random(self.count) * self.spread_minutes
        return np.full(self.count, float(self.at))

    def expected_count(self) -> float:
        return float(self.count)

    def scaled(self, factor: float) -> CrowdArrivals:
        return replace(self, count=round(self.count * factor))

    def as_dict(self) -> dict[str, Any]:
        return {"kind": "crowd", "count": self.count, "at": self.at, "spread_minutes": self.spread_minutes}


@dataclass(frozen=True)
class AppointmentArrivals:
    """Booked slots: ``per_slot`` bookings in each slot starting in [``start``, ``end``).

    Each booking shows up with probability ``1 - no_show``, at the slot start plus a normal
    error with standard deviation ``punctuality_sd_minutes`` (early or late).
    """

    per_slot: int
    slot_minutes: float
    start: float
    end: float
    no_show: float = 0.0
    punctuality_sd_minutes: float = 0.0

    def slot_starts(self) -> np.ndarray:
        count = max(0, math.ceil((self.end - self.start) / self.slot_minutes - 1e-9))
        return self.start + self.slot_minutes * np.arange(count)

    def draw(self, rng: np.random.Generator) -> np.ndarray:
        starts = self.slot_starts()
        shows = rng.binomial(self.per_slot, 1.0 - self.no_show, len(starts))
        times = np.repeat(starts, shows)
        if self.punctuality_sd_minutes > 0:
            times = times + rng.normal(0.0, self.punctuality_sd_minutes, len(times))
        # Nobody arrives before the start of the simulated clock.
        return np.maximum(times, 0.0)

    def expected_count(self) -> float:
        return len(self.slot_starts()) * self.per_slot * (1.0 - self.no_show)

    def scaled(self, factor: float) -> AppointmentArrivals:
        return replace(self, per_slot=round(self.per_slot * factor))

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": "appointments",
            "per_slot": self.per_slot,
            "slot_minutes": self.slot_minutes,
            "from": self.start,
            "until": self.end,
            "no_show": self.no_show,
            "punctuality_sd_minutes": self.punctuality_sd_minutes,
        }


ARRIVAL_KINDS = ("poisson", "crowd", "appointments")

_FIELDS = {
    "poisson": {"kind", "rate_per_hour", "from", "until"},
    "crowd": {"kind", "count", "at", "spread_minutes"},
    "appointments": {
        "kind",
        "per_slot",
        "slot_minutes",
        "from",
        "until",
        "no_show",
        "punctuality_sd_minutes",
    },
}


def _require(spec: dict[str, Any], key: str, field: str) -> Any:
    if key not in spec:
        raise SimulationConfigError("missing_field", "is required", f"{field}.{key}")
    return spec[key]


def _number(spec: dict[str, Any], key: str, field: str, default: float | None = None) -> float:
    value = spec.get(key, default) if default is not None else _require(spec, key, field)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise SimulationConfigError("bad_type", f"must be a number, got {value!r}", f"{field}.{key}")
    if value < 0:
        raise SimulationConfigError(
            "negative_value", f"must not be negative, got {value!r}", f"{field}.{key}"
        )
    return float(value)


def _count(spec: dict[str, Any], key: str, field: str) -> int:
    value = _require(spec, key, field)
    if isinstance(value, bool) or not isinstance(value, int):
        raise SimulationConfigError("bad_type", f"must be a whole number, got {value!r}", f"{field}.{key}")
    if value < 0:
        raise SimulationConfigError(
            "negative_value", f"must not be negative, got {value!r}", f"{field}.{key}"
        )
    return value


def _window(spec: dict[str, Any], field: str) -> tuple[float, float]:
    start = parse_time(_require(spec, "from", field), f"{field}.from")
    end = parse_time(_require(spec, "until", field), f"{field}.until")
    if end < start:
        raise SimulationConfigError("bad_time", 'must not be before "from"', f"{field}.until")
    return start, end


def parse_arrival(spec: Any, field: str) -> ArrivalSource:
    """Build one arrival source from its config object."""
    if not isinstance(spec, dict):
        raise SimulationConfigError("bad_type", 'must be an object with a "kind" key', field)
    kind = spec.get("kind")
    if kind not in _FIELDS:
        raise SimulationConfigError(
            "unknown_arrival_kind",
            f"unknown arrival kind {kind!r}; use one of {', '.join(ARRIVAL_KINDS)}",
            f"{field}.kind",
        )
    extra = sorted(set(spec) - _FIELDS[kind])
    if extra:
        raise SimulationConfigError("unknown_field", f"unknown field {extra[0]!r} for {kind} arrivals", field)
    if kind == "poisson":
        start, end = _window(spec, field)
        return PoissonArrivals(_number(spec, "rate_per_hour", field), start, end)
    if kind == "crowd":
        return CrowdArrivals(
            _count(spec, "count", field),
            parse_time(_require(spec, "at", field), f"{field}.at"),
            _number(spec, "spread_minutes", field, default=0.0),
        )
    start, end = _window(spec, field)
    slot = _number(spec, "slot_minutes", field)
    if slot == 0:
        raise SimulationConfigError("negative_value", "must be greater than zero", f"{field}.slot_minutes")
    no_show = _number(spec, "no_show", field, default=0.0)
    if no_show > 1:
        raise SimulationConfigError(
            "bad_probability", f"must be between 0 and 1, got {no_show}", f"{field}.no_show"
        )
    return AppointmentArrivals(
        _count(spec, "per_slot", field),
        slot,
        start,
        end,
        no_show,
        _number(spec, "punctuality_sd_minutes", field, default=0.0),
    )
