"""Fuzz every operation of the OpenAPI document: no answer is a 5xx, a refusal writes nothing.

Requests are generated from the document itself (parameters and body schemas), mixing values
that reach deep into the services (real person ids, products, lots, sites, ID numbers, times
in 2021) with hostile ones (NUL bytes, lone surrogates, integers beyond 64 bits, years 1 and
9999, deep nesting, wrong types, junk bodies). Seeded and bounded: ``VAXOPS_FUZZ_EXAMPLES``
examples per operation (default 60), the same on every run.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import uuid
from typing import Any
from urllib.parse import quote

import pytest
from django.apps import apps
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import make_person
from vaxops.core.api import api as ninja_api
from vaxops.registry.idnumber import make_id_number

EXAMPLES = int(os.environ.get("VAXOPS_FUZZ_EXAMPLES", "60"))
AS = ["vaccinator", "site_manager", "county_command", "grid_worker_ld", "admin", None]
# The roles of the examples meant to succeed; an operation only some roles may perform acts as one
# of them (the review of an excursion drew no supervisor otherwise; only the commands grant
# exceptions and deploy staff).
GOOD_ROLES = ["vaccinator", "site_manager", "admin", "supervisor", "supply_officer"]
SITE_STAFF, COMMAND = ["vaccinator", "site_manager"], ["county_command", "prefecture_command"]
GOOD_ROLE_OF = {
    "POST /api/v1/excursions/{excursion_id}/review": ["supervisor"],
    "POST /api/v1/sessions": ["site_manager", "county_command", "admin"],
    "POST /api/v1/sessions/{session_id}/open": ["site_manager", "county_command"],
    "PUT /api/v1/sessions/{session_id}/roster": ["site_manager", "county_command"],
    "PUT /api/v1/sessions/{session_id}/readiness": ["site_manager"],
    "POST /api/v1/sessions/{session_id}/readiness/exception": ["county_command"],
    "POST /api/v1/sessions/{session_id}/visits": SITE_STAFF,
    "POST /api/v1/sessions/{session_id}/standby": SITE_STAFF,
    "POST /api/v1/sessions/{session_id}/standby/offers": [*SITE_STAFF, "county_command"],
    "POST /api/v1/standby/offers/{offer_id}/confirm": [*SITE_STAFF, "county_command"],
    "POST /api/v1/staff": ["site_manager", "county_command", "admin"],
    "POST /api/v1/staff/{staff_id}/qualifications": ["site_manager", "county_command", "admin"],
    "POST /api/v1/deployments": COMMAND,
    "GET /api/v1/visits/{visit_id}": [*SITE_STAFF, *COMMAND, "supervisor"],
    "POST /api/v1/visits/{visit_id}/screening": SITE_STAFF,
    "POST /api/v1/visits/{visit_id}/release": SITE_STAFF,
    "POST /api/v1/visits/{visit_id}/leave": SITE_STAFF,
    "POST /api/v1/people/{person_id}/deferrals/{deferral_id}/lift": ["site_manager", "county_command"],
    # appointments (issue 10, appointments)
    "POST /api/v1/sessions/{session_id}/slots": ["site_manager", "county_command"],
    "POST /api/v1/appointments": SITE_STAFF,
    "POST /api/v1/appointments/household": SITE_STAFF,
    "POST /api/v1/appointments/{appointment_id}/cancel": SITE_STAFF,
    "POST /api/v1/appointments/{appointment_id}/reschedule": SITE_STAFF,
    # key groups and targets (issue 10, targets): a target is set by the level above Kangding.
    "POST /api/v1/targets": ["prefecture_command", "admin"],
    "POST /api/v1/key-groups/members": ["county_command", "admin"],
    "GET /api/v1/reports/daily": ["county_command", "supervisor", "admin"],
    "POST /api/v1/reports/daily/issue": ["county_command", "admin"],
    # outreach (issue 10): the outreach roles of the world's township
    "GET /api/v1/worklists": ["grid_worker", "township_organiser", "county_command", "prefecture_command", "admin"],
    "POST /api/v1/outreach": ["grid_worker", "township_organiser", "county_command", "admin"],
    "GET /api/v1/outreach/rollup": ["grid_worker", "township_organiser", "county_command", "admin"],
}
BIG = [2**63, 2**70, -(2**64), 10**30]

SPEC = ninja_api.get_openapi_schema()
COMPONENTS = SPEC["components"]["schemas"]
OPERATIONS = [(method.upper(), path, op) for path, ops in SPEC["paths"].items() for method, op in ops.items()]

hostile_text = st.one_of(
    st.sampled_from(["", " ", "\x00", "a\x00b", "\ud800", "x\udfff", "\u202e张三", "\u200b", "'; DROP TABLE x;--",
                     "%00", "../../etc", "名" * 300, "9" * 40, "1" * 19, "-0", "null", "{}", "[]"]),
    st.text(max_size=30),
)
hostile_int = st.one_of(st.sampled_from(BIG), st.integers(min_value=-10, max_value=10**6))
times = st.one_of(
    st.sampled_from(["2021-05-10T10:00:00+08:00", "2021-06-01T19:00:00+08:00", "2021-05-10T02:00:00Z",
                     "2021-05-10T10:00:00", "2021-05-10", "0001-01-01T00:00:00+08:00",
                     "9999-12-31T23:59:59-10:00", "1900-06-01T00:00:00+08:00", "2021-13-40T99:00:00Z",
                     "2021-05-10T10:00:00+25:00"]),
    st.datetimes(min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9999, 12, 30),
                 timezones=st.sampled_from([dt.UTC, dt.timezone(dt.timedelta(hours=8))])).map(dt.datetime.isoformat),
)
days = st.one_of(st.sampled_from(["2021-05-10", "2021-08-01", "0001-01-01", "9999-12-31", "1899-01-01", "2021-02-30"]),
                 st.dates().map(dt.date.isoformat))


def hints(world: Any) -> dict[str, st.SearchStrategy]:
    """Values per field name that the services would accept, so requests get past validation."""
    people = [p.pk for p in world.people.values()]
    return {
        "person_id": st.sampled_from(people), "dose_id": st.sampled_from(world.dose_ids),
        "deferral_id": st.sampled_from(world.deferral_ids["ids"]),
        "product": st.sampled_from(["BIBP", "CORONAVAC", "AD5", "ZF2001", "NOPE"]),
        "lot_number": st.sampled_from(["B2021001", "C2021001", "B2020999", "B2021Q01", "B2021R01", "X"]),
        "site_code": st.sampled_from(["KD-MASS", "KD-THC", "LD-MASS", "AB-FIX", "NOPE"]),
        "division": st.sampled_from(["513300", "513301", "513301001", "513201", "519999"]),
        "division_code": st.sampled_from(["513301", "513301001", "513322001", "513201001", "510000", "5"]),
        "id_number": st.one_of(st.sampled_from([p.id_number for p in world.people.values()]),
                               st.integers(1, 999).map(lambda s: make_id_number("513301", dt.date(1985, 3, 4), s))),
        "name": st.sampled_from(["卓玛", "扎西·次仁", "Mary-Jane", "张\u202e三", ""]),
        "phone": st.sampled_from(["13800000000", "1３８００００００００", "12345"]),
        "priority_groups": st.lists(st.sampled_from(["medical_staff", "teachers", "nope", "g" * 100]), max_size=3),
        "client_uuid": st.uuids().map(str), "administered_at": times, "at": times, "on": days,
        "reason": st.sampled_from(["entered in error", ""]), "override_reason": st.sampled_from(["doctor cleared", ""]),
        "dose_number": st.integers(0, 4), "limit": st.integers(-1, 300),
        "conflict_id": st.sampled_from(world.conflict_ids), "keep": st.sampled_from(["existing", "incoming", "both"]),
        # supply: stores, receipts, transfers, adjustments, counts
        **STOCK_HINTS, "transfer_id": st.sampled_from(world.transfer_ids), "receipt_id": st.sampled_from(world.receipt_ids),
        # coldchain: readings and excursions
        "celsius": st.sampled_from([5, -0.5, 8.01, 60, -60, 61, -61, 1e308]), "from": days, "to": days,
        "excursion_id": st.sampled_from(world.excursion_ids), "decision": st.sampled_from(["release", "discard", "x"]),
        "note": st.sampled_from(["VVM stage 1", ""]),
        **ALLOCATION_HINTS, "allocation_id": st.sampled_from(world.allocation_ids),
        # safety
        "report_id": st.sampled_from(world.report_ids), "cluster_id": st.sampled_from(world.cluster_ids),
        "events": st.lists(st.sampled_from(["fever_38_6", "syncope", "nope", ""]), max_size=3),
        "serious_criteria": st.lists(st.sampled_from(["death", "hospitalisation", "nope"]), max_size=2),
        "signs": st.lists(st.sampled_from(["stridor", "nausea", "nope"]), max_size=3),
        "onset_at": times, "detected_at": times, "who_category": st.sampled_from(["A1", "D", "Z"]),
        "cn_category": st.sampled_from(["general_reaction", "一般反应", "nope"]),
        "brighton_level": st.integers(-1, 7), "outcome": st.sampled_from(["recovered", "fatal", "nope"]),
        **standby_values(world, good=False),
        **appointment_hints(world),
        "metric": st.sampled_from(["first_dose_people", "doses", "key_group_coverage", "nope", ""]),
        "base": st.sampled_from(["18+", "60+", "all", "medical_staff", "nope", ""]),
        "value": st.one_of(st.sampled_from([0, -1, 0.5, 100, 101, 1e308, 10**12]), st.integers(-5, 10**6)),
        "due": days, "starts": days, "group": st.sampled_from(["teachers", "monastics", "nope", ""]),
        "unit": st.sampled_from(["KD-HOSP", "NOPE", ""]),
        # the daily report
        "cutoff": st.one_of(st.sampled_from(["19:00", "24:00", "00:00", "23:59", "24:01", "19", "7pm", ""]),
                            hostile_text),
        # (Never "xlsx" here: the check below must stay as it is, its source seeds every example;
        # the xlsx answers are fuzzed by test_the_daily_report_as_xlsx_never_crashes_and_opens.)
        "format": st.sampled_from(["json", "XLSX", "pdf"]),
    }


STORE_CODES = ["KD-CDC", "KD-MASS", "GZ-CDC", "AB-FIX", "NOPE"]
STOCK_HINTS = {
    "store": st.sampled_from(STORE_CODES), "code": st.sampled_from(STORE_CODES),
    "from_store": st.sampled_from(STORE_CODES), "to_store": st.sampled_from(STORE_CODES),
    "doses": st.one_of(st.integers(-5, 20_000), st.sampled_from(BIG)),
    "expiry_date": days, "arrival_temperature_c": st.one_of(st.none(), st.floats(-100, 100)),
    "rejection_reason": st.sampled_from(["broken", "found", "nope", ""]), "occurred_at": times,
}
# The accepted value of a field shared by several operations works for all of them: the lines of
# a transfer and of its proof of delivery (extra fields are ignored), a void's or an
# adjustment's reason.
STOCK_ACCEPTED = {
    # Transfers leave from a store no other accepted value puts on hold (a receipt without its
    # temperature record holds its store × lot).
    # (KD-CDC → KD-THC: a county store has child stores, so an allocation from it is accepted too.)
    "store": st.just("KD-MASS"), "code": st.just("KD-MASS"), "from_store": st.just("KD-CDC"),
    "to_store": st.just("KD-THC"), "doses": st.just(5), "expiry_date": st.just("2030-01-01"),
    "arrival_temperature_c": st.just(5.0), "rejection_reason": st.none(), "occurred_at": st.none(),
    "lines": st.just([{"lot_number": "B2021001", "doses": 5, "accepted": 5, "rejected": 0}]),
    "counts": st.just([{"lot_number": "B2021001", "doses": 9_000}]),
    # allocations
    "supply": st.just({"BIBP": 5}), "horizon_days": st.just(14), "default_capacity": st.none(),
}
ALLOCATION_HINTS = {
    "supply": st.dictionaries(st.sampled_from(["BIBP", "CORONAVAC", "NOPE", ""]),
                              st.one_of(st.integers(-5, 20_000), st.sampled_from(BIG)), max_size=3),
    "horizon_days": st.integers(-1, 100), "default_capacity": st.one_of(st.none(), st.integers(-5, 1000)),
}


def standby_values(world: Any, *, good: bool) -> dict[str, st.SearchStrategy]:
    """The standby part's ids (a session with its list, an open offer): accepted, or any."""
    ids = getattr(world, "standby_ids", None)
    if ids is None:
        return {}
    if good:
        # A fresh open offer for each operation: one that confirms leaves the next its own to decline.
        return {"offer_id": st.just(ids["new_offer"]()), "session_id": st.just(ids["sessions"][0])}
    return {"offer_id": st.sampled_from(ids["offers"]), "session_id": st.sampled_from(ids["sessions"])}


