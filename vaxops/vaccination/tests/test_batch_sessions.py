"""The sessions of a dose batch (docs/sessions.md): a dose given today that is not a
retrospective entry needs an open session of its site today (``session_not_open``) and belongs
to it; a dose of another day belongs to its site's session of that day if there is one. No
session is ever created by a dose."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid

from conftest import make_person
from vaxops.campaign.services import TZ
from vaxops.sites.models import Session, SessionStatus, Site
from vaxops.vaccination import services
from vaxops.vaccination.batch import DoseItem, record_doses

DAY = dt.date(2021, 5, 10)
NOW = dt.datetime(2021, 5, 11, 15, 0, tzinfo=TZ)  # "today" is 2021-05-11 for these batches


def item(person, at, site="KD-MASS") -> DoseItem:
    at = dt.datetime.fromisoformat(at) if isinstance(at, str) else at
    return DoseItem(client_uuid=uuid.uuid4(), product_code="BIBP", lot_number="B2021001", site_code=site,
                    administered_at=at, person_id=person.pk)


def test_doses_of_past_days_join_the_days_session_and_create_none(world):
    services._SESSIONS.clear()
    site = Site.objects.get(code="KD-MASS")
    existing = Session.objects.create(site=site, date=DAY, kind="fixed", status=SessionStatus.CLOSED)
    people = [make_person(world, seq=600 + i) for i in range(2)]
    before = Session.objects.count()
    # 17:30 UTC on the 9th is already the 10th in the campaign's zone; the 8th has no session.
    out = record_doses([item(people[0], "2021-05-09T17:30:00+00:00"), item(people[1], "2021-05-08T10:00:00+08:00")],
                       acting_user=world.users["vaccinator"], source="api")
    assert [o.status for o in out] == ["created"] * 2
    assert [o.record.session_id for o in out] == [existing.pk, None]
    assert Session.objects.count() == before
    services._SESSIONS.clear()


def test_a_dose_given_today_needs_the_sites_session_open(world, person):
    services._SESSIONS.clear()
    at = NOW - dt.timedelta(hours=1)
    out = record_doses([item(person, at)], acting_user=world.users["vaccinator"], source="api", now=NOW)
    assert out[0].status == "rejected" and out[0].code == "session_not_open"
    assert out[0].error.detail["site_code"] == "KD-MASS"
    site = Site.objects.get(code="KD-MASS")
    planned = Session.objects.create(site=site, date=NOW.date(), status=SessionStatus.PLANNED)
    out = record_doses([item(person, at)], acting_user=world.users["vaccinator"], source="api", now=NOW)
    assert out[0].code == "session_not_open"
    # Opened in another process (no signal here): seen at once, a day without an open session is
    # never taken from the cache.
    Session.objects.filter(pk=planned.pk).update(status=SessionStatus.OPEN)
    out = record_doses([item(person, at)], acting_user=world.users["vaccinator"], source="api", now=NOW)
    assert out[0].status == "created" and out[0].record.session_id == planned.pk
    services._SESSIONS.clear()


def test_of_two_sessions_the_dose_joins_the_open_one_whose_hours_hold_it(world):
    services._SESSIONS.clear()
    site = Site.objects.get(code="KD-MASS")
    morning = Session.objects.create(site=site, date=NOW.date(), status=SessionStatus.CLOSED,
                                     opens_at=dt.time(8), closes_at=dt.time(12))
    afternoon = Session.objects.create(site=site, date=NOW.date(), status=SessionStatus.OPEN,
                                       opens_at=dt.time(13), closes_at=dt.time(17))
    people = [make_person(world, seq=610 + i) for i in range(2)]
    out = record_doses([item(people[0], NOW.replace(hour=11)), item(people[1], NOW.replace(hour=14))],
                       acting_user=world.users["vaccinator"], source="api", now=NOW)
    # A dose entered at 15:00 of 11:00 belongs to the open session (the morning one is closed).
    assert [o.record.session_id for o in out] == [afternoon.pk, afternoon.pk]
    # Another day: the session whose hours hold the time, whatever its status.
    later = NOW + dt.timedelta(days=1)
    other = make_person(world, seq=620)
    out = record_doses([item(other, NOW.replace(hour=9))], acting_user=world.users["vaccinator"], source="api",
                       now=later)
    assert out[0].record.session_id == morning.pk
    services._SESSIONS.clear()


def test_a_retrospective_entry_of_today_needs_no_open_session(world, person, settings):
    services._SESSIONS.clear()
    settings.VAXOPS_RETROSPECTIVE_HOURS = 1
    item_ = dataclasses.replace(item(person, NOW - dt.timedelta(hours=3)), retrospective_reason="纸质登记补录")
    out = record_doses([item_], acting_user=world.users["site_manager"], source="api", now=NOW)
    assert out[0].status == "created" and out[0].record.retrospective and out[0].record.session_id is None
    services._SESSIONS.clear()


def test_a_replay_is_answered_even_after_the_session_closed(world, person):
    services._SESSIONS.clear()
    site = Site.objects.get(code="KD-MASS")
    session = Session.objects.create(site=site, date=NOW.date(), status=SessionStatus.OPEN)
    first = item(person, NOW - dt.timedelta(hours=1))
    out = record_doses([first], acting_user=world.users["vaccinator"], source="api", now=NOW)
    assert out[0].status == "created"
    Session.objects.filter(pk=session.pk).update(status=SessionStatus.CLOSED)
    services._SESSIONS.clear()
    out = record_doses([first], acting_user=world.users["vaccinator"], source="api", now=NOW)
    assert out[0].status == "replayed"
    services._SESSIONS.clear()
