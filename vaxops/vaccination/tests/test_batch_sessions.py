"""The sessions of a dose batch: one per site and day in the campaign's zone, found or created
together, cached only once committed, and a session another transaction created meanwhile reused."""

from __future__ import annotations

import datetime as dt
import uuid

from conftest import make_person
from vaxops.sites.models import Session, Site
from vaxops.vaccination import services
from vaxops.vaccination.batch import DoseItem, record_doses

DAY = dt.date(2021, 5, 10)


def item(person, at: str, site="KD-MASS") -> DoseItem:
    return DoseItem(client_uuid=uuid.uuid4(), product_code="BIBP", lot_number="B2021001", site_code=site,
                    administered_at=dt.datetime.fromisoformat(at), person_id=person.pk)


def test_a_batch_reuses_the_days_session_and_creates_the_missing_one(world, django_capture_on_commit_callbacks):
    services._SESSIONS.clear()
    site = Site.objects.get(code="KD-MASS")
    existing = Session.objects.create(site=site, date=DAY, kind="fixed")
    people = [make_person(world, seq=600 + i) for i in range(3)]
    # 17:30 UTC on the 10th is already the 11th in the campaign's zone.
    items = [item(people[0], "2021-05-10T09:00:00+08:00"), item(people[1], "2021-05-10T17:30:00+00:00"),
             item(people[2], "2021-05-11T08:00:00+08:00")]
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        out = record_doses(items, acting_user=world.users["vaccinator"], source="api")
        assert [o.status for o in out] == ["created"] * 3
        created = Session.objects.get(site=site, date=DAY + dt.timedelta(days=1))
        assert [o.record.session_id for o in out] == [existing.pk, created.pk, created.pk]
        assert Session.objects.filter(site=site).count() == 2
        # The session found is cached at once; the one created only once it commits.
        assert services._SESSIONS[(site.pk, DAY, "fixed")][1] == existing.pk
        assert (site.pk, DAY + dt.timedelta(days=1), "fixed") not in services._SESSIONS
    for callback in callbacks:
        callback()
    assert services._SESSIONS[(site.pk, DAY + dt.timedelta(days=1), "fixed")][1] == created.pk
    services._SESSIONS.clear()


def test_a_dry_run_creates_no_session(world, person):
    services._SESSIONS.clear()
    out = record_doses([item(person, "2021-05-12T09:00:00+08:00")], acting_user=world.users["vaccinator"],
                       source="api", dry_run=True)
    assert out[0].status == "created" and not out[0].written
    assert not Session.objects.filter(date=dt.date(2021, 5, 12)).exists()


def test_a_session_created_by_another_transaction_after_the_read_is_reused(world, person, monkeypatch):
    services._SESSIONS.clear()
    site = Site.objects.get(code="KD-MASS")
    theirs = Session.objects.create(site=site, date=DAY, kind="fixed")
    real = services._session_rows
    calls = []

    def late(keys):  # the first read misses it, as if it committed just after
        calls.append(keys)
        return {} if len(calls) == 1 else real(keys)

    monkeypatch.setattr(services, "_session_rows", late)
    out = record_doses([item(person, "2021-05-10T09:00:00+08:00")], acting_user=world.users["vaccinator"],
                       source="api")
    assert out[0].status == "created" and out[0].record.session_id == theirs.pk and len(calls) == 2
    assert Session.objects.filter(site=site, date=DAY).count() == 1
    services._SESSIONS.clear()
