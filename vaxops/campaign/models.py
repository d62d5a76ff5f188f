"""Dose counters: dashboards read these instead of scanning doses."""

from __future__ import annotations

from django.db import models


class DoseCounter(models.Model):
    """Valid doses by division × day × product × dose number × age band × priority group.

    Upserted in the transaction that records or voids a dose; ``rebuild-counters`` recomputes
    the whole table from the dose records. ``path`` is the division's stored path so a subtree
    total is one prefix query without a join.
    """

    division = models.ForeignKey("regions.Division", on_delete=models.PROTECT, related_name="+")
    path = models.CharField(max_length=120)
    county_code = models.CharField(max_length=6)
    day = models.DateField()
    product_code = models.CharField(max_length=32)
    dose_number = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=8)
    completes_series = models.BooleanField()
    age_band = models.CharField(max_length=8)
    priority_group = models.CharField(max_length=40, blank=True)
    count = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "division", "day", "product_code", "dose_number", "kind",
                    "completes_series", "age_band", "priority_group",
                ],
                name="dose_counter_key",
            )
        ]
        indexes = [models.Index(fields=["path", "day"])]

    def __str__(self) -> str:
        return f"{self.path} {self.day} {self.product_code}#{self.dose_number}: {self.count}"
