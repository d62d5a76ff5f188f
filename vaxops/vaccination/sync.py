"""Device sync: a batch of dose submissions (``POST /api/v1/doses/batch``), each item on its own.

A device that worked offline sends what it recorded, up to ``MAX_ITEMS`` items, each the body of
``POST /api/v1/doses``. Every item is answered, in the order sent: ``created``, ``replayed`` (the
same submission was recorded before: its first record) or ``rejected`` with the code, message
and detail ``POST /api/v1/doses`` would have answered. A malformed item (not an object, a field
of the wrong type) rejects only itself (``invalid_request`` naming the field). The items that
parse are written by one ``record_doses`` call, the one write path of doses; a refusal that is a
conflict with another user's record is stored for a person to resolve
(``vaccination.conflicts``) and its result carries the conflict's id.

Sending the same batch again gives the same results and writes nothing: recorded items replay,
refused ones are refused again, and a conflict is stored once per incoming ``client_uuid``. Once
a resolver has kept an incoming submission, its resend replays the record made from it.
"""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import ValidationError

from vaxops.access.scope import require
from vaxops.core.errors import VaxopsError
from vaxops.vaccination.batch import DoseItem, record_doses
from vaxops.vaccination.conflicts import CONFLICT_CODES, kept_incoming, record_conflict

MAX_ITEMS = 500


def _key(raw: Any) -> uuid.UUID | None:
    value = raw.get("client_uuid") if isinstance(raw, dict) else None
    if isinstance(value, str | uuid.UUID):
        try:
            return uuid.UUID(str(value))
        except ValueError:
            return None
    return None


def _invalid(index: int, exc: ValidationError) -> VaxopsError:
    errors = [
        {"loc": [str(p) for p in e.get("loc", ())], "type": e.get("type"), "msg": e.get("msg")}
        for e in exc.errors(include_url=False, include_context=False, include_input=False)
    ]
    field = errors[0]["loc"][0] if errors and errors[0]["loc"] else None
    return VaxopsError("invalid_request", {"index": index, "field": field, "errors": errors})


def _rejected(client_uuid: uuid.UUID | None, error: VaxopsError, conflict_id: int | None = None) -> dict[str, Any]:
    result = {"client_uuid": client_uuid, "status": "rejected", "code": error.code, "message": error.message,
              "detail": error.detail}
    if conflict_id is not None:
        result["conflict"] = conflict_id
    return result


def sync_batch(items: Any, *, acting_user: Any, source: str) -> list[dict[str, Any]]:
    """Record a device's batch; one result per item, in the order sent.

    Refused as a whole, writing nothing: a user who may not sync (``dose.sync``: site staff),
    an empty batch (``batch_empty``) or one over ``MAX_ITEMS`` (``batch_too_large``). Otherwise
    every item stands alone; an item naming a site outside the user's area is rejected
    ``site_not_found`` like any other refusal.
    """
    from vaxops.vaccination.api import DoseIn

    require(acting_user, "dose.sync")
    if not isinstance(items, list):
        raise VaxopsError("invalid_request", {"field": "items"})
    if not items:
        raise VaxopsError("batch_empty")
    if len(items) > MAX_ITEMS:
        raise VaxopsError("batch_too_large", {"limit": MAX_ITEMS, "count": len(items)})

    results: list[dict[str, Any] | None] = [None] * len(items)
    parsed: list[tuple[int, Any]] = []
    for index, raw in enumerate(items):
        if not isinstance(raw, dict):
            results[index] = _rejected(None, VaxopsError(
                "invalid_request", {"index": index, "field": None, "reason": "not an object"}))
            continue
        try:
            parsed.append((index, DoseIn.model_validate(raw)))
        except ValidationError as exc:
            results[index] = _rejected(_key(raw), _invalid(index, exc))
        except VaxopsError as exc:  # the schema's own checks (invalid_datetime)
            results[index] = _rejected(_key(raw), VaxopsError(exc.code, {"index": index, **exc.detail}))

    doses = [
        DoseItem(
            client_uuid=d.client_uuid, product_code=d.product, lot_number=d.lot_number, site_code=d.site_code,
            administered_at=d.administered_at, person_id=d.person_id, dose_number=d.dose_number,
            override_reason=d.override_reason, retrospective_reason=d.retrospective_reason,
        )
        for _, d in parsed
    ]
    outcomes = record_doses(doses, acting_user=acting_user, source=source) if doses else []
    for (index, item), outcome in zip(parsed, outcomes, strict=True):
        if outcome.status != "rejected":
            record = outcome.record
            results[index] = {"client_uuid": item.client_uuid, "status": outcome.status, "id": record.pk,
                              "dose_number": record.dose_number}
            continue
        error = outcome.error
        kept = kept_incoming(item.client_uuid, acting_user) if error.code == "idempotency_conflict" else None
        if kept is not None:
            results[index] = {"client_uuid": item.client_uuid, "status": "replayed", "id": kept.pk,
                              "dose_number": kept.dose_number}
            continue
        conflict = None
        if error.code in CONFLICT_CODES:
            conflict = record_conflict(
                item.model_dump(mode="json"), error, client_uuid=item.client_uuid, person_id=item.person_id,
                site_code=item.site_code, acting_user=acting_user, source=source,
            )
        results[index] = _rejected(item.client_uuid, error, conflict.pk if conflict else None)
    return results  # type: ignore[return-value]
