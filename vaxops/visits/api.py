"""Visits API: check-in at a session, screening, release, leaving; the live board and the
what-if (docs/visits.md). The dose of a visit goes through ``POST /api/v1/doses`` with
``visit_id`` (vaxops/vaccination/api.py)."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

from django.utils import timezone
from ninja import Field, Router, Schema, Status

from vaxops.campaign.services import TZ
from vaxops.core.errors import VaxopsError
from vaxops.core.models import Source
from vaxops.registry.api import ErrorOut
from vaxops.vaccination.api import parse_offset_datetime
from vaxops.visits import services
from vaxops.visits.board import board
from vaxops.visits.models import Visit
from vaxops.visits.whatif import what_if

router = Router(tags=["visits"])
sessions_router = Router(tags=["visits"])

ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}
_HHMM = re.compile(r"^(\d{1,2}):([0-5]\d)$")


class CheckInIn(Schema):
    client_uuid: uuid.UUID
    person_id: int


class VisitOut(Schema):
    id: int
    ticket: int
    status: str
    session_id: int
    person_id: int
    checked_in_at: dt.datetime
    screened_at: dt.datetime | None
    vaccinated_at: dt.datetime | None
    observation_until: dt.datetime | None
    released_at: dt.datetime | None
    left_at: dt.datetime | None
    left_step: str
    dose_id: int | None
    deferral_id: int | None


class ScreeningIn(Schema):
    outcome: str = Field(description="pass | defer")
    contraindication: str | None = Field(None, description="For defer: a deferral reason code (allergy, "
                                         "severe_allergic_reaction, neurological, acute_illness, "
                                         "uncontrolled_chronic, pregnancy, recent_infection).")
    until: dt.date | None = Field(None, description="For defer: the last day of the deferral (none: until lifted).")
    answers: dict[str, bool] | None = Field(None, description="The screening questions' answers by code.")


class BoardOut(Schema):
    waiting: int
    in_screening: int = Field(description="Screened and waiting for a vaccination station.")
    in_observation: int
    overdue_in_observation: int = Field(description="In observation past their release time.")
    vaccinated: int
    released: int
    deferred: int
    left: int
    checked_in: int
    arrivals_last_hour: int
    throughput_last_hour: int = Field(description="Doses given in the last hour.")
    expected_wait_minutes: float | None
    queue_clears_at: dt.datetime | None
    at: dt.datetime


class WhatIfIn(Schema):
    extra_stations: dict[str, int] | None = Field(
        None, description="Stations to add (or remove, negative) per stage: screening, vaccination, observation.")
    until: str | None = Field(None, description="A moment to count by: ISO 8601 with offset, or HH:MM that day.")
    at: str | None = Field(None, description="The moment to start from (default now; ISO 8601 with offset).")


class DonePointOut(Schema):
    at: dt.datetime
    count: int


class WhatIfOut(Schema):
    done_by: list[DonePointOut]
    queue_clears_at: dt.datetime
    stations: dict[str, int]
    people_inside: int
    replications: int


def visit_out(v: Visit) -> dict[str, Any]:
    def local(value):
        return value.astimezone(TZ) if value else None

    return {
        "id": v.pk, "ticket": v.ticket, "status": v.status, "session_id": v.session_id, "person_id": v.person_id,
        "checked_in_at": local(v.checked_in_at), "screened_at": local(v.screened_at),
        "vaccinated_at": local(v.vaccinated_at), "observation_until": local(v.observation_until),
        "released_at": local(v.released_at), "left_at": local(v.left_at), "left_step": v.left_step,
        "dose_id": v.dose_id, "deferral_id": v.deferral_id,
    }


def moment_param(session, value: str | None, field: str) -> dt.datetime | None:
    """An ISO 8601 moment with its offset, or ``HH:MM`` on the session's day."""
    if value is None or value == "":
        return None
    match = _HHMM.match(value.strip())
    if match:
        hour, minute = int(match.group(1)), int(match.group(2))
        if hour > 23:
            raise VaxopsError("invalid_datetime", {"field": field})
        return dt.datetime.combine(session.date, dt.time(hour, minute), TZ)
    return parse_offset_datetime(value, field)


@sessions_router.post("/{session_id}/visits", response={200: VisitOut, 201: VisitOut, **ERRORS},
                      summary="Check a person in at an open session")
def check_in(request, session_id: int, payload: CheckInIn):
    """Gives the next ticket (201); a retry with the same client_uuid returns the visit (200)."""
    before = Visit.objects.filter(client_uuid=payload.client_uuid).exists()
    visit = services.check_in(session_id, payload.person_id, client_uuid=payload.client_uuid,
                              acting_user=request.user, source=Source.API)
    return Status(200 if before else 201, visit_out(visit))


@sessions_router.get("/{session_id}/board", response={200: BoardOut, **ERRORS}, summary="The session's live board")
def session_board(request, session_id: int, at: str | None = None):
    session = services.scoped_session(session_id, request.user, "board.view")
    when = moment_param(session, at, "at") or timezone.now()
    return board(session, when)


@sessions_router.post("/{session_id}/what-if", response={200: WhatIfOut, **ERRORS},
                      summary="Run the simulator from the live state")
def session_what_if(request, session_id: int, payload: WhatIfIn):
    """E.g. {"extra_stations": {"vaccination": 1}, "until": "10:00"}: people done by each hour and by
    ``until``, and when the queue clears, with the session's stations plus the extra ones."""
    session = services.scoped_session(session_id, request.user, "whatif.run")
    when = moment_param(session, payload.at, "at") or timezone.now()
    return what_if(session, stations=services.station_counts(session), extra_stations=payload.extra_stations,
                   until=moment_param(session, payload.until, "until"), at=when)


@router.get("/{visit_id}", response={200: VisitOut, **ERRORS}, summary="One visit")
def visit_detail(request, visit_id: int):
    return visit_out(services.scoped_visit(visit_id, request.user, "board.view"))


@router.post("/{visit_id}/screening", response={200: VisitOut, **ERRORS}, summary="Record the screening")
def screening(request, visit_id: int, payload: ScreeningIn):
    visit = services.screen(visit_id, outcome=payload.outcome, contraindication=payload.contraindication,
                            until=payload.until, answers=payload.answers, acting_user=request.user, source=Source.API)
    return visit_out(visit)


@router.post("/{visit_id}/release", response={200: VisitOut, **ERRORS}, summary="Release after observation")
def release(request, visit_id: int):
    """409 observation_not_finished before the visit's observation_until."""
    return visit_out(services.release(visit_id, acting_user=request.user, source=Source.API))


@router.post("/{visit_id}/leave", response={200: VisitOut, **ERRORS}, summary="The person left before release")
def leave(request, visit_id: int):
    return visit_out(services.leave(visit_id, acting_user=request.user, source=Source.API))
