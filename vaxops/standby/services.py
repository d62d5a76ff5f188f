"""The standby list's writes (docs/standby.md): sign up, make offers of the leftover doses,
confirm or decline an offer, expire the offers whose time has passed.

Each is one durable transaction with one audit event; each checks that ``acting_user`` may act
at the session's site (``vaxops.access.scope``; ``acting_user`` None is the system: a command or
the demo). The offers' SMS are made in the outbox in the same transaction, so an offer exists
exactly when its message does; a message whose reason has gone (the offer expired, was
answered, or every dose on offer was taken) is suppressed before it is sent.

Never over-confirmed: a confirmation takes one of the round's doses with one conditional update
of the session's ``StandbyRound`` row (``confirmed < doses``), which PostgreSQL re-checks after
waiting on a concurrent confirmation's row lock and SQLite runs under its write lock; a check
constraint on the row stands behind it.
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from vaxops.access.scope import admits, check_scoped
from vaxops.core.audit import audit
from vaxops.core.errors import VaxopsError
from vaxops.outbox.services import MessageIn, enqueue_many, suppress
from vaxops.registry.models import Person, PersonStatus, PriorityGroup
from vaxops.registry.services import validate_phone
from vaxops.sites.models import Session, SessionStatus, Site
from vaxops.standby.models import (
    EntryStatus,
    Offer,
    OfferStatus,
    StandbyEntry,
    StandbyRound,
    offer_reason,
)
from vaxops.supply.models import OpenVial

#: the rank of a person in no priority group: after every group
NO_GROUP_RANK = 1000
MESSAGE_KIND = "standby_offer"


def offer_factor() -> float:
    """Offers per leftover dose (data: ``VAXOPS_STANDBY_OFFER_FACTOR``, 2–3 as Covidliste's
    lists practised; default 2)."""
    return float(getattr(settings, "VAXOPS_STANDBY_OFFER_FACTOR", 2))


def offer_minutes() -> int:
    """How long an offer stays open (``VAXOPS_STANDBY_OFFER_MINUTES``, default 15)."""
    return int(getattr(settings, "VAXOPS_STANDBY_OFFER_MINUTES", 15))


def offers_to_make(free: int, open_offers: int, factor: float) -> int:
    """How many new offers a round makes: enough for ``open_offers`` to reach ⌈factor × free⌉
    (none when no dose is free; never negative)."""
    if free <= 0:
        return 0
    return max(math.ceil(factor * free) - open_offers, 0)


def _tz():
    from vaxops.campaign.services import TZ

    return TZ


def _day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(day, dt.time(0), _tz())
    return start, start + dt.timedelta(days=1)


# --- reads ----------------------------------------------------------------------------------------


def open_vials(session: Session, at: dt.datetime | None = None):
    """The session's opened multi-dose vials with doses left at ``at`` (default now): at its
    site's store, opened on the session's day, neither closed nor past their window."""
    at = at or timezone.now()
    start, end = _day_bounds(session.date)
    return (OpenVial.objects.filter(store__site_id=session.site_id, closed_at__isnull=True, opened_at__gte=start,
                                    opened_at__lt=end, expires_at__gt=at, doses_left__gt=0)
            .select_related("lot__product").order_by("expires_at", "pk"))


def leftover_doses(session: Session, at: dt.datetime | None = None) -> int:
    """The doses left in the session's opened multi-dose vials at ``at`` (the supply ledger's
    ``OpenVial`` rows, which every dose of the site draws down)."""
    return open_vials(session, at).aggregate(n=Sum("doses_left"))["n"] or 0


def _valid_doses_today(session: Session, person_ids) -> Any:
    from vaxops.vaccination.models import DoseRecord

    start, end = _day_bounds(session.date)
    return DoseRecord.objects.filter(site_id=session.site_id, person_id__in=person_ids, status="valid",
                                     administered_at__gte=start, administered_at__lt=end)


def _confirmed(session: Session) -> list[tuple[int, dt.datetime]]:
    return list(Offer.objects.filter(entry__session=session, status=OfferStatus.CONFIRMED)
                .values_list("entry__person_id", "answered_at"))


def awaiting_doses(session: Session) -> int:
    """Confirmed people not yet given their dose at the session: their doses stay reserved."""
    confirmed = _confirmed(session)
    given = set(_valid_doses_today(session, [p for p, _ in confirmed]).values_list("person_id", flat=True))
    return sum(1 for p, _ in confirmed if p not in given)


def wastage_avoided(session: Session) -> int:
    """Doses given at the session to confirmed standby people, from multi-dose vials, after
    their confirmation: doses that would otherwise have been written off with the vial."""
    confirmed = dict(_confirmed(session))
    if not confirmed:
        return 0
    rows = _valid_doses_today(session, list(confirmed)).filter(lot__doses_per_vial__gt=1).values_list(
        "person_id", "administered_at")
    return sum(1 for person_id, at in rows if confirmed[person_id] is None or at >= confirmed[person_id])


def closing_figures(session: Session) -> dict[str, int]:
    """The standby figures merged into a session's final figures when it closes."""
    return {"wastage_avoided": wastage_avoided(session)}


