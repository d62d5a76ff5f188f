"""People in batches: one batch ends exactly where the same items one by one end."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vaxops.core.models import AuditEvent
from vaxops.registry.batch import COPY_THRESHOLD, PersonItem, register_people
from vaxops.registry.idnumber import make_id_number
from vaxops.registry.models import Person

pytestmark = pytest.mark.django_db

BORN = dt.date(1990, 1, 1)
NUMBERS = [make_id_number("513301", BORN, seq) for seq in (11, 12, 13, 14)] + [
    make_id_number("513322", BORN, 21), make_id_number("513201", BORN, 31), "51330119900101001",
]
NAMES = ["卓玛", "扎西", "张三", "张三3"]
PHONES = ["", "13800000000", "13900000000", "138"]
DIVISIONS = [None, "513301001", "513322001", "513201001", "513301", "999999999"]
GROUPS = st.lists(st.sampled_from(["medical_staff", "teachers", "vip"]), max_size=2).map(tuple)
ITEMS = st.builds(PersonItem, id_number=st.sampled_from(NUMBERS), name=st.sampled_from(NAMES),
                  phone=st.sampled_from(PHONES), division_code=st.sampled_from(DIVISIONS), priority_groups=GROUPS)
USERS = ["admin", "county_command", "vaccinator", "grid_worker", "vaccinator_ld"]


def person_rows() -> set[tuple]:
    rows = Person.objects.values_list(
        "id_number", "name", "phone", "birth_date", "sex", "home_division__code", "county_code", "priority_groups",
        "status",
    )
    return {tuple(tuple(v) if isinstance(v, list) else v for v in row) for row in rows}


def summary(outcomes) -> list[tuple]:
    return [(o.status, o.code, tuple(o.changed)) for o in outcomes]


def start_from(world, before: list[PersonItem]) -> None:
    Person.objects.all().delete()
    register_people(before, acting_user=world.users["admin"], source="cli")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(before=st.lists(ITEMS, max_size=3), items=st.lists(ITEMS, min_size=1, max_size=8),
       role=st.sampled_from(USERS), update=st.booleans())
def test_a_batch_ends_where_the_same_items_one_by_one_end(world, before, items, role, update):
    user = world.users[role]
    start_from(world, before)
    batch = summary(register_people(items, acting_user=user, source="import", update=update))
    after_batch = person_rows()

    start_from(world, before)
    one_by_one = [summary(register_people([item], acting_user=user, source="import", update=update))[0]
                  for item in items]
    assert batch == one_by_one
    assert after_batch == person_rows()


def item(seq: int, **fields) -> PersonItem:
    values = {"id_number": make_id_number("513301", BORN, seq), "name": "卓玛", "division_code": "513301001",
              **fields}
    return PersonItem(**values)


def test_same_content_is_already_present_and_a_difference_is_refused_unless_updating(world):
    county = world.users["county_command"]
    register_people([item(1, phone="13800000000")], acting_user=county, source="import")
    events = AuditEvent.objects.count()

    same, other = register_people([item(1, phone="13800000000"), item(1, phone="13900000000")],
                                  acting_user=county, source="import")
    assert (same.status, other.status, other.code) == ("already_present", "rejected", "person_exists")
    assert same.person.pk == other.error.detail["id"]
    # Nothing written but the batch's own event.
    assert AuditEvent.objects.count() == events + 1
    assert AuditEvent.objects.latest("pk").after["already_present"] == 1

    (updated,) = register_people([item(1, phone="13900000000", priority_groups=("teachers",))],
                                 acting_user=county, source="import", update=True)
    assert (updated.status, updated.changed) == ("updated", ["phone", "priority_groups"])
    person = Person.objects.get()
    assert (person.phone, person.priority_groups) == ("13900000000", ["teachers"])
    event = AuditEvent.objects.get(action="person.update")
    assert event.before == {"phone": "13800000000", "priority_groups": []}
    assert event.after == {"phone": "13900000000", "priority_groups": ["teachers"]}


def test_a_person_registered_elsewhere_is_neither_revealed_nor_updated(world):
    register_people([item(2, division_code="513322001")], acting_user=world.users["admin"], source="cli")
    (outcome,) = register_people([item(2, division_code="513322001")], acting_user=world.users["county_command"],
                                 source="import", update=True)
    assert (outcome.status, outcome.code, outcome.error.detail) == ("rejected", "person_registered_elsewhere", {})
    # Site staff of the person's county reach them and may correct their record.
    (outcome,) = register_people([item(2, division_code="513322001", phone="13800000000")],
                                 acting_user=world.users["vaccinator_ld"], source="import", update=True)
    assert outcome.status == "updated"
    assert Person.objects.get().phone == "13800000000"


def test_rows_outside_the_users_area_are_refused_and_the_rest_written(world):
    outcomes = register_people(
        [item(3), item(4, division_code="513322001"), item(5, division_code="513201001")],
        acting_user=world.users["county_command"], source="import",
    )
    assert summary(outcomes) == [
        ("created", None, ()), ("rejected", "division_not_found", ()), ("rejected", "division_not_found", ()),
    ]
    assert list(Person.objects.values_list("home_division__code", flat=True)) == ["513301001"]
    event = AuditEvent.objects.get(action="person.batch")
    assert (event.after["created"], event.after["rejected"], event.county_code) == (1, 2, "513301")


def test_atomic_writes_nothing_when_one_item_is_refused_and_dry_run_never_writes(world):
    county = world.users["county_command"]
    items = [item(6), item(7, name="张三3")]
    outcomes = register_people(items, acting_user=county, source="import", atomic=True)
    assert summary(outcomes) == [("created", None, ()), ("rejected", "invalid_name", ())]
    assert outcomes[0].person.pk is None and not outcomes[0].written
    assert not Person.objects.exists() and not AuditEvent.objects.filter(action__startswith="person.").exists()

    outcomes = register_people([item(6), item(7)], acting_user=county, source="import", dry_run=True)
    assert summary(outcomes) == [("created", None, ()), ("created", None, ())]
    assert not Person.objects.exists()

    outcomes = register_people([item(6), item(7)], acting_user=county, source="import", atomic=True)
    assert [(o.person.pk is not None, o.written) for o in outcomes] == [(True, True), (True, True)]
    assert Person.objects.count() == 2


def test_an_id_number_twice_in_a_batch_is_judged_against_the_first(world):
    outcomes = register_people([item(8), item(8), item(8, name="扎西")], acting_user=world.users["county_command"],
                               source="import")
    assert summary(outcomes) == [("created", None, ()), ("already_present", None, ()),
                                 ("rejected", "person_exists", ())]
    assert outcomes[1].person is outcomes[0].person and outcomes[2].error.detail["id"] == outcomes[0].person.pk


def test_a_batch_of_one_writes_the_registration_event_of_one_person(world):
    (outcome,) = register_people([item(9)], acting_user=world.users["county_command"], source="api")
    event = AuditEvent.objects.get(action__startswith="person.")
    assert (event.action, event.object_id, event.county_code) == ("person.register", str(outcome.person.pk), "513301")
    assert event.after["home_division"] == "513301001"


def test_a_large_batch_is_loaded_in_bulk_with_consecutive_ids(world, django_assert_max_num_queries):
    n = COPY_THRESHOLD + 10
    items = [PersonItem(make_id_number("513301", BORN + dt.timedelta(days=i // 400), 2 * (i % 400) + 1), "扎西",
                        phone=f"138{i:08d}", division_code="513301001", priority_groups=("teachers",))
             for i in range(n)]
    with django_assert_max_num_queries(15):
        outcomes = register_people(items, acting_user=world.users["county_command"], source="import")
    ids = [o.person.pk for o in outcomes]
    assert [o.status for o in outcomes] == ["created"] * n and ids == list(range(ids[0], ids[0] + n))
    stored = dict(Person.objects.values_list("pk", "id_number"))
    assert [stored[pk] for pk in ids] == [i.id_number for i in items]
    assert Person.objects.get(pk=ids[-1]).priority_groups == ["teachers"]
    assert AuditEvent.objects.get(action="person.batch").after["created"] == n
    # The sequence moved past the loaded ids: the next registration gets a fresh one.
    (one,) = register_people([item(10)], acting_user=world.users["county_command"], source="api")
    assert one.person.pk > ids[-1]


@pytest.mark.django_db(transaction=True)
def test_a_registration_committed_meanwhile_is_decided_again(monkeypatch):
    """The unique index decides under concurrency: the batch re-reads and finds the person."""
    from django.db import connection

    from conftest import build_world
    from vaxops.registry import batch

    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises write transactions from BEGIN: no registration can come in between")
    world = build_world()
    county = world.users["county_command"]
    plan, done = batch._Planner.plan, []

    def plan_then_someone_else_registers(self, items):
        outcomes = plan(self, items)
        if not done:
            done.append(True)
            import threading

            def other():
                register_people([item(12)], acting_user=world.users["admin"], source="api")
                connection.close()

            thread = threading.Thread(target=other)
            thread.start()
            thread.join()
        return outcomes

    monkeypatch.setattr(batch._Planner, "plan", plan_then_someone_else_registers)
    outcomes = register_people([item(11), item(12)], acting_user=county, source="import")
    assert summary(outcomes) == [("created", None, ()), ("already_present", None, ())]
    assert Person.objects.count() == 2
