"""Recording and voiding doses: the only writers of DoseRecord."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Model
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from vaxops.access.scope import admits, can, get_scoped, require
from vaxops.campaign.services import TZ, bump_counter
from vaxops.catalog import rules
from vaxops.catalog.models import Product
from vaxops.core.audit import audit
from vaxops.core.errors import VaxopsError
from vaxops.regions.models import Division
from vaxops.registry.models import Deferral, Person
from vaxops.sites.models import Session, SessionKind, SessionStatus, Site, SiteKind
from vaxops.supply.dosestock import return_voided_dose
from vaxops.supply.models import Lot, LotStatus
from vaxops.vaccination.models import DoseRecord, DoseStatus

# Device clocks drift; a dose stamped a little ahead of the server is not "in the future".
CLOCK_SKEW = dt.timedelta(minutes=5)


def retrospective_window() -> dt.timedelta:
    """A dose administered longer than this before it is recorded is a retrospective entry
    (setting ``VAXOPS_RETROSPECTIVE_HOURS``, default 24)."""
    return dt.timedelta(hours=float(getattr(settings, "VAXOPS_RETROSPECTIVE_HOURS", 24)))


def campaign_start() -> dt.datetime:
    """The first moment a dose may be dated: the start, in the campaign's time zone, of the day
    ``VAXOPS_CAMPAIGN_START`` (an ISO date)."""
    day = dt.date.fromisoformat(str(getattr(settings, "VAXOPS_CAMPAIGN_START", "2020-12-15")))
    return dt.datetime.combine(day, dt.time(), TZ)


def _check_administered_at(administered_at: Any, now: dt.datetime) -> None:
    """Refuse a time without an offset (never read silently in the campaign's zone), before the
    campaign's start, or after ``now`` plus the clock skew."""
    if not isinstance(administered_at, dt.datetime) or timezone.is_naive(administered_at):
        raise VaxopsError("invalid_datetime", {"field": "administered_at"})
    try:
        administered_at.astimezone(dt.UTC)  # year 1 at +08:00 or year 9999 at -08:00 overflow
        before = administered_at < campaign_start()
        after = administered_at > now + CLOCK_SKEW
    except OverflowError:
        before, after = administered_at.year < 2000, administered_at.year >= 2000
    if before:
        raise VaxopsError("administered_before_campaign", {"campaign_start": campaign_start().date().isoformat()})
    if after:
        raise VaxopsError("administered_in_future", {"administered_at": administered_at.isoformat()})

SESSION_KIND_FOR_SITE = {
    SiteKind.MOBILE_TEAM: SessionKind.MOBILE,
    SiteKind.POINT_TO_POINT: SessionKind.POINT_TO_POINT,
}


# Reference rows every dose reads (products, sites with their division, sessions) are kept per
# process for REFERENCE_TTL seconds, and dropped at once when this process saves or deletes one
# (signals at the end of this module); other processes see a change within the TTL, as with role
# grants (vaxops.core.api); so does a change this process reads back and then rolls back. Lots
# are never cached: a lot quarantined, recalled or past its expiry must be refused on the very
# next dose, so usable_lot reads it every time.
REFERENCE_TTL = 30.0
_REFERENCE_MAX = 10_000


@dataclass(frozen=True)
class _Catalog:
    by_code: dict[str, Product]
    by_id: dict[int, Product]
    rule_of: dict[str, rules.ProductRule]
    expires: float


_catalog: _Catalog | None = None
# site code -> (expiry on the monotonic clock, site with its division)
_SITES: dict[str, tuple[float, Site]] = {}
# (site id, day) -> (expiry, the day's sessions: ((id, status, opens_at, closes_at), …))
_SESSIONS: dict[tuple[int, dt.date], tuple[float, tuple]] = {}


def _load_catalog(*, refresh: bool = False) -> _Catalog:
    global _catalog
    cached = _catalog
    now = time.monotonic()
    if cached is None or refresh or cached.expires <= now:
        products = list(Product.objects.order_by())
        cached = _catalog = _Catalog(
            by_code={p.code: p for p in products},
            by_id={p.pk: p for p in products},
            rule_of={p.code: p.rule for p in products},
            expires=now + REFERENCE_TTL,
        )
    return cached


def catalog_products() -> dict[str, Product]:
    """All products by code (a handful of rows, cached per process; do not modify the dict)."""
    return _load_catalog().by_code


def _product_by_id(product_id: int) -> Product:
    product = _load_catalog().by_id.get(product_id)
    if product is None:  # created by another process since the catalog was read
        product = _load_catalog(refresh=True).by_id[product_id]
    return product


def cached_site(code: str) -> Site | None:
    """The site coded ``code`` with its division (cached per process), or ``None``.

    Only the site's identity and place are used from it (id, kind, county, division and its
    path); the caller still checks the user's area (``access.scope.check_scoped``).
    """
    now = time.monotonic()
    hit = _SITES.get(code)
    if hit is not None and hit[0] > now:
        return hit[1]
    site = next(iter(Site.objects.select_related("division").filter(code=code).order_by()[:1]), None)
    if site is not None:
        if len(_SITES) > _REFERENCE_MAX:
            _SITES.clear()
        _SITES[code] = (now + REFERENCE_TTL, site)
    return site


def _remember_sessions(pair: tuple[int, dt.date], rows: tuple) -> None:
    if len(_SESSIONS) > _REFERENCE_MAX:
        _SESSIONS.clear()
    _SESSIONS[pair] = (time.monotonic() + REFERENCE_TTL, rows)


def _day_sessions(pairs: Iterable[tuple[int, dt.date]], today: dt.date) -> dict[tuple[int, dt.date], tuple]:
    """The sessions of each (site id, day) in ``pairs``: {(site id, day): ((id, status, opens_at,
    closes_at), …) by opening time}, in one statement for those not cached.

    Cached per process like the other reference rows; a day cached without an open session is
    read again when the day is ``today`` (a session opened in another process counts at once;
    one closed there is seen within REFERENCE_TTL). Call before the doses' transaction.
    """
    out: dict[tuple[int, dt.date], tuple] = {}
    misses: list[tuple[int, dt.date]] = []
    now = time.monotonic()
    for pair in pairs:
        hit = _SESSIONS.get(pair)
        if hit is not None and hit[0] > now and (
            pair[1] != today or any(row[1] == SessionStatus.OPEN for row in hit[1])
        ):
            out[pair] = hit[1]
        else:
            misses.append(pair)
    if not misses:
        return out
    table, ops = Session._meta.db_table, connection.ops
    sites = sorted({p[0] for p in misses})
    days = sorted({p[1] for p in misses})
    if connection.vendor == "sqlite":
        clause = "site_id IN (SELECT value FROM json_each(%s)) AND date IN (SELECT value FROM json_each(%s))"
        params = [json.dumps(sites), json.dumps([ops.adapt_datefield_value(d) for d in days])]
    else:
        clause, params = "site_id = ANY(%s) AND date = ANY(%s)", [sites, days]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, site_id, date, status, opens_at, closes_at FROM {table} WHERE {clause}", params)
        rows = cursor.fetchall()
    found: dict[tuple[int, dt.date], list] = {pair: [] for pair in misses}
    for pk, site_id, day, status, opens, closes in rows:
        day = day if isinstance(day, dt.date) else dt.date.fromisoformat(day)
        bucket = found.get((site_id, day))
        if bucket is not None:
            if isinstance(opens, str):
                opens = dt.time.fromisoformat(opens)
            if isinstance(closes, str):
                closes = dt.time.fromisoformat(closes)
            bucket.append((pk, status, opens, closes))
    for pair, bucket in found.items():
        bucket.sort(key=lambda r: (r[2] or dt.time(0), r[0]))
        out[pair] = rows_ = tuple(bucket)
        _remember_sessions(pair, rows_)
    return out


def _pick_session(rows: tuple, administered_at: dt.datetime, *, open_only: bool) -> int | None:
    """The session a dose belongs to among its site's sessions of the day: the one whose hours
    hold the time of the dose, else the first (only open ones when ``open_only``)."""
    if open_only:
        rows = tuple(r for r in rows if r[1] == SessionStatus.OPEN)
    if not rows:
        return None
    if len(rows) == 1:
        return rows[0][0]
    clock = administered_at.astimezone(TZ).time()
    for pk, _status, opens, closes in rows:
        if (opens is None or opens <= clock) and (closes is None or clock < closes):
            return pk
    return rows[0][0]


def dose_history(person: Person) -> list[DoseRecord]:
    """The person's valid doses, oldest first, with their products (from the catalog cache)."""
    doses = list(
        DoseRecord.objects.filter(person_id=person.pk, status=DoseStatus.VALID).order_by("administered_at")
    )
    for d in doses:
        d.product = _product_by_id(d.product_id)
    return doses


# --- Hand-written reads of the dose path -------------------------------------------------------
# Each is one short statement whose ORM form cost 5-20 times more CPU to compile than to run,
# on every dose. They return only the columns the checks read; values come back as the ORM would
# give them (aware datetimes, dates, decoded JSON) on both SQLite and PostgreSQL, and
# vaccination/tests/test_hot_path.py runs them on both engines. The batch's own reads (persons,
# history, deferrals of many people at once) are in batch_engine.Batch.


M = TypeVar("M", bound=Model)


def _loaded(model: type[M], values: dict[str, Any]) -> M:
    """An instance of ``model`` as the ORM loads it with ``only(*values)``: the other fields are
    deferred (read on access), never silently empty."""
    fields = model._meta.concrete_fields
    return model.from_db(connection.alias, list(values), [values[f.attname] for f in fields if f.attname in values])


def _aware(value: dt.datetime) -> dt.datetime:
    # SQLite hands back the stored UTC time without its zone; PostgreSQL an aware datetime.
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def _lot_rows(lot_number: str) -> list[tuple[int, int, dt.date, str]]:
    """(id, product id, expiry date, status) of every lot numbered ``lot_number``, oldest first."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, product_id, expiry_date, status FROM {Lot._meta.db_table} "
            "WHERE lot_number = %s ORDER BY id",
            [lot_number],
        )
        return cursor.fetchall()


def _active_deferrals(person_id: int, on: dt.date) -> list[rules.ActiveDeferral]:
    """The person's deferrals in force on ``on``."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT code, until FROM {Deferral._meta.db_table} "
            "WHERE person_id = %s AND lifted_at IS NULL AND since <= %s",
            [person_id, connection.ops.adapt_datefield_value(on)],
        )
        return [
            rules.ActiveDeferral(code=code, until=until)
            for code, until in cursor.fetchall()
            if until is None or until >= on
        ]


