"""The readiness checklist's rules, pure: what a submitted value must look like and whether a
session's facts and values satisfy each item (no Django import; docs/staff.md).

The items, their limits and the emergency kit are data (``data/readiness_items.json``,
``data/emergency_kit.json``). Two items are computed from the roster (a level-2+ hospital
doctor, vaccinators trained for the session's products); the others are submitted by the site
manager. A value that cannot be read is refused (``InvalidValue``: the request is wrong); a
value that can be read but does not satisfy the rule (a fridge at 9 °C) leaves the item
missing with its reason, as on a paper checklist.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

DATA = Path(__file__).with_name("data")
PLATE_MAX, NAME_MAX, CREW_MAX = 16, 64, 20
MAX_SEATS, MAX_MINUTES, MAX_KM = 100_000, 24 * 60, 1000


class UnknownItem(Exception):
    """Not an item of the checklist."""

    def __init__(self, item: str):
        super().__init__(item)
        self.item = item


class ComputedItem(Exception):
    """An item the gate computes from the roster: it cannot be submitted."""

    def __init__(self, item: str):
        super().__init__(item)
        self.item = item


class InvalidValue(Exception):
    """A submitted value that cannot be read; ``problem`` is a stable word for the hint."""

    def __init__(self, item: str, problem: str):
        super().__init__(f"{item}: {problem}")
        self.item, self.problem = item, problem


@dataclass(frozen=True)
class Drug:
    code: str
    name_zh: str
    name_en: str
    has_expiry: bool


@dataclass(frozen=True)
class Item:
    code: str
    computed: bool
    name_zh: str
    name_en: str
    rule: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class Checklist:
    items: tuple[Item, ...]
    drugs: tuple[Drug, ...]

    def item(self, code: str) -> Item:
        for i in self.items:
            if i.code == code:
                return i
        raise UnknownItem(code)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(i.code for i in self.items)

    @property
    def submitted_codes(self) -> tuple[str, ...]:
        return tuple(i.code for i in self.items if not i.computed)


_ITEM_KEYS = ("code", "computed", "name_zh", "name_en")


def load_checklist(items_path: Path | None = None, kit_path: Path | None = None) -> Checklist:
    """The checklist from the data files (or the given ones)."""
    raw_items = json.loads((items_path or DATA / "readiness_items.json").read_text("utf-8"))["items"]
    raw_kit = json.loads((kit_path or DATA / "emergency_kit.json").read_text("utf-8"))["drugs"]
    items = tuple(
        Item(code=i["code"], computed=bool(i["computed"]), name_zh=i["name_zh"], name_en=i["name_en"],
             rule={k: v for k, v in i.items() if k not in _ITEM_KEYS})
        for i in raw_items
    )
    drugs = tuple(Drug(d["code"], d["name_zh"], d["name_en"], bool(d["has_expiry"])) for d in raw_kit)
    return Checklist(items=items, drugs=drugs)


@dataclass(frozen=True)
class RosterFact:
    """One roster entry as the gate sees it."""

    staff_id: int
    role: str  # the role at the session
    hospital_level: int | None  # of the staff member's home unit, when it is a hospital
    # product code -> the latest valid-until day of the staff member's training for it
    trained_until: dict[str, dt.date] = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class SessionFacts:
    """What the gate needs to know about one session besides the submitted values."""

    date: dt.date
    site_kind: str
    planned_doses: int
    session_minutes: int | None
    products: tuple[str, ...]
    roster: tuple[RosterFact, ...] = ()


# --- reading submitted values -------------------------------------------------------------------


def _number(item: str, value: Any, *, integer: bool = False) -> Decimal:
    if isinstance(value, bool) or value is None:
        raise InvalidValue(item, "not_a_number")
    if isinstance(value, str):
        value = value.strip().replace(",", ".").replace("−", "-")
        if not value or len(value) > 20:
            raise InvalidValue(item, "not_a_number")
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidValue(item, "not_a_number")
    if not isinstance(value, int | float | str):
        raise InvalidValue(item, "not_a_number")
    try:
        d = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise InvalidValue(item, "not_a_number") from None
    if not d.is_finite():
        raise InvalidValue(item, "not_a_number")
    if integer and d != d.to_integral_value():
        raise InvalidValue(item, "not_a_whole_number")
    return d


def _day(item: str, value: Any) -> dt.date:
    if not isinstance(value, str) or len(value) != 10:
        raise InvalidValue(item, "not_a_date")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidValue(item, "not_a_date") from None


def _text(item: str, value: Any, limit: int, problem: str) -> str:
    if not isinstance(value, str):
        raise InvalidValue(item, problem)
    text = " ".join(value.split())
    if not text or len(text) > limit or any(ord(c) < 32 for c in text):
        raise InvalidValue(item, problem)
    return text


def parse_value(checklist: Checklist, code: str, value: Any) -> Any:
    """The submitted ``value`` of item ``code`` in its stored form, or an exception
    (``UnknownItem``, ``ComputedItem``, ``InvalidValue``)."""
    item = checklist.item(code)
    if item.computed:
        raise ComputedItem(code)
    return _PARSERS[code](checklist, item, value)


def _parse_ambulance(checklist: Checklist, item: Item, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidValue(item.code, "not_an_object")
    if "plate" in value and ("minutes" in value or "distance_km" in value):
        raise InvalidValue(item.code, "plate_or_distance")
    if "plate" in value:
        if set(value) - {"plate", "crew"}:
            raise InvalidValue(item.code, "unknown_field")
        plate = _text(item.code, value["plate"], PLATE_MAX, "plate")
        crew = value.get("crew")
        if isinstance(crew, str):
            crew = [c for c in (p.strip() for p in crew.replace("、", ",").replace("，", ",").split(",")) if c]
        if isinstance(crew, list):
            if not crew or len(crew) > CREW_MAX:
                raise InvalidValue(item.code, "crew")
            names = [_text(item.code, c, NAME_MAX, "crew") for c in crew]
            return {"plate": plate, "crew": names}
        raise InvalidValue(item.code, "crew")
    if "minutes" in value:
        if set(value) - {"minutes", "distance_km"}:
            raise InvalidValue(item.code, "unknown_field")
        minutes = _number(item.code, value["minutes"], integer=True)
        if minutes < 0 or minutes > MAX_MINUTES:
            raise InvalidValue(item.code, "minutes")
        out: dict[str, Any] = {"minutes": int(minutes)}
        if value.get("distance_km") is not None:
            km = _number(item.code, value["distance_km"])
            if km < 0 or km > MAX_KM:
                raise InvalidValue(item.code, "distance")
            out["distance_km"] = float(km)
        return out
    raise InvalidValue(item.code, "plate_or_distance")


def _parse_kit(checklist: Checklist, item: Item, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict) or set(value) - {"checked", "drugs"}:
        raise InvalidValue(item.code, "not_an_object")
    checked = value.get("checked")
    if not isinstance(checked, bool):
        raise InvalidValue(item.code, "checked")
    drugs = value.get("drugs", {})
    if not isinstance(drugs, dict):
        raise InvalidValue(item.code, "drugs")
    known = {d.code: d for d in checklist.drugs}
    out: dict[str, Any] = {}
    for code, given in drugs.items():
        drug = known.get(code)
        if drug is None:
            raise InvalidValue(item.code, "unknown_drug")
        if given is None or given is False or given == "":
            continue  # not in the kit
        if drug.has_expiry:
            out[code] = _day(item.code, given).isoformat()
        elif given is True:
            out[code] = True
        else:
            raise InvalidValue(item.code, "present_or_not")
    return {"checked": checked, "drugs": out}


def _parse_seats(checklist: Checklist, item: Item, value: Any) -> int:
    seats = _number(item.code, value, integer=True)
    if seats < 0 or seats > MAX_SEATS:
        raise InvalidValue(item.code, "seats")
    return int(seats)


def _parse_reading(checklist: Checklist, item: Item, value: Any) -> float:
    c = _number(item.code, value)
    if c < Decimal(str(item.rule["plausible_low"])) or c > Decimal(str(item.rule["plausible_high"])):
        raise InvalidValue(item.code, "implausible_temperature")
    return float(c.quantize(Decimal("0.1")))


_PARSERS = {
    "ambulance": _parse_ambulance,
    "emergency_kit": _parse_kit,
    "observation_seats": _parse_seats,
    "cold_chain_reading": _parse_reading,
}


# --- evaluating ---------------------------------------------------------------------------------


def seats_needed(rule: dict[str, Any], facts: SessionFacts) -> int:
    """Observation seats for the planned doses: people arrive evenly over the session's hours and
    each stays the observation time, with a peak factor; never fewer than the minimum."""
    minutes = facts.session_minutes or int(rule["default_session_hours"]) * 60
    if facts.planned_doses <= 0 or minutes <= 0:
        return int(rule["minimum"])
    at_once = facts.planned_doses * rule["observation_minutes"] / minutes * rule["peak_factor"]
    return max(int(rule["minimum"]), math.ceil(at_once - 1e-9))


def _doctor(item: Item, facts: SessionFacts, value: Any) -> dict | None:
    level, roles = int(item.rule["min_hospital_level"]), set(item.rule["roles"])
    if any(r.role in roles and (r.hospital_level or 0) >= level for r in facts.roster):
        return None
    return {"reason": "no_level2_doctor"}


def _trained(item: Item, facts: SessionFacts, value: Any) -> dict | None:
    vaccinators = [r for r in facts.roster if r.role in set(item.rule["roles"])]
    if not vaccinators:
        return {"reason": "no_vaccinator"}
    untrained = []
    for r in vaccinators:
        valid = {p for p, until in r.trained_until.items() if until >= facts.date}
        if (facts.products and not set(facts.products) <= valid) or (not facts.products and not valid):
            untrained.append(r.staff_id)
    if untrained:
        return {"reason": "vaccinators_untrained", "staff": sorted(untrained)}
    return None


def _ambulance(item: Item, facts: SessionFacts, value: Any) -> dict | None:
    if "plate" in value:
        return None
    if facts.site_kind not in item.rule["distance_allowed_for"]:
        return {"reason": "ambulance_on_site_required"}
    if value["minutes"] > item.rule["max_minutes"]:
        return {"reason": "ambulance_too_far", "minutes": value["minutes"], "max_minutes": item.rule["max_minutes"]}
    return None


def _kit(checklist: Checklist):
    def check(item: Item, facts: SessionFacts, value: Any) -> dict | None:
        if not value["checked"]:
            return {"reason": "kit_not_checked"}
        drugs = value["drugs"]
        absent = [d.code for d in checklist.drugs if d.code not in drugs]
        expired = [d.code for d in checklist.drugs
                   if d.has_expiry and d.code in drugs and dt.date.fromisoformat(drugs[d.code]) < facts.date]
        if absent or expired:
            return {"reason": "kit_incomplete", "absent": absent, "expired": expired}
        return None

    return check


def _seats(item: Item, facts: SessionFacts, value: Any) -> dict | None:
    needed = seats_needed(item.rule, facts)
    return None if value >= needed else {"reason": "too_few_seats", "seats": value, "needed": needed}


def _reading(item: Item, facts: SessionFacts, value: Any) -> dict | None:
    low, high = item.rule["low"], item.rule["high"]
    return None if low <= value <= high else {"reason": "reading_out_of_range", "celsius": value, "low": low,
                                               "high": high}


def evaluate(checklist: Checklist, facts: SessionFacts, values: dict[str, Any]) -> dict[str, dict | None]:
    """Each item's state for a session, in checklist order: ``None`` when satisfied, else
    ``{"reason": …, …}`` (``not_recorded`` for a submitted item nobody has submitted yet).
    ``values`` are stored values (``parse_value``'s output)."""
    checks = {"doctor_level2": _doctor, "vaccinators_trained": _trained, "ambulance": _ambulance,
              "emergency_kit": _kit(checklist), "observation_seats": _seats, "cold_chain_reading": _reading}
    out: dict[str, dict | None] = {}
    for item in checklist.items:
        if not item.computed and values.get(item.code) is None:
            out[item.code] = {"reason": "not_recorded"}
            continue
        out[item.code] = checks[item.code](item, facts, values.get(item.code))
    return out


def missing(states: dict[str, dict | None]) -> list[str]:
    """The codes of the items not satisfied, in checklist order."""
    return [code for code, state in states.items() if state is not None]