# --- scope ----------------------------------------------------------------------------------------


def _site_row(site: Site) -> dict[str, Any]:
    return {"pk": site.pk, "division__path": site.division.path}


def check_session(user: Any, action: str, session: Session) -> None:
    """Raise unless ``user`` may ``action`` at the session's site (``session_not_found`` when
    outside their area, as if it did not exist); None is the system."""
    if user is None:
        return
    check_scoped(user, action, Site, _site_row(session.site), not_found="session_not_found",
                 detail={"session_id": session.pk})


def may_sign_up(user: Any, session: Session, person: Person) -> bool:
    """Whether ``user`` may put ``person`` on the session's list: at the session's site (site
    staff), or a resident of their area (a grid worker) for a session of the person's county."""
    if user is None:
        return True
    if admits(user, "standby.sign_up", Site, _site_row(session.site)):
        return True
    row = {"session__site__division__path": session.site.division.path, "session__site_id": session.site_id,
           "person__home_division__path": person.home_division.path}
    return session.site.county_code == person.county_code and admits(user, "standby.sign_up", StandbyEntry, row)


# --- sign up --------------------------------------------------------------------------------------


def candidate_products(session: Session, at: dt.datetime | None = None) -> list:
    """The products whose leftover doses the session could offer: those of its opened vials,
    else the session's planned products, else the multi-dose lots in its site's store."""
    from vaxops.catalog.models import Product
    from vaxops.supply.models import StockBalance

    products = {v.lot.product_id: v.lot.product for v in open_vials(session, at)}
    if not products:
        products = {p.pk: p for p in session.products.all()}
    if not products:
        ids = (StockBalance.objects.filter(store__site_id=session.site_id, on_hand__gt=0, lot__doses_per_vial__gt=1)
               .values_list("lot__product_id", flat=True).distinct())
        products = {p.pk: p for p in Product.objects.filter(pk__in=list(ids))}
    return sorted(products.values(), key=lambda p: p.code)


def _rank(person: Person) -> tuple[str, int]:
    codes = list(person.priority_groups or [])
    if not codes:
        return "", NO_GROUP_RANK
    ranks = dict(PriorityGroup.objects.filter(code__in=codes).values_list("code", "rank"))
    known = [(ranks[c], c) for c in codes if c in ranks]
    if not known:
        return codes[0][:40], NO_GROUP_RANK
    rank, code = min(known)
    return code, min(rank, NO_GROUP_RANK)