def accepted(world: Any, operation: str = "") -> dict[str, st.SearchStrategy]:
    """Values the services accept, for the half of the examples meant to succeed (``operation``:
    "METHOD /path", for the values of that operation alone)."""
    fresh = st.integers(100, 999).map(lambda s: make_id_number("513301", dt.date(1985, 3, 4), s))
    return {
        "person_id": st.sampled_from([p.pk for p in world.people.values()]), "dose_id": st.just(world.dose_ids[0]),
        "product": st.just("BIBP"), "lot_number": st.just("B2021001"), "site_code": st.just("KD-MASS"),
        "division": st.just("513301"), "division_code": st.just("513301001"), "id_number": fresh,
        "name": st.just("卓玛"), "phone": st.just("13800000000"), "priority_groups": st.just(["medical_staff"]),
        "client_uuid": st.uuids().map(str), "administered_at": st.just("2021-05-10T10:00:00+08:00"),
        "at": st.just("2021-06-01T19:00:00+08:00"), "on": st.just("2021-05-10"),
        "override_reason": st.none(), "dose_number": st.none(), "limit": st.just(10), "offset": st.just(0),
        "conflict_id": st.just(world.conflict_ids[0]), "keep": st.just("existing"),
        **STOCK_ACCEPTED, "reason": st.just("broken"),  # a void's free text, an adjustment's reason code
        "transfer_id": st.sampled_from(world.transfer_ids[:2]), "receipt_id": st.just(world.receipt_ids[0]),
        "celsius": st.just(5.0), "from": st.just("2021-05-10"), "to": st.just("2021-05-11"),
        "excursion_id": st.just(world.excursion_ids[0]), "decision": st.just("release"), "note": st.just("VVM stage 1"),
        "allocation_id": st.sampled_from(world.allocation_ids[:2]),
        # safety: a fever an hour after the fuzz world's dose (person 12's, 2021-05-01 09:00 UTC)
        "report_id": st.sampled_from(world.report_ids[:3]), "cluster_id": st.just(world.cluster_ids[0]),
        "events": st.just(["fever_38_6"]), "serious": st.just(False), "serious_criteria": st.just([]),
        "signs": st.just([]), "outcome": st.none(), "description": st.none(),
        "onset_at": st.just("2021-05-01T10:00:00Z"), "detected_at": st.just("2021-05-01T10:30:00Z"),
        "who_category": st.just("A1"), "cn_category": st.just("general_reaction"), "brighton_level": st.none(),
        "findings": st.just("settled"), "vvm_checked": st.booleans(),
        **standby_values(world, good=True),
        # A device's batch: one to three submissions with accepted values (POST /doses/batch).
        "items": st.lists(st.fixed_dictionaries({
            "client_uuid": st.uuids().map(str), "person_id": st.sampled_from([p.pk for p in world.people.values()]),
            "product": st.just("BIBP"), "lot_number": st.just("B2021001"), "site_code": st.just("KD-MASS"),
            "administered_at": st.just("2021-05-10T10:00:00+08:00")}), min_size=1, max_size=3),
        **site_day_values(world, operation),
        **appointment_values(world, operation),
        **targets_values(operation),
        **report_values(operation),
        **outreach_values(world, operation),
        **deferral_values(world, operation),
    }


