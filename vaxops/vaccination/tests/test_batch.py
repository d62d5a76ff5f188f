"""Doses in batches: order within a batch, repeated submissions, atomic and dry runs, the batch's
audit event, persons named by ID number, and a batch large enough for COPY / executemany."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.db import connection

from conftest import make_person
from vaxops.campaign.services import counter_snapshot, rebuild_counters, residence_snapshot
from vaxops.core.models import AuditEvent
from vaxops.vaccination.batch import DoseItem, record_doses
from vaxops.vaccination.batch_write import COPY_MIN
from vaxops.vaccination.models import DoseRecord

AT = dt.datetime.fromisoformat("2021-05-10T10:00:00+08:00")
LATER = dt.datetime.fromisoformat("2021-06-10T10:00:00+08:00")


def item(person, at=AT, **kw) -> DoseItem:
    fields = {"client_uuid": uuid.uuid4(), "product_code": "BIBP", "lot_number": "B2021001",
              "site_code": "KD-MASS", "administered_at": at, "person_id": person.pk, **kw}
    return DoseItem(**fields)


def run(world, items, role="vaccinator", **kw):
    return record_doses(items, acting_user=world.users[role], source="api", **kw)


def test_dose_one_and_dose_two_of_one_person_in_one_batch_are_decided_in_order(world, person):
    out = run(world, [item(person), item(person, LATER)])
    assert [(o.status, o.record.dose_number) for o in out] == [("created", 1), ("created", 2)]
    assert list(DoseRecord.objects.filter(person=person).order_by("dose_number").values_list("dose_number", flat=True)) == [1, 2]


def test_dose_two_sent_before_dose_one_is_answered_as_one_by_one(world, person):
    out = run(world, [item(person, LATER), item(person)])
    # The later day is dose 1; the earlier day would be dose 1 again: refused, as two calls would be.
    assert (out[0].status, out[0].record.dose_number) == ("created", 1)
    assert out[1].code == "dose_already_recorded" and out[1].error.detail["id"] == out[0].record.pk


def test_a_client_uuid_sent_twice_is_a_replay_or_a_conflict(world, person):
    first = item(person)
    same = DoseItem(**{**{f: getattr(first, f) for f in first.__slots__}})
    other = DoseItem(**{**{f: getattr(first, f) for f in first.__slots__}, "lot_number": "C2021001",
                        "product_code": "CORONAVAC"})
    out = run(world, [first, same, other])
    assert [o.status for o in out] == ["created", "replayed", "rejected"]
    assert out[1].record is out[0].record and out[2].code == "idempotency_conflict"
    assert out[2].error.detail == {"client_uuid": str(first.client_uuid), "id": out[0].record.pk}
    assert DoseRecord.objects.filter(client_uuid=first.client_uuid).count() == 1


def test_atomic_batch_with_one_refusal_writes_nothing_and_says_what_would_have_been(world):
    people = [make_person(world, seq=300 + i) for i in range(3)]
    events = AuditEvent.objects.count()
    items = [item(people[0]), item(people[1], lot_number="B2021Q01"), item(people[2])]
    out = run(world, items, atomic=True)
    assert [o.status for o in out] == ["created", "rejected", "created"]
    assert [o.written for o in out] == [False, False, False] and out[1].code == "lot_quarantined"
    assert DoseRecord.objects.count() == 0 and AuditEvent.objects.count() == events and counter_snapshot() == {}
    out = run(world, [items[0], items[2]], atomic=True)
    assert [(o.status, o.written) for o in out] == [("created", True)] * 2


def test_dry_run_checks_everything_and_writes_nothing(world, person):
    events = AuditEvent.objects.count()
    out = run(world, [item(person), item(person, LATER), item(person, site_code="LD-MASS")], dry_run=True)
    assert [(o.status, o.written) for o in out] == [("created", False), ("created", False), ("rejected", False)]
    assert out[1].record.dose_number == 2 and out[2].code == "site_not_found"
    assert DoseRecord.objects.count() == 0 and AuditEvent.objects.count() == events


def test_a_batch_writes_one_audit_event_with_its_counts_and_overrides(world):
    people = [make_person(world, seq=310 + i) for i in range(3)]
    young = make_person(world, seq=320, born=dt.date(2010, 1, 1))  # under the product's age: overridable
    items = [item(p) for p in people] + [item(young, override_reason="clinic advice"), item(people[0])]
    out = run(world, items, role="site_manager")
    assert [o.status for o in out] == ["created"] * 4 + ["rejected"], [o.code for o in out]
    events = list(AuditEvent.objects.filter(action__in=["dose.record", "dose.batch"]))
    assert [e.action for e in events] == ["dose.batch"]
    after = events[0].after
    assert (after["rows"], after["created"], after["replayed"], after["rejected"]) == (4, 4, 0, 1)
    assert [o["client_uuid"] for o in after["overrides"]] == [str(items[3].client_uuid)]
    assert after["overrides"][0]["reason"] == "clinic advice" and after["retrospective"] == []
    assert DoseRecord.objects.get(person=young).override_reason == "clinic advice"


def test_a_person_is_named_by_id_number(world, person):
    out = run(world, [DoseItem(client_uuid=uuid.uuid4(), product_code="BIBP", lot_number="B2021001",
                               site_code="KD-MASS", administered_at=AT, id_number=person.id_number.lower())])
    assert out[0].status == "created" and out[0].record.person_id == person.pk
    out = run(world, [DoseItem(client_uuid=uuid.uuid4(), product_code="BIBP", lot_number="B2021001",
                               site_code="KD-MASS", administered_at=AT, id_number="513322198001010000")])
    assert out[0].code == "person_not_found"


def test_a_large_batch_is_written_in_bulk_with_its_counters(world):
    n = COPY_MIN + 6
    people = [make_person(world, seq=400 + i, born=dt.date(1960, 1, 1) + dt.timedelta(days=i)) for i in range(n)]
    items = [item(p, at=AT + dt.timedelta(days=i % 3)) for i, p in enumerate(people)]
    items += [item(people[0], LATER), item(people[1], lot_number="B2021R01")]
    out = run(world, items)
    assert [o.status for o in out].count("created") == n + 1 and out[-1].code == "lot_recalled"
    records = [o.record for o in out if o.status == "created"]
    assert all(r.pk for r in records) and len({r.pk for r in records}) == n + 1
    stored = {d.client_uuid: d for d in DoseRecord.objects.all()}
    assert all(stored[r.client_uuid].pk == r.pk and stored[r.client_uuid].dose_number == r.dose_number for r in records)
    # Past days' doses: no session of those days, and none is created by a dose.
    assert stored[items[-2].client_uuid].dose_number == 2 and stored[items[-2].client_uuid].session_id is None
    live = counter_snapshot(), residence_snapshot()
    rebuild_counters()
    assert (counter_snapshot(), residence_snapshot()) == live
    assert sum(live[0].values()) == n + 1


@pytest.mark.parametrize("size", [1, 3, COPY_MIN])
def test_rows_are_stored_exactly_as_the_orm_stores_them(world, size):
    """The engine writes its own column values (COPY, executemany, multi-row INSERT): each row
    must read back, column by column as the database holds it, like a twin saved by the ORM."""
    # Too young for the product (an overridable refusal): the override's reason and codes are stored.
    people = [make_person(world, seq=600 + i, born=dt.date(2010, 1, 1) + dt.timedelta(days=i)) for i in range(size)]
    out = run(world, [item(p, override_reason="a\tb\nc\\ é") for p in people], role="site_manager")
    assert all(o.status == "created" for o in out), [o.code for o in out]
    record = DoseRecord.objects.get(pk=out[-1].record.pk)
    assert record.override_reason == "a\tb\nc\\ é" and record.override_codes
    twin = DoseRecord.objects.create(**{
        f.attname: getattr(record, f.attname) for f in DoseRecord._meta.concrete_fields if f.name not in ("id",)
    } | {"client_uuid": uuid.uuid4(), "status": "voided"})
    columns = [f.column for f in DoseRecord._meta.concrete_fields if f.name not in ("id", "client_uuid", "status")]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(columns)} FROM {DoseRecord._meta.db_table} WHERE id IN (%s, %s) ORDER BY id",
                       [record.pk, twin.pk])
        ours, theirs = cursor.fetchall()
    created_at = columns.index("created_at")
    assert ours[:created_at] + ours[created_at + 1:] == theirs[:created_at] + theirs[created_at + 1:]
