"""The planner and the session page in Chromium, on a desk screen and a 390 px phone: plan a
session, try to open it (the gate refuses while the checklist is incomplete), open it, close it.
Screenshots go to var/screenshots/."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from conftest import build_world
from vaxops.sites.models import Session
from vaxops.staff import readiness

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser]

SCREENSHOTS = Path(django_settings.BASE_DIR) / "var" / "screenshots"


@pytest.fixture
def world(transactional_db, django_db_serialized_rollback, live_server):
    return build_world()


def _log_in(chromium, base, viewport, language, user):
    context = chromium.new_context(viewport=viewport)
    context.add_cookies([{"name": django_settings.LANGUAGE_COOKIE_NAME, "value": language, "url": base}])
    page = context.new_page()
    page.goto(base + "/login/")
    page.fill("#id_username", user)
    page.fill("#id_password", "pw-" + user)
    page.keyboard.press("Enter")
    page.wait_for_url(base + "/")
    return context, page


@pytest.mark.parametrize(("viewport", "language", "name"), [
    ({"width": 1366, "height": 900}, "zh-hans", "desk-zh"),
    ({"width": 390, "height": 844}, "en", "phone-en"),
])
def test_plan_try_to_open_open_and_close(chromium, world, live_server, monkeypatch, viewport, language, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    # The staff part's checklist: incomplete until the test says otherwise.
    missing = ["doctor_level2"]
    monkeypatch.setattr(readiness, "missing_items", lambda session: list(missing))
    context, page = _log_in(chromium, live_server.url, viewport, language, "site_manager")
    try:
        page.click("nav a[href='/sessions/']")
        page.wait_for_selector("[data-testid=planner]")
        page.fill("#id_date", "2021-05-12")
        page.select_option("#id_kind", "point_to_point")
        page.fill("#id_opens_at", "08:00")
        page.fill("#id_closes_at", "12:00")
        page.fill("#id_planned_doses", "250")
        page.fill("#id_organisation", "四川民族学院")
        page.screenshot(path=str(SCREENSHOTS / f"sessions-planner-{name}.png"), full_page=True)
        page.click("[data-testid=add-session]")
        page.wait_for_selector("[data-testid=open]")
        session = Session.objects.get(organisation="四川民族学院")
        assert session.status == "planned" and session.planned_doses == 250
        assert page.locator("[data-testid=hours]").inner_text() == "08:00–12:00"
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"] + 1

        page.click("[data-testid=open]")
        page.wait_for_selector("[data-testid=refusal]")
        listed = page.locator("[data-testid=missing]").inner_text()
        # The missing item in words, not its code.
        assert "doctor_level2" not in listed and ("二级及以上医院医生在岗" in listed or "level-2" in listed)
        page.screenshot(path=str(SCREENSHOTS / f"sessions-refused-{name}.png"), full_page=True)
        session.refresh_from_db()
        assert session.status == "planned"

        missing.clear()
        page.click("[data-testid=open]")
        page.wait_for_selector("[data-testid=close]")
        assert Session.objects.get(pk=session.pk).status == "open"
        page.click("[data-testid=close]")
        page.wait_for_selector("[data-testid=figures]")
        assert page.locator("[data-testid=figure-doses]").inner_text().strip() == "0"
        assert page.locator("[data-testid=open]").count() == 0
        page.screenshot(path=str(SCREENSHOTS / f"sessions-closed-{name}.png"), full_page=True)
        assert Session.objects.get(pk=session.pk).status == "closed"

        page.click("text=" + ("返回排班表" if language == "zh-hans" else "Back to the planner"))
        page.wait_for_selector(f"[data-testid=session-{session.pk}]")
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"] + 1
    finally:
        context.close()
