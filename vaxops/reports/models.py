"""Issued daily reports: frozen once issued, never edited (corrections follow as late entries)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class IssuedReport(models.Model):
    """A division's daily report as it was issued: the whole document, in every language the
    system speaks, with the SHA-256 of its canonical JSON.

    One per division and day. Nothing writes to a row after it is created (``reports.services``
    is the only writer); a dose entered later for a period already reported shows as a late
    entry (补报) in the next report, never as a change here. ``county_code`` is the division's
    county (empty above county level), for sharding like every other hot row.
    """

    division = models.ForeignKey("regions.Division", on_delete=models.PROTECT, related_name="+")
    county_code = models.CharField(max_length=6, blank=True)
    day = models.DateField()
    cutoff = models.DateTimeField()
    issued_at = models.DateTimeField()
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")
    # The figures of the default language's document (the late entries of the next report are
    # reckoned from its cumulative figures).
    figures = models.JSONField()
    # language code -> the report document (as ``GET /api/v1/reports/daily`` returns it).
    content = models.JSONField()
    sha256 = models.CharField(max_length=64)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["division", "day"], name="issued_report_one_per_day")]
        indexes = [models.Index(fields=["division", "cutoff"])]

    def __str__(self) -> str:
        return f"daily report {self.division_id} {self.day} ({self.sha256[:12]})"
