"""Who may open which page: anonymous, without permission, with permission, out of area."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.urls import reverse

DASHBOARD = reverse("web:dashboard")
DESK = reverse("web:desk")


@pytest.fixture
def en(client):
    """The test client reading the pages in English (the default language is Chinese)."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.mark.parametrize("url", [DASHBOARD, DESK])
def test_anonymous_visitor_is_sent_to_the_login_page(client, db, url):
    r = client.get(url)
    assert r.status_code == 302
    assert r["Location"].startswith(reverse("web:login") + "?next=")


@pytest.mark.parametrize("url", [reverse("web:desk_lookup"), reverse("web:desk_record")])
def test_anonymous_desk_post_is_sent_to_the_login_page(client, db, url):
    assert client.post(url, {"id_number": "x"}).status_code == 302


def test_login_page_logs_in_with_the_role_password_and_csrf(world):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    page = client.get(reverse("web:login"))
    assert page.status_code == 200
    token = page.cookies["csrftoken"].value
    r = client.post(
        reverse("web:login"),
        {"username": "county_command", "password": "pw-county_command", "csrfmiddlewaretoken": token},
    )
    assert r.status_code == 302 and r["Location"] == DASHBOARD
    assert client.get(DASHBOARD).status_code == 200


def test_login_without_csrf_token_is_refused(world):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    r = client.post(reverse("web:login"), {"username": "admin", "password": "pw-admin"})
    assert r.status_code == 403


def test_wrong_password_shows_the_form_again(client, world):
    r = client.post(reverse("web:login"), {"username": "admin", "password": "nope"})
    assert r.status_code == 200
    assert r.context["form"].errors


def test_logout_is_a_post(client, world):
    client.force_login(world.users["admin"])
    assert client.post(reverse("web:logout")).status_code == 302
    assert client.get(DASHBOARD).status_code == 302


@pytest.mark.parametrize("role", ["grid_worker", "supply_officer", "supervisor", "county_command",
                                  "prefecture_command", "admin"])
def test_desk_is_forbidden_without_a_site_role(en, world, role):
    client = en
    client.force_login(world.users[role])
    r = client.get(DESK)
    assert r.status_code == 403
    assert "vaccinators and site managers" in r.content.decode()
    assert client.post(reverse("web:desk_lookup"), {"id_number": "1"}).status_code == 403


@pytest.mark.parametrize("role", ["vaccinator", "site_manager"])
def test_desk_opens_for_site_staff_with_their_site(client, world, role):
    client.force_login(world.users[role])
    r = client.get(DESK)
    assert r.status_code == 200
    assert [code for code, _ in r.context["lookup_form"].fields["site"].choices] == ["KD-MASS"]


@pytest.mark.parametrize("role", ["prefecture_command", "county_command", "vaccinator", "grid_worker",
                                  "supply_officer", "supervisor", "admin", "site_manager"])
def test_dashboard_opens_for_every_role_on_their_own_area(client, world, role):
    client.force_login(world.users[role])
    r = client.get(DASHBOARD)
    assert r.status_code == 200
    expected = {"prefecture_command": "513300", "admin": "510000", "grid_worker": "513301001"}.get(role, "513301")
    assert r.context["division"].code == expected


@pytest.mark.parametrize(
    ("role", "code"),
    [("county_command", "513322"), ("county_command", "513300"), ("prefecture_command", "513200"),
     ("vaccinator", "513322001"), ("grid_worker", "513301")],
)
def test_division_outside_the_area_is_not_found(en, world, role, code):
    client = en
    client.force_login(world.users[role])
    r = client.get(DASHBOARD, {"division": code})
    assert r.status_code == 404
    assert "No such division in your area." in r.content.decode()


def test_division_within_the_area_can_be_chosen(client, world):
    client.force_login(world.users["prefecture_command"])
    r = client.get(DASHBOARD, {"division": "513322"})
    assert r.status_code == 200
    assert r.context["division"].code == "513322"
    # Breadcrumbs stop at the top of the user's area: the province is not theirs.
    assert [d.code for d in r.context["breadcrumbs"]] == ["513300", "513322"]


def test_nav_shows_the_user_role_and_scope(en, world):
    en.force_login(world.users["vaccinator"])
    body = en.get(DASHBOARD).content.decode()
    assert "vaccinator" in body
    assert "KD-MASS" in body  # the site's English name in the test world
    assert reverse("web:desk") in body


def test_footer_says_the_data_are_synthetic(client, world):
    client.force_login(world.users["admin"])
    body = client.get(DASHBOARD).content.decode()
    assert "synthetic" in body or "合成数据" in body


def test_pages_use_only_assets_served_by_the_app(client, world):
    client.force_login(world.users["vaccinator"])
    for url in (DASHBOARD, DESK):
        body = client.get(url).content.decode()
        assert "/static/vendor/htmx.min.js" in body
        assert "http://" not in body and "https://" not in body
    assert "/static/vendor/echarts.min.js" in client.get(DASHBOARD).content.decode()


def test_english_switch_changes_the_page_language(client, world):
    client.force_login(world.users["prefecture_command"])
    first = client.get(DASHBOARD)
    assert '<html lang="zh-hans">' in first.content.decode()
    assert "甘孜藏族自治州" in first.content.decode()
    r = client.post(reverse("set_language"), {"language": "en", "next": DASHBOARD})
    assert r.status_code == 302 and r["Location"] == DASHBOARD
    after = client.get(DASHBOARD).content.decode()
    assert '<html lang="en">' in after
    assert "<h1>Garze" in after  # the division's English name
    assert "As of" in after and "the prefecture had given" in after
    # and back
    client.post(reverse("set_language"), {"language": "zh-hans", "next": DASHBOARD})
    assert '<html lang="zh-hans">' in client.get(DASHBOARD).content.decode()


def test_language_switch_form_posts_with_csrf(client, world):
    client.force_login(world.users["admin"])
    body = client.get(DASHBOARD).content.decode()
    form = body[body.index('action="/i18n/setlang/"') - 40:]
    assert 'method="post"' in form[:120]
    assert "csrfmiddlewaretoken" in form[:600]
    assert 'name="language" value="en"' in form[:1200]
