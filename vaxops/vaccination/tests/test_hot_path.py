"""The dose path's cost and its shortcuts: statements per dose, per-process reference caches,
hand-written reads, and the in-memory scope check — each shown to keep the rules it replaces."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.db import connection
from django.db.models.signals import post_save

from conftest import dose_body, make_person
from vaxops.access.scope import admits, restrict
from vaxops.core.audit import audit
from vaxops.core.models import AuditEvent
from vaxops.registry.models import Deferral, Person
from vaxops.sites.models import Site
from vaxops.supply.models import Lot, LotStatus
from vaxops.vaccination import services
from vaxops.vaccination.models import DoseRecord, DoseStatus

AT = dt.datetime.fromisoformat("2021-05-10T10:00:00+08:00")
# token (one query per request, so revocation and deactivation apply at once), lot, savepoint,
# person (locked, with whether a deferral is open), history + replay check, session, dose,
# counter by site, counter by residence, the work lists' due row (one upsert, issue 10), audit event, release: BEGIN/COMMIT are savepoints
# inside a test's atomic. The stock drawn: the site's store and its balance are read with the
# lot (no statement of their own), then after the decisions the balance moved by one
# conditional update; on SQLite the ``administered`` event and its line follow the dose row
# (two statements), on PostgreSQL they are written by that same update's statement.
STATEMENTS_PER_DOSE = 12 if connection.vendor == "postgresql" else 14


@pytest.fixture
def vaccinator(api, world):
    return api(world.tokens["vaccinator"])


@pytest.fixture
def forget_references():
    """The test's changes roll back, but the process's caches would keep what they last read."""
    yield
    services._forget_catalog(sender=None)
    services._forget_sites(sender=None)


def people(world, n: int) -> list[Person]:
    return [make_person(world, seq=200 + i, born=dt.date(1970, 1, 1) + dt.timedelta(days=i)) for i in range(n)]


def test_a_dose_costs_a_bounded_number_of_statements(vaccinator, world, django_assert_max_num_queries):
    first, second = people(world, 2)
    assert vaccinator.post("/doses", dose_body(first.pk)).status_code == 201  # token, grants, site cached
    with django_assert_max_num_queries(STATEMENTS_PER_DOSE):
        r = vaccinator.post("/doses", dose_body(second.pk))
    assert r.status_code == 201, r.content
    body = r.json()
    assert (body["product"], body["lot_number"], body["site_code"]) == ("BIBP", "B2021001", "KD-MASS")


def test_a_lot_quarantined_between_two_doses_is_refused_on_the_next(vaccinator, world):
    first, second = people(world, 2)
    assert vaccinator.post("/doses", dose_body(first.pk)).status_code == 201
    # A bulk update sends no signal: only a fresh read can notice it.
    Lot.objects.filter(lot_number="B2021001").update(status=LotStatus.QUARANTINED)
    r = vaccinator.post("/doses", dose_body(second.pk))
    assert r.status_code == 422 and r.json()["code"] == "lot_quarantined"
    assert DoseRecord.objects.filter(person=second).count() == 0


def test_a_lot_expired_between_two_doses_is_refused_on_the_next(vaccinator, world):
    first, second = people(world, 2)
    assert vaccinator.post("/doses", dose_body(first.pk)).status_code == 201
    Lot.objects.filter(lot_number="B2021001").update(expiry_date=dt.date(2021, 5, 1))
    r = vaccinator.post("/doses", dose_body(second.pk))
    assert r.status_code == 422 and r.json()["code"] == "lot_expired"


def test_a_retry_after_its_lot_was_quarantined_still_returns_the_first_record(vaccinator, person):
    body = dose_body(person.pk)
    first = vaccinator.post("/doses", body)
    Lot.objects.filter(lot_number="B2021001").update(status=LotStatus.QUARANTINED)
    again = vaccinator.post("/doses", body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    other = vaccinator.post("/doses", {**body, "site_code": "LD-MASS"})
    assert other.status_code == 409 and other.json()["code"] == "idempotency_conflict"


def test_a_cached_site_moved_to_another_division_is_seen_at_once(vaccinator, world, forget_references):
    first, second = people(world, 2)
    assert vaccinator.post("/doses", dose_body(first.pk)).status_code == 201
    site = Site.objects.get(code="KD-MASS")
    site.division = world.divisions["513301001"]
    site.save()
    r = vaccinator.post("/doses", dose_body(second.pk))
    assert r.status_code == 201, r.content
    assert DoseRecord.objects.get(pk=r.json()["id"]).division_id == world.divisions["513301001"].pk


def test_a_cached_site_deleted_is_not_found(world):
    site = Site.objects.create(code="KD-NEW", name_zh="新点", kind="fixed_site", division=world.divisions["513301"],
                               county_code="513301")
    assert services.cached_site("KD-NEW") == site
    site.delete()
    assert services.cached_site("KD-NEW") is None


def test_a_product_saved_in_this_process_is_seen_at_once(world, forget_references):
    product = services.catalog_products()["BIBP"]
    product.doses_in_series = 3
    product.save()
    assert services.catalog_products()["BIBP"].doses_in_series == 3


def _batch(user):
    """The dose engine's reads, as a batch of ``user`` makes them."""
    from django.utils import timezone

    from vaxops.vaccination.batch_engine import Batch

    return Batch([], acting_user=user, source="api", now=timezone.now())


