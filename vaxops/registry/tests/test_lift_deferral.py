"""Lifting a deferral: a permanent contraindication recorded in error (or one that no longer
holds) is lifted by the site manager or the county command with a written reason; the person
is eligible again, back on the work lists and in the "应种" denominator, and the record stays."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from conftest import ROLES, make_person
from vaxops.core.models import AuditEvent
from vaxops.outreach.models import DueEntry
from vaxops.outreach.tests.helpers import at, contact
from vaxops.registry.models import Deferral

pytestmark = pytest.mark.django_db
TODAY = dt.date(2021, 5, 20)
MAY_LIFT = {"site_manager", "county_command", "admin"}


def contraindicated(world, seq=61, **kw):
    p = make_person(world, seq=seq, **kw)
    contact(world, p, "contraindicated", reason="allergy", channel="visit", when=at(TODAY))
    return p, Deferral.objects.get(person=p)


def test_a_lifted_contraindication_brings_the_person_back_and_keeps_the_record(api, world):
    p, d = contraindicated(world)
    assert DueEntry.objects.get(person=p).kind == "out"
    client = api(world.tokens["site_manager"])
    assert client.get(f"/people/{p.pk}/eligibility", product="BIBP").json()["status"] == "refused"
    r = client.post(f"/people/{p.pk}/deferrals/{d.pk}/lift", {"reason": "过敏史核实为误记"})
    assert r.status_code == 200, r.content
    assert r.json()["lifted_at"] and r.json()["lift_reason"] == "过敏史核实为误记"
    assert client.get(f"/people/{p.pk}/eligibility", product="BIBP").json()["status"] == "eligible"
    assert DueEntry.objects.get(person=p).kind == "first"
    d.refresh_from_db()
    assert d.lifted_by == world.users["site_manager"] and d.until is None  # the record stays as it was
    event = AuditEvent.objects.get(action="person.lift_deferral")
    assert event.after["reason"] == "过敏史核实为误记" and event.after["person"] == p.pk
    listed = client.get(f"/people/{p.pk}/deferrals").json()
    assert [x["id"] for x in listed] == [d.pk] and listed[0]["lifted_at"]


def test_key_group_figures_count_the_person_again_from_the_lift(world):
    from vaxops.keygroups.models import Membership
    from vaxops.keygroups.services import add_members
    from vaxops.keygroups.stats import group_figures
    from vaxops.registry.status import lift_deferral

    p, d = contraindicated(world)
    add_members([{"person_id": p.pk, "group": "teachers"}], acting_user=world.users["county_command"], source="cli")
    before = timezone.now()
    lift_deferral(deferral_id=d.pk, reason="复核后可接种", acting_user=world.users["county_command"], source="cli")
    members = Membership.objects.filter(person=p)

    def teachers(moment):
        return next(g for g in group_figures(members, moment) if g["code"] == "teachers")

    assert teachers(before)["contraindicated"] == 1 and teachers(before)["eligible"] == 0
    assert teachers(timezone.now())["contraindicated"] == 0 and teachers(timezone.now())["eligible"] == 1


@pytest.mark.parametrize("body, code, status", [
    ({"reason": "  "}, "lift_reason_required", 422),
    ({"reason": "x" * 501}, "invalid_request", 422),
    ({}, "invalid_request", 422),
])
def test_a_lift_without_a_reason_is_refused_and_writes_nothing(api, world, body, code, status):
    p, d = contraindicated(world)
    events = AuditEvent.objects.count()
    r = api(world.tokens["site_manager"]).post(f"/people/{p.pk}/deferrals/{d.pk}/lift", body)
    assert (r.status_code, r.json()["code"]) == (status, code), r.content
    d.refresh_from_db()
    assert d.lifted_at is None and AuditEvent.objects.count() == events


def test_a_second_lift_and_a_wrong_person_are_refused(api, world):
    p, d = contraindicated(world)
    other = make_person(world, seq=63)
    client = api(world.tokens["county_command"])
    assert client.post(f"/people/{other.pk}/deferrals/{d.pk}/lift", {"reason": "ok"}).json()["code"] == \
        "deferral_not_found"
    assert client.post(f"/people/{p.pk}/deferrals/{d.pk}/lift", {"reason": "ok"}).status_code == 200
    again = client.post(f"/people/{p.pk}/deferrals/{d.pk}/lift", {"reason": "ok"})
    assert (again.status_code, again.json()["code"]) == (409, "deferral_lifted")
    assert AuditEvent.objects.filter(action="person.lift_deferral").count() == 1


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("area", ["in", "out"])
def test_who_may_lift_where(api, world, role, area):
    from vaxops.registry.services import defer_person

    if area == "in":
        p = make_person(world, seq=65, division="513301001")
    else:
        p = make_person(world, seq=67, county="513201", division="513201001", name="外州人")
    d = defer_person(person_id=p.pk, code="neurological", since=TODAY, acting_user=world.users["admin"],
                     source="cli")
    r = api(world.tokens[role]).post(f"/people/{p.pk}/deferrals/{d.pk}/lift", {"reason": "复核"})
    if role not in MAY_LIFT:
        expected = 403
    elif area == "in" or role == "admin":
        expected = 200
    else:
        expected = 404  # outside the area: not found, its existence not revealed
    assert r.status_code == expected, (role, area, r.content)
    if expected == 404:
        assert r.json()["code"] == "deferral_not_found"


def test_anonymous_gets_401(api, world):
    p, d = contraindicated(world)
    assert api().post(f"/people/{p.pk}/deferrals/{d.pk}/lift", {"reason": "x"}).status_code == 401
