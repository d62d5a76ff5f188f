"""Counters kept with each dose always equal a rebuild from the dose table."""

from __future__ import annotations

import datetime as dt
import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import make_person
from vaxops.campaign.models import DoseCounter, ResidenceCounter
from vaxops.campaign.services import counter_snapshot, rebuild_counters, residence_snapshot, summary
from vaxops.core.errors import VaxopsError
from vaxops.vaccination.models import DoseRecord
from vaxops.vaccination.services import record_dose, void_dose

START = dt.datetime.fromisoformat("2021-04-01T09:00:00+08:00")
op = st.tuples(
    st.sampled_from(["record", "record", "record", "void"]),
    st.integers(0, 3),  # person
    st.integers(0, 60),  # day offset
    st.sampled_from(["KD-MASS", "KD-THC"]),
    st.sampled_from([("BIBP", "B2021001"), ("CORONAVAC", "C2021001")]),
)
# Homes of the four people: a township, the county itself (registered only at county level), and
# the other county (vaccinated in Kangding while living in Luding).
HOMES = ["513301001", "513301", "513322", "513301001"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(op, min_size=1, max_size=25))
def test_random_record_and_void_sequences_keep_counters_equal_to_a_rebuild(world, ops):
    DoseRecord.objects.all().delete()
    DoseCounter.objects.all().delete()
    ResidenceCounter.objects.all().delete()
    people = getattr(world, "_people", None) or [
        make_person(world, seq=300 + i, name="人" + "甲乙丙丁"[i], born=dt.date(1950 + 10 * i, 1, 1), division=HOMES[i])
        for i in range(4)
    ]
    world._people = people
    for action, who, day, site, (product, lot) in ops:
        try:
            if action == "record":
                record_dose(
                    client_uuid=uuid.uuid4(), person_id=people[who].pk, product_code=product, lot_number=lot,
                    site_code=site, administered_at=START + dt.timedelta(days=day),
                    acting_user=world.users["site_manager"], source="api",
                )
            else:
                last = DoseRecord.objects.filter(person=people[who], status="valid").order_by("-pk").first()
                if last:
                    void_dose(dose_id=last.pk, reason="entered in error", acting_user=world.users["site_manager"],
                              source="api")
        except VaxopsError:
            pass  # refused doses must leave counters untouched, which the comparison checks
    live, live_residence = counter_snapshot(), residence_snapshot()
    valid = DoseRecord.objects.filter(status="valid").count()
    assert sum(live.values()) == sum(live_residence.values()) == valid
    rebuild_counters()
    assert counter_snapshot() == live
    assert residence_snapshot() == live_residence


def test_summary_counts_only_doses_up_to_the_chosen_time(world, person):
    morning = dt.datetime.fromisoformat("2021-05-10T09:00:00+08:00")
    record_dose(client_uuid=uuid.uuid4(), person_id=person.pk, product_code="BIBP", lot_number="B2021001",
                site_code="KD-MASS", administered_at=morning, acting_user=world.users["vaccinator"], source="api")
    prefecture = world.divisions["513300"]
    assert summary(prefecture, morning - dt.timedelta(minutes=1))["doses_total"] == 0
    assert summary(prefecture, morning)["doses_total"] == 1
    later = summary(prefecture, morning + dt.timedelta(days=3))
    assert later["doses_total"] == 1 and later["first_dose_people"] == 1
    kangding = next(c for c in later["children"] if c["code"] == "513301")
    luding = next(c for c in later["children"] if c["code"] == "513322")
    assert kangding["doses_total"] == 1 and luding["doses_total"] == 0
