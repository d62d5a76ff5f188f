"""Contact attempts, holds, person status changes and the due table they keep."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from conftest import make_person
from vaxops.core.errors import VaxopsError
from vaxops.outreach.models import ContactAttempt, DueEntry
from vaxops.outreach.tests.helpers import at, contact, give_dose, grid
from vaxops.outreach.worklists import reference, worklist

pytestmark = pytest.mark.django_db
TODAY = dt.date(2021, 5, 20)


def listed(world, kind, day=TODAY, division="513301001", role="grid_worker"):
    from vaxops.regions.models import Division

    d = Division.objects.get(code=division)
    return [i["person_id"] for i in worklist(world.users[role], d, kind, day)["items"]]


def test_a_new_adult_is_on_the_unvaccinated_list_and_a_teenager_only_from_july(world):
    adult = make_person(world, born=dt.date(1980, 1, 1), seq=11)
    teen = make_person(world, born=dt.date(2006, 1, 1), seq=13)
    assert listed(world, "unvaccinated") == [adult.pk]
    assert teen.pk in listed(world, "unvaccinated", dt.date(2021, 7, 1))


def test_the_first_dose_moves_a_person_to_due_then_overdue_and_the_second_off_the_lists(world):
    p = make_person(world, seq=15)
    give_dose(world, p, dt.date(2021, 5, 1))
    assert p.pk not in listed(world, "unvaccinated")
    assert listed(world, "due", dt.date(2021, 5, 15)) == [p.pk]  # due 5-22, within a week
    assert listed(world, "overdue", dt.date(2021, 6, 27)) == [p.pk]  # due by 6-26
    give_dose(world, p, dt.date(2021, 5, 25))
    for kind in ("unvaccinated", "due", "overdue"):
        assert p.pk not in listed(world, kind, dt.date(2021, 6, 27))
    assert DueEntry.objects.get(person=p).kind == "booster"


def test_sixty_plus_and_key_groups_come_first(world):
    young = make_person(world, born=dt.date(1990, 1, 1), seq=17)
    teacher = make_person(world, born=dt.date(1985, 1, 1), seq=19, priority_groups=["teachers"])
    old = make_person(world, born=dt.date(1950, 1, 1), seq=21)
    assert listed(world, "unvaccinated") == [old.pk, teacher.pk, young.pk]


def test_an_away_resident_comes_back_onto_the_list_on_their_date(world):
    p = make_person(world, seq=23)
    contact(world, p, "away", until=dt.date(2021, 5, 30), place="out_of_county", when=at(TODAY))
    assert p.pk not in listed(world, "unvaccinated")
    assert p.pk in listed(world, "unvaccinated", dt.date(2021, 5, 30))
    assert listed(world, "unvaccinated", dt.date(2021, 5, 30)) == reference(
        world.divisions["513301001"], "unvaccinated", dt.date(2021, 5, 30))


def test_a_refusal_stays_on_the_list_with_its_outcome(world):
    p = make_person(world, seq=25)
    contact(world, p, "refused", concern="safety", when=at(TODAY))
    from vaxops.regions.models import Division

    items = worklist(world.users["grid_worker"], Division.objects.get(code="513301001"), "unvaccinated", TODAY)["items"]
    assert items[0]["person_id"] == p.pk and items[0]["last_outcome"] == "refused"


def test_a_permanent_contraindication_leaves_the_lists_and_the_denominator(world):
    from vaxops.registry.models import Deferral

    p = make_person(world, seq=27)
    contact(world, p, "contraindicated", reason="severe_allergic_reaction", channel="visit", when=at(TODAY))
    assert p.pk not in listed(world, "unvaccinated")
    assert Deferral.objects.get(person=p).until is None
    assert DueEntry.objects.get(person=p).kind == "out"


def test_moved_out_and_deceased_are_person_status_changes_with_audit(world):
    from vaxops.core.models import AuditEvent
    from vaxops.registry.models import Person

    a, b = make_person(world, seq=29), make_person(world, seq=31)
    contact(world, a, "moved_out", when=at(TODAY))
    contact(world, b, "deceased", channel="household", when=at(TODAY))
    assert Person.objects.get(pk=a.pk).status == "moved_out"
    assert Person.objects.get(pk=b.pk).status == "deceased"
    assert AuditEvent.objects.filter(action="person.status").count() == 2
    assert listed(world, "unvaccinated") == []


def test_a_duplicate_merge_keeps_every_dose_and_counts_the_person_once(world):
    from vaxops.campaign.models import DoseCounter
    from vaxops.registry.models import Person
    from vaxops.vaccination.models import DoseRecord

    keep = make_person(world, seq=33)
    dup = make_person(world, seq=35, name="张三")
    give_dose(world, keep, dt.date(2021, 4, 1))
    give_dose(world, dup, dt.date(2021, 4, 2))  # the same dose 1 entered on the second record
    give_dose(world, dup, dt.date(2021, 4, 25))
    contact(world, dup, "duplicate", duplicate_of=keep.pk, when=at(TODAY))
    doses = DoseRecord.objects.filter(person=keep)
    assert doses.count() == 3  # nothing deleted
    assert sorted(doses.filter(status="valid").values_list("dose_number", flat=True)) == [1, 2]
    assert Person.objects.get(pk=dup.pk).status == "merged"
    from django.db.models import Sum

    firsts = DoseCounter.objects.filter(dose_number=1).aggregate(n=Sum("count"))["n"]
    assert firsts in (1, 2)  # the site and the residence views of the one dose 1 left
    assert DoseRecord.objects.filter(status="valid", dose_number=1).count() == 1


def test_bad_outcomes_are_refused_and_write_nothing(world):
    from vaxops.outreach.services import record_contact

    p = make_person(world, seq=37)
    cases = [
        ({"outcome": "abducted"}, "unknown_outcome"),
        ({"outcome": "away", "until": dt.date(2021, 5, 1), "place": "in_county"}, "until_in_past"),
        ({"outcome": "away", "place": "in_county"}, "outreach_field_required"),
        ({"outcome": "refused", "concern": "cost"}, "outreach_value_invalid"),
        ({"outcome": "booked", "session_id": 999999}, "session_not_found"),
        ({"outcome": "will_come", "channel": "pigeon"}, "outreach_value_invalid"),
    ]
    for kw, code in cases:
        with pytest.raises(VaxopsError) as exc:
            record_contact(client_uuid=uuid.uuid4(), person_id=p.pk, channel=kw.pop("channel", "phone"),
                           acting_user=world.users["grid_worker"], source="cli", at=at(TODAY), **kw)
        assert exc.value.code == code
    assert not ContactAttempt.objects.exists()


def test_a_resident_outside_the_area_is_not_found(world):
    from vaxops.outreach.services import record_contact

    p = make_person(world, seq=39, county="513322")
    with pytest.raises(VaxopsError) as exc:
        record_contact(client_uuid=uuid.uuid4(), person_id=p.pk, channel="phone", outcome="will_come",
                       acting_user=world.users["grid_worker"], source="cli")
    assert exc.value.code == "person_not_found"


def test_a_retry_returns_the_first_attempt(world):
    from vaxops.outreach.services import record_contact

    p = make_person(world, seq=41)
    key = uuid.uuid4()
    kw = {"client_uuid": key, "person_id": p.pk, "channel": "phone", "outcome": "hesitant",
              "acting_user": world.users["grid_worker"], "source": "cli"}
    first, created = record_contact(**kw)
    again, created_again = record_contact(**kw)
    assert created and not created_again and first.pk == again.pk
    with pytest.raises(VaxopsError) as exc:
        record_contact(**{**kw, "outcome": "refused", "concern": "no_time"})
    assert exc.value.code == "contact_conflict"


def test_a_grid_workers_list_of_a_grid_holds_only_that_grids_residents(world):
    g1, g2 = grid(world, "513301001001", "一网格"), grid(world, "513301001002", "二网格")
    a = make_person(world, seq=43, division=g1.code)
    b = make_person(world, seq=45, division=g2.code)
    assert listed(world, "unvaccinated", division=g1.code) == [a.pk]
    assert listed(world, "unvaccinated", division=g2.code) == [b.pk]


def test_a_voided_dose_puts_the_person_back_on_the_list(world):
    from vaxops.vaccination.services import void_dose

    p = make_person(world, seq=47)
    dose = give_dose(world, p, dt.date(2021, 5, 1))
    void_dose(dose_id=dose.pk, reason="wrong person", acting_user=world.users["county_command"], source="cli")
    assert p.pk in listed(world, "unvaccinated")


def test_the_rebuild_equals_the_live_table(world):
    from vaxops.outreach.duetable import rebuild

    people = [make_person(world, seq=s, born=dt.date(1950 + s % 40, 2, 3)) for s in range(51, 61)]
    give_dose(world, people[0], dt.date(2021, 4, 1))
    give_dose(world, people[1], dt.date(2021, 4, 1))
    give_dose(world, people[1], dt.date(2021, 4, 28))
    contact(world, people[2], "away", until=dt.date(2021, 6, 3), place="in_county", when=at(TODAY))
    contact(world, people[3], "deceased", when=at(TODAY))
    live = sorted(DueEntry.objects.values_list())
    rebuild()
    assert sorted(DueEntry.objects.values_list()) == live


def test_a_new_home_moves_the_person_to_that_grids_list(world):
    from vaxops.registry.batch import PersonItem, register_people

    g1, g2 = grid(world, "513301001001", "一网格"), grid(world, "513301001002", "二网格")
    p = make_person(world, seq=71, division=g1.code)
    (outcome,) = register_people([PersonItem(id_number=p.id_number, name=p.name, division_code=g2.code)],
                                 acting_user=world.users["admin"], source="cli", update=True)
    assert outcome.status == "updated"
    assert listed(world, "unvaccinated", division=g2.code) == [p.pk]
    assert listed(world, "unvaccinated", division=g1.code) == []


def test_a_large_dose_batch_leaves_the_rows_a_recomputation_gives(world):
    """A batch of more doses than ``STAGE_MIN`` (on PostgreSQL: staged by COPY, one upsert)
    moves each person's row exactly as the rows computed again from the database, holds and
    people out of the lists included."""
    from vaxops.outreach.duetable import COLUMNS, STAGE_MIN, compute_rows
    from vaxops.vaccination.batch import DoseItem, record_doses

    n = STAGE_MIN + 16
    people = [make_person(world, seq=s, born=dt.date(1950 + s % 40, 1 + s % 12, 3)) for s in range(100, 100 + n)]
    for p in people[:5]:
        contact(world, p, "away", until=dt.date(2021, 6, 20), place="in_county", when=at(TODAY))
    contact(world, people[5], "deceased", when=at(TODAY))
    day = TODAY + dt.timedelta(days=1)
    items = [DoseItem(client_uuid=uuid.uuid4(), product_code="BIBP", lot_number="B2021001", site_code="KD-MASS",
                      administered_at=at(day, 8 + i % 9), person_id=p.pk)
             for i, p in enumerate(people) if i != 5]
    out = record_doses(items, acting_user=world.users["vaccinator"], source="cli",
                       now=at(day + dt.timedelta(days=1), 7))
    assert {o.status for o in out} == {"created"}
    ids = [p.pk for p in people]
    stored = sorted(DueEntry.objects.filter(person_id__in=ids).values_list(*COLUMNS))
    assert stored == sorted(compute_rows(ids))
    held = DueEntry.objects.get(person_id=people[0].pk)
    assert (held.kind, held.hold_until, held.list_date) == ("next", dt.date(2021, 6, 20), dt.date(2021, 6, 20))
    assert DueEntry.objects.get(person_id=people[5].pk).kind == "out"
