"""User management in the browser: admins everywhere, county commands within their county."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse

from vaxops.access.models import ApiToken, RoleAssignment
from vaxops.core.models import AuditEvent

USERS = reverse("access:users")
NEW = reverse("access:user_new")


@pytest.fixture
def en(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def county(en, world):
    en.force_login(world.users["county_command"])
    return en


def action(user, name):
    return reverse("access:user_action", args=[user.pk, name])


def test_county_command_lists_only_the_users_of_its_county(county, world):
    names = {u.username for u in county.get(USERS).context["users"]}
    assert {"vaccinator", "site_manager", "grid_worker", "supervisor", "county_command"} <= names
    assert not names & {"admin", "prefecture_command", "vaccinator_ld", "county_command_ld"}


def test_admin_lists_everyone(en, world):
    en.force_login(world.users["admin"])
    names = {u.username for u in en.get(USERS).context["users"]}
    assert {"admin", "vaccinator_ld", "prefecture_command"} <= names


def test_county_command_creates_a_vaccinator_at_a_county_site_with_a_token_shown_once(county, world):
    r = county.post(NEW, {"username": "kd-vacc-09", "password": "Yak-butter-tea-2021", "role": "vaccinator",
                          "scope": "KD-MASS", "with_token": "on"})
    assert r.status_code == 200 and "no-store" in r["Cache-Control"]
    token = r.context["new_token"]
    user = get_user_model().objects.get(username="kd-vacc-09")
    assert ApiToken.objects.get(user=user).key_hash == ApiToken.hash(token)
    assert token in r.content.decode()
    again = county.get(reverse("access:user", args=[user.pk])).content.decode()
    assert token not in again and token[:8] in again
    created = AuditEvent.objects.get(action="user.create", object_id=str(user.pk))
    assert created.actor == world.users["county_command"] and created.source == "web"


@pytest.mark.parametrize(("role", "scope"), [("admin", ""), ("prefecture_command", "513300"),
                                             ("vaccinator", "LD-MASS"), ("county_command", "513322")])
def test_county_command_cannot_grant_beyond_its_county_or_rank(county, role, scope):
    r = county.post(NEW, {"username": "kd-x", "password": "Yak-butter-tea-2021", "role": role, "scope": scope})
    assert r.status_code == 422
    assert not get_user_model().objects.filter(username="kd-x").exists()


def test_county_command_cannot_grant_beyond_its_county_by_calling_the_service(world):
    from vaxops.access.services import assign_role
    from vaxops.core.errors import VaxopsError

    with pytest.raises(VaxopsError) as caught:
        assign_role(user_id=world.users["vaccinator"].pk, role="admin", scope=None,
                    acting_user=world.users["county_command"], source="web")
    assert caught.value.code == "role_not_grantable"


def test_a_weak_password_is_explained_on_its_field(county):
    r = county.post(NEW, {"username": "kd-vacc-10", "password": "12345678", "role": "vaccinator", "scope": "KD-MASS"})
    assert r.status_code == 422 and r.context["form"].errors["password"]


def test_an_existing_username_is_refused(county):
    r = county.post(NEW, {"username": "vaccinator", "password": "Yak-butter-tea-2021", "role": "vaccinator",
                          "scope": "KD-THC"})
    assert r.status_code == 422 and "already exists" in r.context["form"].errors["username"][0]


def test_a_user_of_another_county_is_not_found(county, world):
    other = world.users["vaccinator_ld"]
    assert county.get(reverse("access:user", args=[other.pk])).status_code == 404
    assert county.post(action(other, "deactivate")).status_code == 404
    other.refresh_from_db()
    assert other.is_active


def test_county_command_deactivates_adds_and_removes_roles_and_revokes_tokens(county, world, api, person):
    vaccinator = world.users["vaccinator"]
    r = county.post(action(vaccinator, "role_add"), {"role": "site_manager", "scope": "KD-THC"})
    assert r.status_code == 200
    assignment = RoleAssignment.objects.get(user=vaccinator, role="site_manager")
    county.post(action(vaccinator, "role_remove"), {"assignment": assignment.pk})
    assert not RoleAssignment.objects.filter(pk=assignment.pk).exists()
    last = county.post(action(vaccinator, "role_remove"), {"assignment": RoleAssignment.objects.get(user=vaccinator).pk})
    assert last.status_code == 409  # the last role stays: deactivate instead
    token = ApiToken.objects.get(user=vaccinator)
    county.post(action(vaccinator, "token_revoke"), {"token": token.pk})
    assert api(world.tokens["vaccinator"]).get(f"/people/{person.pk}").status_code == 401
    county.post(action(vaccinator, "deactivate"))
    vaccinator.refresh_from_db()
    assert not vaccinator.is_active
    assert set(AuditEvent.objects.filter(actor=world.users["county_command"]).values_list("action", flat=True)) >= {
        "user.role_assigned", "user.role_removed", "token.revoke", "user.deactivate"}


@pytest.mark.parametrize("role", ["vaccinator", "grid_worker", "supervisor", "prefecture_command"])
def test_other_roles_may_not_manage_users(en, world, role):
    en.force_login(world.users[role])
    assert en.get(USERS).status_code == 403
    assert en.post(action(world.users["grid_worker"], "deactivate")).status_code == 403
    assert "Users" not in en.get(reverse("web:dashboard")).content.decode().split("</nav>")[0].split("mainnav")[-1]


@pytest.mark.parametrize(("role", "advice", "link"), [
    ("grid_worker", "grid worker", reverse("web:dashboard")),
    ("supply_officer", "lot list", reverse("web:dashboard")),
    ("county_command", "Users page", USERS),
    ("supervisor", "you do not record doses", reverse("web:dashboard")),
])
def test_the_desks_403_page_says_what_the_role_can_do_instead(en, world, role, advice, link):
    en.force_login(world.users[role])
    r = en.get(reverse("web:desk"))
    body = r.content.decode()
    assert r.status_code == 403 and advice in body and f'href="{link}"' in body


def test_the_403_advice_is_in_chinese_by_default(client, world):
    client.force_login(world.users["grid_worker"])
    assert "网格员负责跟进本网格居民" in client.get(reverse("web:desk")).content.decode()
