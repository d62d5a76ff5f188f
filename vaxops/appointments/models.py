"""Appointments (docs/appointments.md): a session's slots with a capacity per dose number, and
the bookings that take it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class Slot(models.Model):
    """A stretch of a session's hours (``starts_at`` to ``ends_at``, e.g. 15 or 30 minutes) that
    people may book; its capacity is kept per dose number (``SlotCapacity``)."""

    session = models.ForeignKey("sites.Session", on_delete=models.PROTECT, related_name="slots")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    county_code = models.CharField(max_length=6)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["session", "starts_at"], name="slot_unique_start")]
        ordering = ["session", "starts_at"]

    def __str__(self) -> str:
        return f"{self.session_id} {self.starts_at:%H:%M}"


class SlotCapacity(models.Model):
    """How many people of one dose number the slot takes (``capacity``) and has booked
    (``booked``). Every booking and cancellation moves ``booked`` with one conditional update of
    this row, so it never passes ``capacity``; the database checks it too."""

    slot = models.ForeignKey(Slot, on_delete=models.CASCADE, related_name="capacities")
    dose_number = models.PositiveSmallIntegerField()
    capacity = models.PositiveIntegerField()
    booked = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["slot", "dose_number"], name="slot_capacity_unique_dose"),
            models.CheckConstraint(condition=Q(booked__lte=F("capacity")), name="slot_never_booked_past_capacity"),
        ]
        ordering = ["slot", "dose_number"]

    def __str__(self) -> str:
        return f"{self.slot_id} dose {self.dose_number}: {self.booked}/{self.capacity}"


class AppointmentStatus(models.TextChoices):
    BOOKED = "booked", _("booked")
    CANCELLED = "cancelled", _("cancelled")
    RESCHEDULED = "rescheduled", _("moved to another time")
    ATTENDED = "attended", _("came and was vaccinated")
    NO_SHOW = "no_show", _("did not come")


class Appointment(models.Model):
    """One person booked for one dose in one slot. A person holds at most one live booking per
    dose number. Cancelling and rescheduling are explicit (a new booking replaces a
    rescheduled one, ``replaced_by``); at the session's close a booking still open becomes
    attended (the dose was given that day) or a no-show."""

    client_uuid = models.UUIDField(unique=True)
    person = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="+")
    session = models.ForeignKey("sites.Session", on_delete=models.PROTECT, related_name="appointments")
    slot = models.ForeignKey(Slot, on_delete=models.PROTECT, related_name="appointments")
    dose_number = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=12, choices=AppointmentStatus.choices, default=AppointmentStatus.BOOKED)
    phone = models.CharField(max_length=11, blank=True)
    # People of one household booked together share this id.
    household_uuid = models.UUIDField(null=True, blank=True, db_index=True)
    county_code = models.CharField(max_length=6)
    booked_at = models.DateTimeField()
    booked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+")
    reason = models.CharField(max_length=200, blank=True)
    replaced_by = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["person", "dose_number"], condition=Q(status="booked"),
                                    name="appointment_one_live_booking_per_dose"),
        ]
        indexes = [models.Index(fields=["session", "status"], name="appointment_session_idx")]
        ordering = ["slot__starts_at", "pk"]

    def __str__(self) -> str:
        return f"{self.person_id} dose {self.dose_number} at {self.slot_id} {self.status}"


def reminder_reason(appointment_id: int) -> str:
    """The outbox reason of a booking's day-before reminder."""
    return f"booking-day-before:{appointment_id}"
