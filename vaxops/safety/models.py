"""Adverse events following immunization: reports, their clocks, clusters and investigation
(docs/aefi.md)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AefiStatus(models.TextChoices):
    REPORTED = "reported", _("reported")
    TRIAGED = "triaged", _("triaged")
    INVESTIGATED = "investigated", _("investigated")
    CLASSIFIED = "classified", _("classified")
    CLOSED = "closed", _("closed")


class ClusterRule(models.TextChoices):
    SITE = "site", _("serious cases at one site")
    LOT = "lot", _("a rise of cases for one lot")


class ClusterStatus(models.TextChoices):
    OPEN = "open", _("open")
    ACTED = "acted", _("lots quarantined")


class AefiCluster(models.Model):
    """A cluster (群体性): two or more serious reports with similar events at one site within
    the window, or a marked rise of similar non-serious reports for one lot (``rules``).

    Opened in the transaction of the report that completes it; its lots are proposed for
    quarantine, which the supervisor carries out with one click (``services.act_on_cluster``).
    Placed where its site is (a lot cluster: where the report that opened it was given).
    """

    rule = models.CharField(max_length=8, choices=ClusterRule.choices)
    group = models.CharField(max_length=32)  # the similarity group the reports share
    site = models.ForeignKey("sites.Site", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    lot = models.ForeignKey("supply.Lot", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    division = models.ForeignKey("regions.Division", on_delete=models.PROTECT, related_name="+")
    county_code = models.CharField(max_length=6)
    opened_at = models.DateTimeField()
    report_due_by = models.DateTimeField()
    status = models.CharField(max_length=8, choices=ClusterStatus.choices, default=ClusterStatus.OPEN)
    proposed_lots = models.ManyToManyField("supply.Lot", blank=True, related_name="+")
    acted_at = models.DateTimeField(null=True, blank=True)
    acted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # lot number -> what the quarantine found ("quarantined" | "already_quarantined" | "already_recalled")
    action_result = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [models.Index(fields=["county_code", "status", "opened_at"], name="aefi_cluster_county")]

    def __str__(self) -> str:
        return f"cluster {self.pk} ({self.rule}, {self.group})"


class AefiReport(models.Model):
    """One suspected adverse event following immunization.

    The dose record (when given) supplies the lot, product, site, vaccinator and time of
    vaccination, copied here so lists and cluster rules read one row. ``report_due_by`` is the
    deadline for the report to reach the county CDC (2 h for a serious case, a death or a
    cluster, 48 h otherwise); the county's triage stops that clock. One report per device
    submission (``client_uuid``). Placed at the site of the dose (without a dose: the person's
    home division).
    """

    client_uuid = models.UUIDField(unique=True)
    person = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="+")
    dose = models.ForeignKey("vaccination.DoseRecord", null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+")
    lot = models.ForeignKey("supply.Lot", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    product = models.ForeignKey("catalog.Product", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    site = models.ForeignKey("sites.Site", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    vaccinator = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    vaccinated_at = models.DateTimeField(null=True, blank=True)
    division = models.ForeignKey("regions.Division", on_delete=models.PROTECT, related_name="+")
    county_code = models.CharField(max_length=6)
    onset_at = models.DateTimeField()
    detected_at = models.DateTimeField()
    reported_at = models.DateTimeField()
    events = models.JSONField(default=list)  # event codes (data/events.json)
    signs = models.JSONField(default=list, blank=True)  # Brighton signs (data/brighton.json)
    serious = models.BooleanField(default=False)
    serious_criteria = models.JSONField(default=list, blank=True)  # data/serious.json criteria
    outcome = models.CharField(max_length=32, blank=True)
    description = models.TextField(blank=True)
    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    report_due_by = models.DateTimeField()
    investigation_due_by = models.DateTimeField()
    status = models.CharField(max_length=16, choices=AefiStatus.choices, default=AefiStatus.REPORTED)
    # Computed from ``signs`` when an event is anaphylaxis (1–3; null: no level met or no anaphylaxis).
    brighton_level = models.PositiveSmallIntegerField(null=True, blank=True)
    # The level the supervisor stated at classification (may differ from the computed one).
    brighton_level_assessed = models.PositiveSmallIntegerField(null=True, blank=True)
    who_category = models.CharField(max_length=4, blank=True)
    cn_category = models.CharField(max_length=24, blank=True)
    triaged_at = models.DateTimeField(null=True, blank=True)
    triaged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    investigated_at = models.DateTimeField(null=True, blank=True)
    investigated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                        related_name="+")
    findings = models.TextField(blank=True)
    classified_at = models.DateTimeField(null=True, blank=True)
    classified_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="+")
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")
    cluster = models.ForeignKey(AefiCluster, null=True, blank=True, on_delete=models.PROTECT, related_name="reports")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["county_code", "status", "report_due_by"], name="aefi_county_status_due"),
            models.Index(fields=["site", "onset_at"], name="aefi_site_onset"),
            models.Index(fields=["lot", "onset_at"], name="aefi_lot_onset"),
        ]

    def __str__(self) -> str:
        return f"AEFI {self.pk} ({self.status})"
