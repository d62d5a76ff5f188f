"""The readiness checklist in Chromium: a site manager fills it on a 390 px phone (English) and
at a desk (zh-Hans) until it is complete. Screenshots go to var/screenshots/."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from conftest import build_world
from vaxops.staff.readiness import missing_items
from vaxops.staff.services import set_roster
from vaxops.staff.tests.helpers import make_crew, make_session
from vaxops.web.tests.test_browser import log_in

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(django_settings.BASE_DIR) / "var" / "screenshots"


@pytest.fixture
def world(transactional_db, django_db_serialized_rollback, live_server):
    w = build_world()
    crew = make_crew(w)
    w.session = make_session(w)
    set_roster(w.session, [crew.staff["doctor"].pk, crew.staff["vaccinator"].pk], acting_user=w.users["site_manager"])
    return w


@pytest.mark.parametrize(("viewport", "language", "name", "done_text"), [
    ({"width": 390, "height": 844}, "en", "phone-en", "6 of 6 done"),
    ({"width": 1280, "height": 900}, "zh-hans", "desk-zh", "已完成 6 / 6 项"),
])
def test_fill_the_checklist_until_complete(chromium, world, live_server, viewport, language, name, done_text):
    context = chromium.new_context(viewport=viewport)
    context.add_cookies([{"name": django_settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}])
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in(page, live_server.url, "site_manager")
    page.goto(f"{live_server.url}/staff/sessions/{world.session.pk}/readiness/")
    assert page.locator("[data-item][data-ok='0']").count() == 4

    # First pass: the fridge is too warm and the seats are too few.
    page.fill("#plate", "川V·12345")
    page.fill("#crew", "张司机、刘医生")
    page.check("#kit_checked")
    for drug in ("adrenaline", "antihistamine", "corticosteroid"):
        page.fill(f"#drug_{drug}", "2022-06-30")
    page.check("#drug_oxygen")
    page.check("#drug_resuscitation_equipment")
    page.fill("#seats", "40")
    page.fill("#celsius", "9.1")
    page.get_by_test_id("save").click()
    page.wait_for_selector("[data-testid=saved]")
    assert page.locator("[data-item][data-ok='0']").count() == 2
    assert page.locator("[data-item=cold_chain_reading][data-ok='0']").count() == 1

    # Second pass: the reading after moving the vaccine to the cold box, more chairs.
    page.fill("#seats", "80")
    page.fill("#celsius", "4.8")
    page.get_by_test_id("save").click()
    page.wait_for_selector("[data-testid=complete]")
    assert page.get_by_test_id("progress").inner_text().strip() == done_text
    # Nothing is wider than the phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"readiness-{name}.png"), full_page=True)
    assert missing_items(world.session) == []
    assert errors == []
    context.close()
