"""Fixture data for tests of other apps whose sessions must pass the readiness gate.

``make_ready(session)`` gives a session what the checklist asks (docs/staff.md): a doctor of a
level-2 hospital and a vaccinator trained for the session's products on its roster, and a
complete set of submitted values. Rows are inserted directly, as fixture data: the services
that write them are tested in ``vaxops/staff/tests``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from vaxops.regions.models import Division


def complete_values(day: dt.date) -> dict[str, Any]:
    """Submitted values that satisfy every submitted item for a session on ``day`` (planned
    doses up to 10,000 over 8 hours)."""
    expiry = (day + dt.timedelta(days=365)).isoformat()
    return {
        "ambulance": {"plate": "川V·12000", "crew": ["司机", "随车医生"]},
        "emergency_kit": {"checked": True, "drugs": {
            "adrenaline": expiry, "antihistamine": expiry, "corticosteroid": expiry, "oxygen": True,
            "resuscitation_equipment": True}},
        "observation_seats": 1000,
        "cold_chain_reading": 5.0,
    }


def make_ready(session: Any) -> Any:
    """Roster a level-2 doctor and a trained vaccinator on ``session`` and record a complete
    checklist; returns the session (its gate then answers no missing item)."""
    from vaxops.catalog.models import Product
    from vaxops.staff.models import Qualification, Readiness, RosterEntry, Staff, Unit

    site = session.site
    county = Division.objects.filter(code=site.county_code).first() or site.division
    unit, _ = Unit.objects.get_or_create(
        code=f"TEST-HOSP-{site.county_code}",
        defaults={"name_zh": "测试县人民医院", "name_en": "Test county hospital", "kind": "hospital",
                  "hospital_level": 2, "division": county, "county_code": site.county_code})
    doctor, _ = Staff.objects.get_or_create(unit=unit, name="测试医生", defaults={"role": "doctor"})
    vaccinator, _ = Staff.objects.get_or_create(unit=unit, name="测试接种员", defaults={"role": "vaccinator"})
    until = session.date + dt.timedelta(days=365)
    products = list(session.products.all()) or list(Product.objects.filter(is_active=True)[:1])
    for product in products:
        Qualification.objects.get_or_create(staff=vaccinator, kind="vaccination_training", product=product,
                                            defaults={"valid_until": until})
    for member in (doctor, vaccinator):
        RosterEntry.objects.get_or_create(session=session, staff=member, defaults={"role": member.role})
    Readiness.objects.update_or_create(session=session, defaults={
        "items": complete_values(session.date), "recorded_at": timezone.now()})
    return session
