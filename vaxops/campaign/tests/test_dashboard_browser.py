"""The dashboard in a real browser (Chromium through Playwright), at 1280 px and on a 390 px
phone. Screenshots go to var/screenshots/."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from conftest import build_world, make_person
from vaxops.vaccination.models import DoseRecord
from vaxops.vaccination.services import record_dose
from vaxops.web.tests.test_browser import SCREENSHOTS, english_context, log_in  # noqa: F401

pytestmark = pytest.mark.browser


@pytest.fixture
def world(transactional_db, django_db_serialized_rollback, live_server):
    return build_world()


def seed_campaign(world) -> None:
    """A few weeks of doses across both counties, so the charts have something to show."""
    sites = [("KD-MASS", "vaccinator", "513301"), ("LD-MASS", "vaccinator_ld", "513322")]
    start = dt.datetime(2021, 5, 10, 9, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    for i in range(36):
        site, user, county = sites[1 if i % 3 == 0 else 0]
        person = make_person(world, seq=400 + i, name=f"Resident {chr(65 + i % 26)}{chr(97 + i // 26)}", county=county,
                             division="513301001" if county == "513301" and i % 2 else county,
                             born=dt.date(1960 + i % 40, 1 + i % 12, 1 + i % 27))
        dose, _ = record_dose(client_uuid=uuid.uuid4(), person_id=person.pk, product_code="BIBP",
                              lot_number="B2021001", site_code=site,
                              administered_at=start + dt.timedelta(days=i % 14, minutes=i),
                              acting_user=world.users[user], source="cli")
        DoseRecord.objects.filter(pk=dose.pk).update(recorded_at=dose.administered_at)


def figure(page, testid: str) -> int:
    return int(page.locator(f'[data-testid="{testid}"] .figure-value').inner_text().replace(",", ""))


def test_prefecture_dashboard_draws_its_charts_on_a_desktop_and_a_phone(chromium, world, live_server):  # noqa: F811
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    seed_campaign(world)
    context = english_context(chromium, live_server.url, {"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in(page, live_server.url, "prefecture_command")
    page.goto(live_server.url + "/?at=2021-06-01T19:00")
    assert figure(page, "doses-total") == 36
    assert page.locator('[data-testid="report-sentence"]').inner_text().startswith(
        "As of 19:00 on 1 June 2021, the prefecture had given 36 doses"
    )
    assert "As administered" in page.locator('[data-testid="view-note"]').inner_text()
    # ECharts drew both charts (SVG renderer) from the page's own data, every name shown.
    page.wait_for_selector("#coverage-chart svg")
    page.wait_for_selector("#daily-chart svg")
    chart_text = page.locator("#coverage-chart").inner_text()
    assert "Kangding" in chart_text and "Luding" in chart_text
    page.screenshot(path=str(SCREENSHOTS / "dashboard-prefecture.png"), full_page=True)

    # A county: its township, and the gymnasium's doses in the "not assigned" row.
    page.goto(live_server.url + "/?division=513301&at=2021-06-01T19:00")
    assert page.locator('[data-testid="unassigned-sites"]').count() == 1
    page.wait_for_selector("#coverage-chart svg")
    page.screenshot(path=str(SCREENSHOTS / "dashboard-county.png"), full_page=True)

    # A 390 px phone: nothing wider than the screen but the tables' own scroll areas, and no
    # column squeezed to a character per line.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server.url + "/?at=2021-06-01T19:00")
    page.wait_for_selector("#coverage-chart svg")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    narrowest = page.evaluate(
        "Math.min(...[...document.querySelectorAll('table.data th')].map(e => e.getBoundingClientRect().width))"
    )
    assert narrowest >= 40
    page.screenshot(path=str(SCREENSHOTS / "dashboard-phone.png"), full_page=True)
    assert errors == []
    context.close()
