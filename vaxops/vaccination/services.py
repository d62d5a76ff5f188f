"""Recording and voiding doses: the only writers of DoseRecord."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from vaxops.access.scope import can, get_scoped, require, restrict
from vaxops.campaign.services import TZ, bump_counter
from vaxops.catalog import rules
from vaxops.catalog.models import Product
from vaxops.core.audit import audit
from vaxops.core.errors import VaxopsError
from vaxops.regions.models import age_band
from vaxops.registry.models import Person, PersonStatus
from vaxops.sites.models import Session, SessionKind, Site, SiteKind
from vaxops.supply.models import Lot, LotStatus
from vaxops.vaccination.models import DoseKind, DoseRecord, DoseStatus

# Reasons no one may override: waiting is the only remedy, or the dose would be meaningless.
HARD_REASONS = frozenset({"min_interval", "series_complete", "not_born", "unknown_product"})
# Device clocks drift; a dose stamped a little ahead of the server is not "in the future".
CLOCK_SKEW = dt.timedelta(minutes=5)

SESSION_KIND_FOR_SITE = {
    SiteKind.MOBILE_TEAM: SessionKind.MOBILE,
    SiteKind.POINT_TO_POINT: SessionKind.POINT_TO_POINT,
}


def catalog_products() -> dict[str, Product]:
    """All products by code (a handful of rows; their parsed rules are cached per process)."""
    # The schedule JSON is left unread: parsed rules are cached per process (Product.rule).
    return {p.code: p for p in Product.objects.defer("schedule").order_by()}


def dose_history(person: Person) -> list[DoseRecord]:
    return list(
        DoseRecord.objects.filter(person=person, status=DoseStatus.VALID)
        .select_related("product")
        .order_by("administered_at")
    )


def _one(queryset):
    """The first row or None, without the ORDER BY that ``first()`` adds (none is needed)."""
    return next(iter(queryset[:1]), None)


@dataclass(frozen=True, slots=True)
class PastDose:
    """The columns of a valid dose that eligibility and duplicate checks read."""

    pk: int
    product_code: str
    dose_number: int
    kind: str
    administered_at: dt.datetime
    series: str


def past_doses(person_id: int, products: dict[str, Product]) -> list[PastDose]:
    """A person's valid doses, oldest first, read without building model instances."""
    code_of = {p.pk: code for code, p in products.items()}
    rows = (
        DoseRecord.objects.filter(person_id=person_id, status=DoseStatus.VALID)
        .order_by("administered_at")
        .values_list("pk", "product_id", "dose_number", "kind", "administered_at", "series")
    )
    return [PastDose(pk, code_of[product_id], n, kind, at, series) for pk, product_id, n, kind, at, series in rows]


def assess_person(
    person: Person,
    product: Product,
    on: dt.date,
    history: list[DoseRecord] | list[PastDose] | None = None,
    products: dict[str, Product] | None = None,
):
    """The eligibility verdict for ``person`` and ``product`` on ``on`` (see catalog.rules)."""
    history = dose_history(person) if history is None else history
    prior = [
        rules.PriorDose(
            product_code=d.product_code, dose_number=d.dose_number, kind=d.kind,
            given_on=d.administered_at.astimezone(TZ).date(), series=d.series,
        )
        for d in history
        if d.series == product.series
    ]
    others = [
        rules.OtherVaccination(given_on=d.administered_at.astimezone(TZ).date(), exempt=False)
        for d in history
        if d.series != product.series
    ]
    deferrals = [
        rules.ActiveDeferral(code=d.code, until=d.until)
        for d in person.deferrals.filter(lifted_at__isnull=True, since__lte=on).only("code", "until")
        if d.until is None or d.until >= on
    ]
    return rules.assess(
        product=product.rule, on=on, birth_date=person.birth_date, history=prior,
        products={code: p.rule for code, p in (products or catalog_products()).items()},
        other_vaccinations=others, deferrals=deferrals,
    )


def _fingerprint(person_id: int, product: str, lot_number: str, site_code: str, at: dt.datetime) -> str:
    raw = f"{person_id}|{product}|{lot_number}|{site_code}|{at.astimezone(dt.UTC).isoformat()}"
    return hashlib.sha256(raw.encode()).hexdigest()


def _replay(existing: DoseRecord, fingerprint: str) -> tuple[DoseRecord, bool]:
    if existing.fingerprint != fingerprint:
        raise VaxopsError("idempotency_conflict", {"client_uuid": str(existing.client_uuid), "id": existing.pk})
    return existing, False


