"""The gate as the sessions service asks it: opening refuses with the missing items, opens once
the checklist is complete or the county command granted an exception; the closing figures carry
the staff-hours."""

from __future__ import annotations

import datetime as dt

import pytest

from vaxops.core.errors import VaxopsError
from vaxops.sites import sessions
from vaxops.sites.models import SessionStatus
from vaxops.staff.readiness import grant_exception, record_readiness
from vaxops.staff.services import set_roster
from vaxops.staff.testing import make_ready
from vaxops.staff.tests.helpers import complete_items, make_crew, make_session


@pytest.fixture
def crew(world):
    return make_crew(world)


def test_opening_refuses_with_the_missing_items_then_opens_when_complete(world, crew):
    s = make_session(world)
    manager = world.users["site_manager"]
    with pytest.raises(VaxopsError) as exc:
        sessions.open_session(s, acting_user=manager)
    assert exc.value.code == "readiness_incomplete" and exc.value.status == 409
    assert exc.value.detail["missing"] == ["doctor_level2", "ambulance", "emergency_kit", "observation_seats",
                                           "cold_chain_reading", "vaccinators_trained"]
    set_roster(s, [crew.staff["doctor"].pk, crew.staff["vaccinator"].pk], acting_user=manager)
    record_readiness(s, complete_items(cold_chain_reading=8.4), acting_user=manager)
    with pytest.raises(VaxopsError) as exc:
        sessions.open_session(s, acting_user=manager)
    assert exc.value.detail["missing"] == ["cold_chain_reading"]
    s.refresh_from_db()
    assert s.status == SessionStatus.PLANNED
    record_readiness(s, {"cold_chain_reading": 6.0}, acting_user=manager)
    assert sessions.open_session(s, acting_user=manager).status == SessionStatus.OPEN


def test_an_exception_lets_the_session_open(world, crew):
    s = make_session(world)
    grant_exception(s, reason="急救车在途，十分钟内到达", acting_user=world.users["county_command"])
    assert sessions.open_session(s, acting_user=world.users["site_manager"]).status == SessionStatus.OPEN


def test_open_many_refuses_the_unready_ones(world, crew):
    ready = make_ready(make_session(world, date=dt.date(2021, 5, 12)))
    unready = make_session(world, date=dt.date(2021, 5, 13))
    with pytest.raises(VaxopsError) as exc:
        sessions.open_sessions([ready, unready], acting_user=world.users["county_command"])
    assert exc.value.code == "readiness_incomplete"
    assert sessions.open_sessions([ready], acting_user=world.users["county_command"])[0].status == SessionStatus.OPEN


def test_closing_figures_carry_the_staff_hours(world, crew):
    s = make_session(world, opens_at=dt.time(8), closes_at=dt.time(12), planned_doses=200)
    set_roster(s, [crew.staff["doctor"].pk, crew.staff["vaccinator"].pk, crew.staff["nurse"].pk],
               acting_user=world.users["site_manager"])
    record_readiness(s, complete_items(), acting_user=world.users["site_manager"])
    sessions.open_session(s, acting_user=world.users["site_manager"])
    closed = sessions.close_session(s, acting_user=world.users["site_manager"])
    assert closed.figures["staff_hours"] == 12.0 and closed.figures["rostered_staff"] == 3
