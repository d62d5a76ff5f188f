"""Residents and their deferrals."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from vaxops.registry.idnumber import mask_id_number


class PriorityGroup(models.Model):
    """A priority group of the campaign (medical staff, border-port staff, teachers …).

    Reference data: the groups are rows, not code, so a campaign can add its own. Age groups
    are not stored here; they are derived from the birth date.
    """

    code = models.CharField(max_length=40, unique=True)
    name_zh = models.CharField(max_length=64)
    name_en = models.CharField(max_length=64)
    rank = models.PositiveSmallIntegerField(default=100, help_text="lower = higher priority")

    class Meta:
        ordering = ["rank", "code"]

    def __str__(self) -> str:
        return self.code

    @property
    def name(self) -> str:
        return self.name_en if (get_language() or "").startswith("en") else self.name_zh


class PersonStatus(models.TextChoices):
    ACTIVE = "active", _("active")
    MOVED_OUT = "moved_out", _("moved out")
    DECEASED = "deceased", _("deceased")
    # A duplicate record merged into another (``merged_into``): its doses moved there.
    MERGED = "merged", _("merged into another record")


class Sex(models.TextChoices):
    MALE = "M", _("male")
    FEMALE = "F", _("female")


class Person(models.Model):
    """A resident, identified by the resident ID number; birth date and sex are derived from it.

    ``priority_groups`` lists PriorityGroup codes, highest priority first; dose counters use the
    first. ``county_code`` (of the home division) is carried for sharding by county.
    """

    id_number = models.CharField(max_length=18, unique=True)
    name = models.CharField(max_length=64, db_index=True)
    phone = models.CharField(max_length=11, blank=True, db_index=True)
    birth_date = models.DateField()
    sex = models.CharField(max_length=1, choices=Sex.choices)
    home_division = models.ForeignKey("regions.Division", on_delete=models.PROTECT, related_name="residents")
    county_code = models.CharField(max_length=6, db_index=True)
    priority_groups = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=12, choices=PersonStatus.choices, default=PersonStatus.ACTIVE)
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("person")

    def __str__(self) -> str:
        return f"{self.name} {self.id_number_masked}"

    @property
    def id_number_masked(self) -> str:
        return mask_id_number(self.id_number)

    @property
    def primary_group(self) -> str:
        return self.priority_groups[0] if self.priority_groups else ""

    def age_on(self, day: date) -> int:
        years = day.year - self.birth_date.year
        if (day.month, day.day) < (self.birth_date.month, self.birth_date.day):
            years -= 1
        return years


class Deferral(models.Model):
    """A contraindication recorded for a person: no dose until ``until`` (or until lifted)."""

    class Reason(models.TextChoices):
        ALLERGY = "allergy", _("allergy to a component or the same kind of vaccine")
        SEVERE_ALLERGIC_REACTION = "severe_allergic_reaction", _("earlier severe allergic reaction")
        NEUROLOGICAL = "neurological", _("uncontrolled epilepsy or severe neurological disease")
        ACUTE_ILLNESS = "acute_illness", _("fever, acute illness or acute attack of a chronic disease")
        UNCONTROLLED_CHRONIC = "uncontrolled_chronic", _("uncontrolled severe chronic disease")
        PREGNANCY = "pregnancy", _("pregnancy")
        RECENT_INFECTION = "recent_infection", _("recovered from infection less than 6 months ago")

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="deferrals")
    code = models.CharField(max_length=32, choices=Reason.choices)
    note = models.TextField(blank=True)
    since = models.DateField()
    until = models.DateField(null=True, blank=True)
    # Lifted: a clinician's or the county command's written decision that it no longer holds
    # (``registry.status.lift_deferral``); the row stays, with who, when and why.
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")
    lift_reason = models.CharField(max_length=500, blank=True)

    def __str__(self) -> str:
        return f"{self.person_id} {self.code} until {self.until}"