def deferral_values(world: Any, operation: str) -> dict[str, st.SearchStrategy]:
    """The accepted values of lifting a deferral: a fresh open one of its resident, a reason."""
    if operation != "POST /api/v1/people/{person_id}/deferrals/{deferral_id}/lift":
        return {}
    return {"person_id": st.just(world.people[11].pk), "deferral_id": st.just(world.deferral_ids["new"]()),
            "reason": st.just("复核后可接种")}


def appointment_hints(world: Any) -> dict[str, st.SearchStrategy]:
    """The appointments part's fields, any value (issue 10, appointments)."""
    ids = getattr(world, "appointment_ids", None)
    if ids is None:
        return {}
    return {"appointment_id": st.sampled_from(ids["appointments"]), "minutes": st.sampled_from([0, 7, 15, 30, 61]),
            "capacity": st.dictionaries(st.sampled_from(["1", "2", "9", "x", ""]), hostile_int, max_size=3),
            "starts_at": times, "start": st.sampled_from([None, "08:00", "07:00", "25:00"]),
            "end": st.sampled_from([None, "12:00", "08:00"]), "status": st.sampled_from(["booked", "x", ""])}


def appointment_values(world: Any, operation: str) -> dict[str, st.SearchStrategy]:
    """The accepted values of one appointments operation, made fresh for it."""
    ids = getattr(world, "appointment_ids", None)
    if ids is None:
        return {}
    main, first, second = ids["session"], ids["starts"][0], ids["starts"][1]
    values: dict[str, Any] = {
        "POST /api/v1/sessions/{session_id}/slots": lambda: {
            "session_id": st.just(ids["new_session"]()), "minutes": st.just(30), "capacity": st.just({"1": 5}),
            "start": st.none(), "end": st.none()},
        "GET /api/v1/sessions/{session_id}/slots": lambda: {"session_id": st.just(main)},
        "GET /api/v1/sessions/{session_id}/appointments": lambda: {"session_id": st.just(main)},
        "POST /api/v1/appointments": lambda: {
            "session_id": st.just(main), "person_id": st.just(ids["new_person"]()), "starts_at": st.just(first),
            "dose_number": st.just(1), "phone": st.none()},
        "POST /api/v1/appointments/household": lambda: {
            "session_id": st.just(main), "starts_at": st.just(first), "members": st.just(
                [{"person_id": ids["new_person"](), "dose_number": 1} for _ in range(2)])},
        "POST /api/v1/appointments/{appointment_id}/cancel": lambda: {
            "appointment_id": st.just(ids["new_booking"]()), "reason": st.none()},
        "POST /api/v1/appointments/{appointment_id}/reschedule": lambda: {
            "appointment_id": st.just(ids["new_booking"]()), "session_id": st.just(main), "starts_at": st.just(second)},
        "GET /api/v1/appointments/{appointment_id}": lambda: {"appointment_id": st.just(ids["appointments"][0])},
        "GET /api/v1/appointments": lambda: {"person_id": st.none(), "status": st.none()},
    }
    return values[operation]() if operation in values else {}


