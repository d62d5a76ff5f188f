"""A visit of a person at an open session: check-in, screening, vaccination, observation and
release (docs/visits.md)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class VisitStatus(models.TextChoices):
    """Where a visit stands. One-way: waiting → screened → in observation → released; a
    contraindication ends it as deferred; a person may leave at any step before release."""

    WAITING = "waiting", _("waiting")
    SCREENED = "screened", _("screened, waiting for vaccination")
    IN_OBSERVATION = "in_observation", _("in observation")
    RELEASED = "released", pgettext_lazy("visit", "released")
    DEFERRED = "deferred", _("deferred")
    LEFT = "left", _("left without vaccination")


#: The statuses a visit can still move on from.
ACTIVE_STATUSES = (VisitStatus.WAITING, VisitStatus.SCREENED, VisitStatus.IN_OBSERVATION)


class Visit(models.Model):
    """One person's passage through one session, ticket by ticket.

    ``ticket`` numbers a session's check-ins 1, 2, 3 … without gaps (taken under the session
    row's lock); ``client_uuid`` makes a retried check-in return the first visit. Every step
    keeps its time and who did it; the dose is the vaccination's own record, linked one to one.
    ``county_code`` is the site's, for sharding by county like every hot row.
    """

    session = models.ForeignKey("sites.Session", on_delete=models.PROTECT, related_name="visits")
    person = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="visits")
    client_uuid = models.UUIDField(unique=True)
    ticket = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=VisitStatus.choices, default=VisitStatus.WAITING)
    county_code = models.CharField(max_length=6)
    checked_in_at = models.DateTimeField()
    checked_in_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    screened_at = models.DateTimeField(null=True, blank=True)
    screened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The pre-vaccination questions as asked: {question code: true/false} (visits.screening).
    screening_answers = models.JSONField(default=dict, blank=True)
    deferral = models.OneToOneField(
        "registry.Deferral", null=True, blank=True, on_delete=models.PROTECT, related_name="visit"
    )
    dose = models.OneToOneField(
        "vaccination.DoseRecord", null=True, blank=True, on_delete=models.PROTECT, related_name="visit"
    )
    vaccinated_at = models.DateTimeField(null=True, blank=True)
    vaccinated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    observation_until = models.DateTimeField(null=True, blank=True)
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    left_at = models.DateTimeField(null=True, blank=True)
    left_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The status the visit had when the person left (waiting, screened or in observation).
    left_step = models.CharField(max_length=16, choices=VisitStatus.choices, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["session", "ticket"], name="visit_unique_session_ticket"),
            models.CheckConstraint(
                condition=~Q(status__in=["in_observation", "released"]) | Q(dose__isnull=False),
                name="visit_vaccinated_has_dose",
            ),
        ]
        indexes = [
            models.Index(fields=["session", "status"], name="visit_session_status"),
            models.Index(fields=["session", "checked_in_at"], name="visit_session_checked_in"),
        ]
        ordering = ["session", "ticket"]

    def __str__(self) -> str:
        return f"{self.session_id} #{self.ticket} {self.status}"


class Stage(models.TextChoices):
    """The stages of a site the board counts stations for (the simulator's stage names)."""

    SCREENING = "screening", _("screening desks")
    VACCINATION = "vaccination", _("vaccination stations")
    OBSERVATION = "observation", _("observation seats")


class StationCount(models.Model):
    """How many desks, stations or seats a session has staffed at a stage (set on the board;
    read by the what-if and by the service-time estimate)."""

    session = models.ForeignKey("sites.Session", on_delete=models.CASCADE, related_name="station_counts")
    stage = models.CharField(max_length=16, choices=Stage.choices)
    count = models.PositiveIntegerField()
    set_at = models.DateTimeField()
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["session", "stage"], name="station_count_unique_stage")]

    def __str__(self) -> str:
        return f"{self.session_id} {self.stage}={self.count}"
