"""Cold-chain alarm rules, evaluated on a store's temperature readings (pure: no Django).

The rules are data (``data/excursion_rules.json``), per equipment class, from the alarm
settings of WHO-prequalified 30-day recorders and type II shipping indicators
(docs/supply.md): a refrigerator or cold room alarms above +8 °C for 10 h continuous and at
or below −0.5 °C for 60 min continuous; a cold box at +45 °C or more for 1 h in one event, at
+30 °C or more for 10 h cumulative, at +10 °C or more for 20 h cumulative and at or below
−0.5 °C for 1 h in one event. Thresholds and durations are inclusive exactly as written: a
fridge at 8.0 °C never alarms, at 8.01 °C for exactly 10 h it does.

How readings become time (``evaluate``):

- A reading holds from its moment until the next reading, at most ``max_hold_minutes``
  (24 h): any interval works, a logger's 10 minutes as well as the morning and afternoon
  manual readings.
- Past that, time is **unknown**: it counts neither in range nor out of range, and it breaks a
  continuous run (a fridge nobody read for three days is not "72 h above +8 °C").
- The latest reading holds for no time: nothing is assumed about what has not been measured
  yet. An excursion whose run reaches the latest reading is **ongoing** (``ended_at`` None).
- A continuous rule raises one excursion per run of readings that meet the threshold and last
  at least the rule's duration; it starts at the run's first reading and ends when the next
  reading is back past the threshold (or when the run's last reading stops holding).
- A cumulative rule (a shipping indicator) adds up the time past its threshold over all the
  readings given and raises one excursion, once, when the sum reaches the duration: it starts
  at the first moment counted and ends with the run in which the sum was reached. The caller
  decides where counting starts (the store's service: at the last review, which resets the
  indicators like a fresh shipping indicator).

``daily_warnings`` adds the time outside 2–8 °C per calendar day (in the campaign's zone): a
warning, never a hold.
"""

from __future__ import annotations

import datetime as dt
import json
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data" / "excursion_rules.json"
CAMPAIGN_ZONE = dt.timezone(dt.timedelta(hours=8))

_OPS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le,
}


@dataclass(frozen=True)
class Rule:
    """One alarm: ``celsius op threshold`` for ``minutes``, continuous or cumulative."""

    code: str
    kind: str  # "heat" | "freeze"
    op: str
    celsius: float
    trigger: str  # "continuous" | "cumulative"
    minutes: int
    name_zh: str = ""
    name_en: str = ""

    def past(self, celsius: float) -> bool:
        """Whether a reading of ``celsius`` counts towards this alarm."""
        return _OPS[self.op](celsius, self.celsius)

    @property
    def duration(self) -> dt.timedelta:
        return dt.timedelta(minutes=self.minutes)


@dataclass(frozen=True)
class RuleSet:
    """The rules of every equipment class, the 2–8 °C range and how long a reading holds."""

    rules: dict[str, Rule]
    classes: dict[str, tuple[str, ...]]
    low: float
    high: float
    max_hold: dt.timedelta
    warning_min_minutes: float = 0

    def for_class(self, equipment_class: str) -> list[Rule]:
        return [self.rules[code] for code in self.classes[equipment_class]]


@dataclass(frozen=True)
class Reading:
    at: dt.datetime
    celsius: float


@dataclass(frozen=True)
class Excursion:
    """An alarm raised by ``rule``: out of range from ``started_at`` to ``ended_at`` (None:
    still ongoing at the latest reading); ``alarm_at`` is when the duration was reached;
    ``peak`` the warmest (heat) or coldest (freeze) reading counted."""

    rule: str
    started_at: dt.datetime
    ended_at: dt.datetime | None
    alarm_at: dt.datetime
    peak: float