def targets_values(operation: str) -> dict[str, st.SearchStrategy]:
    """The accepted values of the key-group and target operations (issue 10, targets)."""
    values: dict[str, Any] = {
        "POST /api/v1/targets": lambda: {
            "metric": st.just("first_dose_people"), "base": st.just("18+"), "value": st.integers(1, 10_000),
            "due": st.just("2021-06-30"), "starts": st.just("2021-03-22"), "kind": st.none(),
            "ramp": st.one_of(st.none(), st.just([["2021-05-01", 0.3]]))},
        "POST /api/v1/key-groups/members": lambda: {"group": st.just("teachers"), "unit": st.none()},
        "GET /api/v1/key-groups/not-vaccinated": lambda: {"group": st.just("teachers"), "unit": st.none()},
        "GET /api/v1/stats/key-groups": lambda: {"unit": st.none()},
    }
    return values[operation]() if operation in values else {}


def appointments_world(world: Any) -> None:
    """A planned session in three days at KD-MASS with 30-minute slots of ample capacity, and
    makers of fresh sessions, people and bookings (issue 10, appointments)."""
    from django.utils import timezone

    from vaxops.appointments import services
    from vaxops.campaign.services import TZ
    from vaxops.catalog.models import Product
    from vaxops.sites.models import Session

    day = timezone.now().astimezone(TZ).date() + dt.timedelta(days=3)
    made: list[int] = []

    def new_session() -> int:
        s = Session.objects.create(site=world.sites["KD-MASS"], date=day + dt.timedelta(days=1 + len(made)),
                                   status="planned", opens_at=dt.time(8), closes_at=dt.time(12))
        s.products.set([Product.objects.get(code="BIBP")])
        made.append(s.pk)
        return s.pk

    main = Session.objects.select_related("site__division").get(pk=new_session())
    services.set_slots(main, minutes=30, capacity={1: 1000, 2: 1000}, acting_user=None)
    starts = [dt.datetime.combine(main.date, dt.time(8), TZ), dt.datetime.combine(main.date, dt.time(8, 30), TZ)]
    people: list[int] = []

    def new_person() -> int:
        people.append(make_person(world, born=dt.date(1975, 2, 3), seq=100 + len(people), name="预约").pk)
        return people[-1]

    def new_booking() -> int:
        from vaxops.registry.models import Person

        a, _ = services.book(client_uuid=uuid.uuid4(), person=Person.objects.get(pk=new_person()), session=main,
                             starts_at=starts[0], dose_number=1, acting_user=None)
        return a.pk

    first = new_booking()
    world.appointment_ids = {"session": main.pk, "starts": [t.isoformat() for t in starts], "new_session": new_session,
                             "new_person": new_person, "new_booking": new_booking,
                             "appointments": [first, first + 1000]}


def report_values(operation: str) -> dict[str, st.SearchStrategy]:
    """The daily report's accepted values: a day of the campaign, a cut-off, as JSON (part reports)."""
    if "/reports/" not in operation:
        return {}
    campaign_days = st.dates(min_value=dt.date(2021, 3, 1), max_value=dt.date(2021, 6, 1)).map(dt.date.isoformat)
    return {"division": st.just("513301"), "date": campaign_days,
            "cutoff": st.sampled_from(["19:00", "24:00", "08:30", None]), "format": st.just("json")}


def outreach_values(world: Any, operation: str) -> dict[str, st.SearchStrategy]:
    """The accepted values of the outreach operations (issue 10): the world's township and a
    resident of it, an outcome that needs nothing more."""
    township = {"division": st.just("513301001")}
    values = {
        "GET /api/v1/worklists": {**township, "kind": st.sampled_from(["unvaccinated", "due", "overdue", "booster"]),
                                  "on": st.none()},
        "GET /api/v1/outreach/rollup": {**township, "at": st.none()},
        "POST /api/v1/outreach": {
            "person_id": st.just(world.outreach_person), "channel": st.sampled_from(["phone", "visit", "household"]),
            "outcome": st.sampled_from(["will_come", "hesitant", "unreachable"]), "until": st.none(),
            "note": st.none(), "session_id": st.none(), "concern": st.none(), "place": st.none(),
            "reason": st.none(), "duplicate_of": st.none(), "at": st.none()},
    }
    return values.get(operation, {})