def usable_lot(product: Product, lot_number: str, on: dt.date) -> Lot:
    """The lot of ``product`` numbered ``lot_number``, if it may be used on ``on``."""
    # Read fresh on every dose: a lot quarantined a moment ago must be refused now.
    lots = list(Lot.objects.filter(lot_number=lot_number).order_by())
    lot = next((x for x in lots if x.product_id == product.pk), None)
    if lot is None:
        if lots:
            raise VaxopsError(
                "lot_wrong_product",
                {"lot_number": lot_number, "lot_product": lots[0].product.code, "product": product.code},
            )
        raise VaxopsError("lot_not_found", {"lot_number": lot_number})
    if lot.status == LotStatus.QUARANTINED:
        raise VaxopsError("lot_quarantined", {"lot_number": lot_number})
    if lot.status == LotStatus.RECALLED:
        raise VaxopsError("lot_recalled", {"lot_number": lot_number})
    if lot.expiry_date < on:
        raise VaxopsError("lot_expired", {"lot_number": lot_number, "expiry_date": lot.expiry_date.isoformat()})
    return lot


def _reasons(verdict) -> list[dict[str, Any]]:
    from vaxops.catalog.messages import verdict_reasons

    return verdict_reasons(verdict)


def _check_verdict(verdict, *, override_reason: str | None, acting_user: Any) -> str:
    """Raise unless the verdict allows the dose, or a site manager overrides it with a reason.

    Returns the override reason to store ("" when none was needed).
    """
    if verdict.status == "eligible":
        return ""
    codes = {r.code for r in verdict.reasons}
    hard = bool(codes & HARD_REASONS)
    detail = {
        "status": verdict.status,
        "reasons": _reasons(verdict),
        "earliest_date": verdict.earliest_date.isoformat() if verdict.earliest_date else None,
        "overridable": not hard,
    }
    if hard:
        too_early = verdict.status == "not_yet" and "min_interval" in codes
        raise VaxopsError("dose_too_early" if too_early else "not_eligible", detail)
    if override_reason is None:
        raise VaxopsError("not_eligible", detail)
    if not can(acting_user, "dose.override"):
        raise VaxopsError("override_not_permitted", detail)
    if not override_reason.strip():
        raise VaxopsError("override_reason_required", detail)
    return override_reason.strip()


class _Replay(Exception):
    """Leaves the transaction (writing nothing) when the submission turns out to be a replay."""