def assess_person(
    person: Person,
    product: Product,
    on: dt.date,
    history: list[Any] | None = None,
    products: dict[str, Product] | None = None,
):
    """The eligibility verdict for ``person`` and ``product`` on ``on`` (see catalog.rules).

    The person's open deferrals are read unless the person was loaded knowing it has none
    (``may_have_deferrals`` False, set by the dose path's person read).
    """
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
    catalog = _load_catalog()
    return rules.assess(
        product=product.rule, on=on, birth_date=person.birth_date, history=prior,
        products=catalog.rule_of if products is None or products is catalog.by_code else {
            code: p.rule for code, p in products.items()
        },
        other_vaccinations=others,
        deferrals=_active_deferrals(person.pk, on) if getattr(person, "may_have_deferrals", True) else [],
    )


def _fingerprint(person_id: int, product: str, lot_number: str, site_code: str, at: dt.datetime) -> str:
    raw = f"{person_id}|{product}|{lot_number}|{site_code}|{at.astimezone(dt.UTC).isoformat()}"
    return hashlib.sha256(raw.encode()).hexdigest()


def _could_have_recorded(user: Any, existing: DoseRecord) -> bool:
    """Whether ``user`` recorded ``existing`` or could have: a retry is answered only to them.

    The recorder keeps the answer to their own retry even if their role moved since; anyone
    else must be allowed to record that kind of dose (ordinary or retrospective) at its site.
    """
    if getattr(user, "pk", None) is not None and existing.vaccinator_id == user.pk:
        return True
    action = "dose.retrospective" if existing.retrospective else "dose.add"
    return admits(user, action, Site, {"pk": existing.site_id, "division__path": existing.site.division.path})


