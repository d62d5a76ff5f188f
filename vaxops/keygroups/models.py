"""Key groups "应种尽种": who belongs to a priority group, and which unit answers for them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Membership(models.Model):
    """One person registered in one priority group (``registry.PriorityGroup``), optionally with
    the unit responsible for them (a hospital for its staff, a university for its students, a
    temple for its monastics: ``staff.Unit``).

    The key-group figures count these rows: registered people, the eligible count (registered
    minus the permanently contraindicated, moved out and deceased) and their coverage.
    ``county_code`` is the county of the person's home when added (for sharding and for the
    county filter of site staff).
    """

    group = models.ForeignKey("registry.PriorityGroup", on_delete=models.PROTECT, related_name="memberships")
    person = models.ForeignKey("registry.Person", on_delete=models.CASCADE, related_name="key_groups")
    unit = models.ForeignKey("staff.Unit", null=True, blank=True, on_delete=models.PROTECT, related_name="members")
    county_code = models.CharField(max_length=6, db_index=True)
    # In the group from this day: the figures as of a moment count the members of that day (a
    # list imported in June does not change May's coverage). Default: the day added.
    since = models.DateField()
    added_at = models.DateTimeField()
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")

    class Meta:
        verbose_name = _("key-group member")
        constraints = [models.UniqueConstraint(fields=["group", "person"], name="keygroup_member_once")]
        indexes = [models.Index(fields=["group", "county_code"]), models.Index(fields=["unit", "group"])]

    def __str__(self) -> str:
        return f"{self.group_id}: {self.person_id}"
