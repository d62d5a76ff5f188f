"""The sync conflicts page in Chromium: a site manager resolves one on a desk (zh-Hans) and on a
phone (English). Screenshots go to var/screenshots/."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from conftest import build_world, make_person
from vaxops.access.services import create_user
from vaxops.vaccination.models import DoseConflict
from vaxops.vaccination.services import record_dose
from vaxops.vaccination.sync import sync_batch
from vaxops.web.tests.test_browser import log_in

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(django_settings.BASE_DIR) / "var" / "screenshots"
CST = dt.timezone(dt.timedelta(hours=8))


@pytest.fixture
def world(transactional_db, django_db_serialized_rollback, live_server):
    w = build_world()
    tablet, _token = create_user(username="tablet", role="vaccinator", scope="KD-MASS", source="cli")
    for i in range(2):
        person = make_person(w, seq=500 + i, name="同步" + "甲乙"[i], born=dt.date(1975 + i, 4, 2))
        record_dose(client_uuid=uuid.uuid4(), person_id=person.pk, product_code="BIBP", lot_number="B2021001",
                    site_code="KD-MASS", administered_at=dt.datetime(2021, 6, 1, 9, 15, tzinfo=CST),
                    acting_user=w.users["vaccinator"], source="web")
        [result] = sync_batch([{"client_uuid": str(uuid.uuid4()), "person_id": person.pk, "product": "CORONAVAC",
                                "lot_number": "C2021001", "site_code": "KD-MASS",
                                "administered_at": "2021-06-01T10:40:00+08:00"}], acting_user=tablet, source="api")
        assert result["conflict"]
    return w


@pytest.mark.parametrize(("viewport", "language", "keep", "name"), [
    ({"width": 1280, "height": 900}, "zh-hans", "incoming", "desk-zh"),
    ({"width": 390, "height": 844}, "en", "existing", "phone-en"),
])
def test_site_manager_resolves_a_conflict(chromium, world, live_server, viewport, language, keep, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    base = live_server.url
    context = chromium.new_context(viewport=viewport)
    context.add_cookies([{"name": django_settings.LANGUAGE_COOKIE_NAME, "value": language, "url": base}])
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in(page, base, "site_manager")
    page.click("nav.mainnav a[href='/doses/conflicts/']")
    page.wait_for_selector('[data-testid="conflict"]')
    assert page.locator('[data-testid="conflict"]').count() == 2
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    first = page.locator('[data-testid="conflict"]').first
    existing, incoming = first.locator('[data-testid="side-existing"]'), first.locator('[data-testid="side-incoming"]')
    if language == "en":
        assert "1 June 2021" in existing.inner_text() and "10:40" in incoming.inner_text()
    else:
        assert "2021年6月1日" in existing.inner_text() and "康定体育馆大规模接种点" in incoming.inner_text()
    page.screenshot(path=str(SCREENSHOTS / f"conflicts-{name}.png"), full_page=True)
    first.locator(f'input[name="keep"][value="{keep}"]').check()
    first.locator("textarea[name=reason]").click()
    page.wait_for_function("() => document.activeElement && document.activeElement.name === 'reason'")
    page.keyboard.type("核对登记本后确认" if language == "zh-hans" else "Checked against the paper register")
    first.get_by_role("button").click()
    page.wait_for_selector('[data-testid="resolved-notice"]')
    assert page.locator('[data-testid="conflict"]').count() == 1
    page.screenshot(path=str(SCREENSHOTS / f"conflicts-{name}-resolved.png"), full_page=True)
    page.click(".review-tabs a[href='?status=closed']")
    page.wait_for_selector('[data-testid="conflict-outcome"]')
    assert page.locator('[data-testid="conflict-outcome"]').count() == 1
    page.screenshot(path=str(SCREENSHOTS / f"conflicts-{name}-closed.png"), full_page=True)
    assert errors == []
    assert DoseConflict.objects.filter(status="closed", resolution=f"kept_{keep}").count() == 1
    context.close()