def site_day_values(world: Any, operation: str) -> dict[str, st.SearchStrategy]:
    """The accepted values of one site-day operation (sessions, staff, visits, standby) where the
    shared ones cannot serve: each gets the object its success needs (and consumes), made fresh
    for that operation only."""
    day = world.site_day
    staff = st.just(day["staff"])
    values: dict[str, Any] = {
        "POST /api/v1/sessions": lambda: {
            "site": st.just("KD-MASS"), "date": st.just("2031-03-03"), "kind": st.just("fixed"),
            "opens_at": st.just("08:00"), "closes_at": st.just("12:00"), "planned_doses": st.just(10),
            "products": st.just(["BIBP"]), "stops": st.just([]), "organisation": st.none()},
        "POST /api/v1/sessions/{session_id}/open": lambda: {"session_id": st.just(day["planned"](ready=True))},
        "POST /api/v1/sessions/{session_id}/close": lambda: {"session_id": st.just(day["open"](later=True))},
        "PUT /api/v1/sessions/{session_id}/roster": lambda: {
            "session_id": st.just(day["planned"]()), "staff": staff, "roles": st.none(), "planned_staff": st.none()},
        "PUT /api/v1/sessions/{session_id}/readiness": lambda: {
            "session_id": st.just(day["planned"]()), "items": st.just({"cold_chain_reading": 5.0})},
        "POST /api/v1/sessions/{session_id}/readiness/exception": lambda: {
            "session_id": st.just(day["planned"]()), "reason": st.just("ambulance on its way")},
        "POST /api/v1/sessions/{session_id}/visits": lambda: {"session_id": st.just(day["open"]())},
        "POST /api/v1/sessions/{session_id}/standby": lambda: {
            "session_id": st.just(day["open"]())},
        "POST /api/v1/sessions/{session_id}/standby/offers": lambda: {"session_id": st.just(day["open"]())},
        "POST /api/v1/staff": lambda: {"unit": st.just(day["unit"]), "role": st.just("doctor"), "phone": st.none()},
        "POST /api/v1/staff/{staff_id}/qualifications": lambda: {
            "staff_id": st.just(day["staff"][0]), "kind": st.just("vaccination_training"),
            "valid_until": st.just("2031-01-01")},
        "POST /api/v1/deployments": lambda: {
            "staff": staff, "to_division": st.just("513301"), "to_site": st.none(), "starts_on": st.just("2031-01-01"),
            "ends_on": st.just("2031-01-10"), "reason": st.just("mass vaccination week")},
        "GET /api/v1/visits/{visit_id}": lambda: {"visit_id": st.just(day["visit"]())},
        "POST /api/v1/visits/{visit_id}/screening": lambda: {
            "visit_id": st.just(day["visit"]()), "outcome": st.just("pass"), "contraindication": st.none(),
            "until": st.none(), "answers": st.none()},
        "POST /api/v1/visits/{visit_id}/release": lambda: {"visit_id": st.just(day["observed"])},
        "POST /api/v1/visits/{visit_id}/leave": lambda: {"visit_id": st.just(day["visit"]())},
    }
    return values[operation]() if operation in values else {}


def from_schema(schema: dict, name: str, hint: dict[str, st.SearchStrategy], depth: int = 0,
                good: dict[str, st.SearchStrategy] | None = None) -> st.SearchStrategy:
    """Values for a JSON schema: mostly of the declared type, sometimes of any type; with
    ``good``, the accepted value of a known field."""
    if good is not None and name in good:
        return good[name]
    if "$ref" in schema:
        schema = COMPONENTS[schema["$ref"].rsplit("/", 1)[1]]
    if "anyOf" in schema:
        return st.one_of([from_schema(s, name, hint, depth, good) for s in schema["anyOf"]])
    kind, fmt = schema.get("type"), schema.get("format")
    if kind == "null":
        return st.none()
    if kind == "object":
        return objects(schema, hint, depth + 1, good)
    typed = {"integer": hostile_int, "number": st.floats(allow_nan=False), "boolean": st.booleans()}.get(kind)
    if kind == "array":
        typed = st.lists(from_schema(schema.get("items", {}), name, hint, depth + 1), max_size=3)
    if kind == "string":
        typed = {"date-time": times, "date": days, "uuid": st.one_of(st.uuids().map(str), hostile_text)}.get(fmt, hostile_text)
    typed = typed if typed is not None else hostile_text
    if name in hint:
        typed = st.one_of(hint[name], hint[name], typed)
    return st.one_of(typed, typed, typed, st.one_of(hostile_int, hostile_text, st.none(), st.just([]), st.just({})))


def objects(schema: dict, hint: dict[str, st.SearchStrategy], depth: int,
            good: dict[str, st.SearchStrategy] | None) -> st.SearchStrategy:
    properties = schema.get("properties", {})
    required = set(schema.get("required", []))

    @st.composite
    def build(draw):
        body = {}
        for key, sub in properties.items():
            if key in required and (good or draw(st.integers(0, 9)) > 0) or key not in required and draw(st.booleans()):
                body[key] = draw(from_schema(sub, key, hint, depth, good))
        if not good and draw(st.integers(0, 9)) == 0:
            body[draw(hostile_text)] = draw(hostile_text)
        return body

    return build()


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


raw_bodies = st.sampled_from([
    b"", b"{", b"[]", b"null", b"1", b'"x"', b'{"a": NaN}', b'{"a": Infinity}', b"\xff\xfe", b'{"a": "\\ud800"}',
    ('{"x": ' + nested(40) + "}").encode(), nested(5000).encode(), f'{{"person_id": {2**70}}}'.encode(),
])


