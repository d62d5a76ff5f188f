"""The user commands: create-user (validators, --add-role), revoke-tokens, deactivate-user."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from vaxops.access.models import RoleAssignment
from vaxops.core.models import AuditEvent


@pytest.mark.parametrize("password", ["12345678", "password", "short", "kd-vacc-07x"])
def test_create_user_refuses_a_weak_password(world, password):
    with pytest.raises(CommandError):
        call_command("create_user", username="kd-vacc-07", role="vaccinator", scope="KD-MASS", password=password)
    assert not get_user_model().objects.filter(username="kd-vacc-07").exists()


def test_create_user_accepts_a_strong_password_and_audits(world):
    call_command("create_user", username="kd-vacc-07", role="vaccinator", scope="KD-MASS",
                 password="Yak-butter-tea-2021")
    user = get_user_model().objects.get(username="kd-vacc-07")
    assert user.check_password("Yak-butter-tea-2021")
    assert AuditEvent.objects.filter(action="user.create", object_id=str(user.pk)).exists()


def test_create_user_refuses_an_existing_username_unless_told_to_add_a_role(world):
    with pytest.raises(CommandError, match="already exists"):
        call_command("create_user", username="vaccinator", role="site_manager", scope="KD-MASS")
    assert RoleAssignment.objects.filter(user=world.users["vaccinator"]).count() == 1
    call_command("create_user", username="vaccinator", role="site_manager", scope="KD-THC", add_role=True)
    assert sorted(RoleAssignment.objects.filter(user=world.users["vaccinator"]).values_list("role", flat=True)) == [
        "site_manager", "vaccinator"]
    assert world.users["vaccinator"].check_password("pw-vaccinator")  # unchanged


def test_deactivate_and_revoke_commands_name_an_unknown_user(world):
    for command in ("deactivate_user", "revoke_tokens"):
        with pytest.raises(CommandError):
            call_command(command, username="nobody")


def test_deactivate_user_command_is_audited(world):
    call_command("deactivate_user", username="grid_worker")
    user = get_user_model().objects.get(username="grid_worker")
    assert not user.is_active
    event = AuditEvent.objects.get(action="user.deactivate")
    assert event.source == "cli" and event.after["is_active"] is False