@dataclass(frozen=True)
class DailyWarning:
    """Time outside 2–8 °C on one calendar day (minutes below 2 °C, above 8 °C)."""

    day: dt.date
    minutes_below: float
    minutes_above: float
    lowest: float
    highest: float

    @property
    def minutes(self) -> float:
        return self.minutes_below + self.minutes_above


def load_rules(path: Path = DATA) -> RuleSet:
    """The rule set of ``data/excursion_rules.json``."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    rules = {
        r["code"]: Rule(code=r["code"], kind=r["kind"], op=r["op"], celsius=float(r["celsius"]),
                        trigger=r["trigger"], minutes=int(r["minutes"]), name_zh=r.get("name_zh", ""),
                        name_en=r.get("name_en", ""))
        for r in raw["rules"]
    }
    for r in rules.values():
        if r.op not in _OPS or r.trigger not in ("continuous", "cumulative") or r.minutes <= 0:
            raise ValueError(f"bad excursion rule {r.code!r}")
    classes = {name: tuple(codes) for name, codes in raw["classes"].items()}
    for name, codes in classes.items():
        unknown = [c for c in codes if c not in rules]
        if unknown:
            raise ValueError(f"equipment class {name!r} names unknown rules {unknown}")
    return RuleSet(
        rules=rules, classes=classes, low=float(raw["range_celsius"]["low"]), high=float(raw["range_celsius"]["high"]),
        max_hold=dt.timedelta(minutes=int(raw["max_hold_minutes"])),
        warning_min_minutes=float(raw["daily_warning"].get("min_minutes", 0)),
    )


@dataclass(frozen=True)
class _Span:
    """The time one reading holds: ``[start, end)``; ``end == start`` for the latest reading."""

    start: dt.datetime
    end: dt.datetime
    celsius: float
    # The next reading follows directly (no unknown time between this span and the next).
    joined: bool
    latest: bool


def _spans(readings: Sequence[Reading], max_hold: dt.timedelta) -> list[_Span]:
    spans: list[_Span] = []
    for i, r in enumerate(readings):
        if i + 1 < len(readings):
            nxt = readings[i + 1].at
            if nxt < r.at:
                raise ValueError("readings must be sorted by time")
            end = min(nxt, r.at + max_hold)
            spans.append(_Span(r.at, end, r.celsius, joined=end == nxt, latest=False))
        else:
            spans.append(_Span(r.at, r.at, r.celsius, joined=False, latest=True))
    return spans


def _peak(rule: Rule, values: list[float]) -> float:
    return max(values) if rule.kind == "heat" else min(values)


def _continuous(rule: Rule, spans: list[_Span]) -> list[Excursion]:
    found: list[Excursion] = []
    run: list[_Span] = []

    def close(run: list[_Span]) -> None:
        start, end = run[0].start, run[-1].end
        if end - start >= rule.duration:
            ongoing = run[-1].latest
            found.append(Excursion(rule.code, start, None if ongoing else end, start + rule.duration,
                                   _peak(rule, [s.celsius for s in run])))

    for span in spans:
        if rule.past(span.celsius):
            run.append(span)
            if not span.joined:  # unknown time (or nothing) follows: the run stops here
                close(run)
                run = []
        elif run:
            close(run)
            run = []
    return found


def _cumulative(rule: Rule, spans: list[_Span]) -> list[Excursion]:
    total = dt.timedelta(0)
    first: dt.datetime | None = None
    values: list[float] = []
    for i, span in enumerate(spans):
        if not rule.past(span.celsius):
            continue
        first = first or span.start
        values.append(span.celsius)
        length = span.end - span.start
        if total + length >= rule.duration:
            alarm_at = span.start + (rule.duration - total)
            # The excursion lasts to the end of this run of readings past the threshold.
            j = i
            while spans[j].joined and j + 1 < len(spans) and rule.past(spans[j + 1].celsius):
                j += 1
                values.append(spans[j].celsius)
            ended = None if spans[j].latest else spans[j].end
            return [Excursion(rule.code, first, ended, alarm_at, _peak(rule, values))]
        total += length
    return []


def evaluate(readings: Sequence[Reading], rules: Sequence[Rule], *, max_hold: dt.timedelta) -> list[Excursion]:
    """The excursions ``rules`` raise on ``readings`` (sorted by time), ordered by start."""
    spans = _spans(readings, max_hold)
    found: list[Excursion] = []
    for rule in rules:
        found.extend(_continuous(rule, spans) if rule.trigger == "continuous" else _cumulative(rule, spans))
    return sorted(found, key=lambda e: (e.started_at, e.rule))


def daily_warnings(readings: Sequence[Reading], ruleset: RuleSet, *,
                   zone: dt.tzinfo = CAMPAIGN_ZONE) -> list[DailyWarning]:
    """Per calendar day in ``zone``: the time the readings were outside ``low``–``high`` (the
    bounds are in range), when it is more than the rule set's ``warning_min_minutes``."""
    days: dict[dt.date, list[float]] = {}
    for span in _spans(readings, ruleset.max_hold):
        below, above = span.celsius < ruleset.low, span.celsius > ruleset.high
        if not (below or above) or span.end <= span.start:
            continue
        start = span.start.astimezone(zone)
        end = span.end.astimezone(zone)
        while start < end:
            midnight = dt.datetime.combine(start.date() + dt.timedelta(days=1), dt.time(), tzinfo=zone)
            piece_end = min(end, midnight)
            minutes = (piece_end - start).total_seconds() / 60
            entry = days.setdefault(start.date(), [0.0, 0.0, span.celsius, span.celsius])
            entry[0 if below else 1] += minutes
            entry[2], entry[3] = min(entry[2], span.celsius), max(entry[3], span.celsius)
            start = piece_end
    return [
        DailyWarning(day, below, above, lowest, highest)
        for day, (below, above, lowest, highest) in sorted(days.items())
        if below + above > ruleset.warning_min_minutes
    ]