def sign_up(session: Session, person: Person, *, acting_user: Any, phone: str | None = None,
            client_uuid: uuid.UUID | None = None, at: dt.datetime | None = None,
            source: str = "api") -> tuple[StandbyEntry, bool]:
    """Put ``person`` on the standby list of ``session``; returns (entry, created).

    Refused: a closed session (409 ``standby_session_closed``), a person already on the list
    (409 ``standby_duplicate``; the same ``client_uuid`` again is a replay, 200 with the
    entry), a person not eligible on the session's day for any product it could offer (422
    ``not_eligible`` with the rules' reasons), no phone to call (422 ``standby_phone_required``),
    an inactive person, a user who may not sign people up there. Nothing is written when refused.
    """
    at = at or timezone.now()
    if client_uuid is not None:
        existing = StandbyEntry.objects.filter(client_uuid=client_uuid).first()
        if existing is not None:
            if (existing.session_id, existing.person_id) != (session.pk, person.pk):
                raise VaxopsError("idempotency_conflict", {"client_uuid": str(client_uuid)})
            return existing, False
    if acting_user is not None and not may_sign_up(acting_user, session, person):
        check_session(acting_user, "standby.sign_up", session)  # 403 or 404 as the rules say
        raise VaxopsError("session_not_found", {"session_id": session.pk})
    if session.status == SessionStatus.CLOSED:
        raise VaxopsError("standby_session_closed", {"session_id": session.pk})
    if person.status != PersonStatus.ACTIVE:
        raise VaxopsError("person_inactive", {"status": person.get_status_display()})
    number = validate_phone(phone if phone is not None else person.phone)
    if not number:
        raise VaxopsError("standby_phone_required", {"person_id": person.pk})
    if StandbyEntry.objects.filter(session=session, person=person).exists():
        raise VaxopsError("standby_duplicate", {"session_id": session.pk, "person_id": person.pk})
    products = candidate_products(session, at)
    if not products:
        raise VaxopsError("standby_no_product", {"session_id": session.pk})
    _eligible_for_one(person, products, session.date)
    group, rank = _rank(person)
    entry = StandbyEntry(session=session, person=person, phone=number, priority_group=group, priority_rank=rank,
                         signed_up_at=at, signed_up_by=acting_user if getattr(acting_user, "pk", None) else None,
                         client_uuid=client_uuid, county_code=session.site.county_code)
    try:
        with transaction.atomic(durable=True):
            entry.save(force_insert=True)
            audit("standby.sign_up", entry, actor=acting_user, source=source, county_code=entry.county_code,
                  after={"session_id": session.pk, "person_id": person.pk, "priority_group": group, "rank": rank})
    except IntegrityError:
        # A concurrent sign-up of the same person (or the same client_uuid) won the race.
        if client_uuid is not None:
            again = StandbyEntry.objects.filter(client_uuid=client_uuid, session=session, person=person).first()
            if again is not None:
                return again, False
        raise VaxopsError("standby_duplicate", {"session_id": session.pk, "person_id": person.pk}) from None
    return entry, True


def _eligible_for_one(person: Person, products: list, on: dt.date) -> None:
    from vaxops.vaccination.services import assess_person, dose_history

    history = dose_history(person)
    verdicts = []
    for product in products:
        verdict = assess_person(person, product, on, history)
        if verdict.status == "eligible":
            return
        verdicts.append((product, verdict))
    product, verdict = verdicts[0]
    raise VaxopsError("not_eligible", {"product": product.code, "reasons": list(verdict.reason_codes),
                                       "earliest_date": verdict.earliest_date.isoformat()
                                       if verdict.earliest_date else None})


# --- offers ---------------------------------------------------------------------------------------


@dataclass
class OffersMade:
    """What ``make_offers`` did: the offers made now, the doses left in open vials, the doses
    free to offer (leftover less those reserved by confirmed people still to come) and the
    round after it."""

    offers: list[Offer]
    leftover: int
    free: int
    round: StandbyRound
    expired: int = 0
    entries_left: int = 0
    notes: list[str] = field(default_factory=list)


def offer_text(session: Session, offer: Offer, product_names: str) -> str:
    """The SMS of an offer, in zh-Hans (the campaign's language; the page shows it too)."""
    local = offer.expires_at.astimezone(_tz())
    with translation.override("zh-hans"):
        return _("[%(site)s] A leftover dose of %(products)s is available for you today. Reply or call the site "
                 "by %(time)s to confirm; the first to confirm gets it.") % {
            "site": session.site.name_zh, "products": product_names, "time": local.strftime("%H:%M")}


def _expire(session: Session | None, at: dt.datetime) -> int:
    """Mark the offers past their time expired, their entries lapsed, and suppress their
    unsent messages; inside the caller's transaction. Returns how many expired."""
    due = Offer.objects.filter(status=OfferStatus.OFFERED, expires_at__lte=at)
    if session is not None:
        due = due.filter(entry__session=session)
    rows = list(due.values_list("pk", "entry_id"))
    if not rows:
        return 0
    Offer.objects.filter(pk__in=[pk for pk, _ in rows], status=OfferStatus.OFFERED).update(
        status=OfferStatus.EXPIRED, answered_at=F("expires_at"))
    StandbyEntry.objects.filter(pk__in=[e for _, e in rows], status=EntryStatus.OFFERED).update(
        status=EntryStatus.LAPSED)
    suppress([offer_reason(pk) for pk, _ in rows], at=at)
    return len(rows)


def _round(session: Session) -> StandbyRound:
    """The session's round, created if needed, locked for this transaction."""
    StandbyRound.objects.get_or_create(session=session)
    return StandbyRound.objects.select_for_update().get(session=session)


