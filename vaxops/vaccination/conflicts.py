"""Sync conflicts: a device's dose refused because another user had already recorded that dose
for the person. The submission is kept in full for a person to resolve; nothing is merged.

Writers (each one durable transaction with its audit event):

- ``record_conflict`` — called by device sync for an item refused with ``dose_already_recorded``
  (dose N taken, or a dose of the series already recorded that day) when the existing record was
  made by another user. One conflict per incoming ``client_uuid``: a resent batch finds the
  conflict it raised the first time and writes nothing.
- ``resolve_conflict`` — the site manager of the incoming submission's site or the county
  command of its county keeps one record and voids the other, with a written reason.

Reads go through ``access.scope`` (``conflict.view``, ``conflict.resolve``); a conflict is placed
at the incoming submission's site.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import dataclass
from typing import Any, Literal

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from vaxops.access.scope import get_scoped, require, restrict
from vaxops.campaign.services import bump_counter
from vaxops.core.audit import audit
from vaxops.core.errors import VaxopsError
from vaxops.sites.models import Site
from vaxops.vaccination.models import (
    ConflictResolution,
    ConflictStatus,
    DoseConflict,
    DoseRecord,
    DoseStatus,
)

logger = logging.getLogger(__name__)

CONFLICT_CODES = frozenset({"dose_already_recorded"})
# A claim older than this belongs to a resolver whose request died half-way; the next resolver
# repairs what it left (see ``resolve_conflict``) and takes over.
CLAIM_TIMEOUT = dt.timedelta(minutes=2)
Keep = Literal["existing", "incoming"]


def record_conflict(
    payload: dict[str, Any],
    error: VaxopsError,
    *,
    client_uuid: uuid.UUID,
    person_id: int,
    site_code: str,
    acting_user: Any,
    source: str,
) -> DoseConflict | None:
    """The conflict this refused submission raises (stored once), or ``None`` when it is none.

    A conflict is a refusal in ``CONFLICT_CODES`` whose existing record (``error.detail["id"]``)
    is still valid and was recorded by another user. The same user's own second entry is not a
    conflict: they are told at once that the dose is recorded. A resent submission returns the
    conflict stored the first time (only to the user who sent it), whatever it holds now.
    """
    found = DoseConflict.objects.filter(client_uuid=client_uuid).first()
    if found is not None:
        return found if found.submitted_by_id == acting_user.pk else None
    existing_id = error.detail.get("id") if error.code in CONFLICT_CODES else None
    if not isinstance(existing_id, int):
        return None
    existing = DoseRecord.objects.filter(pk=existing_id, status=DoseStatus.VALID).only("pk", "vaccinator_id").first()
    site = Site.objects.filter(code=site_code).only("pk", "county_code").first()
    if existing is None or site is None or existing.vaccinator_id == acting_user.pk:
        return None
    conflict = DoseConflict(
        client_uuid=client_uuid, payload=payload, code=error.code, submitted_by=acting_user,
        received_at=timezone.now(), source=source, person_id=person_id, existing_dose_id=existing.pk,
        site_id=site.pk, county_code=site.county_code,
    )
    try:
        with transaction.atomic(durable=True):
            conflict.save(force_insert=True)
            audit("conflict.open", conflict, actor=acting_user, source=source, county_code=site.county_code,
                  after={"client_uuid": str(client_uuid), "existing_dose": existing.pk, "person": person_id,
                         "site": site_code, "code": error.code, "payload": payload})
    except IntegrityError:
        # The same submission raised it a moment ago in another request (a resent batch).
        found = DoseConflict.objects.filter(client_uuid=client_uuid).first()
        return found if found is not None and found.submitted_by_id == acting_user.pk else None
    return conflict


# --- Reading -----------------------------------------------------------------------------------


def conflicts_for(user: Any, *, status: str | None = None, site_code: str | None = None) -> QuerySet[DoseConflict]:
    """Conflicts within the user's area (``conflict.view``), newest first; ``status`` "open"
    (with those being resolved) or "closed"; ``site_code`` a site within the area."""
    require(user, "conflict.view")
    queryset = restrict(DoseConflict.objects.all(), user, "conflict.view")
    if status == "open":
        queryset = queryset.exclude(status=ConflictStatus.CLOSED)
    elif status == "closed":
        queryset = queryset.filter(status=ConflictStatus.CLOSED)
    if site_code:
        queryset = queryset.filter(site__code=site_code)
    return queryset.select_related(
        "site", "person", "submitted_by", "resolved_by", "existing_dose__product", "existing_dose__site",
        "existing_dose__lot", "existing_dose__vaccinator", "incoming_dose",
    ).order_by("-received_at", "-id")


def kept_incoming(client_uuid: uuid.UUID, acting_user: Any) -> DoseRecord | None:
    """The record made from this user's submission when a resolver kept it, or ``None``.

    A resolver records the incoming dose under the device's ``client_uuid``; when that record is
    a retrospective entry the device's own user could not have made it, so the resend would be
    refused ``idempotency_conflict``: sync answers it as the replay it is.
    """
    conflict = (DoseConflict.objects.filter(client_uuid=client_uuid, submitted_by_id=acting_user.pk,
                                            resolution=ConflictResolution.KEPT_INCOMING)
                .select_related("incoming_dose").first())
    return conflict.incoming_dose if conflict is not None else None


# --- Resolving ---------------------------------------------------------------------------------


@dataclass
class _Claim:
    conflict: DoseConflict
    claimed_at: dt.datetime


def resolve_conflict(
    conflict_id: int, *, keep: str, reason: str, acting_user: Any, source: str
) -> DoseConflict:
    """Keep one of the two records, with a written reason; returns the closed conflict.

    ``keep="existing"``: the conflict is closed with the reason; the incoming submission is never
    recorded. ``keep="incoming"``: the existing dose is voided with the reason (``void_dose``),
    then the incoming submission is recorded by the resolver (``record_dose``, with the reason as
    its retrospective reason when it is one), then the conflict is closed, pointing at the new
    record. Every step is audited. A refused step leaves the conflict open and raises its error.

    Why not one transaction: ``void_dose`` and ``record_dose`` each run one *durable* transaction
    (they cannot be nested in an outer one), and the database allows one valid dose N per person,
    so the existing dose must be voided *before* the incoming one can be recorded. The steps are
    therefore made safe one by one:

    1. *Claim* (one transaction): the conflict, locked, must be open; it becomes ``resolving``,
       claimed by the resolver, so no second resolver can run the steps at the same time
       (``conflict_busy``); a closed one is ``conflict_closed``.
    2. *Void* the existing dose (if still valid), then *record* the incoming one. If recording is
       refused (lot since quarantined, person out of reach, the resolver's role…), the void must
       not stand: the existing dose is *reinstated* at once (``dose.reinstate``: valid again, its
       counter restored, audited with the refusal), and the conflict is released (open again).
       Should another dose N have been recorded for the person in the gap, the reinstatement is
       refused by the unique index and the existing dose stays voided: the person still holds
       exactly one valid dose N, which is the rule that matters.
    3. *Close* (one transaction): resolution, reason, resolver, the new record.

    If the process dies between steps, the conflict stays ``resolving`` with its claim time. After
    ``CLAIM_TIMEOUT`` the next resolver's claim first repairs what was left: an incoming record
    already made means the resolution happened (the conflict is closed as kept-incoming and the
    caller told ``conflict_closed``); an existing dose voided since the claim without an incoming
    record is reinstated; then the new resolution runs from step 2.
    """
    require(acting_user, "conflict.resolve")
    if keep not in ("existing", "incoming"):
        raise VaxopsError("invalid_resolution", {"keep": str(keep)[:40]})
    reason = (reason or "").strip()
    if not reason:
        raise VaxopsError("conflict_reason_required")
    claim = _claim(conflict_id, acting_user, source)
    try:
        incoming = None
        if keep == "incoming":
            incoming = _replace_existing(claim.conflict, reason=reason, acting_user=acting_user, source=source)
        return _close(claim, keep=keep, reason=reason, incoming=incoming, acting_user=acting_user, source=source)
    except BaseException:
        _release(claim, acting_user=acting_user, source=source)
        raise


def _claim(conflict_id: int, acting_user: Any, source: str) -> _Claim:
    repaired = False
    with transaction.atomic(durable=True):
        conflict = get_scoped(
            DoseConflict.objects.select_for_update(of=("self",)).select_related("existing_dose"),
            acting_user, "conflict.resolve", not_found="conflict_not_found", detail={"id": conflict_id},
            pk=conflict_id,
        )
        now = timezone.now()
        if conflict.status == ConflictStatus.CLOSED:
            raise VaxopsError("conflict_closed", {"id": conflict.pk})
        if conflict.status == ConflictStatus.RESOLVING:
            if conflict.claimed_at and now - conflict.claimed_at < CLAIM_TIMEOUT:
                raise VaxopsError("conflict_busy", {"id": conflict.pk})
            repaired = _repair(conflict, acting_user=acting_user, source=source)
        if not repaired:
            conflict.status, conflict.claimed_at, conflict.claimed_by = ConflictStatus.RESOLVING, now, acting_user
            conflict.save(update_fields=["status", "claimed_at", "claimed_by"])
            audit("conflict.claim", conflict, actor=acting_user, source=source, county_code=conflict.county_code,
                  after={"status": ConflictStatus.RESOLVING})
    if repaired:
        raise VaxopsError("conflict_closed", {"id": conflict.pk})
    return _Claim(conflict, now)


def _repair(conflict: DoseConflict, *, acting_user: Any, source: str) -> bool:
    """Finish or undo a resolution that stopped half-way (inside the claim's transaction);
    returns True when it had in fact completed (the conflict is now closed)."""
    made = DoseRecord.objects.filter(client_uuid=conflict.client_uuid).first()
    if made is not None:
        conflict.status, conflict.resolution = ConflictStatus.CLOSED, ConflictResolution.KEPT_INCOMING
        conflict.incoming_dose, conflict.resolved_at = made, timezone.now()
        conflict.resolved_by_id = conflict.claimed_by_id
        conflict.reason = conflict.existing_dose.void_reason
        conflict.save()
        audit("conflict.resolve", conflict, actor=acting_user, source=source, county_code=conflict.county_code,
              after={"resolution": conflict.resolution, "incoming_dose": made.pk, "repaired": True})
        return True
    existing = conflict.existing_dose
    if existing.status == DoseStatus.VOIDED and existing.voided_at and conflict.claimed_at \
            and existing.voided_at >= conflict.claimed_at:
        try:
            with transaction.atomic():
                _reinstate_in_transaction(existing.pk, acting_user=acting_user, source=source,
                                          why=f"resolution of conflict {conflict.pk} stopped before recording")
        except IntegrityError:
            logger.warning("conflict %s: existing dose %s not reinstated, dose N taken meanwhile",
                           conflict.pk, existing.pk)
    return False


def _replace_existing(conflict: DoseConflict, *, reason: str, acting_user: Any, source: str) -> DoseRecord:
    """Void the existing dose, record the incoming one; undo the void if recording is refused."""
    from vaxops.vaccination.api import parse_offset_datetime
    from vaxops.vaccination.services import record_dose, void_dose

    payload = conflict.payload
    administered_at = parse_offset_datetime(payload.get("administered_at"))
    voided = False
    if conflict.existing_dose.status == DoseStatus.VALID:
        void_dose(dose_id=conflict.existing_dose_id, reason=reason, acting_user=acting_user, source=source)
        voided = True
    try:
        dose, _created = record_dose(
            client_uuid=conflict.client_uuid, person_id=conflict.person_id, product_code=payload.get("product"),
            lot_number=payload.get("lot_number"), site_code=payload.get("site_code"),
            administered_at=administered_at, acting_user=acting_user, source=source,
            override_reason=payload.get("override_reason"), dose_number=payload.get("dose_number"),
            retrospective_reason=payload.get("retrospective_reason") or reason,
        )
    except BaseException as exc:
        if voided:
            code = getattr(exc, "code", type(exc).__name__)
            try:
                with transaction.atomic(durable=True):
                    _reinstate_in_transaction(
                        conflict.existing_dose_id, acting_user=acting_user, source=source,
                        why=f"recording the incoming dose was refused ({code})",
                    )
            except IntegrityError:
                # Another dose N was recorded for the person in the gap: it stands, this stays voided.
                logger.warning("conflict %s: existing dose %s not reinstated, dose N taken meanwhile",
                               conflict.pk, conflict.existing_dose_id)
        raise
    return dose


def _reinstate_in_transaction(dose_id: int, *, acting_user: Any, source: str, why: str) -> None:
    """Make a dose voided by a conflict resolution valid again (inside a transaction): status,
    void fields and counters back, with a ``dose.reinstate`` audit event."""
    dose = (DoseRecord.objects.select_for_update(of=("self",))
            .select_related("division", "residence_division").get(pk=dose_id))
    if dose.status != DoseStatus.VOIDED:
        return
    before = {"status": dose.status, "reason": dose.void_reason}
    dose.status, dose.void_reason, dose.voided_at, dose.voided_by = DoseStatus.VALID, "", None, None
    with transaction.atomic():  # a savepoint: a unique-index refusal leaves the outer block usable
        dose.save(update_fields=["status", "void_reason", "voided_at", "voided_by"])
    bump_counter(dose, +1, path=dose.division.path,
                 residence_path=dose.residence_division.path if dose.residence_division_id else None)
    from vaxops.outreach.duetable import refresh

    refresh([dose.person_id])  # the dose counts again: the work lists' due row follows
    audit("dose.reinstate", dose, actor=acting_user, source=source, county_code=dose.county_code,
          before=before, after={"status": DoseStatus.VALID, "why": why})


def _close(claim: _Claim, *, keep: str, reason: str, incoming: DoseRecord | None, acting_user: Any,
           source: str) -> DoseConflict:
    with transaction.atomic(durable=True):
        conflict = DoseConflict.objects.select_for_update().get(pk=claim.conflict.pk)
        if conflict.status != ConflictStatus.RESOLVING or conflict.claimed_by_id != acting_user.pk \
                or conflict.claimed_at != claim.claimed_at:
            raise VaxopsError("conflict_busy", {"id": conflict.pk})
        conflict.status = ConflictStatus.CLOSED
        conflict.resolution = ConflictResolution.KEPT_EXISTING if keep == "existing" else ConflictResolution.KEPT_INCOMING
        conflict.reason, conflict.resolved_at, conflict.resolved_by = reason, timezone.now(), acting_user
        conflict.incoming_dose = incoming
        conflict.save(update_fields=["status", "resolution", "reason", "resolved_at", "resolved_by", "incoming_dose"])
        audit("conflict.resolve", conflict, actor=acting_user, source=source, county_code=conflict.county_code,
              before={"status": ConflictStatus.OPEN},
              after={"status": ConflictStatus.CLOSED, "resolution": conflict.resolution, "reason": reason,
                     "existing_dose": conflict.existing_dose_id, "incoming_dose": incoming.pk if incoming else None})
    return conflict


def _release(claim: _Claim, *, acting_user: Any, source: str) -> None:
    """Open the conflict again after a refused step (only if the claim is still this one)."""
    conflict = claim.conflict
    try:
        with transaction.atomic(durable=True):
            released = DoseConflict.objects.filter(
                pk=conflict.pk, status=ConflictStatus.RESOLVING, claimed_at=claim.claimed_at,
            ).update(status=ConflictStatus.OPEN, claimed_at=None, claimed_by=None)
            if released:
                audit("conflict.release", conflict, actor=acting_user, source=source,
                      county_code=conflict.county_code, after={"status": ConflictStatus.OPEN})
    except Exception:  # noqa: BLE001 - the claim then times out (CLAIM_TIMEOUT) and is repaired
        logger.exception("could not release the claim on conflict %s", claim.conflict.pk)


# --- As a person reads it ----------------------------------------------------------------------


def _user(user: Any) -> dict[str, str] | None:
    if user is None:
        return None
    return {"username": user.get_username(), "name": user.get_full_name() or user.get_username()}


def conflict_row(conflict: DoseConflict) -> dict[str, Any]:
    """One conflict with both records side by side (names in the active language, ID masked)."""
    from vaxops.vaccination.api import parse_offset_datetime
    from vaxops.vaccination.services import catalog_products

    payload, existing = conflict.payload, conflict.existing_dose
    product = catalog_products().get(payload.get("product"))
    try:
        administered_at = parse_offset_datetime(payload.get("administered_at"))
    except VaxopsError:
        administered_at = None
    return {
        "id": conflict.pk,
        "status": conflict.status,
        "resolution": conflict.resolution,
        "reason": conflict.reason,
        "code": conflict.code,
        "received_at": conflict.received_at,
        "submitted_by": _user(conflict.submitted_by),
        "resolved_by": _user(conflict.resolved_by),
        "resolved_at": conflict.resolved_at,
        "person": {"id": conflict.person_id, "name": conflict.person.name,
                   "id_number_masked": conflict.person.id_number_masked},
        "incoming": {
            "client_uuid": conflict.client_uuid,
            "product": {"code": payload.get("product"), "name": product.name if product else payload.get("product")},
            "lot_number": payload.get("lot_number"),
            "site": {"code": conflict.site.code, "name": conflict.site.name},
            "administered_at": administered_at,
            "dose_number": conflict.incoming_dose.dose_number if conflict.incoming_dose
            else payload.get("dose_number") or existing.dose_number,
            "recorded_by": _user(conflict.submitted_by),
            "dose_id": conflict.incoming_dose_id,
        },
        "existing": {
            "client_uuid": existing.client_uuid,
            "product": {"code": existing.product.code, "name": existing.product.name},
            "lot_number": existing.lot.lot_number,
            "site": {"code": existing.site.code, "name": existing.site.name},
            "administered_at": existing.administered_at,
            "dose_number": existing.dose_number,
            "recorded_by": _user(existing.vaccinator),
            "dose_id": existing.pk,
            "status": existing.status,
        },
    }
