"""What the appointments tests share: sessions of the Kangding mass site in the coming days,
their slots, people to book and doses given now."""

from __future__ import annotations

import datetime as dt
import uuid

from django.utils import timezone

from conftest import make_person

TZ = dt.timezone(dt.timedelta(hours=8))


def today() -> dt.date:
    return timezone.now().astimezone(TZ).date()


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), TZ)


def session(world, *, days: int = 2, site: str = "KD-MASS", status: str = "planned", products=("BIBP",)):
    """A session ``days`` from today, 08:00–12:00 (fixture data, as conftest's ``open_today``)."""
    from vaxops.catalog.models import Product
    from vaxops.sites.models import Session

    s = Session.objects.create(site=world.sites[site], date=today() + dt.timedelta(days=days), kind="fixed",
                               status=status, opens_at=dt.time(8), closes_at=dt.time(12))
    s.products.set(list(Product.objects.filter(code__in=products)))
    return Session.objects.select_related("site__division").get(pk=s.pk)


def slotted(world, *, days: int = 2, capacity=None, minutes: int = 30, **kw):
    from vaxops.appointments import services

    s = session(world, days=days, **kw)
    services.set_slots(s, minutes=minutes, capacity=capacity or {1: 2, 2: 1}, acting_user=world.users["site_manager"])
    return s


def person(world, seq: int, *, phone: bool = True, county: str = "513301", **kw):
    return make_person(world, seq=seq, county=county, phone=f"1390000{seq:04d}" if phone else "", **kw)


def book(world, s, p, *, hour: int = 8, minute: int = 0, dose: int = 1, role: str = "vaccinator", **kw):
    from vaxops.appointments import services

    a, _created = services.book(client_uuid=uuid.uuid4(), person=p, session=s, starts_at=at(s.date, hour, minute),
                                dose_number=dose, acting_user=world.users[role] if role else None, **kw)
    return a


def give_now(world, p, *, product: str = "BIBP", lot: str = "B2021001", when: dt.datetime | None = None):
    """A dose through the dose path, at the Kangding mass site's open session of today."""
    from vaxops.vaccination.services import record_dose

    dose, _ = record_dose(client_uuid=uuid.uuid4(), person_id=p.pk, product_code=product, lot_number=lot,
                          site_code="KD-MASS", administered_at=when or timezone.now() - dt.timedelta(minutes=5),
                          acting_user=world.users["vaccinator"], source="api")
    return dose
