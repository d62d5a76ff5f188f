"""Campaign figures."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.utils import timezone
from ninja import Field, Router, Schema

from vaxops.access.scope import get_scoped, require, restrict
from vaxops.campaign.services import summary
from vaxops.core.schema import Instant
from vaxops.regions.models import Division
from vaxops.registry.api import ErrorOut

router = Router(tags=["stats"])


class ResidenceSummary(Schema):
    """Coverage: the area's residents (home division when vaccinated), wherever vaccinated."""

    first_dose_people: int
    second_dose_people: int
    completed_series_people: int
    booster_people: int
    population_18_plus: int
    first_dose_coverage_18_plus: float | None = Field(
        description="Residents with a first dose ÷ resident population aged 18+ (ratio, 4 decimals)."
    )


class ChildSummary(Schema):
    code: str
    name: str
    doses_total: int
    first_dose_people: int
    second_dose_people: int
    completed_series_people: int
    booster_people: int
    population_18_plus: int
    first_dose_coverage_18_plus: float | None = Field(
        description="Doses given at the area's sites (first doses) ÷ its population 18+: a workload "
        "ratio kept for compatibility; coverage is residence.first_dose_coverage_18_plus."
    )
    residence: ResidenceSummary


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
    residence: ResidenceSummary
    unassigned: ChildSummary = Field(
        description="What no child holds (county-level sites, mobile teams, residents registered only at "
        "this level): children + unassigned = the total, in both views."
    )
    late_entries: int = Field(
        description="Doses given in the area by `at` but recorded after it (they change a figure published at `at`)."
    )
    view: Literal["administered", "recorded"] = Field(
        description="administered: doses given by `at`; recorded: doses entered by `at`."
    )


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
def stats_summary(
    request, division: str | None = None, at: Instant | None = None,
    view: Literal["administered", "recorded"] = "administered",
):
    """Figures of a division as of `at` (default now): by site (the top-level and child fields),
    by residence (`residence`), the "not assigned to a child" row, and the late entries."""
    div = user_division(request.user, division)
    when = at or timezone.now()
    if timezone.is_naive(when):
        when = timezone.make_aware(when)
    return summary(div, when, view=view)
