"""Work lists and contact attempts (docs/outreach.md)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class DueKind(models.TextChoices):
    FIRST = "first", _("never vaccinated")
    NEXT = "next", _("next dose")
    BOOSTER = "booster", _("booster")
    NONE = "none", _("nothing due")
    OUT = "out", _("out of the lists")


class DueEntry(models.Model):
    """One row per resident: what they are due for next and from when they are on the lists.

    Kept by the writers in the transaction of their change (registration, doses, deferrals,
    contacts, person status; see ``outreach.duetable``), so a work list is one indexed range
    read of its grid, never a scan of the area. ``list_date`` is ``due_date`` unless a hold
    (away, deferred) ends later. ``kind`` "none": nothing more is due; "out": moved out,
    deceased, merged into another record or permanently contraindicated. ``rebuild_worklists``
    recomputes every row from the people, doses, deferrals and contacts. ``township_code`` (the
    home's township, "" above it) and ``county_code`` let a township's or county's list be
    read in order from an index.
    """

    person = models.OneToOneField("registry.Person", primary_key=True, on_delete=models.CASCADE,
                                  related_name="due_entry")
    home_path = models.CharField(max_length=120)
    county_code = models.CharField(max_length=6)
    township_code = models.CharField(max_length=9, blank=True, default="")
    kind = models.CharField(max_length=8, choices=DueKind.choices)
    dose_number = models.PositiveSmallIntegerField(default=1)
    due_date = models.DateField(null=True, blank=True)
    overdue_on = models.DateField(null=True, blank=True)
    hold_until = models.DateField(null=True, blank=True)
    list_date = models.DateField(null=True, blank=True)
    birth_date = models.DateField()
    priority_rank = models.PositiveSmallIntegerField(default=1000)
    last_outcome = models.CharField(max_length=24, blank=True)
    last_contact_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        # A grid's list: the range of its paths. A township's or county's: walked in list order
        # (rank, date) from its code, so a page stops after its rows whatever the area's size.
        indexes = [models.Index(fields=["kind", "home_path", "list_date"], name="outreach_due_list_idx"),
                   models.Index(fields=["kind", "township_code", "priority_rank", "list_date", "person"],
                                name="outreach_due_township_idx"),
                   models.Index(fields=["kind", "county_code", "priority_rank", "list_date", "person"],
                                name="outreach_due_county_idx")]

    def __str__(self) -> str:
        return f"{self.person_id} {self.kind} {self.dose_number} {self.list_date}"


class ContactAttempt(models.Model):
    """One attempt to reach a resident: who, how, when and what came of it (``outcomes``)."""

    client_uuid = models.UUIDField(unique=True)
    person = models.ForeignKey("registry.Person", on_delete=models.CASCADE, related_name="contacts")
    home_path = models.CharField(max_length=120, db_index=True)
    county_code = models.CharField(max_length=6)
    worker = models.ForeignKey("auth.User", null=True, on_delete=models.SET_NULL, related_name="+")
    channel = models.CharField(max_length=12)
    outcome = models.CharField(max_length=24)
    at = models.DateTimeField()
    until = models.DateField(null=True, blank=True)
    place = models.CharField(max_length=16, blank=True)
    concern = models.CharField(max_length=16, blank=True)
    reason = models.CharField(max_length=32, blank=True)
    session = models.ForeignKey("sites.Session", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")
    duplicate_of = models.ForeignKey("registry.Person", null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        indexes = [models.Index(fields=["person", "at"], name="outreach_contact_person_idx")]

    def __str__(self) -> str:
        return f"{self.person_id} {self.outcome} {self.at:%Y-%m-%d}"
