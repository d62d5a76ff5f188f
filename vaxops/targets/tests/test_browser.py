"""The targets page, the dashboard panel and the key-group pages in a real browser (Chromium
through Playwright): at desk width in English and on a 390 px phone in Chinese. Screenshots go
to var/screenshots/ (and /work/shots/targets-*.png when that folder exists)."""

from __future__ import annotations

import datetime as dt
import shutil
import uuid
from pathlib import Path

import pytest

from conftest import build_world, make_person
from vaxops.keygroups.services import add_members
from vaxops.targets.services import set_target
from vaxops.vaccination.services import record_dose
from vaxops.web.tests.test_browser import SCREENSHOTS, english_context, log_in

pytestmark = pytest.mark.browser
SHOTS = Path("/work/shots")
T = dt.timezone(dt.timedelta(hours=8))
AT = "2021-06-01T19:00"


@pytest.fixture
def world(transactional_db, django_db_serialized_rollback, live_server):
    return build_world()


def seed(world):
    from conftest import reload_priority_groups
    from vaxops.staff.models import Unit

    reload_priority_groups()  # reference data a transactional test before this one flushed

    Unit.objects.create(code="KD-HOSP", name_zh="康定市人民医院", name_en="Kangding People's Hospital",
                        kind="hospital", hospital_level=2, division=world.divisions["513301"], county_code="513301")
    names = ["卓玛", "扎西", "次仁", "拉姆", "格桑", "央金"]
    people = [make_person(world, seq=800 + i, name=n, phone=f"1380000{800 + i:04d}") for i, n in enumerate(names)]
    since = dt.date(2021, 3, 1)
    add_members([{"person_id": p.pk, "group": "medical_staff", "unit": "KD-HOSP", "since": since} for p in people[:4]]
                + [{"person_id": p.pk, "group": "teachers", "since": since} for p in people[4:]],
                acting_user=world.users["admin"], source="cli")
    for i, p in enumerate(people[:3]):
        record_dose(client_uuid=uuid.uuid4(), person_id=p.pk, product_code="BIBP", lot_number="B2021001",
                    site_code="KD-MASS", administered_at=dt.datetime(2021, 5, 10 + 5 * i, 10, tzinfo=T),
                    acting_user=world.users["vaccinator"], source="api")
    for code, value in (("513301", 2), ("513322", 5)):
        set_target(division_code=code, metric="first_dose_people", base="18+", value=value, due="2021-06-30",
                   starts="2021-03-22", acting_user=world.users["prefecture_command"], source="cli")
    set_target(division_code="513300", metric="first_dose_people", base="18+", value=7, due="2021-06-30",
               starts="2021-03-22", acting_user=world.users["admin"], source="cli")


def shot(page, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"targets-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    if SHOTS.is_dir():
        shutil.copy(path, SHOTS / path.name)


def test_targets_and_key_groups_at_a_desk_and_on_a_phone(chromium, world, live_server):
    seed(world)
    base = live_server.url
    errors: list[str] = []
    desk = english_context(chromium, base, {"width": 1280, "height": 900})
    page = desk.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in(page, base, "prefecture_command")
    page.goto(f"{base}/targets/?division=513300&at={AT}")
    rows = page.locator('[data-testid="child-targets"] tbody tr')
    assert rows.count() == 2
    assert "Kangding" in rows.first.inner_text()  # met: ranked first
    shot(page, "progress-desk")
    page.goto(f"{base}/?division=513300&at={AT}")
    panel = page.locator('[data-testid="targets-panel"]')
    assert "first-half-year first-dose target" in panel.inner_text()
    shot(page, "dashboard-desk")
    page.goto(f"{base}/key-groups/?division=513301&at={AT}")
    assert page.locator('[data-testid="not-vaccinated"] li').count() == 3
    shot(page, "keygroups-desk")
    desk.close()

    phone = chromium.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    page = phone.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in(page, base, "county_command")
    page.goto(f"{base}/key-groups/?division=513301&at={AT}")
    assert "应种" in page.content()
    assert page.evaluate("document.documentElement.scrollWidth") <= 391
    shot(page, "keygroups-phone")
    page.goto(f"{base}/key-groups/add/")
    page.fill("#kg-id", world.people.get("x", None) or make_person(world, seq=900, name="多吉").id_number)
    page.select_option("#kg-g", "monastics")
    page.get_by_role("button", name="添加").click()
    page.wait_for_selector('[data-testid="message"]')
    assert "多吉" in page.locator('[data-testid="message"]').inner_text()
    shot(page, "add-phone")
    page.goto(f"{base}/targets/?division=513301&at={AT}")
    assert "上半年第1剂次接种目标" in page.content()
    assert page.evaluate("document.documentElement.scrollWidth") <= 391
    shot(page, "progress-phone")
    phone.close()
    assert errors == []
