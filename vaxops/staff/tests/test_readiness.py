"""The gate on the database: items from the roster and the submitted values, the bulk answer,
the county command's exception."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vaxops.core.errors import VaxopsError
from vaxops.core.models import AuditEvent
from vaxops.sites.models import SessionStatus
from vaxops.staff.models import Readiness, ReadinessException
from vaxops.staff.readiness import (
    exception_for,
    grant_exception,
    missing_for,
    missing_items,
    record_readiness,
    record_readiness_many,
)
from vaxops.staff.services import add_qualification, set_roster
from vaxops.staff.tests.helpers import complete_items, make_crew, make_session, ready_session


@pytest.fixture
def crew(world):
    return make_crew(world)


def test_a_new_session_misses_every_item(world, crew):
    s = make_session(world)
    assert missing_items(s) == ["doctor_level2", "ambulance", "emergency_kit", "observation_seats",
                                "cold_chain_reading", "vaccinators_trained"]
    assert exception_for(s) is None


def test_roster_and_checklist_complete_the_session(world, crew):
    s = ready_session(world, crew)
    assert missing_items(s) == []


def test_record_answers_complete_and_missing(world, crew):
    s = make_session(world)
    set_roster(s, [crew.staff["doctor"].pk, crew.staff["vaccinator"].pk], acting_user=world.users["site_manager"])
    got = record_readiness(s, {"cold_chain_reading": 9.2}, acting_user=world.users["site_manager"])
    assert got["complete"] is False
    assert got["missing"] == ["ambulance", "emergency_kit", "observation_seats", "cold_chain_reading"]
    assert got["reasons"]["cold_chain_reading"]["reason"] == "reading_out_of_range"
    got = record_readiness(s, complete_items(), acting_user=world.users["site_manager"])
    assert got == {"complete": True, "missing": [], "reasons": {}}
    # a later value replaces the earlier one, the others stay
    got = record_readiness(s, {"cold_chain_reading": 1.5}, acting_user=world.users["site_manager"])
    assert got["missing"] == ["cold_chain_reading"]
    assert Readiness.objects.get(session=s).items["observation_seats"] == 120


def test_a_level_1_doctor_does_not_count(world, crew):
    s = make_session(world)
    set_roster(s, [crew.staff["thc_doctor"].pk, crew.staff["vaccinator"].pk], acting_user=world.users["site_manager"])
    record_readiness(s, complete_items(), acting_user=world.users["site_manager"])
    assert missing_items(s) == ["doctor_level2"]


def test_a_training_expired_before_the_session_misses_the_vaccinators(world, crew):
    s = ready_session(world, crew, date=dt.date(2022, 1, 3))
    assert "vaccinators_trained" in missing_items(s)
    add_qualification(crew.staff["vaccinator"], kind="vaccination_training", product_code="BIBP",
                      valid_until=dt.date(2022, 12, 31), acting_user=world.users["admin"])
    # the kit's drugs (2022-06-30) are still within expiry on 3 January 2022
    assert missing_items(s) == []


def test_a_session_for_a_product_nobody_is_trained_for(world, crew):
    s = ready_session(world, crew, products=("BIBP", "CORONAVAC"))
    assert missing_items(s) == ["vaccinators_trained"]


def test_a_township_centre_may_give_the_minutes_to_an_ambulance(world, crew):
    s = make_session(world, "KD-THC")
    set_roster(s, [crew.staff["doctor"].pk, crew.staff["vaccinator"].pk], acting_user=world.users["county_command"])
    record_readiness(s, complete_items(ambulance={"minutes": 15, "distance_km": 8}),
                     acting_user=_manager_of(world, "KD-THC"))
    assert missing_items(s) == []
    mass = make_session(world, "KD-MASS")
    set_roster(mass, [crew.staff["doctor"].pk, crew.staff["vaccinator"].pk], acting_user=world.users["county_command"])
    got = record_readiness(mass, complete_items(ambulance={"minutes": 15}), acting_user=world.users["site_manager"])
    assert got["missing"] == ["ambulance"] and got["reasons"]["ambulance"]["reason"] == "ambulance_on_site_required"


def _manager_of(world, site_code):
    from vaxops.access.services import create_user

    key = f"manager_{site_code}"
    if key not in world.users:
        world.users[key], _ = create_user(username=key, role="site_manager", scope=site_code, source="cli")
    return world.users[key]


@pytest.mark.parametrize(("items", "code"), [
    ({"helicopter": 1}, "unknown_readiness_item"),
    ({"doctor_level2": True}, "readiness_item_computed"),
    ({"cold_chain_reading": "warm"}, "invalid_readiness_value"),
    ({"cold_chain_reading": 85}, "invalid_readiness_value"),
    ({"observation_seats": -4}, "invalid_readiness_value"),
    ({"ambulance": {"plate": "川V"}}, "invalid_readiness_value"),
    ({"emergency_kit": {"checked": True, "drugs": {"adrenaline": "30/06/2022"}}}, "invalid_readiness_value"),
    ([1, 2], "invalid_request"),
])
def test_unreadable_values_write_nothing(world, crew, items, code):
    s = make_session(world)
    with pytest.raises(VaxopsError) as exc:
        record_readiness(s, {"observation_seats": 100, **items} if isinstance(items, dict) else items,
                         acting_user=world.users["site_manager"])
    assert exc.value.code == code and exc.value.status == 422
    assert not Readiness.objects.exists()


def test_only_the_site_manager_of_the_site_records(world, crew):
    s = make_session(world)
    for role in ("county_command", "vaccinator", "admin"):
        with pytest.raises(VaxopsError) as exc:
            record_readiness(s, {"observation_seats": 100}, acting_user=world.users[role])
        assert exc.value.code == "permission_denied"
    with pytest.raises(VaxopsError) as exc:
        record_readiness(s, {"observation_seats": 100}, acting_user=world.users["site_manager_ld"])
    assert exc.value.code == "session_not_found"
    assert not Readiness.objects.exists()


def test_a_closed_session_keeps_its_checklist(world, crew):
    s = make_session(world)
    s.status = SessionStatus.CLOSED
    s.save()
    with pytest.raises(VaxopsError) as exc:
        record_readiness(s, {"observation_seats": 100}, acting_user=world.users["site_manager"])
    assert exc.value.code == "readiness_session_closed"


def test_every_record_is_audited(world, crew):
    s = make_session(world)
    record_readiness(s, {"observation_seats": 100}, acting_user=world.users["site_manager"])
    event = AuditEvent.objects.get(action="staff.readiness.record")
    assert event.object_id == str(s.pk) and event.after["items"] == {"observation_seats": 100}


# --- bulk ----------------------------------------------------------------------------------------

ITEM_VALUES = {
    "ambulance": st.sampled_from([{"plate": "川V1", "crew": ["a"]}, {"minutes": 10}, {"minutes": 45}]),
    "emergency_kit": st.sampled_from([complete_items()["emergency_kit"], {"checked": False, "drugs": {}},
                                      {"checked": True, "drugs": {"adrenaline": "2021-01-01"}}]),
    "observation_seats": st.integers(0, 200),
    "cold_chain_reading": st.floats(-5, 15, allow_nan=False),
}


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(["KD-MASS", "KD-THC"]), st.integers(0, 3),
                          st.fixed_dictionaries({}, optional=ITEM_VALUES), st.sampled_from([0, 1, 2, 3])),
                min_size=1, max_size=8))
def test_bulk_missing_equals_one_by_one(world, crew, specs):
    from vaxops.sites.models import Session

    Session.objects.filter(site__code__in=["KD-MASS", "KD-THC"]).delete()
    rosters = [[], [crew.staff["doctor"].pk], [crew.staff["vaccinator"].pk],
               [crew.staff["thc_doctor"].pk, crew.staff["vaccinator"].pk]]
    sessions, by_session = [], {}
    for i, (site, days, items, roster) in enumerate(specs):
        s = make_session(world, site, date=dt.date(2021, 5, 1) + dt.timedelta(days=days * 10 + i),
                         planned_doses=100 * i)
        set_roster(s, rosters[roster], acting_user=world.users["county_command"])
        if items:
            by_session[s] = items
        sessions.append(s)
    if by_session:
        record_readiness_many(by_session, acting_user=_manager_all(world))
    bulk = missing_for(sessions)
    assert bulk == {s.pk: missing_items(s) for s in sessions}


def _manager_all(world):
    # Recording at both sites: a site manager of each is one user with two site roles.
    from vaxops.access.models import RoleAssignment

    user = world.users["site_manager"]
    if not RoleAssignment.objects.filter(user=user, site=world.sites["KD-THC"]).exists():
        RoleAssignment.objects.create(user=user, role="site_manager", site=world.sites["KD-THC"])
        user._vaxops_grants = None  # read the grants again
    return user


def test_bulk_answer_takes_a_fixed_number_of_statements(world, crew):
    small = [make_session(world, date=dt.date(2021, 6, 1))]
    many = [make_session(world, date=dt.date(2021, 6, 2) + dt.timedelta(days=i)) for i in range(40)]
    for s in small + many:
        set_roster(s, [crew.staff["doctor"].pk, crew.staff["vaccinator"].pk], acting_user=world.users["county_command"])
    with CaptureQueriesContext(connection) as one:
        missing_for(small)
    with CaptureQueriesContext(connection) as forty:
        missing_for(many)
    assert len(forty) == len(one) <= 6


def test_record_many_reads_every_value_before_writing(world, crew):
    a, b = make_session(world, date=dt.date(2021, 6, 1)), make_session(world, date=dt.date(2021, 6, 2))
    with pytest.raises(VaxopsError) as exc:
        record_readiness_many({a: complete_items(), b: {"cold_chain_reading": "x"}},
                              acting_user=world.users["site_manager"])
    assert exc.value.code == "invalid_readiness_value"
    assert not Readiness.objects.exists()
    record_readiness_many({a: complete_items(), b: complete_items()}, acting_user=world.users["site_manager"])
    assert AuditEvent.objects.filter(action="staff.readiness.record_many").count() == 1
    out = make_session(world, "LD-MASS")
    with pytest.raises(VaxopsError) as exc:
        record_readiness_many({a: complete_items(), out: complete_items()}, acting_user=world.users["site_manager"])
    assert exc.value.code == "session_not_found"


# --- exceptions ----------------------------------------------------------------------------------


def test_county_command_grants_a_written_exception(world, crew):
    s = make_session(world)
    exc = grant_exception(s, reason="救护车在途，县医院急救组 15 分钟内到达", acting_user=world.users["county_command"])
    assert exception_for(s) == exc and exc.missing == missing_items(s)
    event = AuditEvent.objects.get(action="staff.readiness.exception")
    assert event.actor == world.users["county_command"] and "救护车" in event.after["reason"]


@pytest.mark.parametrize("role", ["site_manager", "prefecture_command", "admin", "supervisor", "vaccinator"])
def test_only_the_county_command_grants_exceptions(world, crew, role):
    s = make_session(world)
    with pytest.raises(VaxopsError) as exc:
        grant_exception(s, reason="test", acting_user=world.users[role])
    assert exc.value.code == "permission_denied"
    assert not ReadinessException.objects.exists()


def test_exception_refusals(world, crew):
    s = make_session(world)
    cc = world.users["county_command"]
    for reason, code in [("", "exception_reason_required"), ("   ", "exception_reason_required"),
                         (None, "exception_reason_required"), ("x" * 1001, "exception_reason_too_long")]:
        with pytest.raises(VaxopsError) as exc:
            grant_exception(s, reason=reason, acting_user=cc)
        assert exc.value.code == code
    with pytest.raises(VaxopsError) as exc:
        grant_exception(s, reason="ok", acting_user=world.users["county_command_ld"])
    assert exc.value.code == "session_not_found"
    grant_exception(s, reason="ok", acting_user=cc)
    with pytest.raises(VaxopsError) as exc:
        grant_exception(s, reason="again", acting_user=cc)
    assert exc.value.code == "readiness_exception_exists"
    ready = ready_session(world, crew, date=dt.date(2021, 5, 12))
    with pytest.raises(VaxopsError) as exc:
        grant_exception(ready, reason="not needed", acting_user=cc)
    assert exc.value.code == "readiness_already_complete"
    opened = make_session(world, date=dt.date(2021, 5, 13))
    opened.status = SessionStatus.OPEN
    opened.save()
    with pytest.raises(VaxopsError) as exc:
        grant_exception(opened, reason="late", acting_user=cc)
    assert exc.value.code == "exception_session_not_planned"
    assert ReadinessException.objects.count() == 1
