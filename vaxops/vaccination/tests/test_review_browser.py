"""The review page in Chromium: a table on a desk computer, readable cards on a 390 px phone.
Screenshots go to var/screenshots/."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from conftest import build_world, make_person
from vaxops.registry.models import Deferral
from vaxops.vaccination.services import record_dose

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("real_retrospective_window")]

SCREENSHOTS = Path(django_settings.BASE_DIR) / "var" / "screenshots"




@pytest.fixture
def world(transactional_db, django_db_serialized_rollback, live_server):
    w = build_world()
    manager = w.users["site_manager"]
    today = dt.date.today()
    for i in range(6):
        late = make_person(w, seq=700 + i, name="补录" + "甲乙丙丁戊己庚辛"[i], born=dt.date(1970 + i, 3, 1))
        record_dose(client_uuid=uuid.uuid4(), person_id=late.pk, product_code="BIBP", lot_number="B2021001",
                    site_code="KD-MASS" if i % 2 else "KD-THC",
                    administered_at=dt.datetime(2021, 6, 1, 9 + i, tzinfo=dt.timezone(dt.timedelta(hours=8))),
                    retrospective_reason="6月1日流动接种队纸质登记，网络恢复后补录。",
                    acting_user=manager if i % 2 else w.users["county_command"], source="web")
        deferred = make_person(w, seq=720 + i, name="缓种" + "甲乙丙丁戊己庚辛"[i], born=dt.date(1980 + i, 5, 1))
        Deferral.objects.create(person=deferred, code="acute_illness", since=today - dt.timedelta(days=1),
                                until=today + dt.timedelta(days=3))
        record_dose(client_uuid=uuid.uuid4(), person_id=deferred.pk, product_code="BIBP", lot_number="B2021001",
                    site_code="KD-MASS", administered_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=i),
                    override_reason="体温已恢复正常，经现场医生复查同意接种。", acting_user=manager, source="web")
    return w


def _open(chromium, base, viewport, language):
    context = chromium.new_context(viewport=viewport)
    context.add_cookies([{"name": django_settings.LANGUAGE_COOKIE_NAME, "value": language, "url": base}])
    page = context.new_page()
    page.goto(base + "/login/")
    page.fill("#id_username", "supervisor")
    page.fill("#id_password", "pw-supervisor")
    page.keyboard.press("Enter")
    page.wait_for_url(base + "/")
    return context, page


@pytest.mark.parametrize(("viewport", "language", "name"), [
    ({"width": 1280, "height": 900}, "zh-hans", "desk-zh"),
    ({"width": 390, "height": 844}, "zh-hans", "phone-zh"),
    ({"width": 390, "height": 844}, "en", "phone-en"),
])
def test_supervisor_reads_both_lists_on_a_desk_and_a_phone(chromium, world, live_server, viewport, language, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context, page = _open(chromium, live_server.url, viewport, language)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.click("nav.mainnav a[href='/doses/review/overrides/']")
    page.wait_for_selector('[data-testid="review-table"]')
    assert page.locator('[data-testid="review-table"] tbody tr').count() == 6
    # Nothing wider than the screen: no sideways scrolling, no one-character-per-line columns.
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    page.screenshot(path=str(SCREENSHOTS / f"review-overrides-{name}.png"), full_page=True)
    page.screenshot(path=str(SCREENSHOTS / f"review-overrides-{name}-screen.png"))
    page.click(".review-tabs a[href^='/doses/review/retrospective/']")
    page.wait_for_selector('[data-testid="review-table"]')
    assert page.locator('[data-testid="review-table"] tbody tr').count() == 6
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    page.screenshot(path=str(SCREENSHOTS / f"review-retrospective-{name}.png"), full_page=True)
    assert errors == []
    context.close()
