"""The standby page: what the site staff see and can do, in both languages; refusals as pages."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from vaxops.standby import services
from vaxops.standby.models import Offer, StandbyEntry
from vaxops.standby.tests.helpers import give, multi_dose_lot, open_session, people

pytestmark = pytest.mark.django_db


@pytest.fixture
def today_session(world):
    from vaxops.campaign.services import TZ

    multi_dose_lot(world)
    session = open_session(world, day=timezone.now().astimezone(TZ).date())
    for i, p in enumerate(people(world, 3, start=950)):
        give(world, p, timezone.now() - dt.timedelta(minutes=30 - i))
    return session


def log_in(client, world, role, language=None):
    from django.conf import settings

    client.force_login(world.users[role])
    if language:
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


def test_the_page_shows_the_list_offers_and_figures_and_runs_the_round(client, world, today_session):
    s = today_session
    ps = people(world, 3, groups=[None, ["medical_staff"], None])
    for p in ps:
        services.sign_up(s, p, acting_user=world.users["vaccinator"])
    log_in(client, world, "site_manager", "en")
    page = client.get(f"/standby/sessions/{s.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Offer leftover doses now" in html and 'data-testid="leftover">2<' in html
    assert html.index(ps[1].name) < html.index(ps[0].name)  # medical staff first
    r = client.post(f"/standby/sessions/{s.pk}/offers/")
    assert r.status_code == 302
    page = client.get(f"/standby/sessions/{s.pk}/").content.decode()
    assert page.count('data-testid="confirm"') == 3
    offer = Offer.objects.order_by("pk").first()
    client.post(f"/standby/offers/{offer.pk}/confirm/")
    assert StandbyEntry.objects.get(pk=offer.entry_id).status == "confirmed"
    page = client.get(f"/standby/sessions/{s.pk}/").content.decode()
    assert 'data-testid="confirmed">1<' in page


def test_the_page_speaks_chinese_by_default(client, world, today_session):
    log_in(client, world, "vaccinator")
    html = client.get(f"/standby/sessions/{today_session.pk}/").content.decode()
    assert "剩余" in html


def test_sign_up_by_id_number_on_the_page(client, world, today_session):
    [p] = people(world, 1)
    log_in(client, world, "vaccinator", "en")
    client.post(f"/standby/sessions/{today_session.pk}/sign-up/", {"id_number": p.id_number})
    assert StandbyEntry.objects.filter(person=p).exists()
    r = client.post(f"/standby/sessions/{today_session.pk}/sign-up/", {"id_number": p.id_number})
    assert r.status_code == 302 and StandbyEntry.objects.count() == 1
    page = client.get(f"/standby/sessions/{today_session.pk}/").content.decode()
    assert "already on the standby list" in page


def test_refusals_are_pages(client, world, today_session):
    log_in(client, world, "vaccinator_ld")
    assert client.get(f"/standby/sessions/{today_session.pk}/").status_code == 404
    client.logout()
    log_in(client, world, "supply_officer")
    assert client.get(f"/standby/sessions/{today_session.pk}/").status_code == 403
    assert client.post(f"/standby/sessions/{today_session.pk}/offers/").status_code == 403
    client.logout()
    assert client.get(f"/standby/sessions/{today_session.pk}/").status_code == 302  # to the log-in page
    log_in(client, world, "site_manager")
    assert client.post("/standby/offers/999999/confirm/").status_code == 404
