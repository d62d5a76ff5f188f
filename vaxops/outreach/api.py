"""Work lists and contact attempts: GET /api/v1/worklists, POST /api/v1/outreach and
GET /api/v1/outreach/rollup (docs/outreach.md).

Thin: reads through ``vaxops.access.scope`` (``worklists``), the one write is
``services.record_contact``; errors are the services' ``{code, message, detail}``.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status

from vaxops.access.scope import require, restrict
from vaxops.core.models import Source
from vaxops.core.schema import RowId
from vaxops.outreach import services, worklists
from vaxops.outreach.rollup import rollup
from vaxops.registry.api import ErrorOut

worklists_router = Router(tags=["outreach"])
router = Router(tags=["outreach"])

ERRORS = {403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}
READ_ERRORS = {403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


def _today() -> dt.date:
    from vaxops.campaign.services import TZ

    return timezone.now().astimezone(TZ).date()


class WorklistQuery(Schema):
    division: str = Field(..., max_length=15, description="The grid, village, township or county code.")
    kind: str = Field("unvaccinated", max_length=16, description="unvaccinated | due | overdue | booster")
    on: dt.date | None = Field(None, description="The day of the list (default today, Asia/Shanghai).")
    limit: int = Field(100, ge=1, le=worklists.MAX_LIMIT)
    offset: int = Field(0, ge=0, le=10**9)


class WorkItemOut(Schema):
    person_id: int
    name: str
    id_number_masked: str
    age: int
    phone: str = Field(description="Full for a grid worker's own grid, else masked.")
    household: str = Field(description="The home division (village, community or grid) by name.")
    division_code: str
    kind: str
    dose_number: int
    due_date: dt.date | None
    overdue_on: dt.date | None = Field(description="The due-by day of a next dose: overdue after it.")
    list_date: dt.date | None = Field(description="The day they came onto the list (a hold may end after due).")
    priority_groups: list[str]
    last_outcome: str | None
    last_contact_at: dt.datetime | None


class WorklistOut(Schema):
    items: list[WorkItemOut]
    count: int = Field(description="How many are on the list; at most 1,000 (then count_capped).")
    count_capped: bool = Field(False, description="The list holds more than the count (1,000): counting stopped.")
    kind: str
    division_code: str
    on: dt.date


class ContactIn(Schema):
    client_uuid: uuid.UUID
    person_id: RowId
    channel: str = Field(..., max_length=16, description="phone | visit | household")
    outcome: str = Field(..., max_length=32, description="An outcome code (docs/outreach.md).")
    until: dt.date | None = Field(None, description="Away or deferred until (not in the past).")
    note: str | None = Field(None, max_length=500)
    session_id: RowId | None = Field(None, description="The session booked (outcome booked).")
    concern: str | None = Field(None, max_length=16, description="Why a resident refuses (outcome refused).")
    place: str | None = Field(None, max_length=16, description="in_county | out_of_county (outcome away).")
    reason: str | None = Field(None, max_length=32, description="The contraindication (outcome contraindicated).")
    duplicate_of: RowId | None = Field(None, description="The record to keep (outcome duplicate).")
    at: dt.datetime | None = Field(None, description="When the attempt was made (default now).")


class ContactOut(Schema):
    id: int
    person_id: int
    channel: str
    outcome: str
    at: dt.datetime
    until: dt.date | None
    last_outcome: str | None
    on_list_from: dt.date | None = Field(description="The day the person is back on a list (none: off the lists).")


class RollupQuery(Schema):
    division: str = Field(..., max_length=15)
    at: dt.datetime | None = None


class RollupRow(Schema):
    division_code: str
    name: str
    contacted: int
    reached: int
    booked: int
    refused: int
    away: int
    unreached: int


class RollupOut(RollupRow):
    children: list[RollupRow] = Field(description="The child divisions, the most unreached first.")


@worklists_router.get("", response={200: WorklistOut, **READ_ERRORS})
def get_worklist(request, query: Query[WorklistQuery]):
    """The residents of a grid (village, township, county) who are due: never vaccinated,
    due soon or overdue for their next dose, due for a booster; 60+ and key groups first."""
    require(request.user, "outreach.view")
    if query.kind not in worklists.KINDS:
        worklists.in_kind(query.kind, _today())  # raises unknown_worklist_kind
    division = worklists.scoped_division(request.user, query.division)
    return worklists.worklist(request.user, division, query.kind, query.on or _today(), limit=query.limit,
                              offset=query.offset)


@router.post("", response={200: ContactOut, 201: ContactOut, **ERRORS})
def post_contact(request, payload: ContactIn):
    """Record a contact attempt and its outcome (201; a retry with the same client_uuid: 200)."""
    from vaxops.outreach.models import DueEntry

    attempt, created = services.record_contact(
        client_uuid=payload.client_uuid, person_id=payload.person_id, channel=payload.channel,
        outcome=payload.outcome, until=payload.until, note=payload.note or "", session_id=payload.session_id,
        concern=payload.concern or "", place=payload.place or "", reason=payload.reason or "",
        duplicate_of=payload.duplicate_of, at=payload.at, acting_user=request.user, source=Source.API,
    )
    entry = DueEntry.objects.filter(person_id=attempt.person_id).first()
    listed = entry is not None and entry.kind in ("first", "next", "booster")
    return Status(201 if created else 200, {
        "id": attempt.pk, "person_id": attempt.person_id, "channel": attempt.channel, "outcome": attempt.outcome,
        "at": attempt.at, "until": attempt.until, "last_outcome": entry.last_outcome if entry else None,
        "on_list_from": entry.list_date if listed else None,
    })


@router.get("/rollup", response={200: RollupOut, **READ_ERRORS})
def get_rollup(request, query: Query[RollupQuery]):
    """Reached, booked, refused, away and unreached residents of a division and its children."""
    require(request.user, "outreach.view")
    division = worklists.scoped_division(request.user, query.division)
    at = query.at or timezone.now()
    return rollup(division, at, _today(), restrict_to=lambda qs: restrict(qs, request.user, "outreach.view"))
