"""Messages waiting to be sent (SMS text to a phone), idempotent by their reason; senders are
pluggable (docs/outbox.md)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class MessageStatus(models.TextChoices):
    PENDING = "pending", _("waiting to be sent")
    SENT = "sent", _("sent")
    SUPPRESSED = "suppressed", _("not sent: its reason has gone")
    FAILED = "failed", _("failed")


class MessageKind(models.TextChoices):
    STANDBY_OFFER = "standby_offer", _("leftover dose offer")
    BOOKING_REMINDER = "booking_reminder", _("appointment reminder")
    DOSE_DUE = "dose_due", _("dose due")
    DOSE_OVERDUE = "dose_overdue", _("dose overdue")


class Message(models.Model):
    """One message to one phone, made for one reason.

    ``reason`` is the key of why the message exists (``standby-offer:42``, ``booking-day-before:7``):
    unique, so a message for the same reason is never made twice and so never sent twice; when the
    reason goes (an offer expired, a booking cancelled) the message is suppressed if not yet sent.
    ``send_after`` is the earliest moment it may go out (a reminder the day before).
    """

    kind = models.CharField(max_length=32)
    channel = models.CharField(max_length=8, default="sms")
    phone = models.CharField(max_length=20)
    text = models.TextField()
    reason = models.CharField(max_length=120, unique=True)
    status = models.CharField(max_length=12, choices=MessageStatus.choices, default=MessageStatus.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    send_after = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    suppressed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=200, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "send_after"], name="outbox_pending_idx")]

    def __str__(self) -> str:
        return f"{self.reason} {self.status}"
