"""Sessions: /api/v1/sessions (docs/sessions.md).

Thin: every read goes through ``vaxops.access.scope``, every write is one service of
``vaxops.sites.sessions``; errors are the services' ``{code, message, detail}``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.encoding import force_str
from ninja import Field, Query, Router, Schema, Status

from vaxops.access.scope import get_scoped, require, restrict
from vaxops.core.errors import VaxopsError
from vaxops.core.models import Source
from vaxops.core.schema import RowId
from vaxops.registry.api import ErrorOut
from vaxops.sites import sessions as service
from vaxops.sites.models import Session, SessionKind, SessionStatus, Site

router = Router(tags=["sessions"])

ERRORS = {403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}
READ_ERRORS = {403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


class StopIn(Schema):
    division_code: str = Field(max_length=15, description="The village (a division of the site's county).")
    at: dt.time | None = Field(None, description="The team's arrival time, HH:MM (within the session's hours).")


class SessionIn(Schema):
    site: str = Field(max_length=32, description="The site's code.")
    date: str = Field(max_length=10, description="The day, YYYY-MM-DD.")
    kind: str = Field(max_length=16, description="fixed | outreach | mobile | point_to_point")
    opens_at: dt.time = Field(description="HH:MM")
    closes_at: dt.time = Field(description="HH:MM, after opens_at")
    planned_doses: int = Field(0, ge=0, le=1_000_000)
    organisation: str | None = Field(None, max_length=120,
                                     description="The university, temple or enterprise a point-to-point session serves.")
    products: list[str] = Field(default_factory=list, max_length=20, description="Product codes.")
    stops: list[StopIn] = Field(default_factory=list, max_length=100, description="An outreach session's stops, in order.")


class CreatedOut(Schema):
    id: int
    status: str


class StopOut(Schema):
    position: int
    division_code: str
    division_name: str
    at: str | None


class SessionOut(Schema):
    id: int
    site: str
    site_name: str
    date: dt.date
    kind: str
    kind_name: str
    status: str = Field(description="planned | open | closed")
    status_name: str
    opens_at: str | None
    closes_at: str | None
    planned_doses: int
    organisation: str
    products: list[str]
    stops: list[StopOut]
    opened_at: dt.datetime | None
    closed_at: dt.datetime | None
    figures: dict[str, Any] = Field(description="Final once the session is closed (doses, wastage, …).")


class SessionList(Schema):
    items: list[SessionOut]
    count: int


class StatusOut(Schema):
    id: int
    status: str
    figures: dict[str, Any] | None = None


def _hhmm(value: dt.time | None) -> str | None:
    return value.strftime("%H:%M") if value else None


def session_out(s: Session) -> dict[str, Any]:
    return {
        "id": s.pk, "site": s.site.code, "site_name": s.site.name, "date": s.date, "kind": s.kind,
        "kind_name": force_str(SessionKind(s.kind).label), "status": s.status,
        "status_name": force_str(SessionStatus(s.status).label),
        "opens_at": _hhmm(s.opens_at), "closes_at": _hhmm(s.closes_at), "planned_doses": s.planned_doses,
        "organisation": s.organisation, "products": [p.code for p in s.products.all()],
        "stops": [{"position": x.position, "division_code": x.division.code, "division_name": x.division.name,
                   "at": _hhmm(x.arrives_at)} for x in s.stops.all()],
        "opened_at": s.opened_at, "closed_at": s.closed_at, "figures": s.figures or {},
    }


def _sessions():
    return Session.objects.select_related("site__division").prefetch_related("products", "stops__division")


def _day(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise VaxopsError("invalid_date", {"field": "date"}) from None


def _scoped(request, session_id: int, action: str) -> Session:
    return get_scoped(_sessions(), request.user, action, not_found="session_not_found",
                      detail={"session_id": session_id}, pk=session_id)


@router.post("", response={201: CreatedOut, **ERRORS})
def create_session(request, payload: SessionIn):
    """Plan a session (201 ``{id, status: "planned"}``)."""
    require(request.user, "session.plan")
    session = service.create_session(
        site=payload.site, date=payload.date, kind=payload.kind, opens_at=payload.opens_at,
        closes_at=payload.closes_at, planned_doses=payload.planned_doses, products=payload.products,
        organisation=payload.organisation or "", stops=[(s.division_code, s.at) for s in payload.stops],
        acting_user=request.user, source=Source.API,
    )
    return Status(201, {"id": session.pk, "status": session.status})


@router.get("", response={200: SessionList, **READ_ERRORS})
def list_sessions(request, site: str | None = Query(None, max_length=32), date: str | None = Query(None, max_length=10)):
    """The sessions of your area (at most 500, latest day first); ``site`` and ``date`` filter."""
    require(request.user, "session.view")
    rows = restrict(_sessions(), request.user, "session.view")
    if site:
        found = get_scoped(Site.objects.select_related("division"), request.user, "session.view",
                           not_found="site_not_found", detail={"site_code": site}, code=site)
        rows = rows.filter(site=found)
    day = _day(date)
    if day is not None:
        rows = rows.filter(date=day)
    items = [session_out(s) for s in rows.order_by("-date", "site__code", "opens_at", "pk")[:500]]
    return {"items": items, "count": len(items)}


@router.get("/{session_id}", response={200: SessionOut, **READ_ERRORS})
def get_session(request, session_id: RowId):
    return session_out(_scoped(request, session_id, "session.view"))


@router.post("/{session_id}/open", response={200: StatusOut, **ERRORS})
def open_session(request, session_id: RowId):
    """Open the session (200 ``{status: "open"}``) or 409 ``readiness_incomplete`` with the missing items."""
    session = _scoped(request, session_id, "session.open")
    session = service.open_session(session, acting_user=request.user, source=Source.API)
    return {"id": session.pk, "status": session.status}


@router.post("/{session_id}/close", response={200: StatusOut, **ERRORS})
def close_session(request, session_id: RowId):
    """Close the session: its figures are final (returned)."""
    session = _scoped(request, session_id, "session.close")
    session = service.close_session(session, acting_user=request.user, source=Source.API)
    return {"id": session.pk, "status": session.status, "figures": session.figures}
