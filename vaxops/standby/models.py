"""The standby list of a session: people who asked to be called for leftover doses, and the
offers made to them (docs/standby.md)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class EntryStatus(models.TextChoices):
    WAITING = "waiting", _("waiting to be called")
    OFFERED = "offered", _("offered a dose")
    CONFIRMED = "confirmed", _("confirmed")
    DECLINED = "declined", _("declined")
    LAPSED = "lapsed", _("did not answer in time")


class StandbyEntry(models.Model):
    """A person who asked to be called when a dose is left over at a session.

    ``priority_rank`` is the rank of the person's highest priority group when they signed up
    (lower first; people without a group last), frozen so the list's order never moves under
    the people on it. The list is ordered by rank, then by ``signed_up_at``.
    """

    session = models.ForeignKey("sites.Session", on_delete=models.PROTECT, related_name="standby_entries")
    person = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="+")
    phone = models.CharField(max_length=11)
    priority_group = models.CharField(max_length=40, blank=True)
    priority_rank = models.PositiveSmallIntegerField()
    signed_up_at = models.DateTimeField()
    signed_up_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    client_uuid = models.UUIDField(null=True, blank=True, unique=True)
    status = models.CharField(max_length=10, choices=EntryStatus.choices, default=EntryStatus.WAITING)
    county_code = models.CharField(max_length=6)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["session", "person"], name="standby_one_entry_per_person")]
        indexes = [models.Index(fields=["session", "status", "priority_rank", "signed_up_at"],
                                name="standby_entry_order_idx")]
        ordering = ["priority_rank", "signed_up_at", "pk"]

    def __str__(self) -> str:
        return f"{self.session_id}:{self.person_id} {self.status}"


class StandbyRound(models.Model):
    """A session's leftover doses on offer: ``doses`` may be confirmed, ``confirmed`` have been.

    The one row every confirmation of the session updates, conditionally
    (``confirmed < doses``), so nobody is ever confirmed past the count, whatever the
    concurrency; the database checks it too.
    """

    session = models.OneToOneField("sites.Session", on_delete=models.PROTECT, related_name="standby_round")
    doses = models.PositiveIntegerField(default=0)
    confirmed = models.PositiveIntegerField(default=0)
    last_offered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(confirmed__lte=models.F("doses")),
                                              name="standby_round_never_over_confirmed")]

    def __str__(self) -> str:
        return f"{self.session_id}: {self.confirmed}/{self.doses}"


class OfferStatus(models.TextChoices):
    OFFERED = "offered", _("offered")
    CONFIRMED = "confirmed", _("confirmed")
    EXPIRED = "expired", _("expired")
    DECLINED = "declined", _("declined")


class Offer(models.Model):
    """A leftover dose offered to one standby entry, open until ``expires_at``; its SMS is
    ``message`` in the outbox (reason ``standby-offer:<id>``)."""

    entry = models.ForeignKey(StandbyEntry, on_delete=models.PROTECT, related_name="offers")
    made_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=OfferStatus.choices, default=OfferStatus.OFFERED)
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    message = models.ForeignKey("outbox.Message", null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        indexes = [models.Index(fields=["status", "expires_at"], name="standby_offer_open_idx")]
        ordering = ["made_at", "pk"]

    def __str__(self) -> str:
        return f"offer {self.pk} {self.status}"

    @property
    def reason(self) -> str:
        return offer_reason(self.pk)


def offer_reason(offer_id: int) -> str:
    """The outbox reason of an offer's message."""
    return f"standby-offer:{offer_id}"
