"""The AEFI pages in a real browser (Chromium through Playwright): the site manager raises a
serious AEFI from a dose and sees its 2-hour deadline on the list (desk screen, English); the
county command reads the list on a 390 px phone in Chinese. Screenshots go to var/screenshots/."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from conftest import build_world
from vaxops.safety.models import AefiReport
from vaxops.safety.tests.helpers import dose
from vaxops.web.tests.test_browser import SCREENSHOTS, english_context, log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def world(transactional_db, django_db_serialized_rollback, live_server):
    return build_world()


def test_raise_a_serious_aefi_and_see_its_two_hour_deadline(chromium, world, live_server):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    d = dose(world, at=timezone.now() - dt.timedelta(hours=1))
    base = live_server.url
    context = english_context(chromium, base, {"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in(page, base, "site_manager")
    page.goto(f"{base}/aefi/new/?dose={d.pk}")
    assert "B2021001" in page.locator('[data-testid="aefi-form"]').inner_text()
    page.get_by_label("anaphylaxis", exact=True).check()
    page.get_by_label("Serious case (2-hour report)").check()
    page.get_by_label("life-threatening").check()
    page.locator("summary").click()
    page.get_by_label("generalised urticaria or erythema").check()
    page.get_by_label("measured hypotension").check()
    page.screenshot(path=str(SCREENSHOTS / "aefi-form.png"), full_page=True)
    page.locator('[data-testid="submit-aefi"]').click()
    page.wait_for_selector('[data-testid="brighton"]')
    report = AefiReport.objects.get()
    assert report.serious and report.report_due_by - report.detected_at == dt.timedelta(hours=2)
    assert page.locator('[data-testid="brighton"]').inner_text().strip() == "level 1"
    assert ", in 1 h" in page.locator('[data-testid="deadline"]').inner_text()
    page.screenshot(path=str(SCREENSHOTS / "aefi-report.png"), full_page=True)

    page.click("nav.mainnav >> text=AEFI")
    page.wait_for_selector('[data-testid="aefi-list"]')
    row = page.locator(f'tr[data-report="{report.pk}"]')
    deadline = row.locator('[data-testid="deadline"]').inner_text()
    assert ", in 1 h" in deadline and "overdue" not in deadline
    page.screenshot(path=str(SCREENSHOTS / "aefi-list.png"), full_page=True)

    # A 390 px phone, in Chinese (the default): the county command's list.
    phone = chromium.new_context(viewport={"width": 390, "height": 844})
    ppage = phone.new_page()
    ppage.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in(ppage, base, "county_command")
    ppage.goto(base + "/aefi/")
    cell = ppage.locator(f'tr[data-report="{report.pk}"] [data-testid="deadline"]').inner_text()
    assert "还有 1 小时" in cell
    assert ppage.evaluate("document.documentElement.scrollWidth") <= 390
    ppage.screenshot(path=str(SCREENSHOTS / "aefi-list-phone-zh.png"), full_page=True)
    ppage.goto(f"{base}/aefi/new/?dose={d.pk}")
    assert ppage.evaluate("document.documentElement.scrollWidth") <= 390
    ppage.screenshot(path=str(SCREENSHOTS / "aefi-form-phone-zh.png"), full_page=True)
    ppage.goto(base + "/")
    assert ppage.locator('[data-testid="aefi-panel"]').is_visible()
    assert errors == []
    context.close()
    phone.close()