# Logger files (POST …/temperatures.csv): good ones, and rows a logger or a person gets wrong.
csv_bodies = st.one_of(
    st.sampled_from([
        "timestamp,celsius\n2021-05-10 08:00,4.5\n2021-05-10 14:30,5\n",
        "\ufefftimestamp,celsius\r\n2021-05-10T08:00:00+08:00,4.5\r\n",
        "timestamp,celsius\n", "", "timestamp;celsius\n2021-05-10 08:00;4,5\n",
        "timestamp,celsius\n2021-05-10 08:00,abc\n9999-12-31 23:59,5\n0001-01-01 00:00,1\n2021-02-30 08:00,4\n",
        "timestamp,celsius\n2021-05-10 08:00,4,extra\n2021-05-10 25:00,4\n,\n",
    ]),
    st.lists(st.tuples(times, st.one_of(st.floats(allow_nan=True), hostile_text)), max_size=5).map(
        lambda rows: "timestamp,celsius\n" + "".join(f"{a},{c}\n" for a, c in rows)),
)


def query_value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def encoded(value: Any) -> str:
    """Percent-encoded as a hostile client would send it (a lone surrogate as its UTF-8 bytes)."""
    return quote(query_value(value), safe="", errors="surrogatepass")


def writable_counts() -> tuple[int, ...]:
    """Rows in every table of the project's apps (and users, sessions), in one query."""
    labels = {"auth", "sessions"} | {c.label for c in apps.get_app_configs() if c.name.startswith("vaxops.")}
    tables = sorted(m._meta.db_table for m in apps.get_models() if m._meta.app_label in labels)
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(f"(SELECT COUNT(*) FROM {connection.ops.quote_name(t)})" for t in tables))
        return tuple(cursor.fetchone())


@pytest.fixture
def fuzz_world(world):
    from vaxops.vaccination.services import record_dose

    for seq, county in [(11, "513301"), (12, "513301"), (13, "513322"), (14, "513201")]:
        world.people[seq] = make_person(world, seq=seq, county=county, name="卓玛")
    dose, _ = record_dose(client_uuid=uuid.uuid4(), person_id=world.people[12].pk, product_code="BIBP",
                          lot_number="B2021001", site_code="KD-MASS",
                          administered_at=dt.datetime(2021, 5, 1, 9, tzinfo=dt.UTC),
                          acting_user=world.users["vaccinator"], source="api")
    world.dose_ids = [dose.pk, dose.pk + 1000]
    # A deferral to lift (and, for each accepted lift, a fresh one of the same resident).
    from vaxops.registry.services import defer_person

    def new_deferral() -> int:
        return defer_person(person_id=world.people[11].pk, code="allergy", since=dt.date(2021, 5, 1),
                            acting_user=world.users["admin"], source="cli").pk

    first_deferral = new_deferral()
    world.deferral_ids = {"ids": [first_deferral, first_deferral + 1000], "new": new_deferral}
    # Another user's device sends its own dose 1 for the same person: a sync conflict to resolve.
    from vaxops.vaccination.sync import sync_batch

    [result] = sync_batch([{"client_uuid": str(uuid.uuid4()), "person_id": world.people[12].pk, "product": "BIBP",
                            "lot_number": "B2021001", "site_code": "KD-MASS",
                            "administered_at": "2021-05-01T11:00:00+08:00"}],
                          acting_user=world.users["site_manager"], source="api")
    world.conflict_ids = [result["conflict"], result["conflict"] + 1000]
    # A transfer in transit to receive, one received without its temperature record (at a store
    # the accepted values do not dispatch from) and a receipt waiting for its record.
    from vaxops.supply.services import (
        ReceiptLineIn,
        TransferLineIn,
        dispatch_transfer,
        receive_shipment,
        receive_transfer,
    )

    def send(frm, to):
        return dispatch_transfer(client_uuid=uuid.uuid4(), from_store_code=frm, to_store_code=to,
                                 lines=[TransferLineIn("B2021001", 5)], acting_user=None, source="cli")[0]

    transfer, held = send("KD-CDC", "KD-MASS"), send("KD-CDC", "LD-CDC")
    receive_transfer(transfer_id=held.pk, lines=[ReceiptLineIn("B2021001", 5)], arrival_temperature_c=None,
                     acting_user=None, source="cli")
    receipt, _ = receive_shipment(client_uuid=uuid.uuid4(), store_code="GZ-CDC", product_code="BIBP",
                                  lot_number="B2021001", expiry_date=dt.date(2030, 1, 1), doses=5,
                                  acting_user=None, source="cli")
    world.transfer_ids, world.receipt_ids = [transfer.pk, held.pk, held.pk + 1000], [receipt.pk, receipt.pk + 1000]
    # A freeze excursion in a mobile team's cold box of its own, so that the hold stops none of
    # the stores other accepted values give doses or dispatch from.
    from vaxops.supply.coldchain import record_temperatures
    from vaxops.supply.models import Store

    Store.objects.create(code="KD-TEAM-FUZZ", name_zh="康定流动接种队", level=6, division=world.divisions["513301"],
                         county_code="513301", parent=world.stores["KD-CDC"], equipment_class="cold_box")
    cold = [(dt.datetime(2021, 5, 10, 8, tzinfo=dt.UTC), -1.0), (dt.datetime(2021, 5, 10, 10, tzinfo=dt.UTC), 5.0)]
    _, [excursion] = record_temperatures(store_code="KD-TEAM-FUZZ", readings=cold, kind="logger",
                                         acting_user=world.users["supply_officer"], source="api")
    world.excursion_ids = [excursion.pk, excursion.pk + 1000]
    # Two proposed allocations to read and approve.
    from vaxops.supply.allocations import propose_allocation

    proposals = [propose_allocation(from_store_code="KD-CDC", supply={"BIBP": 5}, acting_user=world.users["admin"],
                                    source="cli").pk for _ in range(2)]
    world.allocation_ids = [*proposals, proposals[-1] + 1000]
    # safety: reports at each step to move on, and a cluster whose lot (CORONAVAC) no accepted
    # value uses, so its one-click quarantine stops nothing the other operations need.
    from vaxops.safety import services as aefi

    def report(d, **kw):
        onset = d.administered_at + dt.timedelta(hours=1)
        return aefi.report_aefi(client_uuid=uuid.uuid4(), person=d.person, dose=d, onset_at=onset, detected_at=onset,
                                acting_user=world.users["vaccinator"], **{"events": ["fever_38_6"], "serious": False,
                                                                          **kw})

    sup = world.users["supervisor"]
    reported, triaged, investigated = report(dose), report(dose), report(dose)
    aefi.triage(triaged, acting_user=sup)
    aefi.investigate(aefi.triage(investigated, acting_user=sup), acting_user=sup)
    world.report_ids = [reported.pk, triaged.pk, investigated.pk, investigated.pk + 1000]
    cluster = None
    for seq in (15, 16):
        d, _ = record_dose(client_uuid=uuid.uuid4(), person_id=make_person(world, seq=seq, county="513301").pk,
                           product_code="CORONAVAC", lot_number="C2021001", site_code="KD-MASS",
                           administered_at=dt.datetime(2021, 5, 2, 9, tzinfo=dt.UTC),
                           acting_user=world.users["vaccinator"], source="api")
        cluster = report(d, events=["syncope"], serious=True, serious_criteria=["hospitalisation"]).cluster_id
    world.cluster_ids = [cluster, cluster + 1000]
    standby_world(world)
    site_day_world(world)
    appointments_world(world)
    world.outreach_person = make_person(world, seq=777, born=dt.date(1977, 7, 7), county="513301").pk
    return world


