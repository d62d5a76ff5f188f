"""Shared pieces of the AEFI tests: doses to report on and report arguments."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from conftest import make_person
from vaxops.vaccination.services import record_dose

CST = dt.timezone(dt.timedelta(hours=8))
DOSE_AT = dt.datetime(2021, 5, 10, 10, 0, tzinfo=CST)

_seq = iter(range(10**6))


def person(world, **kw):
    """A new resident (a fresh ID number each call)."""
    n = next(_seq)
    return make_person(world, seq=300 + n % 600, born=dt.date(1970, 1, 1) + dt.timedelta(days=n // 600), **kw)


def dose(world, who=None, *, at: dt.datetime = DOSE_AT, site: str = "KD-MASS", lot: str = "B2021001",
         product: str | None = None, user: str | None = None):
    """A dose of ``who`` (a new Kangding resident by default) recorded at ``site``."""
    who = who or person(world, county="513322" if site.startswith("LD") else "513301")
    if product is None:
        from vaxops.supply.models import Lot

        product = Lot.objects.select_related("product").get(lot_number=lot).product.code
    role = user or ("vaccinator" if site == "KD-MASS" else "vaccinator_ld")
    record, _ = record_dose(client_uuid=uuid.uuid4(), person_id=who.pk, product_code=product, lot_number=lot,
                            site_code=site, administered_at=at, acting_user=world.users[role], source="cli")
    return record


def report_args(d, **kw: Any) -> dict[str, Any]:
    """The keyword arguments of ``report_aefi`` for a fever after dose ``d`` (override any)."""
    onset = kw.pop("onset_at", d.administered_at + dt.timedelta(hours=6))
    args = {"client_uuid": uuid.uuid4(), "person": d.person, "dose": d, "onset_at": onset,
            "detected_at": onset + dt.timedelta(hours=1), "events": ["fever_38_6"], "serious": False,
            "serious_criteria": (), "at": onset + dt.timedelta(hours=2)}
    args.update(kw)
    return args