# China 2017 storage and transport rules, Art. 11: at least one manual reading each morning and
# each afternoon, at least 6 hours apart, even where a logger records automatically.
MANUAL_MIN_APART = dt.timedelta(hours=6)
NOON = dt.time(12, 0)


@dataclass(frozen=True)
class MissingReading:
    """A day whose manual readings fall short of Art. 11: no morning reading, no afternoon
    reading, or the two less than 6 h apart (``too_close``)."""

    day: dt.date
    morning: bool  # the morning reading is missing
    afternoon: bool  # the afternoon reading is missing
    too_close: bool  # both are there but less than 6 h apart


def missing_manual_readings(times: Sequence[dt.datetime], first: dt.date, last: dt.date, *, now: dt.datetime,
                            zone: dt.tzinfo = CAMPAIGN_ZONE) -> list[MissingReading]:
    """The days from ``first`` to ``last`` (in ``zone``) whose manual readings (``times``) fall
    short; a half-day not over yet at ``now`` is not flagged."""
    by_day: dict[dt.date, list[dt.datetime]] = {}
    for t in times:
        local = t.astimezone(zone)
        by_day.setdefault(local.date(), []).append(local)
    local_now = now.astimezone(zone)
    flagged: list[MissingReading] = []
    day = first
    while day <= last:
        noon = dt.datetime.combine(day, NOON, tzinfo=zone)
        midnight = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=zone)
        readings = sorted(by_day.get(day, []))
        mornings = [t for t in readings if t < noon]
        afternoons = [t for t in readings if t >= noon]
        morning_missing = not mornings and local_now >= noon
        afternoon_missing = not afternoons and local_now >= midnight
        too_close = bool(mornings and afternoons) and afternoons[-1] - mornings[0] < MANUAL_MIN_APART
        if morning_missing or afternoon_missing or too_close:
            flagged.append(MissingReading(day, morning_missing, afternoon_missing, too_close))
        day += dt.timedelta(days=1)
    return flagged
