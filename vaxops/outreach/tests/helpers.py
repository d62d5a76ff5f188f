"""What the outreach tests share: doses on a past day (entered the next morning, as the
county's clerk does), grids under the world's township, a contact attempt."""

from __future__ import annotations

import datetime as dt
import uuid

TZ = dt.timezone(dt.timedelta(hours=8))
TOWNSHIP = "513301001"


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), TZ)


def give_dose(world, person, day: dt.date, *, product: str = "BIBP", lot: str = "B2021001"):
    """A dose given at the Kangding mass site at 10:00 on ``day``, recorded at 07:00 the next day."""
    from vaxops.vaccination.batch import DoseItem, record_doses

    item = DoseItem(client_uuid=uuid.uuid4(), product_code=product, lot_number=lot, site_code="KD-MASS",
                    administered_at=at(day), person_id=person.pk)
    (outcome,) = record_doses([item], acting_user=world.users["vaccinator"], source="cli",
                              now=at(day + dt.timedelta(days=1), 7))
    assert outcome.status == "created", outcome.error
    return outcome.record


def grid(world, code: str, name: str = "网格"):
    """A grid division under the world's township (513301001xxx)."""
    from vaxops.regions.models import Division, Level

    d = Division.objects.create(code=code, level=Level.GRID, parent=world.divisions[TOWNSHIP], name_zh=name,
                                name_en=name)
    world.divisions[code] = d
    return d


def contact(world, person, outcome: str, *, role: str = "grid_worker", when: dt.datetime | None = None, **kw):
    from vaxops.outreach.services import record_contact

    attempt, _created = record_contact(client_uuid=uuid.uuid4(), person_id=person.pk, channel=kw.pop("channel", "phone"),
                                       outcome=outcome, acting_user=world.users[role], source="cli", at=when, **kw)
    return attempt
