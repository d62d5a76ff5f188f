"""API tokens: revocation, deactivation, deletion and role changes apply on the next request."""

from __future__ import annotations

import threading

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.test import RequestFactory, override_settings

from conftest import dose_body
from vaxops.access.models import ApiToken, Attempt, RoleAssignment
from vaxops.access.scope import grants_for
from vaxops.access.services import assign_role, create_user, remove_role, revoke_token
from vaxops.core.api import BearerToken
from vaxops.core.errors import VaxopsError
from vaxops.core.models import AuditEvent


def test_revoked_token_is_refused_on_the_very_next_request(api, world, person):
    client = api(world.tokens["vaccinator"])
    assert client.get(f"/people/{person.pk}").status_code == 200
    token = ApiToken.objects.get(key_hash=ApiToken.hash(world.tokens["vaccinator"]))
    revoke_token(token_id=token.pk, acting_user=world.users["admin"], source="web")
    r = client.get(f"/people/{person.pk}")
    assert r.status_code == 401 and r.json()["code"] == "not_authenticated"


def test_revoke_tokens_command_stops_every_token_of_the_user_and_is_audited(api, world, person):
    client = api(world.tokens["vaccinator"])
    assert client.get(f"/people/{person.pk}").status_code == 200
    call_command("revoke_tokens", username="vaccinator")
    assert client.get(f"/people/{person.pk}").status_code == 401
    assert AuditEvent.objects.filter(action="token.revoke", source="cli").count() == 1


def test_deactivated_user_cannot_record_a_dose_with_a_token_used_a_moment_ago(api, world, person):
    client = api(world.tokens["vaccinator"])
    assert client.get(f"/people/{person.pk}").status_code == 200
    call_command("deactivate_user", username="vaccinator")
    r = client.post("/doses", dose_body(person.pk))
    assert r.status_code == 401 and r.json()["code"] == "not_authenticated"
    assert AuditEvent.objects.filter(action="user.deactivate").exists()
    assert not AuditEvent.objects.filter(action="dose.record").exists()


def test_deleted_user_token_is_401_not_a_dose_conflict(api, world, person):
    user, token = create_user(username="kd-tablet", role="vaccinator", scope="KD-MASS", with_token=True, source="cli")
    client = api(token)
    assert client.get(f"/people/{person.pk}").status_code == 200
    AuditEvent.objects.filter(actor=user).delete()  # nothing recorded by this account yet
    user.delete()
    r = client.post("/doses", dose_body(person.pk))
    assert r.status_code == 401 and r.json()["code"] == "not_authenticated"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_dose_by_a_user_deleted_meanwhile_is_not_authenticated(world, person):
    from vaxops.vaccination.services import record_dose

    user, _ = create_user(username="kd-gone", role="vaccinator", scope="KD-MASS", source="cli")
    grants_for(user)  # the request already authenticated this user
    get_user_model().objects.filter(pk=user.pk).delete()
    with pytest.raises(VaxopsError) as caught:
        record_dose(**_dose_kwargs(person), acting_user=user, source="api")
    assert caught.value.code == "not_authenticated"


def _dose_kwargs(person):
    import datetime as dt

    return {"client_uuid": "00000000-0000-4000-8000-0000000000aa", "person_id": person.pk, "product_code": "BIBP",
                "lot_number": "B2021001", "site_code": "KD-MASS",
                "administered_at": dt.datetime.fromisoformat("2021-05-10T10:00:00+08:00")}


def test_a_new_user_given_a_deleted_users_id_never_gets_the_old_users_grants(api, world, person):
    """A database restored or rebuilt under a running server, or a sequence moved back, can give
    a new account the id of a deleted one: the grants kept in the process for the old account
    must not serve the new one."""
    user, token = create_user(username="kd-clerk", role="county_command", scope="513301", with_token=True,
                              source="cli")
    assert api(token).get("/doses/conflicts").status_code == 200  # the county command's grants, kept
    old_id = user.pk
    AuditEvent.objects.filter(actor=user).delete()
    user.delete()
    # The next account takes the freed id (as after a restore), with a role that may not see conflicts.
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT setval(pg_get_serial_sequence('auth_user', 'id'), %s, false)", [old_id])
        else:
            cursor.execute("UPDATE sqlite_sequence SET seq = %s WHERE name = 'auth_user'", [old_id - 1])
    clerk, token2 = create_user(username="kd-grid", role="grid_worker", scope="513301001", with_token=True,
                                source="cli")
    assert clerk.pk == old_id
    r = api(token2).get("/doses/conflicts")
    assert r.status_code == 403 and r.json()["code"] == "permission_denied"