def make_offers(session: Session, *, acting_user: Any, at: dt.datetime | None = None,
                source: str = "api") -> OffersMade:
    """Offer the session's leftover doses to its standby list now.

    The doses free to offer are those left in the open vials (``leftover_doses``) less those
    reserved by confirmed people not yet vaccinated; the round then holds confirmed + free doses.
    Offers go to the waiting entries in order (priority rank, then sign-up time) until the
    open offers number ``ceil(factor × free)`` (``offer_factor``), each open for
    ``offer_minutes``, each with its SMS in the outbox. Offers past their time are expired first.
    Only while the session is open (409 ``standby_session_not_open``). One audit event.
    """
    at = at or timezone.now()
    check_session(acting_user, "standby.manage", session)
    if session.status != SessionStatus.OPEN:
        raise VaxopsError("standby_session_not_open", {"session_id": session.pk, "status": session.status})
    with transaction.atomic(durable=True):
        round_ = _round(session)
        expired = _expire(session, at)
        vials = list(open_vials(session, at))
        leftover = sum(v.doses_left for v in vials)
        free = max(leftover - awaiting_doses(session), 0)
        round_.doses = round_.confirmed + free
        round_.last_offered_at = at
        round_.save(update_fields=["doses", "last_offered_at"])
        live = Offer.objects.filter(entry__session=session, status=OfferStatus.OFFERED, expires_at__gt=at).count()
        wanted = offers_to_make(free, live, offer_factor())
        entries = list(StandbyEntry.objects.filter(session=session, status=EntryStatus.WAITING)
                       .order_by("priority_rank", "signed_up_at", "pk")[:wanted]) if wanted else []
        offers = [Offer(entry=e, made_at=at, expires_at=at + dt.timedelta(minutes=offer_minutes())) for e in entries]
        if offers:
            Offer.objects.bulk_create(offers)
            if any(o.pk is None for o in offers):  # a backend that does not return ids from bulk inserts
                offers = list(Offer.objects.filter(entry__in=entries, made_at=at).order_by("pk"))
            with translation.override("zh-hans"):
                names = "、".join(sorted({v.lot.product.name_zh for v in vials}))
            by_entry = {e.pk: e for e in entries}
            made = enqueue_many([MessageIn(reason=offer_reason(o.pk), phone=by_entry[o.entry_id].phone,
                                           text=offer_text(session, o, names), kind=MESSAGE_KIND) for o in offers],
                                at=at)
            for o in offers:
                o.message = made[offer_reason(o.pk)]
                o.entry = by_entry[o.entry_id]
            Offer.objects.bulk_update(offers, ["message"])
            StandbyEntry.objects.filter(pk__in=[e.pk for e in entries]).update(status=EntryStatus.OFFERED)
            for e in entries:
                e.status = EntryStatus.OFFERED
        left = StandbyEntry.objects.filter(session=session, status=EntryStatus.WAITING).count()
        audit("standby.offer", session, actor=acting_user, source=source, county_code=session.site.county_code,
              after={"at": at.isoformat(), "leftover": leftover, "free": free, "round_doses": round_.doses,
                     "confirmed": round_.confirmed, "offers": [o.pk for o in offers], "expired": expired})
    return OffersMade(offers=offers, leftover=leftover, free=free, round=round_, expired=expired, entries_left=left)


def _locked_offer(offer: Offer | int) -> Offer:
    """The offer, locked after its session's round (the order ``make_offers`` takes too: round,
    then offers, so an answer and a new round of offers never wait on each other crosswise)."""
    pk = offer if isinstance(offer, int) else offer.pk
    session_id = Offer.objects.filter(pk=pk).values_list("entry__session_id", flat=True).first()
    if session_id is None:
        raise VaxopsError("offer_not_found", {"offer_id": pk})
    StandbyRound.objects.select_for_update().filter(session_id=session_id).first()
    return (Offer.objects.select_for_update(of=("self",)).select_related("entry__session__site__division",
                                                                         "entry__person")
            .get(pk=pk))


def _check_offer(acting_user: Any, offer: Offer) -> None:
    if acting_user is None:
        return
    try:
        check_session(acting_user, "standby.manage", offer.entry.session)
    except VaxopsError as exc:
        if exc.code == "session_not_found":
            raise VaxopsError("offer_not_found", {"offer_id": offer.pk}) from None
        raise