def site_day_world(world: Any) -> None:
    """Staff of a Kangding hospital, and makers of the sessions and visits the site-day
    operations consume: planned sessions (with a complete checklist for opening), open ones
    (today, or a later day whose closing writes off none of today's vials) and visits at
    each step."""
    from django.utils import timezone

    from vaxops.campaign.services import TZ
    from vaxops.catalog.models import Product
    from vaxops.sites.models import Session
    from vaxops.staff.models import Staff, Unit
    from vaxops.staff.testing import make_ready
    from vaxops.visits.models import Visit

    unit = Unit.objects.create(code="KD-FUZZ-HOSP", name_zh="康定市人民医院", name_en="Kangding hospital",
                               kind="hospital", hospital_level=2, division=world.divisions["513301"],
                               county_code="513301")
    staff = [Staff.objects.create(unit=unit, name=name, role=role).pk
             for name, role in [("扎西", "doctor"), ("卓玛", "vaccinator")]]
    bibp = Product.objects.get(code="BIBP")
    made: list[int] = []
    today = timezone.now().astimezone(TZ).date()

    def session(status: str, on: dt.date) -> Session:
        s = Session.objects.create(site=world.sites["KD-MASS"], date=on, status=status, kind="outreach",
                                   opens_at=dt.time(8), closes_at=dt.time(18))
        s.products.set([bibp])
        made.append(s.pk)
        return s

    def planned(ready: bool = False) -> int:
        s = session("planned", today + dt.timedelta(days=30 + len(made)))
        return (make_ready(s) if ready else s).pk

    def opened(later: bool = False) -> int:
        return session("open", today + dt.timedelta(days=30 + len(made)) if later else today).pk

    def visit(observed: bool = False) -> int:
        from vaxops.vaccination.services import record_dose

        now = timezone.now()
        person = make_person(world, seq=800 + len(made), county="513301")
        fields: dict[str, Any] = {"status": "waiting"}
        if observed:
            given = now - dt.timedelta(hours=1)
            dose, _ = record_dose(client_uuid=uuid.uuid4(), person_id=person.pk, product_code="BIBP",
                                  lot_number="B2021001", site_code="KD-MASS", administered_at=given,
                                  acting_user=world.users["vaccinator"], source="api")
            fields = {"status": "in_observation", "dose": dose, "screened_at": given, "vaccinated_at": given,
                      "observation_until": now - dt.timedelta(minutes=1)}
        return Visit.objects.create(session_id=opened(), person=person, client_uuid=uuid.uuid4(), ticket=1,
                                    county_code="513301", checked_in_by=world.users["vaccinator"],
                                    checked_in_at=now - dt.timedelta(hours=2), **fields).pk

    # The visit to release has its dose now, before other operations put the site's stock on hold.
    world.site_day = {"unit": unit.code, "staff": staff, "planned": planned, "open": opened, "visit": visit,
                      "observed": visit(observed=True)}


def standby_world(world: Any) -> None:
    """Today's open session at KD-MASS with a standby entry holding an open offer (part standby)."""
    from django.utils import timezone

    from vaxops.campaign.services import TZ
    from vaxops.catalog.models import Product
    from vaxops.sites.models import Session
    from vaxops.standby.models import Offer, StandbyEntry, StandbyRound

    now = timezone.now()
    session = Session.objects.create(site=world.sites["KD-MASS"], date=now.astimezone(TZ).date(), status="open")
    session.products.set([Product.objects.get(code="BIBP")])
    # The offer in a second session of the site, so that a round of offers made on the first
    # (no leftover doses: none on offer) leaves its count alone.
    other = Session.objects.create(site=world.sites["KD-MASS"], date=session.date, kind="outreach", status="open")
    StandbyRound.objects.create(session=other, doses=1000)
    from vaxops.supply.models import OpenVial

    OpenVial.objects.create(store=world.stores["KD-MASS"], lot=world.lots["bibp"], opened_at=now,
                            expires_at=now + dt.timedelta(days=1), doses_left=1000)
    made = []

    def new_offer() -> int:
        person = make_person(world, seq=700 + len(made), name="候补", phone="13900000880")
        entry = StandbyEntry.objects.create(session=other, person=person, phone=person.phone, priority_rank=1000,
                                            signed_up_at=now, status="offered", county_code="513301")
        made.append(Offer.objects.create(entry=entry, made_at=now, expires_at=now + dt.timedelta(days=1)).pk)
        return made[-1]

    first = new_offer()
    world.standby_ids = {"sessions": [session.pk, session.pk + 1000], "offers": [first, first + 1000],
                         "new_offer": new_offer}


