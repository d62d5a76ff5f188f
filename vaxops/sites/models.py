"""Vaccination sites and their sessions (site-day operations extend this)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _


class SiteKind(models.TextChoices):
    MASS_SITE = "mass_site", _("mass site")
    FIXED_SITE = "fixed_site", _("permanent site")
    TOWNSHIP_HEALTH_CENTRE = "township_health_centre", _("township health centre")
    MOBILE_TEAM = "mobile_team", _("mobile team")
    POINT_TO_POINT = "point_to_point", _("point-to-point session")


class Site(models.Model):
    """A place or team that gives doses, attached to the division it serves."""

    code = models.CharField(max_length=32, unique=True)
    name_zh = models.CharField(max_length=120)
    name_en = models.CharField(max_length=120, blank=True)
    kind = models.CharField(max_length=32, choices=SiteKind.choices)
    division = models.ForeignKey("regions.Division", on_delete=models.PROTECT, related_name="sites")
    county_code = models.CharField(max_length=6, db_index=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def name(self) -> str:
        if (get_language() or "").startswith("en") and self.name_en:
            return self.name_en
        return self.name_zh


class SessionKind(models.TextChoices):
    FIXED = "fixed", _("fixed session")
    OUTREACH = "outreach", _("outreach session")
    MOBILE = "mobile", _("mobile session")
    POINT_TO_POINT = "point_to_point", _("point-to-point session")


class SessionStatus(models.TextChoices):
    PLANNED = "planned", pgettext_lazy("session status", "planned")
    OPEN = "open", pgettext_lazy("session status", "open")
    CLOSED = "closed", pgettext_lazy("session status", "closed")


class Session(models.Model):
    """A site's day of work: planned, then opened through the medical-assurance gate, then
    closed, after which its figures (``figures``) are final."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="sessions")
    date = models.DateField()
    kind = models.CharField(max_length=16, choices=SessionKind.choices, default=SessionKind.FIXED)
    planned_doses = models.PositiveIntegerField(default=0)
    status = models.CharField(
        max_length=8, choices=SessionStatus.choices, default=SessionStatus.PLANNED, db_default=SessionStatus.PLANNED
    )
    opens_at = models.TimeField(null=True, blank=True)
    closes_at = models.TimeField(null=True, blank=True)
    # The organisation a point-to-point session serves (a university, temple or enterprise).
    organisation = models.CharField(max_length=120, blank=True, db_default="")
    products = models.ManyToManyField("catalog.Product", blank=True, related_name="+")
    opened_at = models.DateTimeField(null=True, blank=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Final figures written when the session closes (doses, wastage, staff hours, AEFI).
    figures = models.JSONField(default=dict, blank=True, db_default={})
    created_at = models.DateTimeField(auto_now_add=True, null=True)

    class Meta:
        # A team may work several sessions a day (a morning at a university, an afternoon at a
        # temple) as long as their hours do not overlap: the sessions service refuses an overlap
        # (``session_overlap``) under the site's row lock, so no unique index on the day.
        indexes = [models.Index(fields=["site", "date"], name="session_site_day")]
        ordering = ["-date", "opens_at"]

    def __str__(self) -> str:
        return f"{self.site_id} {self.date}"


class SessionStop(models.Model):
    """One stop of an outreach (circuit) session: the village and the team's arrival time."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="stops")
    position = models.PositiveSmallIntegerField()
    division = models.ForeignKey("regions.Division", on_delete=models.PROTECT, related_name="+")
    arrives_at = models.TimeField(null=True, blank=True)

    class Meta:
        ordering = ["session", "position"]
        constraints = [models.UniqueConstraint(fields=["session", "position"], name="session_stop_unique_position")]

    def __str__(self) -> str:
        return f"{self.session_id}#{self.position} {self.division_id}"


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class SessionTemplate(models.Model):
    """A line of a county's week plan: this site works on this weekday, these hours
    (``sessions.plan_week`` turns a week of them into planned sessions)."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="session_templates")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    opens_at = models.TimeField()
    closes_at = models.TimeField()
    kind = models.CharField(max_length=16, choices=SessionKind.choices, default=SessionKind.FIXED)
    planned_doses = models.PositiveIntegerField(default=0)
    organisation = models.CharField(max_length=120, blank=True, default="")
    products = models.ManyToManyField("catalog.Product", blank=True, related_name="+")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["site", "weekday", "opens_at"]

    def __str__(self) -> str:
        return f"{self.site_id} {self.weekday} {self.opens_at}-{self.closes_at}"


class Circuit(models.Model):
    """A mobile team's round of villages: the villages (``stops``, in order) are visited over
    ``cycle_days`` days from ``starts_on`` and then again; each working day is one outreach
    session with its stops (``sessions.plan_circuit``)."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="circuits")
    name = models.CharField(max_length=120, blank=True, default="")
    starts_on = models.DateField()
    cycle_days = models.PositiveSmallIntegerField()
    opens_at = models.TimeField()
    closes_at = models.TimeField()
    planned_doses = models.PositiveIntegerField(default=0)
    products = models.ManyToManyField("catalog.Product", blank=True, related_name="+")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["site", "pk"]

    def __str__(self) -> str:
        return f"{self.site_id} {self.name}"


class CircuitStop(models.Model):
    """A village of a circuit, in the order the team visits them."""

    circuit = models.ForeignKey(Circuit, on_delete=models.CASCADE, related_name="stops")
    position = models.PositiveSmallIntegerField()
    division = models.ForeignKey("regions.Division", on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["circuit", "position"]
        constraints = [models.UniqueConstraint(fields=["circuit", "position"], name="circuit_stop_unique_position")]

    def __str__(self) -> str:
        return f"{self.circuit_id}#{self.position} {self.division_id}"
