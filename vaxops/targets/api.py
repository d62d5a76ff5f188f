"""Targets: POST /api/v1/targets (set by the level above) and GET /api/v1/targets/progress.
docs/targets.md."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from ninja import Field, Router, Schema, Status

from vaxops.campaign.api import user_division
from vaxops.campaign.services import TZ
from vaxops.core.models import Source
from vaxops.core.openapi import OPERATIONS
from vaxops.core.schema import Day, Instant
from vaxops.registry.api import ErrorOut

from . import services

router = Router(tags=["targets"])


class TargetIn(Schema):
    division: str = Field(max_length=15, description="The division the target is for (below the setter's own).")
    metric: str = Field(max_length=24, description="first_dose_people | completed_people | doses | key_group_coverage")
    base: str = Field(max_length=40, description='"18+", "60+", "all" or a key group\'s code.')
    value: float = Field(description="People or doses (kind count), or a coverage percentage (kind percent).")
    due: Day
    kind: str | None = Field(None, max_length=8, description="count (default) | percent")
    starts: Day | None = Field(None, description="Where the expected curve starts (default: today).")
    ramp: list[tuple[Day, float]] | None = Field(
        None, max_length=60, description="The stated ramp: [date, fraction of the target by the end of that day]…")


class TargetOut(Schema):
    id: int
    division_code: str
    metric: str
    base: str
    kind: str
    value: float
    starts: dt.date
    due: dt.date
    ramp: list[Any]
    created: bool


class ProgressItem(Schema):
    id: int
    division_code: str
    division_name: str
    metric: str
    base: str
    kind: str
    value: float
    starts: dt.date
    due: dt.date
    target: int = Field(description="The target in people or doses (a % of the base population, rounded up).")
    achieved: int
    percent: float | None = Field(description="achieved ÷ target × 100.")
    expected_by_now: int = Field(description="What should have been done by `at` (linear, or the stated ramp).")
    ahead_by: int = Field(description="achieved − expected_by_now: ahead (positive) or behind (negative).")
    ahead_days: float = Field(description="Days ahead of (positive) or behind (negative) the expected curve.")
    rate_7d: float = Field(description="Per day over the last seven days.")
    projected_date: dt.date | None = Field(
        description="When the target is met at the last 7 days' rate (met: the day it was met; none: no progress).")
    met: bool
    met_on: dt.date | None
    met_ahead: bool = Field(description="Met before its due date (提前完成).")
    status: str = Field(description="met_ahead | met | ahead | on_track | behind")
    is_child: bool
    rank: int | None = Field(description="Among the children's targets of the same metric, base and due (1 = first).")


class ProgressOut(Schema):
    division_code: str
    at: dt.datetime
    items: list[ProgressItem]


@router.post("", response={200: TargetOut, 201: TargetOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut})
def set_target(request, payload: TargetIn):
    """Set the target of a division below the user's own (201; 200 when it changes an existing
    target of the same division, metric, base and due date)."""
    target, created = services.set_target(
        division_code=payload.division, metric=payload.metric, base=payload.base, value=payload.value,
        due=payload.due, kind=payload.kind, starts=payload.starts, ramp=payload.ramp,
        acting_user=request.user, source=Source.API,
    )
    out = {"id": target.pk, "division_code": target.division.code, "metric": target.metric, "base": target.base,
           "kind": target.kind, "value": float(target.value), "starts": target.starts, "due": target.due,
           "ramp": target.ramp, "created": created}
    return Status(201 if created else 200, out)


def moment(at: dt.datetime | None) -> dt.datetime:
    when = at or timezone.now()
    return (timezone.make_aware(when, TZ) if timezone.is_naive(when) else when).astimezone(TZ)


@router.get("/progress", response={200: ProgressOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut})
def target_progress(request, division: str | None = None, at: Instant | None = None):
    """Progress at `at` (default now) of the division's targets and its children's, ranked."""
    div = user_division(request.user, division)
    when = moment(at)
    return {"division_code": div.code, "at": when, "items": services.progress_items(div, when, request.user)}


OPERATIONS.update({
    "vaxops_targets_api_set_target": ("", (
        "division_not_found", "target_not_above", "target_metric_unknown", "target_base_unknown",
        "target_base_invalid", "target_value_invalid", "target_due_invalid", "target_ramp_invalid")),
    "vaxops_targets_api_target_progress": ("", ("division_not_found",)),
})