def record_dose(
    *,
    client_uuid: uuid.UUID | str,
    person_id: int,
    product_code: str,
    lot_number: str,
    site_code: str,
    administered_at: dt.datetime,
    acting_user: Any,
    source: str,
    override_reason: str | None = None,
    dose_number: int | None = None,
) -> tuple[DoseRecord, bool]:
    """Record one dose; returns ``(record, created)``.

    Checks, in one durable transaction: the acting user may record at ``site_code`` (their own
    site); the lot is of the product and usable that day; the person is eligible (a refusal can
    be overridden only by a site manager with a written reason, kept on the record and audited).

    Locks the person row (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's write transaction
    serialises all writers) so two submissions for one person are decided one after the other.
    Guarantees: a retried submission (same ``client_uuid``, same content) returns the first
    record, different content → ``idempotency_conflict``; one valid dose N per person per series
    (enforced by a unique index as well); the dose, its counter and its audit event commit
    together or not at all.
    """
    require(acting_user, "dose.add")
    try:
        client_uuid = uuid.UUID(str(client_uuid))
    except ValueError:
        raise VaxopsError("invalid_request", {"field": "client_uuid"}) from None
    if timezone.is_naive(administered_at):
        administered_at = timezone.make_aware(administered_at, TZ)
    fingerprint = _fingerprint(person_id, product_code, lot_number, site_code, administered_at)
    if _one(DoseRecord.objects.filter(client_uuid=client_uuid).values_list("pk")) is not None:
        # A retry: answer it without taking any lock.
        return _replay(DoseRecord.objects.get(client_uuid=client_uuid), fingerprint)
    if administered_at > timezone.now() + CLOCK_SKEW:
        raise VaxopsError("administered_in_future", {"administered_at": administered_at.isoformat()})
    on = administered_at.astimezone(TZ).date()

    site = get_scoped(
        Site.objects.select_related("division"), acting_user, "dose.add",
        not_found="site_not_found", detail={"site_code": site_code}, code=site_code,
    )
    products = catalog_products()
    product = products.get(product_code)
    if product is None:
        raise VaxopsError("product_not_found", {"product": product_code})
    lot = usable_lot(product, lot_number, on)

    replay: DoseRecord | None = None
    try:
        with transaction.atomic(durable=True):
            person = _one(
                restrict(Person.objects.select_for_update(), acting_user, "person.vaccinate")
                .filter(pk=person_id)
                .only("pk", "birth_date", "status", "priority_groups")
            )
            if person is None:
                raise VaxopsError("person_not_found", {"person_id": person_id})
            # The same submission may have committed while this one waited for the lock.
            if _one(DoseRecord.objects.filter(client_uuid=client_uuid).values_list("pk")) is not None:
                replay = DoseRecord.objects.get(client_uuid=client_uuid)
                raise _Replay
            if person.status != PersonStatus.ACTIVE:
                raise VaxopsError("person_inactive", {"status": person.get_status_display()})
            history = past_doses(person.pk, products)
            same_day = next(
                (d for d in history if d.series == product.series and d.administered_at.astimezone(TZ).date() == on),
                None,
            )
            if same_day is not None:
                raise VaxopsError(
                    "dose_already_recorded", {"id": same_day.pk, "dose_number": same_day.dose_number}
                )
            verdict = assess_person(person, product, on, history, products)
            if dose_number is not None and verdict.dose_number != dose_number:
                taken = next((d for d in history if d.series == product.series and d.dose_number == dose_number), None)
                if taken is not None:
                    raise VaxopsError("dose_already_recorded", {"id": taken.pk, "dose_number": dose_number})
            stored_reason = _check_verdict(verdict, override_reason=override_reason, acting_user=acting_user)
            number = verdict.dose_number or (sum(1 for d in history if d.series == product.series) + 1)
            kind = verdict.kind or DoseKind.PRIMARY
            session, _created = Session.objects.get_or_create(
                site=site, date=on, kind=SESSION_KIND_FOR_SITE.get(site.kind, SessionKind.FIXED)
            )
            dose = DoseRecord.objects.create(
                person=person, product=product, lot=lot, series=product.series,
                dose_number=number, kind=kind,
                completes_series=kind == DoseKind.PRIMARY and number >= product.doses_in_series,
                overdue=bool(verdict.overdue), site=site, session=session, division=site.division,
                county_code=site.county_code, vaccinator=acting_user, administered_at=administered_at,
                age_band=age_band(person.age_on(on)), priority_group=person.primary_group,
                client_uuid=client_uuid, fingerprint=fingerprint, override_reason=stored_reason,
            )
            bump_counter(dose, +1, path=site.division.path)
            audit(
                "dose.record", dose, actor=acting_user, source=source, county_code=dose.county_code,
                after={
                    "person": person.pk, "product": product.code, "lot": lot.lot_number,
                    "dose_number": number, "kind": kind, "site": site.code,
                    "administered_at": administered_at.isoformat(), "override_reason": stored_reason,
                    "reasons_overridden": _reasons(verdict) if stored_reason else [],
                },
            )
    except _Replay:
        return _replay(replay, fingerprint)
    except IntegrityError:
        # Lost a race: either the same submission committed first (a replay) or another
        # submission took this dose number for the person.
        existing = DoseRecord.objects.filter(client_uuid=client_uuid).first()
        if existing is not None:
            return _replay(existing, fingerprint)
        taken = DoseRecord.objects.filter(
            person_id=person_id, series=product.series, status=DoseStatus.VALID
        ).order_by("-dose_number").first()
        raise VaxopsError(
            "dose_already_recorded", {"id": taken.pk if taken else None, "dose_number": taken and taken.dose_number}
        ) from None
    return dose, True


def void_dose(*, dose_id: int, reason: str, acting_user: Any, source: str) -> DoseRecord:
    """Void a dose entered in error: keeps the record, reverses its counter, audits the reason."""
    require(acting_user, "dose.void")
    reason = (reason or "").strip()
    if not reason:
        raise VaxopsError("void_reason_required")
    with transaction.atomic(durable=True):
        dose = get_scoped(
            DoseRecord.objects.select_for_update().select_related("product", "division"),
            acting_user, "dose.void", not_found="dose_not_found", pk=dose_id,
        )
        if dose.status == DoseStatus.VOIDED:
            raise VaxopsError("dose_already_voided", {"id": dose.pk})
        dose.status = DoseStatus.VOIDED
        dose.void_reason = reason
        dose.voided_at = timezone.now()
        dose.voided_by = acting_user
        dose.save(update_fields=["status", "void_reason", "voided_at", "voided_by"])
        bump_counter(dose, -1, path=dose.division.path)
        audit(
            "dose.void", dose, actor=acting_user, source=source, county_code=dose.county_code,
            before={"status": DoseStatus.VALID}, after={"status": DoseStatus.VOIDED, "reason": reason},
        )
    return dose
