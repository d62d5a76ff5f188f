"""Targets set by the level above for each division below it ("上半年第1剂次接种目标")."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Metric(models.TextChoices):
    FIRST_DOSE_PEOPLE = "first_dose_people", _("people with a first dose")
    COMPLETED_PEOPLE = "completed_people", _("people with a completed series")
    DOSES = "doses", _("doses given")
    KEY_GROUP_COVERAGE = "key_group_coverage", _("key-group coverage")


class ValueKind(models.TextChoices):
    COUNT = "count", _("a number")
    PERCENT = "percent", _("a coverage percentage")


# Population bases other than a priority group's code (a key group is named by its code).
AGE_BASES = {"18+": ("18-59", "60+"), "60+": ("60+",), "all": ("0-2", "3-11", "12-17", "18-59", "60+")}


class Target(models.Model):
    """What ``division`` should reach by ``due``: ``value`` of ``metric`` over a population
    ``base`` ("18+", "60+", "all" or a priority-group code), as a number or a coverage percentage.

    Set by the level above (``targets.services.set_target``). Expected progress runs from
    ``starts`` to the end of ``due``: linear, or through the stated ``ramp`` (a list of
    ``[date, fraction]`` points, fractions of the target by the end of that day, rising).
    One target per division × metric × base × due date: setting it again changes it (audited).
    """

    division = models.ForeignKey("regions.Division", on_delete=models.PROTECT, related_name="targets")
    metric = models.CharField(max_length=24, choices=Metric.choices)
    base = models.CharField(max_length=40)
    value = models.DecimalField(max_digits=12, decimal_places=2)
    kind = models.CharField(max_length=8, choices=ValueKind.choices, default=ValueKind.COUNT)
    starts = models.DateField()
    due = models.DateField()
    ramp = models.JSONField(default=list, blank=True)
    county_code = models.CharField(max_length=6, blank=True)
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+")
    set_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["division", "metric", "base", "due"], name="target_once")]
        ordering = ["due", "metric", "base", "division_id"]

    def __str__(self) -> str:
        return f"{self.division_id} {self.metric}/{self.base} {self.value} by {self.due}"
