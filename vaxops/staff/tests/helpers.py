"""Test helpers: units and staff around the ``world`` fixture, sessions, a complete checklist."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

DAY = dt.date(2021, 5, 11)


@dataclass
class Crew:
    units: dict = field(default_factory=dict)
    staff: dict = field(default_factory=dict)


def make_session(world, site="KD-MASS", *, date=DAY, products=("BIBP",), planned_doses=900,
                 opens_at=dt.time(8, 0), closes_at=dt.time(17, 0), kind="fixed"):
    """A planned session made directly (the sessions part's service is not needed here)."""
    from vaxops.catalog.models import Product
    from vaxops.sites.models import Session

    s = Session.objects.create(site=world.sites[site], date=date, kind=kind, planned_doses=planned_doses,
                               opens_at=opens_at, closes_at=closes_at)
    s.products.set(Product.objects.filter(code__in=products))
    return s


def make_crew(world) -> Crew:
    """Units in Kangding (a level-2 county hospital, a level-1 township hospital, the CDC), in
    Luding (a level-3 hospital) and at the prefecture (a maternal and child health hospital), with
    a doctor, a vaccinator (trained for BIBP until 2021-12-31) and a nurse in Kangding."""
    from vaxops.staff.services import add_qualification, create_staff, create_unit

    admin = world.users["admin"]
    c = Crew()
    for code, name, kind, level, div in [
        ("KD-HOSP", "康定市人民医院", "hospital", 2, "513301"),
        ("KD-THC-H", "炉城卫生院", "hospital", 1, "513301001"),
        ("KD-CDC", "康定市疾控中心", "cdc", None, "513301"),
        ("LD-HOSP", "泸定县人民医院", "hospital", 3, "513322"),
        ("GZ-MCH", "甘孜州妇幼保健院", "maternal_child_hospital", 2, "513300"),
    ]:
        c.units[code] = create_unit(code=code, name_zh=name, name_en=code, kind=kind, hospital_level=level,
                                    division_code=div, acting_user=admin)
    for key, name, role, unit in [
        ("doctor", "李医生", "doctor", "KD-HOSP"),
        ("vaccinator", "王接种", "vaccinator", "KD-CDC"),
        ("nurse", "赵护士", "nurse", "KD-THC-H"),
        ("thc_doctor", "钱医生", "doctor", "KD-THC-H"),
        ("ld_doctor", "孙医生", "doctor", "LD-HOSP"),
        ("mch_doctor", "周医生", "doctor", "GZ-MCH"),
    ]:
        c.staff[key] = create_staff(name=name, role=role, unit_code=unit, phone="13800000000", acting_user=admin)
    add_qualification(c.staff["vaccinator"], kind="vaccination_training", product_code="BIBP",
                      valid_until=dt.date(2021, 12, 31), acting_user=admin)
    return c


def complete_items(**override) -> dict:
    items = {
        "ambulance": {"plate": "川V·12345", "crew": ["张司机", "刘医生"]},
        "emergency_kit": {"checked": True, "drugs": {
            "adrenaline": "2022-06-30", "antihistamine": "2022-06-30", "corticosteroid": "2022-06-30",
            "oxygen": True, "resuscitation_equipment": True}},
        "observation_seats": 120,
        "cold_chain_reading": 4.5,
    }
    items.update(override)
    return items


def ready_session(world, crew, site="KD-MASS", **kw):
    """A session with the Kangding doctor and vaccinator on its roster and a complete checklist."""
    from vaxops.staff.readiness import record_readiness
    from vaxops.staff.services import set_roster

    s = make_session(world, site, **kw)
    set_roster(s, [crew.staff["doctor"].pk, crew.staff["vaccinator"].pk], acting_user=world.users["county_command"])
    record_readiness(s, complete_items(), acting_user=world.users["site_manager"])
    return s
