"""What the standby tests share: an open session at the Kangding mass site, a 5-dose vial lot
stocked there, people who may be called, and vials opened by real doses."""

from __future__ import annotations

import datetime as dt
import uuid

from conftest import make_person, stock

TZ = dt.timezone(dt.timedelta(hours=8))
DAY = dt.date(2021, 5, 10)


def at(hour: int, minute: int = 0, day: dt.date = DAY) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), TZ)


def open_session(world, *, day: dt.date = DAY, site: str = "KD-MASS", status: str = "open"):
    """A session row made directly (status open) until the sessions service is on this branch."""
    from vaxops.sites.models import Session

    return Session.objects.create(site=world.sites[site], date=day, kind="fixed", status=status,
                                  opens_at=dt.time(8), closes_at=dt.time(17))


def multi_dose_lot(world, *, site: str = "KD-MASS", doses: int = 100, number: str = "BMULTI01"):
    """A 5-dose vial presentation of BIBP (open-vial window 6 h) stocked at ``site``."""
    from vaxops.catalog.models import Product
    from vaxops.supply.models import Lot
    from vaxops.vaccination import services

    lot = Lot.objects.create(product=Product.objects.get(code="BIBP"), lot_number=number,
                             expiry_date=dt.date(2030, 1, 1), doses_per_vial=5)
    Product.objects.filter(code="BIBP").update(open_vial_hours=6)
    services._load_catalog(refresh=True)
    stock(world, site, lot, doses)
    return lot


NAMES = ["张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊", "赵敏", "黄强", "周杰", "吴霞", "徐亮", "孙丽", "马超",
         "朱红", "胡军", "郭燕", "何平", "林峰", "罗兰", "高翔", "梁雪", "郑鹏", "谢芬", "宋涛"]


def people(world, n: int, *, start: int = 600, groups=None, phone: bool = True):
    return [make_person(world, seq=start + i, name=NAMES[(start + i) % len(NAMES)], phone=f"1390000{start + i:04d}" if phone else "",
                        priority_groups=(groups[i] if groups else None)) for i in range(n)]


def give(world, person, when, *, lot: str = "BMULTI01", site: str = "KD-MASS", role: str = "vaccinator"):
    """One dose through the dose path (it draws down the open vial)."""
    from vaxops.vaccination.batch import DoseItem, record_doses

    [out] = record_doses([DoseItem(client_uuid=uuid.uuid4(), product_code="BIBP", lot_number=lot, site_code=site,
                                   administered_at=when, person_id=person.pk)],
                         acting_user=world.users[role], source="api")
    assert out.status == "created", out
    return out
