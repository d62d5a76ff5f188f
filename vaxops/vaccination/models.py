"""Dose records: the facts everything else is counted from."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class DoseKind(models.TextChoices):
    PRIMARY = "primary", _("primary")
    BOOSTER = "booster", _("booster")


class DoseStatus(models.TextChoices):
    VALID = "valid", _("valid")
    VOIDED = "voided", _("voided")


class DoseRecord(models.Model):
    """One dose given to one person.

    The database guarantees one valid dose N per person per series (partial unique index) and
    one record per device submission (``client_uuid``). A record entered in error is voided,
    never deleted. ``county_code`` (of the site) is carried for sharding by county.
    """

    # No index of its own: (person, series) below leads with it.
    person = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="doses", db_index=False)
    product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT)
    lot = models.ForeignKey("supply.Lot", on_delete=models.PROTECT, related_name="doses")
    series = models.CharField(max_length=32)
    dose_number = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=8, choices=DoseKind.choices)
    completes_series = models.BooleanField(default=False)
    overdue = models.BooleanField(default=False)
    site = models.ForeignKey("sites.Site", on_delete=models.PROTECT, related_name="doses")
    session = models.ForeignKey("sites.Session", null=True, blank=True, on_delete=models.PROTECT)
    division = models.ForeignKey("regions.Division", on_delete=models.PROTECT, related_name="+")
    county_code = models.CharField(max_length=6)
    # The user who recorded the dose: the vaccinator at the desk or device, or for a retrospective
    # entry the site manager or county official who entered it (the name is kept for the API).
    vaccinator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    administered_at = models.DateTimeField()
    # Counter dimensions frozen at the time of the dose, so a rebuild reproduces them exactly.
    age_band = models.CharField(max_length=8)
    priority_group = models.CharField(max_length=40, blank=True)
    client_uuid = models.UUIDField(unique=True)
    fingerprint = models.CharField(max_length=64)
    override_reason = models.TextField(blank=True)
    # Codes of the eligibility reasons a site manager overrode (empty when none was needed).
    override_codes = models.JSONField(default=list, blank=True)
    # The resident's home division when the dose was given (coverage is counted there; a later
    # move does not carry the dose along unless a rebuild is asked to).
    residence_division = models.ForeignKey(
        "regions.Division", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # When the record entered vaxops (``created_at`` is the row's insert time; the demo replays
    # history and sets this to the moment the dose would have been recorded).
    recorded_at = models.DateTimeField(default=timezone.now)
    # Recorded more than VAXOPS_RETROSPECTIVE_HOURS after it was given, by a role that may.
    retrospective = models.BooleanField(default=False)
    retrospective_reason = models.TextField(blank=True)
    status = models.CharField(max_length=8, choices=DoseStatus.choices, default=DoseStatus.VALID)
    void_reason = models.TextField(blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    # Never looked up by (null on nearly every row): no index to keep up on every insert.
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["person", "series", "dose_number"],
                condition=Q(status="valid"),
                name="one_valid_dose_n_per_person_series",
            )
        ]
        indexes = [
            models.Index(fields=["person", "series"]),
            models.Index(fields=["county_code", "administered_at"]),
            # (administered_at alone is served by dose_administered_recorded, which leads with it.)
            models.Index(fields=["recorded_at"]),
            # Late entries as of a moment: a day of administered_at whose recorded_at is later,
            # decided on the index entries without reading the rows (campaign.services.summary).
            models.Index(fields=["administered_at", "recorded_at"], name="dose_administered_recorded"),
            models.Index(fields=["county_code", "recorded_at"], condition=Q(retrospective=True), name="dose_retrospective"),
            models.Index(fields=["county_code", "recorded_at"], condition=~Q(override_reason=""), name="dose_override"),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} {self.product_id} #{self.dose_number} {self.administered_at:%Y-%m-%d}"

    @property
    def product_code(self) -> str:
        return self.product.code


class ConflictStatus(models.TextChoices):
    OPEN = "open", _("open")
    # Claimed by a resolver whose steps are under way (or stopped half-way: see conflicts.py).
    RESOLVING = "resolving", _("being resolved")
    CLOSED = "closed", _("resolved")


class ConflictResolution(models.TextChoices):
    KEPT_EXISTING = "kept_existing", _("kept the existing record")
    KEPT_INCOMING = "kept_incoming", _("kept the incoming record")


class DoseConflict(models.Model):
    """A device's dose refused because someone else had already recorded that dose for the
    person: kept in full for a person to resolve, never merged automatically.

    One conflict per incoming submission (``client_uuid``). Placed at the incoming submission's
    site (``site``, ``county_code``), where its manager or the county command resolves it
    (``vaccination.conflicts``).
    """

    client_uuid = models.UUIDField(unique=True)
    payload = models.JSONField()  # the item exactly as the device sent it
    code = models.CharField(max_length=40)  # the refusal that raised it (dose_already_recorded)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    received_at = models.DateTimeField()
    source = models.CharField(max_length=8)
    person = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="+")
    existing_dose = models.ForeignKey(DoseRecord, on_delete=models.PROTECT, related_name="conflicts")
    site = models.ForeignKey("sites.Site", on_delete=models.PROTECT, related_name="+")
    county_code = models.CharField(max_length=6)
    status = models.CharField(max_length=10, choices=ConflictStatus.choices, default=ConflictStatus.OPEN)
    claimed_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolution = models.CharField(max_length=16, choices=ConflictResolution.choices, blank=True)
    reason = models.TextField(blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    incoming_dose = models.ForeignKey(
        DoseRecord, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["county_code", "status", "received_at"], name="conflict_county_status")]

    def __str__(self) -> str:
        return f"conflict {self.client_uuid} ({self.status})"
