"""Service-time distributions, in minutes.

Each distribution draws a whole replication's service times in one numpy call: drawing per
event from Python would cost more than the event itself.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from .errors import SimulationConfigError


class ServiceTime(Protocol):
    """What the engine needs of a distribution."""

    @property
    def mean(self) -> float: ...

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray: ...

    def as_dict(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Exponential:
    """Memoryless service with the given mean (the "M" of M/M/c)."""

    mean: float

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.exponential(self.mean, size)

    def as_dict(self) -> dict[str, Any]:
        return {"dist": "exponential", "mean": self.mean}


@dataclass(frozen=True)
class Fixed:
    """Every service takes exactly ``minutes`` (the observation stay, a scripted step)."""

    minutes: float

    @property
    def mean(self) -> float:
        return self.minutes

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return np.full(size, float(self.minutes))

    def as_dict(self) -> dict[str, Any]:
        return {"dist": "fixed", "minutes": self.minutes}


@dataclass(frozen=True)
class LogNormal:
    """Lognormal given by the mean and standard deviation of the service time itself.

    Desk times are right-skewed (most people are quick, a few need help), which the
    lognormal captures; staff report a mean and a spread, not the log-scale parameters,
    so those are derived here.
    """

    mean: float
    sd: float

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        if self.sd == 0:
            return np.full(size, float(self.mean))
        sigma2 = math.log1p((self.sd / self.mean) ** 2)
        mu = math.log(self.mean) - sigma2 / 2
        return rng.lognormal(mu, math.sqrt(sigma2), size)

    def as_dict(self) -> dict[str, Any]:
        return {"dist": "lognormal", "mean": self.mean, "sd": self.sd}


@dataclass(frozen=True)
class Triangular:
    """Triangular from a low, most likely and high estimate (the usual time-study answer)."""

    low: float
    mode: float
    high: float

    @property
    def mean(self) -> float:
        return (self.low + self.mode + self.high) / 3

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        if self.low == self.high:
            return np.full(size, float(self.low))
        return rng.triangular(self.low, self.mode, self.high, size)

    def as_dict(self) -> dict[str, Any]:
        return {"dist": "triangular", "low": self.low, "mode": self.mode, "high": self.high}


@dataclass(frozen=True)
class Empirical:
    """Resamples observed service times (e.g. stop-watch times from a pilot session)."""

    values: tuple[float, ...]

    @property
    def mean(self) -> float:
        return sum(self.values) / len(self.values)

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.choice(np.asarray(self.values, dtype=float), size)

    def as_dict(self) -> dict[str, Any]:
        return {"dist": "empirical", "values": list(self.values)}


DISTRIBUTIONS = ("exponential", "fixed", "lognormal", "triangular", "empirical")


def check_number(value: Any, field: str, *, positive: bool = False) -> float:
    """``value`` as a finite, non-negative float (strictly positive if asked), or a config error."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise SimulationConfigError("bad_type", f"must be a number, got {value!r}", field)
    if value < 0:
        raise SimulationConfigError("negative_value", f"must not be negative, got {value!r}", field)
    if positive and value == 0:
        raise SimulationConfigError("negative_value", "must be greater than zero", field)
    return float(value)


def _number(spec: dict[str, Any], key: str, field: str, *, positive: bool = False) -> float:
    if key not in spec:
        raise SimulationConfigError("missing_field", "is required for this distribution", f"{field}.{key}")
    return check_number(spec[key], f"{field}.{key}", positive=positive)


def parse_distribution(spec: Any, field: str) -> ServiceTime:
    """Build a distribution from its config object, e.g. ``{"dist": "fixed", "minutes": 30}``."""
    if not isinstance(spec, dict):
        raise SimulationConfigError("bad_type", 'must be an object with a "dist" key', field)
    kind = spec.get("dist")
    allowed = {"dist"}
    dist: ServiceTime
    if kind == "exponential":
        allowed |= {"mean"}
        dist = Exponential(_number(spec, "mean", field, positive=True))
    elif kind == "fixed":
        allowed |= {"minutes"}
        dist = Fixed(_number(spec, "minutes", field))
    elif kind == "lognormal":
        allowed |= {"mean", "sd"}
        dist = LogNormal(_number(spec, "mean", field, positive=True), _number(spec, "sd", field))
    elif kind == "triangular":
        allowed |= {"low", "mode", "high"}
        low, mode, high = (_number(spec, key, field) for key in ("low", "mode", "high"))
        if not low <= mode <= high:
            raise SimulationConfigError(
                "bad_distribution", f"needs low <= mode <= high, got {low}, {mode}, {high}", field
            )
        dist = Triangular(low, mode, high)
    elif kind == "empirical":
        allowed |= {"values"}
        values = spec.get("values")
        if not isinstance(values, list) or not values:
            raise SimulationConfigError(
                "bad_distribution", "must be a non-empty list of minutes", f"{field}.values"
            )
        dist = Empirical(tuple(check_number(v, f"{field}.values[{i}]") for i, v in enumerate(values)))
    else:
        raise SimulationConfigError(
            "unknown_distribution",
            f"unknown distribution {kind!r}; use one of {', '.join(DISTRIBUTIONS)}",
            f"{field}.dist",
        )
    extra = sorted(set(spec) - allowed)
    if extra:
        raise SimulationConfigError("unknown_field", f"unknown field {extra[0]!r} for {kind}", field)
    return dist
