"""Role assignments (who may do what, where) and API tokens."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    PREFECTURE_COMMAND = "prefecture_command", _("prefecture command")
    COUNTY_COMMAND = "county_command", _("county command")
    SITE_MANAGER = "site_manager", _("site manager")
    VACCINATOR = "vaccinator", _("vaccinator")
    GRID_WORKER = "grid_worker", _("grid worker")
    # a township's mobilisation organiser (乡镇组织员): the grid workers' work, township-wide
    TOWNSHIP_ORGANISER = "township_organiser", _("township organiser")
    SUPPLY_OFFICER = "supply_officer", _("supply officer")
    SUPERVISOR = "supervisor", _("supervisor")
    ADMIN = "admin", _("system administrator")


class RoleAssignment(models.Model):
    """A user holds a role over a scope: a division subtree or one site (exactly one of them).

    An admin may hold a role with neither, meaning everything.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="roles")
    role = models.CharField(max_length=24, choices=Role.choices)
    division = models.ForeignKey("regions.Division", null=True, blank=True, on_delete=models.PROTECT)
    site = models.ForeignKey("sites.Site", null=True, blank=True, on_delete=models.PROTECT)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~(models.Q(division__isnull=False) & models.Q(site__isnull=False)),
                name="role_scope_division_or_site",
            )
        ]

    def __str__(self) -> str:
        scope = self.site_id and f"site {self.site_id}" or (self.division_id and f"div {self.division_id}") or "all"
        return f"{self.user_id} {self.role} @ {scope}"


class ApiToken(models.Model):
    """A bearer token. Only its SHA-256 is stored; the token itself is shown once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user_id})"

    @staticmethod
    def hash(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    @classmethod
    def issue(cls, user) -> tuple[ApiToken, str]:
        token = "vx_" + secrets.token_urlsafe(32)
        return cls.objects.create(user=user, key_hash=cls.hash(token), prefix=token[:8]), token


class AccessState(models.Model):
    """Per-user version of the role grants, bumped by every role change.

    The bearer-token check reads it in the same query as the token and the user's
    ``is_active``, so a process may keep a user's grants in memory under ``(user, version)``
    and still see a role change on the very next request. No row means version 0.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, primary_key=True, on_delete=models.CASCADE, related_name="access_state"
    )
    grants_version = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.user_id} v{self.grants_version}"


class Attempt(models.Model):
    """One counted attempt for a rate limit: a failed login, a failed token, an out-of-area lookup.

    ``key`` names what is limited (``account:alice``, ``address:10.0.0.7``, ``user:17``). The
    rows live in the database so every server process sees the same counts; rows older than the
    longest window are pruned when the same key is written again.
    """

    class Kind(models.TextChoices):
        LOGIN = "login", _("failed login")
        TOKEN = "token", _("failed API token")
        LOOKUP = "lookup", _("out-of-area person lookup")

    kind = models.CharField(max_length=8, choices=Kind.choices)
    key = models.CharField(max_length=160)
    at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["kind", "key", "at"], name="attempt_kind_key_at")]

    def __str__(self) -> str:
        return f"{self.kind} {self.key} {self.at:%Y-%m-%d %H:%M:%S}"


class PersonReach(models.Model):
    """A person outside the user's area that the user reached by the exact ID number.

    Site staff may vaccinate a traveller whose card they hold; the exact-ID lookup writes this
    row (with an audit event), and until ``valid_until`` (the end of that working day) the
    person's numeric id answers for this user too. Without a row an out-of-area person is
    "not found", so numeric ids cannot be enumerated.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    person = models.ForeignKey("registry.Person", on_delete=models.CASCADE, related_name="+")
    reached_at = models.DateTimeField()
    valid_until = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["user", "person", "valid_until"], name="reach_user_person_until")]

    def __str__(self) -> str:
        return f"{self.user_id} → {self.person_id} until {self.valid_until:%Y-%m-%d %H:%M}"


def bump_grants_version(user_id: int) -> None:
    """Make every process drop the grants it keeps for this user (see ``AccessState``)."""
    if AccessState.objects.filter(user_id=user_id).update(grants_version=models.F("grants_version") + 1):
        return
    _, created = AccessState.objects.get_or_create(user_id=user_id, defaults={"grants_version": 1})
    if not created:  # created by a concurrent bump in between: bump past it
        AccessState.objects.filter(user_id=user_id).update(grants_version=models.F("grants_version") + 1)


@receiver([post_save, post_delete], sender=RoleAssignment, dispatch_uid="vaxops.access.role_changed")
def _role_changed(sender, instance: RoleAssignment, **kwargs) -> None:
    # Every save or delete of an assignment, through the services or not, bumps the version.
    # When the deletion cascades from the user, the user (and its AccessState) goes too:
    # writing a new AccessState row then would break the deletion.
    from django.contrib.auth import get_user_model

    origin = kwargs.get("origin")
    user_model = get_user_model()
    if isinstance(origin, user_model) or getattr(origin, "model", None) is user_model:
        return
    bump_grants_version(instance.user_id)
