"""The AEFI rules as pure functions (no Django, no database): the reporting clock, the steps of
an investigation, the Brighton level of anaphylaxis and the two cluster rules.

The numbers come from ``vaxops.safety.catalogue`` (the data files); the services feed these
functions with rows they read and write what they decide. Sources in docs/aefi.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from vaxops.safety import catalogue

# --- the clock ---------------------------------------------------------------------------------


def two_hour_case(*, serious: bool, serious_criteria: Iterable[str], in_cluster: bool) -> bool:
    """Whether the case is on the 2-hour clock: serious (any criterion), a death or a cluster."""
    table = catalogue.serious_criteria()
    return serious or in_cluster or any(table.get(c, {}).get("two_hours") for c in serious_criteria)


def report_due_by(detected_at: dt.datetime, *, serious: bool, serious_criteria: Iterable[str] = (),
                  in_cluster: bool = False) -> dt.datetime:
    """When the report must have reached the county CDC: 2 hours after detection for a serious
    case, a death or a cluster, 48 hours for the others (``data/clocks.json``)."""
    clocks = catalogue.clocks()
    criteria = tuple(serious_criteria)
    hours = clocks["other_hours"]
    if two_hour_case(serious=serious, serious_criteria=criteria, in_cluster=False):
        hours = min(hours, clocks["serious_hours"])
    if "death" in criteria:
        hours = min(hours, clocks["death_hours"])
    if in_cluster:
        hours = min(hours, clocks["cluster_hours"])
    return detected_at + dt.timedelta(hours=hours)


def investigation_due_by(reported_at: dt.datetime) -> dt.datetime:
    """The county CDC starts the investigation within 48 hours of the report."""
    return reported_at + dt.timedelta(hours=catalogue.clocks()["investigation_start_hours"])


def is_overdue(*, status: str, report_due_by: dt.datetime, now: dt.datetime) -> bool:
    """A report is overdue while nobody at the county has taken it in (still ``reported``)
    after its deadline; once triaged its clock has stopped."""
    return status == REPORTED and now > report_due_by


# --- the steps ---------------------------------------------------------------------------------

REPORTED, TRIAGED, INVESTIGATED, CLASSIFIED, CLOSED = "reported", "triaged", "investigated", "classified", "closed"
STATUSES = (REPORTED, TRIAGED, INVESTIGATED, CLASSIFIED, CLOSED)
# step -> (the status it starts from, the status it leads to)
STEPS: dict[str, tuple[str, str]] = {
    "triage": (REPORTED, TRIAGED),
    "investigate": (TRIAGED, INVESTIGATED),
    "classify": (INVESTIGATED, CLASSIFIED),
    "close": (CLASSIFIED, CLOSED),
}


def next_status(status: str, step: str) -> str | None:
    """The status after ``step``, or ``None`` when the step is not the next one."""
    start, end = STEPS[step]
    return end if status == start else None


# --- Brighton anaphylaxis ----------------------------------------------------------------------

MAJOR, MINOR = "major", "minor"
CARDIO_RESP = frozenset({"cardiovascular", "respiratory"})


def brighton_level(signs: Iterable[str]) -> int | None:
    """The Brighton Collaboration level (1 highest certainty, 3 lowest) the recorded signs meet,
    or ``None`` when they meet none (level 4/5: not enough or not a case). Unknown sign codes are
    ignored; the services refuse them before. Sudden onset and rapid progression are taken as
    given by the report of anaphylaxis (the reporter chose the event)."""
    table = catalogue.brighton_signs()
    major: set[str] = set()
    minor: set[str] = set()
    for code in signs:
        sign = table.get(code)
        if sign is not None:
            (major if sign["major"] else minor).add(sign["system"])
    derm = "dermatological"
    if derm in major and major & CARDIO_RESP:
        return 1
    if {"cardiovascular", "respiratory"} <= major:
        return 2
    for system in major & CARDIO_RESP:
        if minor - {system}:
            return 2
    if derm in major and minor & CARDIO_RESP:
        return 2
    for system in minor & CARDIO_RESP:
        if len(minor - {system}) >= 2:
            return 3
    return None


# --- clusters ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """What the cluster rules need of one report."""

    id: int
    site_id: int | None
    lot_id: int | None
    onset_at: dt.datetime
    serious: bool
    groups: frozenset[str]


def groups_of(events: Iterable[str]) -> frozenset[str]:
    """The similarity groups of a report's events (``other`` is similar to nothing)."""
    table = catalogue.events()
    return frozenset(table[c]["group"] for c in events if c in table and table[c]["group"] != "other")


def similar(a: Case, b: Case) -> frozenset[str]:
    """The similarity groups the two reports share (empty: dissimilar)."""
    return a.groups & b.groups


def within_window(a: Case, b: Case, window: dt.timedelta) -> bool:
    """Onsets at most ``window`` apart (the edge itself is inside)."""
    return abs(a.onset_at - b.onset_at) <= window


def window() -> dt.timedelta:
    return dt.timedelta(hours=catalogue.cluster_rules()["window_hours"])


def site_cluster(new: Case, others: Sequence[Case], *, window: dt.timedelta) -> tuple[str, list[Case]] | None:
    """The site rule: two or more serious reports with similar events at the same site within the
    window. Returns the shared group and the other reports of the cluster, or ``None``."""
    rule = catalogue.cluster_rules()["site_rule"]
    if not new.serious or new.site_id is None:
        return None
    for group in sorted(new.groups):
        members = [o for o in others if o.id != new.id and o.serious and o.site_id == new.site_id
                   and group in o.groups and within_window(new, o, window)]
        if len(members) + 1 >= rule["min_serious_reports"]:
            return group, members
    return None


def lot_rise(*, window_reports: int, window_doses: int, baseline_reports: int, baseline_doses: int) -> bool:
    """The lot rule: a marked rise of similar non-serious reports for one lot.

    Rises when the window holds at least ``min_reports`` such reports and their rate per dose of
    the lot given in the window is at least ``rise_factor`` times the lot's rate in the
    ``baseline_days`` before the window, the baseline rate never taken below
    ``floor_per_100000`` (a lot with no earlier reports is not alarming at its first three among
    a hundred thousand doses). Counts of 0 doses in the window read as one dose.
    """
    rule = catalogue.cluster_rules()["lot_rule"]
    if window_reports < rule["min_reports"]:
        return False
    floor = rule["floor_per_100000"] / 100_000
    baseline_rate = max(baseline_reports / baseline_doses if baseline_doses else 0.0, floor)
    rate = window_reports / max(window_doses, 1)
    return rate >= rule["rise_factor"] * baseline_rate


def lot_candidates(new: Case, others: Sequence[Case], *, window: dt.timedelta) -> tuple[str, list[Case]] | None:
    """The non-serious reports of the new report's lot with similar events within the window
    (the group with the most of them); ``lot_rise`` decides whether they are a cluster."""
    if new.serious or new.lot_id is None:
        return None
    best: tuple[str, list[Case]] | None = None
    for group in sorted(new.groups):
        members = [o for o in others if o.id != new.id and not o.serious and o.lot_id == new.lot_id
                   and group in o.groups and within_window(new, o, window)]
        if best is None or len(members) > len(best[1]):
            best = (group, members)
    return best
