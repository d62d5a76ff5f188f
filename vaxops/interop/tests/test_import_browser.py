"""The import page in Chromium: upload a file with bad rows, watch the job, read the report and
download it; on a desk in English and on a 390 px phone in Chinese. Screenshots in var/screenshots/."""

from __future__ import annotations

import csv
import io
import os

import pytest

from vaxops.interop.tests.helpers import PEOPLE_HEADER, csv_bytes, ident, person_row
from vaxops.web.tests.test_browser import SCREENSHOTS, english_context, log_in, world  # noqa: F401

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
pytestmark = pytest.mark.browser


@pytest.mark.parametrize(("language", "viewport"), [("en", {"width": 1280, "height": 900}),
                                                     ("zh", {"width": 390, "height": 844})])
def test_upload_a_file_with_bad_rows_and_download_the_report(chromium, world, live_server, tmp_path,  # noqa: F811
                                                             language, viewport):
    base = live_server.url
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "people.csv"
    path.write_bytes(csv_bytes(PEOPLE_HEADER, [
        person_row(1), person_row(3), [ident(5), "王五", "123", "513301001", ""], person_row(1),
    ]))
    context = english_context(chromium, base, viewport) if language == "en" else chromium.new_context(
        locale="zh-CN", viewport=viewport)
    page = context.new_page()
    log_in(page, base, "county_command")
    page.locator('a[href="/imports/"]').first.click()
    page.wait_for_url(base + "/imports/")
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"] + 1
    page.set_input_files("#id_file", str(path))
    page.click('[data-testid="upload"]')
    page.wait_for_selector('[data-testid="job-progress"][data-state="done"]', timeout=30_000)
    assert page.locator('[data-testid="created"]').inner_text() == "2"
    assert page.locator('[data-testid="rejected"]').inner_text() == "2"
    rows = page.locator('[data-testid="rejected-rows"] tbody tr')
    assert rows.count() == 2
    assert rows.nth(0).get_attribute("data-code") == "invalid_phone"
    assert rows.nth(1).get_attribute("data-code") == "import_duplicate_row"
    expected = "11 digits" if language == "en" else "11 位数字"
    assert expected in rows.nth(0).inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"] + 1
    page.screenshot(path=str(SCREENSHOTS / f"import-job-{language}.png"), full_page=True)
    with page.expect_download() as info:
        page.click('[data-testid="report-csv"]')
    report = list(csv.reader(io.StringIO(info.value.path().read_bytes().decode("utf-8-sig"))))
    assert len(report) == 5 and [r[3] for r in report[1:]] == ["", "", "invalid_phone", "import_duplicate_row"]
    context.close()
