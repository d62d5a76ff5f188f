"""The daily report page in a real browser (Chromium through Playwright): on a desk screen in
English, issue the report, download the xlsx, and the print (A4) layout; on a 390 px phone in
Chinese. Screenshots go to /work/shots/reports-*.png (or var/screenshots/ where that is missing)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from openpyxl import load_workbook

from conftest import build_world
from vaxops.reports.models import IssuedReport
from vaxops.reports.tests.helpers import campaign_days
from vaxops.web.tests.test_browser import SCREENSHOTS, english_context, log_in

pytestmark = pytest.mark.browser
SHOTS = Path("/work/shots") if Path("/work/shots").is_dir() else SCREENSHOTS
QUERY = "division=513300&date=2021-05-10&cutoff=19:00"


@pytest.fixture
def world(transactional_db, django_db_serialized_rollback, live_server):
    w = build_world()
    campaign_days(w)
    return w


def test_issue_download_and_print_the_report_on_a_desk_then_read_it_on_a_phone(chromium, world, live_server):
    SHOTS.mkdir(parents=True, exist_ok=True)
    base = live_server.url
    context = english_context(chromium, base, {"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in(page, base, "prefecture_command")
    page.goto(f"{base}/reports/daily/?{QUERY}")
    assert page.locator('[data-testid="status"]').inner_text().startswith("Draft")
    assert page.locator('[data-testid="report-sentence"]').inner_text().startswith(
        "As of 19:00 on 10 May, the prefecture had given 4 doses")
    page.locator('[data-testid="issue"]').click()
    page.wait_for_selector('[data-testid="messages"]')
    assert "issued and frozen" in page.locator('[data-testid="messages"]').inner_text()
    assert page.locator('[data-testid="sha256"]').inner_text() == IssuedReport.objects.get().sha256
    assert page.locator('[data-testid="issue"]').count() == 0
    page.screenshot(path=str(SHOTS / "reports-desk.png"), full_page=True)
    with page.expect_download() as download:
        page.locator('[data-testid="download-xlsx"]').click()
    data = Path(download.value.path()).read_bytes()
    assert download.value.suggested_filename == "daily-report-513300-2021-05-10-1900.xlsx"
    wb = load_workbook(io.BytesIO(data))
    assert wb[wb.sheetnames[1]]["C5"].value == 4
    page.emulate_media(media="print")
    assert page.locator('[data-testid="report-actions"]').is_hidden()
    page.screenshot(path=str(SHOTS / "reports-print.png"), full_page=True)
    pdf = page.pdf(format="A4")  # Chromium's own print: the page fits A4 (no WeasyPrint needed)
    assert pdf[:4] == b"%PDF"
    page.emulate_media(media="screen")
    # The dashboard's download button leads to the same report.
    page.goto(f"{base}/?division=513300&at=2021-05-10T19:00")
    assert "date=2021-05-10" in page.locator('[data-testid="daily-report-xlsx"]').get_attribute("href")
    assert errors == []
    context.close()

    phone = chromium.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    page = phone.new_page()
    log_in(page, base, "county_command")
    page.goto(f"{base}/reports/daily/?division=513301&date=2021-05-10&cutoff=19:00")
    assert page.locator('[data-testid="report-sentence"]').inner_text().startswith("截至5月10日19时，全市累计接种")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, width
    button = page.locator('[data-testid="download-xlsx"]').bounding_box()
    assert button["height"] >= 44
    page.screenshot(path=str(SHOTS / "reports-phone.png"), full_page=True)
    phone.close()