def _replay(existing: DoseRecord, fingerprint: str, acting_user: Any) -> tuple[DoseRecord, bool]:
    if not _could_have_recorded(acting_user, existing):
        # Another site's submission: say only that the ID is taken, show nothing of the record.
        raise VaxopsError("idempotency_conflict", {"client_uuid": str(existing.client_uuid)})
    if existing.fingerprint != fingerprint:
        raise VaxopsError("idempotency_conflict", {"client_uuid": str(existing.client_uuid), "id": existing.pk})
    return existing, False


def usable_lot(product: Product, lot_number: str, on: dt.date) -> Lot:
    """The lot of ``product`` numbered ``lot_number``, if it may be used on ``on``.

    Read from the database on every call (never cached): its status and expiry decide whether
    the dose may be given at all.
    """
    rows = _lot_rows(lot_number)
    row = next((r for r in rows if r[1] == product.pk), None)
    if row is None:
        if rows:
            raise VaxopsError(
                "lot_wrong_product",
                {"lot_number": lot_number, "lot_product": _product_by_id(rows[0][1]).code, "product": product.code},
            )
        raise VaxopsError("lot_not_found", {"lot_number": lot_number})
    lot = _loaded(
        Lot, {"id": row[0], "product_id": row[1], "lot_number": lot_number, "expiry_date": row[2], "status": row[3]}
    )
    if lot.status == LotStatus.QUARANTINED:
        raise VaxopsError("lot_quarantined", {"lot_number": lot_number})
    if lot.status == LotStatus.RECALLED:
        raise VaxopsError("lot_recalled", {"lot_number": lot_number})
    if lot.expiry_date < on:
        raise VaxopsError("lot_expired", {"lot_number": lot_number, "expiry_date": lot.expiry_date.isoformat()})
    lot.product = product
    return lot