def test_the_replay_check_reads_history_and_submission_in_one_statement(world, person, django_assert_num_queries):
    from vaxops.vaccination.services import record_dose

    dose, _ = record_dose(
        client_uuid=uuid.uuid4(), person_id=person.pk, product_code="BIBP", lot_number="B2021001",
        site_code="KD-MASS", administered_at=AT, acting_user=world.users["vaccinator"], source="api",
    )
    voided = DoseRecord.objects.create(
        **{f.attname: getattr(dose, f.attname) for f in DoseRecord._meta.concrete_fields if not f.primary_key}
        | {"client_uuid": uuid.uuid4(), "status": DoseStatus.VOIDED, "dose_number": 2}
    )
    batch = _batch(world.users["vaccinator"])
    with django_assert_num_queries(1):
        by_person, seen = batch.read_history([person.pk], [uuid.uuid4()])
    history = by_person[person.pk]
    assert not seen and [d.pk for d in history] == [dose.pk]
    assert history[0].administered_at == dose.administered_at and history[0].administered_at.tzinfo is not None
    assert history[0].product_code == "BIBP" and history[0].dose_number == 1 and history[0].series == dose.series
    assert batch.read_history([person.pk], [dose.client_uuid])[1] == {dose.client_uuid}
    # A voided record of this submission is still this submission.
    again, seen = batch.read_history([person.pk], [voided.client_uuid])
    assert ([d.pk for d in again[person.pk]], seen) == ([dose.pk], {voided.client_uuid})


def test_hand_written_person_and_deferral_reads_match_the_orm(world):
    from vaxops.vaccination.batch import DoseItem
    from vaxops.vaccination.batch_engine import Batch, _Work

    person = make_person(world, priority_groups=["medical_staff"])
    Deferral.objects.create(person=person, code="pregnancy", since=dt.date(2021, 5, 1), until=dt.date(2021, 6, 1))
    Deferral.objects.create(person=person, code="acute_illness", since=dt.date(2021, 4, 1), until=dt.date(2021, 4, 5))
    work = [_Work(0, DoseItem(uuid.uuid4(), "BIBP", "B2021001", "KD-MASS", AT, person_id=person.pk))]

    def read(user):
        batch = _batch(user)
        return batch, batch.read_persons(work)[0][person.pk]

    batch, row = read(world.users["vaccinator"])
    loaded = Batch._loaded_person(row)
    orm = Person.objects.get(pk=person.pk)
    assert (loaded.pk, loaded.birth_date, loaded.status, loaded.priority_groups, loaded.county_code) == (
        orm.pk, orm.birth_date, orm.status, orm.priority_groups, orm.county_code
    )
    assert loaded.name == orm.name  # a column not read by the dose path is loaded on access
    assert batch.admitted(row, False)
    officer_batch, officer_row = read(world.users["supply_officer"])
    assert not officer_batch.admitted(officer_row, False)
    assert loaded.may_have_deferrals
    assert [(d.code, d.until) for d in services._active_deferrals(person.pk, dt.date(2021, 5, 10))] == [
        ("pregnancy", dt.date(2021, 6, 1))
    ]
    Deferral.objects.filter(person=person).update(lifted_at=dt.datetime(2021, 5, 2, tzinfo=dt.UTC))
    assert not Batch._loaded_person(read(world.users["vaccinator"])[1]).may_have_deferrals


def test_a_person_with_an_open_deferral_is_refused(vaccinator, world):
    person = make_person(world)
    Deferral.objects.create(person=person, code="acute_illness", since=dt.date(2021, 5, 1), until=dt.date(2021, 5, 20))
    r = vaccinator.post("/doses", dose_body(person.pk))
    assert r.status_code == 422 and r.json()["code"] == "not_eligible", r.content


def test_an_inactive_person_is_refused_with_the_status_name(vaccinator, world):
    person = make_person(world)
    Person.objects.filter(pk=person.pk).update(status="deceased")
    r = vaccinator.post("/doses", dose_body(person.pk))
    assert r.status_code == 422 and r.json()["code"] == "person_inactive"


@pytest.mark.parametrize("action", ["site.view", "dose.add"])
def test_the_in_memory_site_check_agrees_with_restrict(world, action):
    for user in world.users.values():
        for site in Site.objects.select_related("division"):
            row = {"pk": site.pk, "division__path": site.division.path}
            expected = restrict(Site.objects.all(), user, action).filter(pk=site.pk).exists()
            assert admits(user, action, Site, row) is expected, (user.username, site.code)


@pytest.mark.parametrize("action", ["person.view", "person.vaccinate"])
def test_the_in_memory_person_check_agrees_with_restrict(world, action):
    persons = [make_person(world, seq=300, county="513301"), make_person(world, seq=301, county="513322")]
    for user in world.users.values():
        for person in Person.objects.filter(pk__in=[p.pk for p in persons]).select_related("home_division"):
            row = {"home_division__path": person.home_division.path, "county_code": person.county_code}
            expected = restrict(Person.objects.all(), user, action).filter(pk=person.pk).exists()
            assert admits(user, action, Person, row) is expected, (user.username, person.county_code)


def test_the_light_audit_insert_stores_what_save_would(world, person):
    event = audit("person.test", person, actor=world.users["admin"], source="cli", county_code="513301",
                  after={"name": "张三", "n": 1})
    stored = AuditEvent.objects.get(pk=event.pk)
    assert (stored.action, stored.object_id, stored.after, stored.actor_id, stored.county_code) == (
        "person.test", str(person.pk), {"name": "张三", "n": 1}, world.users["admin"].pk, "513301"
    )
    assert stored.at == event.at


def test_the_light_insert_calls_save_when_a_receiver_listens(world, person):
    seen = []

    def receiver(sender, instance, created, **kwargs):
        seen.append((instance.pk, created))

    post_save.connect(receiver, sender=AuditEvent)
    try:
        event = audit("person.test", person, actor=None, source="cli")
    finally:
        post_save.disconnect(receiver, sender=AuditEvent)
    assert seen == [(event.pk, True)]
