"""The allocation pages: propose, review in words and a chart, approve (and in a real browser)."""

from __future__ import annotations

import os

import pytest
from django.conf import settings

from vaxops.supply.models import Allocation, AllocationStatus, Transfer
from vaxops.supply.tests.test_allocations_api import empty


@pytest.fixture
def people(world):
    from conftest import make_person

    return [make_person(world, seq=n) for n in (301, 303, 305)]


def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


def propose_by_form(client, store="KD-CDC", **fields):
    data = {"from_store": store, "horizon_days": 14, "default_capacity": 30, "supply_BIBP": 3, **fields}
    return client.post("/supply/allocations/", data)


def test_the_list_page_offers_the_stores_of_the_area(client, world):
    client.force_login(world.users["county_command"])
    english(client)
    r = client.get("/supply/allocations/")
    assert r.status_code == 200
    html = r.content.decode()
    assert 'value="KD-CDC"' in html
    assert 'value="GZ-CDC"' not in html and 'value="KD-MASS"' not in html  # not in area / no children
    assert 'name="supply_BIBP"' in html


def test_the_pages_refuse_other_roles_and_areas(client, world, people):
    client.force_login(world.users["vaccinator"])
    assert client.get("/supply/allocations/").status_code == 403
    client.force_login(world.users["county_command"])
    r = propose_by_form(client)
    allocation = Allocation.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/supply/allocations/{allocation.pk}/"
    client.force_login(world.users["county_command_ld"])
    assert client.get(f"/supply/allocations/{allocation.pk}/").status_code == 404
    assert client.post(f"/supply/allocations/{allocation.pk}/approve/").status_code == 404
    client.force_login(world.users["vaccinator"])
    assert client.get(f"/supply/allocations/{allocation.pk}/").status_code == 403
    client.logout()
    assert client.get(f"/supply/allocations/{allocation.pk}/").status_code == 302  # to the log-in page


def test_a_refused_proposal_shows_its_reason_on_the_form(client, world):
    client.force_login(world.users["county_command"])
    english(client)
    r = propose_by_form(client, supply_BIBP=20_000)
    assert r.status_code == 422
    assert 'data-error-code="insufficient_stock"' in r.content.decode()
    assert "Not enough stock" in r.content.decode()
    assert not Allocation.objects.exists()


def test_the_proposal_explains_each_child_in_words_in_both_languages(client, world, people):
    empty(world, "KD-MASS", "KD-THC")
    client.force_login(world.users["county_command"])
    propose_by_form(client)
    allocation = Allocation.objects.get()
    r = client.get(f"/supply/allocations/{allocation.pk}/")
    html = r.content.decode()
    assert r.status_code == 200
    assert "炉城卫生院" in html and "仍待接种" in html  # the child's name and its explanation, in Chinese
    assert 'data-testid="approve"' in html
    assert 'id="chart-data"' in html and "vendor/echarts.min.js" in html
    english(client)
    html = client.get(f"/supply/allocations/{allocation.pk}/").content.decode()
    assert "3 people still to vaccinate" in html
    assert "Every person still to vaccinate is covered" in html
    client.force_login(world.users["supply_officer"])
    assert 'data-testid="approve"' not in client.get(f"/supply/allocations/{allocation.pk}/").content.decode()


def test_approving_from_the_page_dispatches(client, world, people):
    empty(world, "KD-THC")
    client.force_login(world.users["county_command"])
    propose_by_form(client)
    allocation = Allocation.objects.get()
    r = client.post(f"/supply/allocations/{allocation.pk}/approve/", follow=True)
    assert r.status_code == 200
    allocation.refresh_from_db()
    assert allocation.status == AllocationStatus.APPROVED
    assert Transfer.objects.filter(allocation=allocation).count() == 1
    html = r.content.decode()
    assert 'data-testid="transfers"' in html and 'data-testid="approve"' not in html
    again = client.post(f"/supply/allocations/{allocation.pk}/approve/")
    assert again.status_code == 409


# -- in a real browser ---------------------------------------------------------------------


@pytest.fixture
def browser_world(transactional_db, django_db_serialized_rollback, live_server):
    from conftest import build_world, make_person
    w = build_world()
    for n in (401, 403, 405, 407, 409):
        make_person(w, seq=n)
    for n in (411, 413):
        make_person(w, seq=n, division="513301")
    empty(w, "KD-MASS", "KD-THC")
    return w


@pytest.mark.browser
@pytest.mark.parametrize("width, language", [(390, "en"), (1280, "zh-hans")])
def test_propose_and_approve_with_the_keyboard(chromium, browser_world, live_server, width, language):
    from vaxops.web.tests.test_browser import SCREENSHOTS, log_in

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    base = live_server.url
    context = chromium.new_context(locale="en-US" if language == "en" else "zh-CN",
                                   viewport={"width": width, "height": 900})
    context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": base}])
    page = context.new_page()
    try:
        log_in(page, base, "county_command")
        page.goto(base + "/supply/allocations/")
        page.focus("#id_from_store")
        page.keyboard.press("Tab")  # the first product (Ad5-nCoV), then BIBP
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.name") == "supply_BIBP"
        page.keyboard.type("5")
        page.focus("#id_default_capacity")
        page.keyboard.type("40")
        page.keyboard.press("Enter")
        page.wait_for_selector('[data-testid="approve"]')
        page.wait_for_selector("#allocation-chart svg")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"allocation-{width}-{language}.png"), full_page=True)
        assert "KD-THC" in page.inner_text('[data-testid="children"]')
        # Reach the approve button with the keyboard alone, then Enter.
        for _ in range(60):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.dataset.testid") == "approve":
                break
        assert page.evaluate("document.activeElement.dataset.testid") == "approve"
        page.keyboard.press("Enter")
        page.wait_for_selector('[data-testid="transfers"]')
        page.screenshot(path=str(SCREENSHOTS / f"allocation-approved-{width}-{language}.png"), full_page=True)
        allocation = Allocation.objects.get()
        assert allocation.status == AllocationStatus.APPROVED
        assert Transfer.objects.filter(allocation=allocation).count() == 2
    finally:
        context.close()
