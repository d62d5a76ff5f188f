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


class ResidenceCounter(models.Model):
    """Valid doses by the person's home division × day × dose number × kind × age band.

    The second view of every figure: *whose residents* were vaccinated (coverage), beside
    ``DoseCounter``'s *where the doses were given* (workload). It is a table of its own rather
    than a residence column in ``DoseCounter``'s key: site × home division would multiply the
    site counters by the grids each site serves (a gymnasium draws from a whole county) and slow
    every workload query, while this table stays as small as the residence tree × days allows.
    Product and priority group are left out (coverage does not ask for them; the site counters
    keep them), which keeps it smaller still.

    ``path`` is the path of the dose's ``residence_division`` — the home division *when the dose
    was given*, frozen on the dose record: a person who moves later keeps the count where they
    lived, and ``rebuild-counters`` keeps that frozen residence too (it recomputes from the
    dose records, never from the person's current home), so live counters and a rebuild always
    agree. A dose without a residence (none is recorded so now; older imports may lack it) is
    counted at the path of the county where it was given, so it shows as the county's "not
    assigned to a township" row. ``county_code`` is the county of ``path``, for sharding.
    """

    path = models.CharField(max_length=120)
    county_code = models.CharField(max_length=6)
    day = models.DateField()
    dose_number = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=8)
    completes_series = models.BooleanField()
    age_band = models.CharField(max_length=8)
    count = models.IntegerField(default=0)

    class Meta:
        constraints = [
            # Leads with (path, day): the same index serves the subtree-and-days reads.
            models.UniqueConstraint(
                fields=["path", "day", "dose_number", "kind", "completes_series", "age_band"],
                name="residence_counter_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.path} {self.day} #{self.dose_number} {self.kind}: {self.count}"
