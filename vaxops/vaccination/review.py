"""Reading overrides and retrospective entries back: the supervisors' lists (issue 6).

One query serves the API (``GET /api/v1/doses/overrides`` and ``/retrospective``) and the page
(``/doses/review/``), so the two cannot disagree. Rows are placed by the site's division and
read through ``access.scope`` with the ``dose.review`` action; the optional ``division`` filter
narrows within the user's area, never beyond it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from vaxops.access.scope import get_scoped, require, restrict
from vaxops.campaign.services import TZ
from vaxops.regions.models import Division
from vaxops.vaccination.models import DoseRecord

ReviewKind = Literal["overrides", "retrospective"]

KIND_FILTERS: dict[str, Q] = {
    # Same conditions as the partial indexes dose_override and dose_retrospective.
    "overrides": ~Q(override_reason=""),
    "retrospective": Q(retrospective=True),
}

DEFAULT_LIMIT = 50
MAX_LIMIT = 200

#: Eligibility reasons in a few words, for lists where the full sentence (with its dates and
#: products) is not kept: a record stores the codes it overrode, not their parameters.
REASON_LABELS: dict[str, Any] = {
    "deferred": _("deferral in force (cleared by a doctor)"),
    "deferred_indefinitely": _("open-ended deferral (cleared by a doctor)"),
    "other_vaccine_interval": _("within 14 days of another vaccine"),
    "age_group_not_yet_open": _("age group not yet open for this vaccine"),
    "age_below_minimum": _("below the minimum age"),
    "age_below_product_minimum": _("below the lowest age the vaccine is ever given at"),
    "age_above_maximum": _("above the maximum age"),
    "min_interval": _("too soon after the previous dose"),
    "booster_not_started": _("boosters not yet started"),
    "booster_interval": _("too soon after the primary series for a booster"),
    "booster_age_below_minimum": _("below the minimum age for a booster"),
    "booster_product_not_allowed": _("vaccine not allowed as this booster"),
    "series_complete": _("series already complete"),
    "schedule_mix": _("schedules with different numbers of doses"),
    "platform_mix": _("vaccine of another platform"),
    "not_born": _("birth date after the day of the dose"),
    "unknown_product": _("earlier dose of an unknown product"),
}


def reason_label(code: str) -> str:
    return str(REASON_LABELS.get(code, code))


@dataclass(frozen=True)
class ReviewPage:
    """One page of a list: the rows, how many match in all, and where the page starts."""

    rows: list[DoseRecord]
    count: int
    limit: int
    offset: int

    @property
    def has_previous(self) -> bool:
        return self.offset > 0

    @property
    def has_next(self) -> bool:
        return self.offset + len(self.rows) < self.count


def review_doses(
    user: Any,
    kind: ReviewKind,
    *,
    division: str | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
) -> ReviewPage:
    """Overrides or retrospective entries within the user's area, newest recorded first.

    ``division`` (a code within the user's area; otherwise ``division_not_found``) narrows to
    doses given at sites of that subtree; ``date_from``/``date_to`` are days (inclusive, in the
    campaign's time zone) on which the record was entered. Voided records are listed too, with
    their status: a supervisor reviews what was done, not only what still counts.
    """
    require(user, "dose.review")
    queryset = restrict(DoseRecord.objects.filter(KIND_FILTERS[kind]), user, "dose.review")
    if division:
        within = get_scoped(Division.objects, user, "dose.review", not_found="division_not_found",
                            detail={"division": division}, code=division)
        queryset = queryset.filter(division__path__startswith=within.path)
    if date_from is not None:
        queryset = queryset.filter(recorded_at__gte=dt.datetime.combine(date_from, dt.time(), TZ))
    if date_to is not None:
        queryset = queryset.filter(recorded_at__lt=dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time(), TZ))
    limit = max(1, min(limit, MAX_LIMIT))
    offset = max(0, offset)
    count = queryset.count()
    rows = list(
        _ordered(queryset).select_related("person", "product", "site", "vaccinator")[offset:offset + limit]
    )
    return ReviewPage(rows=rows, count=count, limit=limit, offset=offset)


def _ordered(queryset: QuerySet[DoseRecord]) -> QuerySet[DoseRecord]:
    return queryset.order_by("-recorded_at", "-id")


def recorder_name(dose: DoseRecord) -> str:
    user = dose.vaccinator
    return user.get_full_name() or user.get_username()


def review_row(dose: DoseRecord) -> dict[str, Any]:
    """One listed dose as the API gives it (names in the active language, ID number masked)."""
    return {
        "id": dose.pk,
        "recorded_at": dose.recorded_at.astimezone(TZ),
        "administered_at": dose.administered_at.astimezone(TZ),
        "recorded_by": {"username": dose.vaccinator.get_username(), "name": recorder_name(dose)},
        "person": {"id": dose.person_id, "name": dose.person.name, "id_number_masked": dose.person.id_number_masked},
        "site": {"code": dose.site.code, "name": dose.site.name},
        "product": {"code": dose.product.code, "name": dose.product.name},
        "dose_number": dose.dose_number,
        "kind": dose.kind,
        "status": dose.status,
        "retrospective": dose.retrospective,
        "retrospective_reason": dose.retrospective_reason,
        "override_reason": dose.override_reason,
        "reasons": [{"code": code, "label": reason_label(code)} for code in dose.override_codes or []],
    }