def _reasons(verdict) -> list[dict[str, Any]]:
    """The verdict's obstacles, then its notes, as ``{code, message, params, blocking,
    overridable}`` in the active language (notes do not block and are never overridden)."""
    from vaxops.catalog.messages import verdict_reasons

    rows = verdict_reasons(verdict)
    for row, reason in zip(rows, (*verdict.reasons, *verdict.notes), strict=True):
        blocking = reason in verdict.reasons
        row["blocking"] = blocking
        row["overridable"] = blocking and verdict.is_overridable(reason)
    return rows


def is_overridable(verdict) -> bool:
    """Whether a site manager may override this verdict: it refuses, and every reason is in the
    series' ``overridable_reasons`` (catalogue data; the desk offers the override box only then)."""
    return verdict.overridable


def _check_verdict(verdict, *, override_reason: str | None, acting_user: Any) -> str:
    """Raise unless the verdict allows the dose, or a site manager overrides it with a reason.

    A refusal with any hard reason is refused whatever ``override_reason`` says, for everyone.
    Returns the override reason to store ("" when none was needed).
    """
    if verdict.status == "eligible":
        return ""
    codes = {r.code for r in verdict.reasons}
    hard = not verdict.overridable
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


def _submitted(client_uuid: uuid.UUID) -> DoseRecord | None:
    """The dose recorded for a submission, with what the API answer shows, or ``None``."""
    return next(
        iter(
            DoseRecord.objects.filter(client_uuid=client_uuid)
            .select_related("product", "lot", "site__division", "vaccinator")[:1]
        ),
        None,
    )


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
    retrospective_reason: str | None = None,
    now: dt.datetime | None = None,
) -> tuple[DoseRecord, bool]:
    """Record one dose; returns ``(record, created)``: a batch of one of
    ``vaccination.batch.record_doses`` (the one write path), its refusal raised.

    Checks, in one durable transaction: ``administered_at`` carries its offset and lies between
    the campaign's start and now (plus the clock skew); the acting user may record at
    ``site_code``; the product was approved by that day and the lot usable then; the person is
    eligible (a refusal whose every reason is overridable, per the catalogue, can be overridden
    only by a site manager with a written reason, kept on the record and audited; a hard reason
    is refused for everyone); a ``dose_number`` sent is the one the rules give.

    A dose administered more than ``VAXOPS_RETROSPECTIVE_HOURS`` before now is a retrospective
    entry: only a site manager (at their site) or a county command (at a site of their county)
    may make it, with a written ``retrospective_reason``; it is flagged and keeps the reason.
    ``vaccinator`` on the record is the user who recorded it (for a retrospective entry, the
    manager or county official, not the person who gave the dose).

    Locks the person row (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's write transaction
    serialises all writers) so two submissions for one person are decided one after the other.
    Guarantees: a retried submission (same ``client_uuid``, same content) returns the first
    record to a user who could have recorded it, different content or another site's user →
    ``idempotency_conflict`` (without the record); one valid dose N per person per series
    (enforced by a unique index as well); the dose, its counter and its audit event commit
    together or not at all.
    """
    from vaxops.vaccination.batch import DoseItem, record_doses

    item = DoseItem(
        client_uuid=client_uuid, person_id=person_id, product_code=product_code, lot_number=lot_number,
        site_code=site_code, administered_at=administered_at, dose_number=dose_number,
        override_reason=override_reason, retrospective_reason=retrospective_reason,
    )
    outcome = record_doses([item], acting_user=acting_user, source=source, now=now)[0]
    if outcome.error is not None:
        raise outcome.error
    return outcome.record, outcome.status == "created"