def test_no_request_crashes_and_no_refusal_writes(client, fuzz_world):
    seen: dict[str, set[int]] = {}
    for method, path, op in OPERATIONS:
        seen[f"{method} {path}"] = fuzz_operation(client, fuzz_world, method, path, op)
    # The generator reaches past validation: most operations also succeed sometimes.
    succeeded = [name for name, statuses in seen.items() if any(200 <= s < 300 for s in statuses)]
    assert len(succeeded) >= len(seen) - 2, {k: v for k, v in seen.items() if k not in succeeded}


def fuzz_operation(client, world, method: str, path: str, op: dict) -> set[int]:
    """Run the seeded examples for one operation; returns the statuses seen."""
    hint, good_values = hints(world), accepted(world, f"{method} {path}")
    params = op.get("parameters", [])
    body_schema = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
    takes_csv = "text/csv" in op.get("requestBody", {}).get("content", {})
    statuses: set[int] = set()

    @st.composite
    def requests(draw):
        good = good_values if draw(st.booleans()) else None
        url = path
        for p in (p for p in params if p["in"] == "path"):
            value = draw(from_schema(p["schema"], p["name"], hint, good=good))
            url = url.replace("{" + p["name"] + "}", encoded(value))
        query = {}
        for p in (p for p in params if p["in"] == "query"):
            if p.get("required") or draw(st.booleans()):
                value = draw(from_schema(p["schema"], p["name"], hint, good=good))
                if value is not None:
                    query[p["name"]] = encoded(value)
        raw = None
        if body_schema is not None:
            if not good and draw(st.integers(0, 7)) == 0:
                raw = draw(raw_bodies)
            else:
                raw = json.dumps(draw(from_schema(body_schema, "body", hint, good=good))).encode()
        content_type = "application/json"
        if takes_csv:
            content_type = draw(st.sampled_from(["text/csv", "text/csv", "application/json"]))
            raw = (draw(csv_bodies) if good or draw(st.booleans()) else draw(hostile_text)).encode("utf-8", "surrogatepass")
        role = draw(st.sampled_from(GOOD_ROLE_OF.get(f"{method} {path}", GOOD_ROLES) if good else AS))
        return url, query, raw, role, draw(st.sampled_from(["en", "zh-hans"])), content_type

    @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(requests())
    def check(request):
        url, query, raw, role, language, content_type = request
        headers = {"HTTP_ACCEPT_LANGUAGE": language}
        if role:
            headers["HTTP_AUTHORIZATION"] = f"Bearer {world.tokens[role]}"
        before = writable_counts()
        target = url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")
        if method == "GET":
            r = client.get(target, **headers)
        else:
            r = client.generic(method, target, raw or b"", content_type=content_type, **headers)
        statuses.add(r.status_code)
        assert r.status_code < 500, (method, url, query, raw, role, r.content[:500])
        # A CSV download (a lot's recipients) answers text/csv; every other answer is JSON.
        csv_ok = url.endswith(".csv") and r.status_code == 200 and r["Content-Type"].startswith("text/csv")
        assert csv_ok or r["Content-Type"].startswith("application/json"), (url, r.status_code)
        if r.status_code >= 400:
            assert r.json()["code"], r.content
            assert writable_counts() == before, (method, url, query, raw, role, r.status_code, r.content[:300])

    check()
    return statuses


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def test_the_daily_report_as_xlsx_never_crashes_and_opens(client, fuzz_world):
    """The daily report asked for as xlsx (beside hostile and wrong values): no 5xx; a 200 is a
    workbook openpyxl opens, a refusal is JSON with a code and writes nothing."""
    import io

    from openpyxl import load_workbook

    answers: set[tuple[str, int]] = set()

    @settings(max_examples=max(10, EXAMPLES // 2), derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(division=st.sampled_from(["513301", "513300", "513322", "NOPE", ""]),
           day=st.one_of(st.dates(min_value=dt.date(2021, 3, 1), max_value=dt.date(2021, 6, 1)).map(dt.date.isoformat),
                         st.sampled_from(["2020-12-31", "2099-01-01", "2021-02-30", "", "x"])),
           cutoff=st.sampled_from(["19:00", "24:00", "08:30", "25:00", "", None]),
           fmt=st.sampled_from(["xlsx", "xlsx", "XLSX", "json"]),
           role=st.sampled_from(["county_command", "county_command", "supervisor", "admin", "vaccinator", None]))
    def check(division, day, cutoff, fmt, role):
        query = {"division": division, "date": day, "format": fmt, **({"cutoff": cutoff} if cutoff is not None else {})}
        headers = {"HTTP_AUTHORIZATION": f"Bearer {fuzz_world.tokens[role]}"} if role else {}
        before = writable_counts()
        r = client.get("/api/v1/reports/daily?" + "&".join(f"{k}={quote(v)}" for k, v in query.items()), **headers)
        answers.add((fmt.lower(), r.status_code))
        assert r.status_code < 500, (query, role, r.content[:300])
        if r.status_code == 200 and fmt.lower() == "xlsx":
            assert r["Content-Type"].startswith(XLSX)
            assert load_workbook(io.BytesIO(r.content), read_only=True).sheetnames
        else:
            assert r["Content-Type"].startswith("application/json"), (query, r.status_code)
        if r.status_code >= 400:
            assert r.json()["code"], r.content
            assert writable_counts() == before, (query, role, r.status_code)

    check()
    assert ("xlsx", 200) in answers and any(s >= 400 for _fmt, s in answers), answers