def confirm_offer(offer: Offer | int, *, acting_user: Any, at: dt.datetime | None = None,
                  source: str = "api") -> Offer:
    """The person accepts the offer (by phone at the desk, or a reply): one of the round's doses
    is theirs. First come, first served, never past the round's count nor past the doses still in
    the open vials less those kept for confirmed people (409 ``standby_full``); an
    offer past its time is 409 ``offer_expired``, one already declined or expired 409
    ``offer_not_open``; confirming a confirmed offer again answers it unchanged. When the last
    dose is taken, the messages of the other open offers not yet sent are suppressed.
    """
    at = at or timezone.now()
    with transaction.atomic(durable=True):
        o = _locked_offer(offer)
        _check_offer(acting_user, o)
        if o.status == OfferStatus.CONFIRMED:
            return o
        if o.status != OfferStatus.OFFERED:
            raise VaxopsError("offer_not_open", {"offer_id": o.pk, "status": o.status})
        if o.expires_at <= at:
            raise VaxopsError("offer_expired", {"offer_id": o.pk, "expires_at": o.expires_at.isoformat()})
        session = o.entry.session
        if session.status != SessionStatus.OPEN:
            raise VaxopsError("standby_session_not_open", {"session_id": session.pk, "status": session.status})
        # Doses may have gone to walk-ins since the round was made: never confirm a dose that is
        # no longer in the vials (the round's lock keeps this read steady between confirmations).
        if leftover_doses(session, at) - awaiting_doses(session) < 1:
            raise VaxopsError("standby_full", {"offer_id": o.pk, "session_id": session.pk})
        # The one guard against over-confirmation: a conditional increment of the round's row.
        taken = StandbyRound.objects.filter(session_id=session.pk, confirmed__lt=F("doses")).update(
            confirmed=F("confirmed") + 1)
        if not taken:
            raise VaxopsError("standby_full", {"offer_id": o.pk, "session_id": session.pk})
        Offer.objects.filter(pk=o.pk).update(status=OfferStatus.CONFIRMED, answered_at=at,
                                             answered_by=acting_user if getattr(acting_user, "pk", None) else None)
        StandbyEntry.objects.filter(pk=o.entry_id).update(status=EntryStatus.CONFIRMED)
        suppress(offer_reason(o.pk), at=at)
        round_ = StandbyRound.objects.get(session_id=session.pk)
        if round_.confirmed >= round_.doses:
            others = Offer.objects.filter(entry__session=session, status=OfferStatus.OFFERED).values_list("pk", flat=True)
            suppress([offer_reason(pk) for pk in others], at=at)
        audit("standby.confirm", o, actor=acting_user, source=source, county_code=session.site.county_code,
              before={"status": OfferStatus.OFFERED},
              after={"status": OfferStatus.CONFIRMED, "confirmed": round_.confirmed, "doses": round_.doses})
    o.refresh_from_db()
    return o


def decline_offer(offer: Offer | int, *, acting_user: Any, at: dt.datetime | None = None,
                  source: str = "api") -> Offer:
    """The person says no: the offer is declined, their entry leaves the list's calls, the
    message is suppressed if not sent. Declining a declined offer answers it unchanged; an offer
    past its time is 409 ``offer_expired``; a confirmed one 409 ``offer_not_open``."""
    at = at or timezone.now()
    with transaction.atomic(durable=True):
        o = _locked_offer(offer)
        _check_offer(acting_user, o)
        if o.status == OfferStatus.DECLINED:
            return o
        if o.status != OfferStatus.OFFERED:
            raise VaxopsError("offer_not_open", {"offer_id": o.pk, "status": o.status})
        if o.expires_at <= at:
            raise VaxopsError("offer_expired", {"offer_id": o.pk, "expires_at": o.expires_at.isoformat()})
        Offer.objects.filter(pk=o.pk).update(status=OfferStatus.DECLINED, answered_at=at,
                                             answered_by=acting_user if getattr(acting_user, "pk", None) else None)
        StandbyEntry.objects.filter(pk=o.entry_id).update(status=EntryStatus.DECLINED)
        suppress(offer_reason(o.pk), at=at)
        audit("standby.decline", o, actor=acting_user, source=source, county_code=o.entry.session.site.county_code,
              before={"status": OfferStatus.OFFERED}, after={"status": OfferStatus.DECLINED})
    o.refresh_from_db()
    return o


def expire_offers(*, session: Session | None = None, acting_user: Any = None, at: dt.datetime | None = None,
                  source: str = "cli") -> int:
    """Expire every open offer past its time (of one session, or everywhere): the entries
    lapse, unsent messages are suppressed. One audit event when any expired. Returns the count."""
    at = at or timezone.now()
    if session is not None:
        check_session(acting_user, "standby.manage", session)
    with transaction.atomic(durable=True):
        count = _expire(session, at)
        if count:
            audit("standby.expire", session or Offer(pk=0), actor=acting_user, source=source,
                  county_code=session.site.county_code if session else "",
                  after={"at": at.isoformat(), "expired": count})
    return count