def _fingerprint_or_none(person_id: int, product: str, lot_number: str, site_code: str, at: dt.datetime) -> str:
    try:
        return _fingerprint(person_id, product, lot_number, site_code, at)
    except OverflowError:
        return ""


def void_dose(*, dose_id: int, reason: str, acting_user: Any, source: str) -> DoseRecord:
    """Void a dose entered in error: keeps the record, reverses its counter, returns the dose to
    the site's store (``supply.dosestock.return_voided_dose``, under the balance's lock), audits
    the reason."""
    require(acting_user, "dose.void")
    reason = (reason or "").strip()
    if not reason:
        raise VaxopsError("void_reason_required")
    with transaction.atomic(durable=True):
        # Lock the dose row only: PostgreSQL refuses FOR UPDATE on the nullable side of the outer
        # join to residence_division (records older than residences have none).
        dose = get_scoped(
            # Lock the dose row only: PostgreSQL cannot lock the nullable side of the outer join
            # that the optional residence division brings.
            DoseRecord.objects.select_for_update(of=("self",))
            .select_related("product", "division", "residence_division"),
            acting_user, "dose.void", not_found="dose_not_found", pk=dose_id,
        )
        if dose.status == DoseStatus.VOIDED:
            raise VaxopsError("dose_already_voided", {"id": dose.pk})
        dose.status = DoseStatus.VOIDED
        dose.void_reason = reason
        dose.voided_at = timezone.now()
        dose.voided_by = acting_user
        dose.save(update_fields=["status", "void_reason", "voided_at", "voided_by"])
        bump_counter(
            dose, -1, path=dose.division.path,
            residence_path=dose.residence_division.path if dose.residence_division_id else None,
        )
        # The dose was never given: back to the site's store (a ``dose_voided`` credit).
        return_voided_dose(dose, user=acting_user)
        from vaxops.outreach.duetable import refresh

        refresh([dose.person_id])  # the dose no longer counts: due for it again
        audit(
            "dose.void", dose, actor=acting_user, source=source, county_code=dose.county_code,
            before={"status": DoseStatus.VALID}, after={"status": DoseStatus.VOIDED, "reason": reason},
        )
    return dose


def _forget_sites(sender, **kwargs) -> None:
    _SITES.clear()
    _SESSIONS.clear()


def _forget_sessions(sender, **kwargs) -> None:
    _SESSIONS.clear()


def _forget_catalog(sender, **kwargs) -> None:
    global _catalog
    _catalog = None


# Saves and deletes in this process take effect at once; other processes within REFERENCE_TTL.
for _model, _receiver in (
    (Site, _forget_sites), (Division, _forget_sites), (Session, _forget_sessions), (Product, _forget_catalog),
):
    post_save.connect(_receiver, sender=_model, dispatch_uid=f"vaccination.reference.{_model.__name__}.save")
    post_delete.connect(_receiver, sender=_model, dispatch_uid=f"vaccination.reference.{_model.__name__}.delete")
