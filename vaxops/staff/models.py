"""Staff, their home units and qualifications, session rosters, support deployments and the
medical-assurance readiness of a session (docs/staff.md)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


def _in_english() -> bool:
    return (get_language() or "").startswith("en")


class UnitKind(models.TextChoices):
    HOSPITAL = "hospital", _("hospital")
    MATERNAL_CHILD_HOSPITAL = "maternal_child_hospital", _("maternal and child health hospital")
    CDC = "cdc", _("centre for disease control")
    HEALTH_CENTRE = "health_centre", _("health centre")
    OTHER = "other", _("other unit")


class HospitalLevel(models.IntegerChoices):
    LEVEL_1 = 1, _("level 1 (一级)")
    LEVEL_2 = 2, _("level 2 (二级)")
    LEVEL_3 = 3, _("level 3 (三级)")


HOSPITAL_KINDS = frozenset({UnitKind.HOSPITAL, UnitKind.MATERNAL_CHILD_HOSPITAL})


class Unit(models.Model):
    """A home unit of staff (a hospital, a CDC, a health centre …) in a division; a hospital
    carries its level (一级/二级/三级), which decides who counts as level-2+ emergency staff."""

    code = models.CharField(max_length=32, unique=True)
    name_zh = models.CharField(max_length=120)
    name_en = models.CharField(max_length=120, blank=True)
    kind = models.CharField(max_length=32, choices=UnitKind.choices)
    hospital_level = models.PositiveSmallIntegerField(choices=HospitalLevel.choices, null=True, blank=True)
    division = models.ForeignKey("regions.Division", on_delete=models.PROTECT, related_name="+")
    # The county (or higher) code of the division, copied for the area filter of site staff.
    county_code = models.CharField(max_length=6, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def name(self) -> str:
        return self.name_en if _in_english() and self.name_en else self.name_zh


class Staff(models.Model):
    """A person who works at sessions: a role, a home unit, a phone; optionally the user
    account they log in with."""

    name = models.CharField(max_length=64)
    role = models.CharField(max_length=24)  # a code of data/roles.json
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="staff")
    phone = models.CharField(max_length=11, blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="staff_member"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["unit_id", "name", "pk"]
        verbose_name_plural = "staff"

    def __str__(self) -> str:
        return f"{self.name} ({self.role})"


class Qualification(models.Model):
    """A training or licence of one staff member (a kind of data/qualification_kinds.json),
    for one product where the kind is per product, valid until a day (inclusive)."""

    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="qualifications")
    kind = models.CharField(max_length=32)
    product = models.ForeignKey("catalog.Product", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    valid_until = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["staff_id", "kind", "valid_until"]
        indexes = [models.Index(fields=["staff", "kind"])]

    def __str__(self) -> str:
        return f"{self.staff_id} {self.kind} → {self.valid_until}"


class RosterEntry(models.Model):
    """One staff member on a session's roster, with the role they take there."""

    session = models.ForeignKey("sites.Session", on_delete=models.CASCADE, related_name="roster")
    staff = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="roster_entries")
    role = models.CharField(max_length=24)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["session", "staff"], name="roster_unique_session_staff")]
        ordering = ["session_id", "role", "staff_id"]

    def __str__(self) -> str:
        return f"{self.session_id}: {self.staff_id} as {self.role}"


class StaffingPlan(models.Model):
    """How many staff a session is planned to have (the county's short-staffed list)."""

    session = models.OneToOneField("sites.Session", on_delete=models.CASCADE, related_name="staffing_plan")
    planned_staff = models.PositiveIntegerField()

    def __str__(self) -> str:
        return f"{self.session_id}: {self.planned_staff} staff"


class Deployment(models.Model):
    """A support deployment: staff moved from their units to a receiving division (a county
    or below, optionally one site) for a span of days, with the reason."""

    staff = models.ManyToManyField(Staff, related_name="deployments")
    to_division = models.ForeignKey("regions.Division", on_delete=models.PROTECT, related_name="+")
    to_site = models.ForeignKey("sites.Site", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # The receiving county, copied: a session's roster asks for deployments to its county.
    to_county_code = models.CharField(max_length=6, db_index=True)
    starts_on = models.DateField()
    ends_on = models.DateField()
    reason = models.CharField(max_length=500)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_on", "pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(ends_on__gte=models.F("starts_on")), name="deployment_dates"),
        ]

    def __str__(self) -> str:
        return f"→ {self.to_county_code} {self.starts_on}–{self.ends_on}"


class Readiness(models.Model):
    """The readiness items a site manager submitted for a session (item code -> value, the
    latest value of each), who submitted last and when. The gate evaluates them against the
    session's date, site and roster whenever it is asked (``staff.readiness``)."""

    session = models.OneToOneField("sites.Session", on_delete=models.CASCADE, related_name="readiness")
    items = models.JSONField(default=dict)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "readiness"

    def __str__(self) -> str:
        return f"{self.session_id}: {sorted(self.items)}"


class ReadinessException(models.Model):
    """The county command's written permission to open a session whose checklist is not
    complete; the missing items at the time are kept with it."""

    session = models.OneToOneField("sites.Session", on_delete=models.CASCADE, related_name="readiness_exception")
    reason = models.CharField(max_length=1000)
    missing = models.JSONField(default=list)
    granted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    granted_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.session_id}: exception by {self.granted_by_id}"
