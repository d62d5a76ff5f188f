"""The sessions service: planned → open → closed, the readiness gate, the closing figures and
the bad inputs (docs/sessions.md)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import make_person
from vaxops.campaign.services import TZ
from vaxops.core.errors import VaxopsError
from vaxops.core.models import AuditEvent
from vaxops.sites import figures, sessions
from vaxops.sites.models import Session, SessionStatus
from vaxops.staff import readiness
from vaxops.staff.testing import make_ready
from vaxops.vaccination.batch import DoseItem, record_doses

DAY = dt.date(2021, 5, 12)
T = dt.time
EIGHT, NOON = T(8), T(12)


def plan(world, *, site="KD-MASS", day=DAY, opens=EIGHT, closes=NOON, user="county_command", **kw):
    return sessions.create_session(site=site, date=day, kind=kw.pop("kind", "fixed"), opens_at=opens, closes_at=closes,
                                   acting_user=world.users[user], **kw)


def code_of(call) -> str:
    with pytest.raises(VaxopsError) as exc:
        call()
    return exc.value.code


def test_a_session_is_planned_opened_and_closed_once(world):
    session = make_ready(plan(world, planned_doses=300, organisation="", products=["BIBP"]))
    assert session.status == SessionStatus.PLANNED and [p.code for p in session.products.all()] == ["BIBP"]
    manager = world.users["site_manager"]
    assert code_of(lambda: sessions.close_session(session, acting_user=manager)) == "session_not_yet_open"
    opened = sessions.open_session(session, acting_user=manager)
    assert opened.status == SessionStatus.OPEN and opened.opened_by_id == manager.pk
    assert sessions.open_session_of(world.sites["KD-MASS"], DAY).pk == session.pk
    assert code_of(lambda: sessions.open_session(session, acting_user=manager)) == "session_already_open"
    closed = sessions.close_session(session, acting_user=manager)
    assert closed.status == SessionStatus.CLOSED and closed.figures["planned_doses"] == 300
    assert code_of(lambda: sessions.open_session(session, acting_user=manager)) == "session_closed"
    assert code_of(lambda: sessions.close_session(session, acting_user=manager)) == "session_closed"
    assert sessions.open_session_of(world.sites["KD-MASS"], DAY) is None
    actions = list(AuditEvent.objects.filter(object_type="sites.session", object_id=str(session.pk))
                   .order_by("id").values_list("action", flat=True))
    assert actions == ["session.create", "session.open", "session.close"]


def test_the_gate_refuses_with_the_missing_items_unless_an_exception_was_granted(world, monkeypatch):
    session = plan(world)
    monkeypatch.setattr(readiness, "missing_items", lambda s: ["doctor_level2", "ambulance"])
    with pytest.raises(VaxopsError) as exc:
        sessions.open_session(session, acting_user=world.users["site_manager"])
    assert exc.value.code == "readiness_incomplete" and exc.value.status == 409
    assert exc.value.detail["missing"] == ["doctor_level2", "ambulance"]
    session.refresh_from_db()
    assert session.status == SessionStatus.PLANNED
    # The refusal is on the record; nothing else was written.
    assert AuditEvent.objects.filter(action="session.open_refused", object_id=str(session.pk)).count() == 1
    assert code_of(lambda: sessions.open_sessions([session], acting_user=world.users["site_manager"])) == (
        "readiness_incomplete")
    monkeypatch.setattr(readiness, "exception_for", lambda s: object())
    assert sessions.open_session(session, acting_user=world.users["site_manager"]).status == SessionStatus.OPEN
    event = AuditEvent.objects.get(action="session.open", object_id=str(session.pk))
    assert event.after["exception"] is True and event.after["missing"] == ["doctor_level2", "ambulance"]


def test_open_sessions_asks_missing_for_in_one_call(world, monkeypatch):
    a, b = plan(world), plan(world, site="KD-THC")
    calls = []

    def missing_for(rows):
        calls.append(sorted(s.pk for s in rows))
        return {a.pk: [], b.pk: []}

    monkeypatch.setattr(readiness, "missing_for", missing_for, raising=False)
    opened = sessions.open_sessions([a, b], acting_user=world.users["county_command"])
    assert {s.status for s in opened} == {SessionStatus.OPEN} and calls == [sorted([a.pk, b.pk])]
    assert AuditEvent.objects.filter(action="session.open_many").count() == 1


def test_site_staff_act_only_at_their_site(world):
    other = plan(world, site="KD-THC")
    assert code_of(lambda: sessions.open_session(other, acting_user=world.users["site_manager"])) == (
        "session_not_found")
    assert code_of(lambda: sessions.open_session(other, acting_user=world.users["vaccinator"])) == (
        "permission_denied")
    assert code_of(lambda: plan(world, site="LD-MASS")) == "site_not_found"
    assert code_of(lambda: plan(world, user="vaccinator")) == "permission_denied"
    own = plan(world, user="site_manager")
    assert own.site.code == "KD-MASS"


def test_closing_writes_the_final_figures_with_the_registered_ones(world, monkeypatch):
    session = make_ready(plan(world, day=dt.date(2021, 5, 11), opens=T(8), closes=T(18), planned_doses=10))
    sessions.open_session(session, acting_user=world.users["site_manager"], at=dt.datetime(2021, 5, 11, 8, tzinfo=TZ))
    people = [make_person(world, seq=700 + i) for i in range(3)]
    now = dt.datetime(2021, 5, 11, 12, tzinfo=TZ)
    out = record_doses([DoseItem(client_uuid=uuid.uuid4(), product_code="BIBP", lot_number="B2021001",
                                 site_code="KD-MASS", administered_at=now - dt.timedelta(minutes=10 * i),
                                 person_id=p.pk) for i, p in enumerate(people)],
                       acting_user=world.users["vaccinator"], source="api", now=now)
    assert [o.record.session_id for o in out] == [session.pk] * 3
    monkeypatch.setitem(figures._FIGURES, "test_staff", lambda s: {"staff_hours": 12.5})
    closed = sessions.close_session(session, acting_user=world.users["site_manager"],
                                    at=dt.datetime(2021, 5, 11, 18, tzinfo=TZ))
    f = closed.figures
    assert (f["doses"], f["first_doses"], f["doses_by_product"], f["staff_hours"]) == (3, 3, {"BIBP": 3}, 12.5)
    # BIBP comes in single-dose vials here: nothing open to write off.
    assert f["wastage_doses"] == 0
    closed.refresh_from_db()
    assert closed.figures == f
    # The session is closed: a dose of that day entered today still belongs to it.
    later = make_person(world, seq=710)
    out = record_doses([DoseItem(client_uuid=uuid.uuid4(), product_code="BIBP", lot_number="B2021001",
                                 site_code="KD-MASS", administered_at=now, person_id=later.pk)],
                       acting_user=world.users["vaccinator"], source="api")
    assert out[0].record.session_id == session.pk


def test_sessions_closed_together_close_all_or_none(world):
    manager = world.users["site_manager"]
    day = dt.date(2021, 5, 11)
    a = make_ready(plan(world, day=day, opens=T(8), closes=T(12)))
    b = make_ready(plan(world, day=day, opens=T(13), closes=T(17)))
    sessions.open_session(a, acting_user=manager, at=dt.datetime(2021, 5, 11, 8, tzinfo=TZ))
    at = dt.datetime(2021, 5, 11, 18, tzinfo=TZ)
    # b is still planned: neither is closed.
    assert code_of(lambda: sessions.close_sessions([a, b], acting_user=manager, at=at)) == "session_not_yet_open"
    assert Session.objects.get(pk=a.pk).status == SessionStatus.OPEN
    sessions.open_session(b, acting_user=manager, at=dt.datetime(2021, 5, 11, 13, tzinfo=TZ))
    closed = sessions.close_sessions([b, a], acting_user=manager, at=at)
    assert [s.pk for s in closed] == sorted([a.pk, b.pk]) and {s.status for s in closed} == {SessionStatus.CLOSED}
    assert AuditEvent.objects.filter(action="session.close").count() == 2
    assert all(Session.objects.get(pk=s.pk).figures["doses"] == 0 for s in closed)


def test_closing_steps_run_in_the_closing_transaction_and_a_failing_one_refuses_the_closing(world, monkeypatch):
    from vaxops.sites import closing

    session = make_ready(plan(world, day=dt.date(2021, 5, 11), opens=T(8), closes=T(18)))
    manager = world.users["site_manager"]
    sessions.open_session(session, acting_user=manager, at=dt.datetime(2021, 5, 11, 8, tzinfo=TZ))
    seen = []

    def failing(s, at, user):
        seen.append((s.pk, at.hour, user.username))
        raise VaxopsError("session_closed", {"session_id": s.pk})

    monkeypatch.setitem(closing._HOOKS, "test_step", failing)
    at = dt.datetime(2021, 5, 11, 18, tzinfo=TZ)
    assert code_of(lambda: sessions.close_session(session, acting_user=manager, at=at)) == "session_closed"
    assert seen == [(session.pk, 18, manager.username)]
    assert Session.objects.get(pk=session.pk).status == SessionStatus.OPEN
    assert not AuditEvent.objects.filter(action="session.close").exists()
    monkeypatch.setitem(closing._HOOKS, "test_step", lambda s, at, user: seen.append("ran"))
    assert sessions.close_session(session, acting_user=manager, at=at).status == SessionStatus.CLOSED
    assert seen[-1] == "ran"


@pytest.mark.parametrize(("change", "code"), [
    ({"closes": T(8)}, "session_hours_invalid"),
    ({"closes": T(7)}, "session_hours_invalid"),
    ({"day": "2021-13-01"}, "invalid_date"),
    ({"day": "tomorrow"}, "invalid_date"),
    ({"kind": "party"}, "invalid_session_kind"),
    ({"site": "NOPE"}, "site_not_found"),
    ({"stops": [("999999999", T(9))]}, "division_not_found"),
    ({"stops": [("513322001", T(9))]}, "division_not_found"),  # another county's township
    ({"stops": [("513301001", T(13))]}, "stop_outside_hours"),
    ({"products": ["NOPE"]}, "product_not_found"),
    ({"planned_doses": -1}, "number_out_of_range"),
])
def test_bad_input_is_refused_and_writes_nothing(world, change, code):
    before = Session.objects.count()
    assert code_of(lambda: plan(world, **change)) == code
    assert Session.objects.count() == before


def test_sessions_of_one_team_may_not_overlap(world):
    plan(world, opens=T(8), closes=T(12))
    for opens, closes in [(T(11), T(13)), (T(7), T(9)), (T(9), T(10)), (T(7), T(18))]:
        with pytest.raises(VaxopsError) as exc:
            plan(world, opens=opens, closes=closes)
        assert exc.value.code == "session_overlap" and exc.value.status == 422
        assert exc.value.detail["opens_at"] == "08:00"
    afternoon = plan(world, opens=T(12), closes=T(17), kind="point_to_point", organisation="四川民族学院")
    assert afternoon.organisation == "四川民族学院"
    assert plan(world, site="KD-THC", opens=T(8), closes=T(12)).site.code == "KD-THC"
    # In one bulk call too, all or nothing.
    before = Session.objects.count()
    assert code_of(lambda: sessions.create_sessions(
        [{"site": "KD-THC", "date": DAY + dt.timedelta(days=1), "kind": "fixed", "opens_at": T(8), "closes_at": T(12)},
         {"site": "KD-THC", "date": DAY + dt.timedelta(days=1), "kind": "fixed", "opens_at": T(10), "closes_at": T(14)}],
        acting_user=world.users["county_command"])) == "session_overlap"
    assert Session.objects.count() == before


def test_an_outreach_session_keeps_its_stops_in_order(world):
    from vaxops.regions.models import Division, Level

    kd = world.divisions["513301001"]
    villages = [Division.objects.create(code=f"5133010012{i:02d}", level=Level.VILLAGE, parent=kd,
                                        name_zh=f"村{i}", name_en=f"Village {i}") for i in range(3)]
    session = plan(world, site="KD-THC", kind="outreach", opens=T(8), closes=T(16),
                   stops=[(villages[2], T(8)), (villages[0].code, T(11)), (villages[1], None)])
    assert [(s.position, s.division.code, s.arrives_at) for s in session.stops.order_by("position")] == [
        (1, villages[2].code, T(8)), (2, villages[0].code, T(11)), (3, villages[1].code, None)]


OPS = st.lists(st.sampled_from(["open", "close"]), max_size=6)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS)
def test_any_sequence_of_operations_follows_the_state_machine(world, ops):
    """Planned → open → closed only: each operation either moves one step forward or is refused
    with the code of the state it met, and a refusal changes nothing."""
    day = DAY + dt.timedelta(days=30 + len(Session.objects.all()))
    session = make_ready(plan(world, day=day))
    state = "planned"
    expected = {
        ("open", "planned"): "open", ("open", "open"): "session_already_open", ("open", "closed"): "session_closed",
        ("close", "planned"): "session_not_yet_open", ("close", "open"): "closed",
        ("close", "closed"): "session_closed",
    }
    for op in ops:
        want = expected[(op, state)]
        call = sessions.open_session if op == "open" else sessions.close_session
        try:
            got = call(session, acting_user=world.users["county_command"]).status
        except VaxopsError as exc:
            got = exc.code
        assert got == want
        if want in ("open", "closed"):
            state = want
        session.refresh_from_db()
        assert session.status == state
