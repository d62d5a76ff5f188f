"""Doses: record (idempotent) and void; lists of overrides and retrospective entries."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

from ninja import Field, Query, Router, Schema, Status
from pydantic import field_validator

from vaxops.campaign.services import TZ
from vaxops.core.errors import VaxopsError
from vaxops.core.models import Source
from vaxops.registry.api import ErrorOut
from vaxops.vaccination.models import DoseRecord
from vaxops.vaccination.review import DEFAULT_LIMIT, MAX_LIMIT, review_doses, review_row
from vaxops.vaccination.services import record_dose, void_dose

router = Router(tags=["doses"])

# A date, a time and an explicit offset ("Z" or ±hh:mm): a time without its zone is refused
# rather than read silently in the campaign's zone.
_OFFSET_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})$", re.I)


def parse_offset_datetime(value: Any, field: str = "administered_at") -> dt.datetime:
    """An ISO 8601 date-time with its UTC offset, or ``VaxopsError("invalid_datetime")``
    (a bare date, a number, a zone-less time, anything unparseable)."""
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value
    if not isinstance(value, str) or not _OFFSET_DATETIME.match(value.strip()):
        raise VaxopsError("invalid_datetime", {"field": field})
    try:
        parsed = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise VaxopsError("invalid_datetime", {"field": field}) from None
    if parsed.tzinfo is None:
        raise VaxopsError("invalid_datetime", {"field": field})
    return parsed


class DoseIn(Schema):
    client_uuid: uuid.UUID
    person_id: int
    product: str
    lot_number: str
    site_code: str
    administered_at: dt.datetime = Field(
        description="ISO 8601 with its UTC offset (2021-06-01T10:00:00+08:00); a bare date, a number or a "
        "time without offset is 422 invalid_datetime. Must lie between the campaign's start and now."
    )
    override_reason: str | None = Field(
        None, description="A site manager's written reason for giving a dose whose every refusal reason is "
        "overridable; ignored when the person is eligible; a hard refusal is 422 whatever it says."
    )
    dose_number: int | None = Field(
        None, description="When sent, must be the dose number the rules give (422 dose_number_mismatch), "
        "or 409 dose_already_recorded when that number is already recorded for the person."
    )
    retrospective_reason: str | None = Field(
        None, description="Required (422 retrospective_reason_required) when administered_at lies more than "
        "VAXOPS_RETROSPECTIVE_HOURS before now; only a site manager or county command may record such a dose."
    )
    visit_id: int | None = Field(
        None, description="The visit this dose is given in (docs/visits.md): it must be screened, of this "
        "person and at this site (409 visit_not_screened, visit_person_mismatch, visit_wrong_site); the dose "
        "is linked to it and its observation starts."
    )

    @field_validator("administered_at", mode="before")
    @classmethod
    def _with_offset(cls, value: Any) -> dt.datetime:
        # Raised as VaxopsError (not ValueError) so the answer carries its own code.
        return parse_offset_datetime(value)


class DoseOut(Schema):
    id: int
    client_uuid: uuid.UUID
    person_id: int
    product: str
    lot_number: str
    site_code: str
    series: str
    dose_number: int
    kind: str
    completes_series: bool
    overdue: bool
    administered_at: dt.datetime
    status: str
    override_reason: str
    void_reason: str
    override_codes: list[str] = Field(description="Codes of the refusal reasons a site manager overrode.")
    recorded_at: dt.datetime = Field(description="When the record entered vaxops.")
    recorded_by: str = Field(description="Username of the user who recorded the dose (the vaccinator, or for "
                             "a retrospective entry the site manager or county official who entered it).")
    retrospective: bool = Field(description="Recorded more than VAXOPS_RETROSPECTIVE_HOURS after it was given.")
    retrospective_reason: str


class VoidIn(Schema):
    reason: str


class NamedOut(Schema):
    code: str
    name: str


class RecorderOut(Schema):
    username: str
    name: str


class ReviewPersonOut(Schema):
    id: int
    name: str
    id_number_masked: str


class ReviewReasonOut(Schema):
    code: str
    label: str


class ReviewItemOut(Schema):
    id: int
    recorded_at: dt.datetime
    administered_at: dt.datetime
    recorded_by: RecorderOut
    person: ReviewPersonOut
    site: NamedOut
    product: NamedOut
    dose_number: int
    kind: str
    status: str
    retrospective: bool
    retrospective_reason: str
    override_reason: str
    reasons: list[ReviewReasonOut]


class ReviewListOut(Schema):
    items: list[ReviewItemOut]
    count: int
    limit: int
    offset: int


class ReviewQuery(Schema):
    division: str | None = Field(None, description="A division code within your area (doses given at its sites).")
    date_from: dt.date | None = Field(None, description="First day the record was entered (inclusive).")
    date_to: dt.date | None = Field(None, description="Last day the record was entered (inclusive).")
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)
    offset: int = Field(0, ge=0, le=10_000_000)


def dose_out(d: DoseRecord) -> dict:
    return {
        "id": d.pk, "client_uuid": d.client_uuid, "person_id": d.person_id, "product": d.product.code,
        "lot_number": d.lot.lot_number, "site_code": d.site.code, "series": d.series,
        "dose_number": d.dose_number, "kind": d.kind, "completes_series": d.completes_series,
        "overdue": d.overdue, "administered_at": d.administered_at, "status": d.status,
        "override_reason": d.override_reason, "void_reason": d.void_reason,
        "override_codes": list(d.override_codes or []), "recorded_at": d.recorded_at.astimezone(TZ),
        "recorded_by": d.vaccinator.get_username(), "retrospective": d.retrospective,
        "retrospective_reason": d.retrospective_reason,
    }


@router.post("", response={200: DoseOut, 201: DoseOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut})
def create_dose(request, payload: DoseIn):
    if payload.visit_id is not None:
        return _visit_dose(request, payload)
    dose, created = record_dose(
        client_uuid=payload.client_uuid, person_id=payload.person_id, product_code=payload.product,
        lot_number=payload.lot_number, site_code=payload.site_code,
        administered_at=payload.administered_at, override_reason=payload.override_reason,
        dose_number=payload.dose_number, retrospective_reason=payload.retrospective_reason,
        acting_user=request.user, source=Source.API,
    )
    return Status(201 if created else 200, dose_out(dose))


def _visit_dose(request, payload: DoseIn):
    """The dose of a visit: through ``visits.services.vaccinate_visit`` (the same dose path, the
    visit's link in the dose's transaction)."""
    from vaxops.visits.services import vaccinate_visit

    dose, created = vaccinate_visit(
        payload.visit_id, product_code=payload.product, lot_number=payload.lot_number, acting_user=request.user,
        at=payload.administered_at, client_uuid=payload.client_uuid, source=Source.API,
        site_code=payload.site_code, person_id=payload.person_id,
        override_reason=payload.override_reason, dose_number=payload.dose_number,
        retrospective_reason=payload.retrospective_reason,
    )
    return Status(201 if created else 200, dose_out(dose))


def _review(request, kind: str, query: ReviewQuery) -> dict:
    page = review_doses(
        request.user, kind, division=query.division, date_from=query.date_from, date_to=query.date_to,
        limit=query.limit, offset=query.offset,
    )
    return {"items": [review_row(d) for d in page.rows], "count": page.count, "limit": page.limit,
            "offset": page.offset}


@router.get("/overrides", response={200: ReviewListOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
            summary="Doses given despite a refusal, with the reasons overridden")
def overrides(request, query: Query[ReviewQuery]):
    """Every override in your area (supervisor, county or prefecture command, admin), newest first."""
    return _review(request, "overrides", query)


@router.get("/retrospective", response={200: ReviewListOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
            summary="Doses recorded long after they were given")
def retrospective(request, query: Query[ReviewQuery]):
    """Every retrospective entry in your area (supervisor, county or prefecture command, admin)."""
    return _review(request, "retrospective", query)


@router.post("/{dose_id}/void", response={200: DoseOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut})
def void(request, dose_id: int, payload: VoidIn):
    return dose_out(void_dose(dose_id=dose_id, reason=payload.reason, acting_user=request.user, source=Source.API))


# --- Device sync and its conflicts (issue 7) ---------------------------------------------------


class BatchIn(Schema):
    items: list[Any] = Field(
        description="1 to 500 dose submissions, each the body of POST /api/v1/doses; each is decided on its own.",
        json_schema_extra={"x-items-schema": "DoseIn", "minItems": 1, "maxItems": 500},
    )


class BatchResultOut(Schema):
    client_uuid: uuid.UUID | None = Field(None, description="The item's client_uuid (null when it was unreadable).")
    status: str = Field(description="created | replayed | rejected")
    id: int | None = Field(None, description="The dose record created or replayed.")
    dose_number: int | None = None
    code: str | None = Field(None, description="A rejected item's stable error code, as POST /api/v1/doses.")
    message: str | None = Field(None, description="The rejection in the request's language.")
    detail: dict[str, Any] | None = None
    conflict: int | None = Field(None, description="The sync conflict stored for a person to resolve, if any.")


class BatchOut(Schema):
    results: list[BatchResultOut]


class ConflictUserOut(Schema):
    username: str
    name: str


class ConflictSideOut(Schema):
    client_uuid: uuid.UUID
    product: NamedOut
    lot_number: str | None
    site: NamedOut
    administered_at: dt.datetime | None
    dose_number: int | None
    recorded_by: ConflictUserOut
    dose_id: int | None = Field(None, description="The dose record (for the incoming side: once kept).")
    status: str | None = None


class ConflictOut(Schema):
    id: int
    status: str = Field(description="open | resolving | closed")
    resolution: str = Field(description="'' | kept_existing | kept_incoming")
    reason: str
    code: str
    received_at: dt.datetime
    submitted_by: ConflictUserOut
    resolved_by: ConflictUserOut | None
    resolved_at: dt.datetime | None
    person: ReviewPersonOut
    incoming: ConflictSideOut
    existing: ConflictSideOut


class ConflictListOut(Schema):
    items: list[ConflictOut]
    count: int
    limit: int
    offset: int


class ConflictQuery(Schema):
    status: str | None = Field(None, pattern="^(open|closed)$", description="open (with those being resolved) or closed.")
    site: str | None = Field(None, max_length=40, description="A site code within your area.")
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)
    offset: int = Field(0, ge=0, le=10_000_000)


class ResolveIn(Schema):
    keep: str = Field(description="existing | incoming")
    reason: str = Field(description="Why this record is kept (stored, audited; the void reason of the other).")


@router.post("/batch", response={200: BatchOut, 401: ErrorOut, 403: ErrorOut, 413: ErrorOut, 422: ErrorOut},
             summary="Record a device's batch of doses, each item on its own")
def batch(request, payload: BatchIn):
    """Device sync: each item is answered in the order sent (created, replayed or rejected)."""
    from vaxops.vaccination.sync import sync_batch

    return {"results": sync_batch(payload.items, acting_user=request.user, source=Source.API)}


@router.get("/conflicts", response={200: ConflictListOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
            summary="Sync conflicts to resolve")
def conflicts(request, query: Query[ConflictQuery]):
    """Conflicts of your area (site manager, county or prefecture command, supervisor, admin), newest first."""
    from vaxops.vaccination.conflicts import conflict_row, conflicts_for

    rows = conflicts_for(request.user, status=query.status, site_code=query.site)
    count = rows.count()
    page = list(rows[query.offset:query.offset + query.limit])
    return {"items": [conflict_row(c) for c in page], "count": count, "limit": query.limit, "offset": query.offset}


@router.post("/conflicts/{conflict_id}/resolve",
             response={200: ConflictOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
             summary="Resolve a sync conflict: keep one record, void the other")
def resolve(request, conflict_id: int, payload: ResolveIn):
    """Site manager of the site or county command: keep the existing or the incoming record."""
    from vaxops.vaccination.conflicts import conflict_row, conflicts_for, resolve_conflict

    done = resolve_conflict(conflict_id, keep=payload.keep, reason=payload.reason, acting_user=request.user,
                            source=Source.API)
    return conflict_row(conflicts_for(request.user).get(pk=done.pk))
