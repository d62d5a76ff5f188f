"""Campaign figures."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from ninja import Router, Schema

from vaxops.access.scope import get_scoped, require, restrict
from vaxops.campaign.services import summary
from vaxops.core.schema import Instant
from vaxops.regions.models import Division
from vaxops.registry.api import ErrorOut

router = Router(tags=["stats"])


class ChildSummary(Schema):
    code: str
    name: str
    doses_total: int
    first_dose_people: int
    second_dose_people: int
    completed_series_people: int
    booster_people: int
    population_18_plus: int
    first_dose_coverage_18_plus: float | None


class SummaryOut(Schema):
    division_code: str
    division_name: str
    at: dt.datetime
    doses_total: int
    first_dose_people: int
    second_dose_people: int
    completed_series_people: int
    booster_people: int
    population_18_plus: int
    children: list[ChildSummary]


def user_division(user, code: str | None) -> Division:
    """The division asked for (or the user's own top division) if it is within their area."""
    require(user, "stats.view")
    if not code:
        top = restrict(Division.objects.order_by("level", "code"), user, "stats.view").first()
        if top is None:
            from vaxops.core.errors import VaxopsError

            raise VaxopsError("division_not_found", {"division_code": None})
        return top
    return get_scoped(
        Division.objects.all(), user, "stats.view",
        not_found="division_not_found", detail={"division_code": code}, code=code,
    )


@router.get("/summary", response={200: SummaryOut, 404: ErrorOut})
def stats_summary(request, division: str | None = None, at: Instant | None = None):
    div = user_division(request.user, division)
    when = at or timezone.now()
    if timezone.is_naive(when):
        when = timezone.make_aware(when)
    return summary(div, when)
