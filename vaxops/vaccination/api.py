"""Doses: record (idempotent) and void."""

from __future__ import annotations

import datetime as dt
import uuid

from ninja import Router, Schema, Status

from vaxops.core.models import Source
from vaxops.registry.api import ErrorOut
from vaxops.vaccination.models import DoseRecord
from vaxops.vaccination.services import record_dose, void_dose

router = Router(tags=["doses"])


class DoseIn(Schema):
    client_uuid: uuid.UUID
    person_id: int
    product: str
    lot_number: str
    site_code: str
    administered_at: dt.datetime
    override_reason: str | None = None
    dose_number: int | None = None


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


class VoidIn(Schema):
    reason: str


def dose_out(d: DoseRecord) -> dict:
    return {
        "id": d.pk, "client_uuid": d.client_uuid, "person_id": d.person_id, "product": d.product.code,
        "lot_number": d.lot.lot_number, "site_code": d.site.code, "series": d.series,
        "dose_number": d.dose_number, "kind": d.kind, "completes_series": d.completes_series,
        "overdue": d.overdue, "administered_at": d.administered_at, "status": d.status,
        "override_reason": d.override_reason, "void_reason": d.void_reason,
    }


@router.post("", response={200: DoseOut, 201: DoseOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut})
def create_dose(request, payload: DoseIn):
    dose, created = record_dose(
        client_uuid=payload.client_uuid, person_id=payload.person_id, product_code=payload.product,
        lot_number=payload.lot_number, site_code=payload.site_code,
        administered_at=payload.administered_at, override_reason=payload.override_reason,
        dose_number=payload.dose_number, acting_user=request.user, source=Source.API,
    )
    return Status(201 if created else 200, dose_out(dose))


@router.post("/{dose_id}/void", response={200: DoseOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut})
def void(request, dose_id: int, payload: VoidIn):
    return dose_out(void_dose(dose_id=dose_id, reason=payload.reason, acting_user=request.user, source=Source.API))
