"""Web log-in: failures rate-limited per account and per address; deactivation ends sessions."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse

from vaxops.access.models import Attempt
from vaxops.core.models import AuditEvent

LOGIN = reverse("web:login")
DASHBOARD = reverse("web:dashboard")


@pytest.fixture
def en(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def attempt(client, username, password, address="10.1.1.1"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


@override_settings(VAXOPS_AUTH_FAILURE_LIMIT=3)
def test_an_account_is_locked_after_repeated_failures_even_for_the_right_password(en, world):
    for n in range(3):
        assert attempt(en, "county_command", "wrong", address=f"10.1.1.{n}").status_code == 200
    r = attempt(en, "county_command", "pw-county_command", address="10.2.2.2")
    assert r.status_code == 429 and int(r["Retry-After"]) > 14 * 60
    body = r.content.decode()
    assert "locked until" in body and 'data-error-code="too_many_failed_logins"' in body
    assert en.get(DASHBOARD).status_code == 302  # not logged in
    assert AuditEvent.objects.filter(action="auth.login_failed").count() == 3


@override_settings(VAXOPS_AUTH_FAILURE_LIMIT=3)
def test_one_address_trying_many_accounts_is_locked(client, world):
    for name in ["admin", "supervisor", "grid_worker"]:
        attempt(client, name, "guess")
    assert attempt(client, "vaccinator", "pw-vaccinator").status_code == 429
    assert attempt(client, "vaccinator", "pw-vaccinator", address="10.7.7.7").status_code == 302


@override_settings(VAXOPS_AUTH_FAILURE_LIMIT=3)
def test_the_lock_out_ends_and_a_good_log_in_forgets_the_accounts_failures(client, world):
    for _ in range(3):
        attempt(client, "admin", "wrong")
    assert attempt(client, "admin", "pw-admin").status_code == 429
    Attempt.objects.update(at=Attempt.objects.first().at - dt.timedelta(minutes=16))
    assert attempt(client, "admin", "pw-admin").status_code == 302
    assert not Attempt.objects.filter(key="account:admin").exists()
    assert Attempt.objects.filter(key="address:10.1.1.1").count() == 3


@override_settings(VAXOPS_AUTH_FAILURE_LIMIT=2, VAXOPS_TRUSTED_PROXIES=1)
def test_behind_a_proxy_the_forwarded_address_is_counted(client, world):
    for _ in range(2):
        client.post(LOGIN, {"username": "x", "password": "y"}, REMOTE_ADDR="10.0.0.1",
                    HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert Attempt.objects.filter(key="address:203.0.113.9").count() == 2
    ok = client.post(LOGIN, {"username": "admin", "password": "pw-admin"}, REMOTE_ADDR="10.0.0.1",
                     HTTP_X_FORWARDED_FOR="203.0.113.10")
    assert ok.status_code == 302


def test_a_deactivated_users_web_session_ends_at_the_next_request(client, world, person):
    client.force_login(world.users["vaccinator"])
    assert client.get(reverse("web:desk")).status_code == 200
    assert client.get(f"/api/v1/people/{person.pk}").status_code == 200
    call_command("deactivate_user", username="vaccinator")
    assert client.get(reverse("web:desk")).status_code == 302
    assert client.get(f"/api/v1/people/{person.pk}").status_code == 401


def test_a_deleted_users_web_session_ends_at_the_next_request(client, world):
    from django.contrib.auth import get_user_model

    from vaxops.access.services import create_user

    user, _ = create_user(username="kd-temp", role="county_command", scope="513301", source="cli")
    client.force_login(user)
    assert client.get(DASHBOARD).status_code == 200
    AuditEvent.objects.filter(actor=user).delete()
    get_user_model().objects.filter(pk=user.pk).delete()
    assert client.get(DASHBOARD).status_code == 302


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@override_settings(VAXOPS_AUTH_FAILURE_LIMIT=3)
def test_failures_counted_by_other_server_threads_lock_the_address_here(world):
    """Each worker has its own database connection; the count is the database's, not a process's."""
    import threading

    from django.db import connections
    from django.test import Client

    codes: list[int] = []

    def worker():
        try:
            r = Client().get("/api/v1/lots", {"product": "BIBP"}, HTTP_AUTHORIZATION="Bearer vx_wrong",
                             REMOTE_ADDR="10.5.5.5")
            codes.append(r.status_code)
        finally:
            connections.close_all()

    for _ in range(3):  # one after the other: SQLite serialises writers anyway
        thread = threading.Thread(target=worker)
        thread.start()
        thread.join(20)
    assert codes == [401, 401, 401]
    r = Client().get("/api/v1/lots", {"product": "BIBP"}, HTTP_AUTHORIZATION="Bearer vx_wrong", REMOTE_ADDR="10.5.5.5")
    assert r.status_code == 429
