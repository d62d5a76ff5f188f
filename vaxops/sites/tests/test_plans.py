"""A county's week from its templates and a mobile team's circuit (docs/sessions.md)."""

from __future__ import annotations

import datetime as dt

import pytest

from vaxops.core.errors import VaxopsError
from vaxops.regions.models import Division, Level
from vaxops.sites import sessions
from vaxops.sites.models import Session, SessionKind, SessionTemplate, Site

T = dt.time
MONDAY = dt.date(2021, 5, 10)


def test_the_week_is_planned_from_the_templates_once(world):
    mass, thc = world.sites["KD-MASS"], world.sites["KD-THC"]
    for weekday in range(5):
        SessionTemplate.objects.create(site=mass, weekday=weekday, opens_at=T(8), closes_at=T(18), planned_doses=3000)
    SessionTemplate.objects.create(site=thc, weekday=2, opens_at=T(9), closes_at=T(12), planned_doses=120)
    SessionTemplate.objects.create(site=thc, weekday=2, opens_at=T(14), closes_at=T(17), planned_doses=80,
                                   kind=SessionKind.POINT_TO_POINT, organisation="康定寺")
    SessionTemplate.objects.create(site=thc, weekday=6, opens_at=T(9), closes_at=T(12), is_active=False)
    # Another county's template is not this county's plan.
    SessionTemplate.objects.create(site=world.sites["LD-MASS"], weekday=0, opens_at=T(8), closes_at=T(18))
    created = sessions.plan_week(world.divisions["513301"], MONDAY + dt.timedelta(days=3),
                                 acting_user=world.users["county_command"])
    assert len(created) == 7
    week = Session.objects.filter(date__range=(MONDAY, MONDAY + dt.timedelta(days=6)))
    assert sorted((s.site.code, s.date.weekday(), s.opens_at) for s in week) == sorted(
        [("KD-MASS", d, T(8)) for d in range(5)] + [("KD-THC", 2, T(9)), ("KD-THC", 2, T(14))])
    p2p = week.get(site=thc, opens_at=T(14))
    assert (p2p.kind, p2p.organisation, p2p.planned_doses, p2p.status) == ("point_to_point", "康定寺", 80, "planned")
    # Twice: nothing new.
    assert sessions.plan_week("513301", MONDAY, acting_user=world.users["county_command"]) == []
    # A site manager plans only their site's templates.
    next_week = sessions.plan_week("513301", MONDAY + dt.timedelta(days=7), acting_user=world.users["site_manager"])
    assert {s.site.code for s in next_week} == {"KD-MASS"} and len(next_week) == 5


def test_a_template_overlapping_a_session_already_planned_is_refused(world):
    mass = world.sites["KD-MASS"]
    SessionTemplate.objects.create(site=mass, weekday=0, opens_at=T(8), closes_at=T(18))
    sessions.create_session(site=mass, date=MONDAY, kind="fixed", opens_at=T(13), closes_at=T(15),
                            acting_user=world.users["county_command"])
    with pytest.raises(VaxopsError) as exc:
        sessions.plan_week("513301", MONDAY, acting_user=world.users["county_command"])
    assert exc.value.code == "session_overlap"
    assert Session.objects.filter(date=MONDAY).count() == 1


def test_planning_another_countys_week_is_refused(world):
    with pytest.raises(VaxopsError) as exc:
        sessions.plan_week("513322", MONDAY, acting_user=world.users["county_command"])
    assert exc.value.code == "division_not_found"
    with pytest.raises(VaxopsError) as exc:
        sessions.plan_week("513301", MONDAY, acting_user=world.users["vaccinator"])
    assert exc.value.code == "permission_denied"


@pytest.fixture
def team(world):
    thc = world.divisions["513301001"]
    villages = [Division.objects.create(code=f"5133010013{i:02d}", level=Level.VILLAGE, parent=thc,
                                        name_zh=f"示例村{i}", name_en=f"Village {i}") for i in range(5)]
    site = Site.objects.create(code="KD-MOB", name_zh="康定流动接种队", name_en="Kangding mobile team",
                               kind="mobile_team", division=thc, county_code="513301")
    return site, villages


def test_a_circuit_covers_its_villages_in_its_cycle(world, team):
    site, villages = team
    circuit = sessions.create_circuit(site=site, name="炉城片区", starts_on=MONDAY, cycle_days=3, opens_at=T(8),
                                      closes_at=T(16), villages=villages, planned_doses=60,
                                      acting_user=world.users["county_command"])
    created = sessions.plan_circuit(circuit, start=MONDAY, days=7, acting_user=world.users["county_command"])
    # 5 villages over 3 days: 2, 2, 1 — then the cycle again.
    plan = [(s.date, [(x.division.code, x.arrives_at) for x in s.stops.order_by("position")])
            for s in sorted(created, key=lambda s: s.date)]
    v = [x.code for x in villages]
    assert plan == [
        (MONDAY, [(v[0], T(8)), (v[1], T(12))]),
        (MONDAY + dt.timedelta(days=1), [(v[2], T(8)), (v[3], T(12))]),
        (MONDAY + dt.timedelta(days=2), [(v[4], T(8))]),
        (MONDAY + dt.timedelta(days=3), [(v[0], T(8)), (v[1], T(12))]),
        (MONDAY + dt.timedelta(days=4), [(v[2], T(8)), (v[3], T(12))]),
        (MONDAY + dt.timedelta(days=5), [(v[4], T(8))]),
        (MONDAY + dt.timedelta(days=6), [(v[0], T(8)), (v[1], T(12))]),
    ]
    assert {(s.kind, s.planned_doses) for s in created} == {("outreach", 60)}
    # Planned again over the same days: nothing doubled.
    assert sessions.plan_circuit(circuit, start=MONDAY, days=7, acting_user=world.users["county_command"]) == []


def test_a_circuit_needs_villages_of_its_county_and_a_cycle(world, team):
    site, villages = team

    def make(**kw):
        args = {"site": site, "starts_on": MONDAY, "cycle_days": 3, "opens_at": T(8), "closes_at": T(16), "villages": villages,
                    "acting_user": world.users["county_command"]}
        args.update(kw)
        with pytest.raises(VaxopsError) as exc:
            sessions.create_circuit(**args)
        return exc.value.code

    assert make(villages=[]) == "circuit_invalid"
    assert make(cycle_days=0) == "circuit_invalid"
    assert make(closes_at=T(7)) == "session_hours_invalid"
    assert make(villages=["513322001"]) == "division_not_found"
    assert make(site="LD-MASS") == "site_not_found"
