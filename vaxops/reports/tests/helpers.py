"""Doses on given days for the report tests, entered as they were given (or later: late entries)."""

from __future__ import annotations

import datetime as dt
import uuid

from conftest import card_in_hand, make_person
from vaxops.campaign.services import TZ
from vaxops.vaccination.models import DoseRecord
from vaxops.vaccination.services import record_dose

DAY = dt.date(2021, 5, 10)
NEXT = dt.date(2021, 5, 11)


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=TZ)


def give(world, person, when: dt.datetime, *, site="KD-MASS", user="site_manager", recorded: dt.datetime | None = None,
         product="BIBP", lot="B2021001") -> DoseRecord:
    """A dose given at ``when``, entered at ``recorded`` (default: as it was given)."""
    card_in_hand(world, user, person)
    dose, _ = record_dose(client_uuid=uuid.uuid4(), person_id=person.pk, product_code=product, lot_number=lot,
                          site_code=site, administered_at=when, acting_user=world.users[user], source="api")
    DoseRecord.objects.filter(pk=dose.pk).update(recorded_at=recorded or when)
    return dose


def residents(world, n: int, *, start: int = 600, county="513301", born=dt.date(1980, 5, 17)):
    return [make_person(world, seq=start + i, county=county, born=born, name="卓玛") for i in range(n)]


def campaign_days(world):
    """Kangding: three residents (one 60+) vaccinated on 10 May before 19:00, one after 19:00;
    Luding: one on 10 May. On 11 May one more first dose in Kangding."""
    people = residents(world, 4)
    old = make_person(world, seq=650, born=dt.date(1950, 1, 2), name="老人")
    luding = make_person(world, seq=660, county="513322", name="泸定人")
    give(world, people[0], at(DAY, 9))
    give(world, people[1], at(DAY, 10, 30))
    give(world, old, at(DAY, 15))
    give(world, people[2], at(DAY, 20))  # after the cut-off: the next report's
    give(world, luding, at(DAY, 11), site="LD-MASS", user="site_manager_ld")
    give(world, people[3], at(NEXT, 9))
    return {"people": people, "old": old, "luding": luding}
