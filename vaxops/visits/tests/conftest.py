"""Fixtures of the visit tests: an open session at the Kangding mass site on 2021-05-11."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

TZ8 = dt.timezone(dt.timedelta(hours=8))
DAY = dt.date(2021, 5, 11)


def at(hh: int, mm: int = 0, ss: int = 0) -> dt.datetime:
    """A moment of the session's day (+08:00)."""
    return dt.datetime(2021, 5, 11, hh, mm, ss, tzinfo=TZ8)


def open_session(site, *, day=DAY, status="open"):
    """A session row made directly (the sessions part opens them through its gate)."""
    from vaxops.sites.models import Session

    return Session.objects.create(site=site, date=day, kind="fixed", status=status, opens_at=dt.time(8),
                                  closes_at=dt.time(17))


@pytest.fixture
def session(world):
    return open_session(world.sites["KD-MASS"])


def new_uuid() -> str:
    return str(uuid.uuid4())


def people(world, n: int, *, start: int = 200):
    from conftest import make_person

    return [make_person(world, seq=start + i, name="张" + chr(0x4E00 + 100 + i)) for i in range(n)]


def record_doses_for(world, persons, times, *, site="KD-MASS"):
    """Doses for ``persons`` at ``times`` through the one dose path (a batch), in order."""
    from vaxops.vaccination.batch import DoseItem, record_doses

    items = [DoseItem(client_uuid=uuid.uuid4(), person_id=p.pk, product_code="BIBP", lot_number="B2021001",
                      site_code=site, administered_at=t) for p, t in zip(persons, times, strict=True)]
    outcomes = record_doses(items, acting_user=world.users["vaccinator"], source="cli")
    assert all(o.error is None for o in outcomes), [o.error for o in outcomes if o.error]
    return [o.record for o in outcomes]


def register_many(world, n: int, *, start: int = 300):
    """``n`` residents of Kangding registered in one batch."""
    from vaxops.registry.batch import PersonItem, register_people
    from vaxops.registry.idnumber import make_id_number

    items = [PersonItem(id_number=make_id_number("513301", dt.date(1970, 1, 1) + dt.timedelta(days=i // 400),
                                                 start + i % 400),
                        name="李" + chr(0x4E00 + 200 + i % 5000), division_code="513301001")
             for i in range(n)]
    out = register_people(items, acting_user=world.users["admin"], source="cli")
    assert all(o.error is None for o in out), [o.error for o in out if o.error][:3]
    return [o.person for o in out]