def test_a_role_change_applies_on_the_next_request(api, world, person):
    client = api(world.tokens["vaccinator"])
    assert client.get(f"/people/{person.pk}").status_code == 200
    vaccinator = world.users["vaccinator"]
    assign_role(user_id=vaccinator.pk, role="supply_officer", scope="513301", acting_user=None, source="cli")
    remove_role(assignment_id=RoleAssignment.objects.get(user=vaccinator, role="vaccinator").pk,
                acting_user=None, source="cli")
    r = client.get(f"/people/{person.pk}")
    assert r.status_code == 403 and r.json()["code"] == "permission_denied"


@pytest.mark.parametrize("auth", [None, "Bearer not-a-token", "Bearer revoked", "Basic dXNlcjpwdw=="])
def test_post_without_a_valid_token_is_401_not_a_csrf_refusal(world, person, auth):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)  # as a real client: CSRF is checked
    headers = {}
    if auth == "Bearer revoked":
        call_command("revoke_tokens", username="vaccinator")
        auth = f"Bearer {world.tokens['vaccinator']}"
    if auth:
        headers["HTTP_AUTHORIZATION"] = auth
    r = client.post("/api/v1/doses", dose_body(person.pk), content_type="application/json", **headers)
    assert r.status_code == 401 and r.json()["code"] == "not_authenticated"


def test_a_session_write_still_needs_the_csrf_token(world, person):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(world.users["vaccinator"])
    r = browser.post("/api/v1/doses", dose_body(person.pk), content_type="application/json")
    assert r.status_code == 403


def test_the_token_check_costs_one_query_per_request(world, django_assert_num_queries):
    auth = BearerToken()
    request = RequestFactory().get("/api/v1/lots")
    token = world.tokens["vaccinator"]
    auth.authenticate(request, token)  # loads the grants once per process
    with django_assert_num_queries(1):
        user = auth.authenticate(RequestFactory().get("/api/v1/lots"), token)
        assert [g.role for g in grants_for(user)] == ["vaccinator"]


@override_settings(VAXOPS_AUTH_FAILURE_LIMIT=3)
def test_bad_tokens_from_one_address_are_locked_out_with_a_stated_time(api, world):
    bad = api("vx_guess")
    for _ in range(3):
        assert bad.get("/lots", product="BIBP").status_code == 401
    r = bad.get("/lots", product="BIBP")
    assert r.status_code == 429 and r.json()["code"] == "too_many_failed_logins"
    assert int(r["Retry-After"]) > 14 * 60
    assert r.json()["detail"]["retry_time"] in r.json()["message"]
    # Nothing is counted while locked; a valid token from the same address still works.
    assert Attempt.objects.filter(kind="token").count() == 3
    assert api(world.tokens["county_command"]).get("/lots", product="BIBP").status_code == 200


@override_settings(VAXOPS_AUTH_FAILURE_LIMIT=3)
def test_a_revoked_token_is_locked_out_per_account_from_any_address(client, world):
    call_command("revoke_tokens", username="vaccinator")
    header = {"HTTP_AUTHORIZATION": f"Bearer {world.tokens['vaccinator']}"}
    for n in range(3):
        assert client.get("/api/v1/lots", {"product": "BIBP"}, REMOTE_ADDR=f"10.0.0.{n}", **header).status_code == 401
    r = client.get("/api/v1/lots", {"product": "BIBP"}, REMOTE_ADDR="10.9.9.9", **header)
    assert r.status_code == 429


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_revocation_reaches_a_server_thread_with_its_own_connection(world):
    """Another worker (its own database connection) sees the revocation on its next request."""
    token = world.tokens["vaccinator"]
    results: list[object] = []
    go, done = threading.Event(), threading.Event()

    def worker():
        try:
            auth = BearerToken()
            results.append(auth.authenticate(RequestFactory().get("/"), token).get_username())
            done.set()
            go.wait(10)
            try:
                auth.authenticate(RequestFactory().get("/"), token)
                results.append("still accepted")
            except VaxopsError as exc:
                results.append(exc.code)
        finally:
            connection.close()

    thread = threading.Thread(target=worker)
    thread.start()
    done.wait(10)
    call_command("revoke_tokens", username="vaccinator")
    go.set()
    thread.join(20)
    assert results == ["vaccinator", "not_authenticated"]
