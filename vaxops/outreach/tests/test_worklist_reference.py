"""The work lists read from the due table equal a brute-force judgement of every resident, and
the live table equals a rebuild, after random sequences of registrations, doses, voids,
deferrals and contact outcomes."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import make_person
from vaxops.core.errors import VaxopsError
from vaxops.outreach.models import DueEntry
from vaxops.outreach.tests.helpers import at, give_dose, grid
from vaxops.outreach.worklists import KINDS, reference, worklist

START = dt.date(2021, 3, 25)
SEQ = itertools.count(100)
GRIDS = itertools.count(1)

person_st = st.tuples(st.integers(1940, 2012), st.sampled_from([[], [], ["teachers"], ["medical_staff"]]))
op_st = st.tuples(
    st.sampled_from(["dose", "dose", "dose", "void", "away", "deferred", "refused", "defer", "contraindicate",
                     "moved_out"]),
    st.integers(0, 5),  # person
    st.integers(0, 70),  # day offset
    st.integers(1, 40),  # days of a hold
)


@settings(max_examples=12, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(people=st.lists(person_st, min_size=2, max_size=6), ops=st.lists(op_st, max_size=12),
       probe=st.integers(0, 120))
def test_lists_equal_a_brute_force_reference_on_random_data(world, people, ops, probe):
    from vaxops.outreach.duetable import rebuild
    from vaxops.outreach.services import record_contact
    from vaxops.registry.services import defer_person
    from vaxops.vaccination.models import DoseRecord
    from vaxops.vaccination.services import void_dose

    area = grid(world, f"513301001{next(GRIDS):03d}")
    persons = [make_person(world, born=dt.date(year, 6, 15), seq=next(SEQ), division=area.code, priority_groups=g)
               for year, g in people]
    ops = sorted(ops, key=lambda o: o[2])  # in time order, as they happen
    for action, who, offset, hold in ops:
        p = persons[who % len(persons)]
        day = START + dt.timedelta(days=offset)
        try:
            if action == "dose":
                give_dose(world, p, day)
            elif action == "void":
                last = DoseRecord.objects.filter(person=p, status="valid").order_by("-pk").first()
                if last:
                    void_dose(dose_id=last.pk, reason="entered in error", acting_user=world.users["county_command"],
                              source="cli")
            elif action == "defer":
                defer_person(person_id=p.pk, code="acute_illness", since=day, until=day + dt.timedelta(days=hold),
                             acting_user=world.users["grid_worker"], source="cli")
            elif action == "contraindicate":
                record_contact(client_uuid=uuid.uuid4(), person_id=p.pk, channel="visit", outcome="contraindicated",
                               reason="allergy", at=at(day), acting_user=world.users["grid_worker"], source="cli")
            else:
                extra = {"away": {"until": day + dt.timedelta(days=hold), "place": "in_county"},
                         "deferred": {"until": day + dt.timedelta(days=hold)},
                         "refused": {"concern": "safety"}, "moved_out": {}}[action]
                record_contact(client_uuid=uuid.uuid4(), person_id=p.pk, channel="phone", outcome=action,
                               at=at(day), acting_user=world.users["grid_worker"], source="cli", **extra)
        except (VaxopsError, AssertionError):
            pass  # a refused dose or outcome changes nothing, which the comparison checks
    today = START + dt.timedelta(days=probe)
    for kind in KINDS:
        live = [i["person_id"] for i in worklist(world.users["grid_worker"], area, kind, today, limit=500)["items"]]
        assert live == reference(area, kind, today), (kind, today)
    mine = DueEntry.objects.filter(home_path__startswith=area.path)
    snapshot = sorted(mine.values_list())
    rebuild(area.path)
    assert sorted(mine.values_list()) == snapshot


@settings(max_examples=8, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(years=st.lists(st.integers(1935, 2005), min_size=3, max_size=9), dosed=st.sets(st.integers(0, 8)),
       size=st.integers(1, 4))
def test_a_townships_list_read_page_by_page_equals_the_reference(world, years, dosed, size):
    """The township and county lists, read from their codes' indexes in pages of ``size``
    across the boundary between those 60 and over and the rest, give the reference's order."""
    township, county = world.divisions["513301001"], world.divisions["513301"]
    grids = [grid(world, f"513301001{next(GRIDS):03d}") for _ in range(2)]
    persons = [make_person(world, born=dt.date(year, 3, 1 + i), seq=next(SEQ), division=grids[i % 2].code,
                           priority_groups=["teachers"] if i % 3 == 0 else [])
               for i, year in enumerate(years)]
    for i in dosed:
        if i < len(persons):
            give_dose(world, persons[i], START)
    today = START + dt.timedelta(days=30)
    for area, user in ((township, world.users["township_organiser"]), (county, world.users["county_command"])):
        for kind in ("unvaccinated", "due"):
            expected = reference(area, kind, today)
            whole = worklist(user, area, kind, today, limit=500)
            assert [i["person_id"] for i in whole["items"]] == expected and whole["count"] == len(expected)
            paged = []
            for offset in range(0, len(expected) + size, size):
                paged += [i["person_id"] for i in worklist(user, area, kind, today, limit=size, offset=offset)["items"]]
            assert paged == expected, (area.code, kind, size)
