"""Role assignments (who may do what, where) and API tokens."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    PREFECTURE_COMMAND = "prefecture_command", _("prefecture command")
    COUNTY_COMMAND = "county_command", _("county command")
    SITE_MANAGER = "site_manager", _("site manager")
    VACCINATOR = "vaccinator", _("vaccinator")
    GRID_WORKER = "grid_worker", _("grid worker")
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
