"""The standby list for leftover doses: /api/v1/sessions/{id}/standby… and /api/v1/standby/offers/…
(docs/standby.md).

Thin: reads go through ``vaxops.access.scope``, every write is one service of
``vaxops.standby.services``; errors are the services' ``{code, message, detail}``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.utils import timezone
from ninja import Field, Router, Schema, Status

from vaxops.access.scope import require, restrict
from vaxops.core.errors import VaxopsError
from vaxops.core.models import Source
from vaxops.core.openapi import OPERATIONS
from vaxops.core.schema import RowId
from vaxops.registry.api import ErrorOut, reachable_person
from vaxops.sites.models import Session
from vaxops.standby import services
from vaxops.standby.models import Offer, OfferStatus, StandbyEntry, StandbyRound

router = Router(tags=["standby"])
sessions_router = Router(tags=["standby"])

ERRORS = {403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}
READ_ERRORS = {403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


# --- schemas ----------------------------------------------------------------------------------------


class SignUpIn(Schema):
    client_uuid: uuid.UUID | None = Field(None, description="A retry with the same id answers 200 with the entry.")
    person_id: RowId
    phone: str | None = Field(None, max_length=20, description="The number to call (default: the person's own).")


class EntryOut(Schema):
    id: int
    session_id: int
    person_id: int
    name: str
    id_number_masked: str
    phone: str
    priority_group: str
    priority_group_name: str = Field(description="The group's name in the request's language (empty: none).")
    priority_rank: int
    signed_up_at: dt.datetime
    status: str = Field(description="waiting | offered | confirmed | declined | lapsed")


class OfferOut(Schema):
    id: int
    entry_id: int
    person_id: int
    name: str
    phone: str
    status: str = Field(description="offered | confirmed | expired | declined")
    made_at: dt.datetime
    expires_at: dt.datetime
    seconds_left: int = Field(description="Until the offer expires (0 once expired or answered).")
    answered_at: dt.datetime | None
    message_status: str | None = Field(description="The SMS in the outbox: pending | sent | suppressed | failed.")


class StandbyOut(Schema):
    session_id: int
    session_status: str
    leftover_doses: int = Field(description="Doses left now in the session's opened multi-dose vials.")
    doses_on_offer: int = Field(description="The round's doses: confirmed plus still free.")
    confirmed: int
    wastage_avoided: int = Field(description="Doses from those vials given to confirmed standby people.")
    entries: list[EntryOut]
    offers: list[OfferOut]
    count: int


class OffersMadeOut(Schema):
    session_id: int
    leftover_doses: int
    free_doses: int = Field(description="Leftover less the doses kept for confirmed people still to come.")
    doses_on_offer: int
    confirmed: int
    expired: int = Field(description="Offers that had passed their time and expired first.")
    offers: list[OfferOut]


# --- readers ----------------------------------------------------------------------------------------


def _local(moment: dt.datetime | None) -> dt.datetime | None:
    from vaxops.campaign.services import TZ

    return moment.astimezone(TZ) if moment is not None else None


def _group_names() -> dict[str, str]:
    from vaxops.registry.models import PriorityGroup

    return {g.code: g.name for g in PriorityGroup.objects.all()}


def entry_out(e: StandbyEntry, names: dict[str, str] | None = None) -> dict[str, Any]:
    names = _group_names() if names is None else names
    return {"id": e.pk, "session_id": e.session_id, "person_id": e.person_id, "name": e.person.name,
            "id_number_masked": e.person.id_number_masked, "phone": e.phone, "priority_group": e.priority_group,
            "priority_group_name": names.get(e.priority_group, e.priority_group),
            "priority_rank": e.priority_rank, "signed_up_at": _local(e.signed_up_at), "status": e.status}


def offer_out(o: Offer, now: dt.datetime | None = None) -> dict[str, Any]:
    now = now or timezone.now()
    left = int((o.expires_at - now).total_seconds()) if o.status == OfferStatus.OFFERED else 0
    return {"id": o.pk, "entry_id": o.entry_id, "person_id": o.entry.person_id, "name": o.entry.person.name,
            "phone": o.entry.phone, "status": o.status, "made_at": _local(o.made_at),
            "expires_at": _local(o.expires_at), "seconds_left": max(left, 0), "answered_at": _local(o.answered_at),
            "message_status": o.message.status if o.message_id else None}


def scoped_session(user: Any, session_id: int, action: str) -> Session:
    """The session if ``action`` reaches its site, else ``session_not_found`` (or 401/403)."""
    require(user, action)
    session = Session.objects.select_related("site__division").filter(pk=session_id).first()
    if session is None:
        raise VaxopsError("session_not_found", {"session_id": session_id})
    services.check_session(user, action, session)
    return session


def standby_of(session: Session, user: Any, now: dt.datetime | None = None) -> dict[str, Any]:
    """The session's list in calling order, its offers (newest first) and its figures."""
    now = now or timezone.now()
    entries = list(restrict(StandbyEntry.objects.filter(session=session), user, "standby.view")
                   .select_related("person").order_by("priority_rank", "signed_up_at", "pk"))
    offers = list(restrict(Offer.objects.filter(entry__session=session), user, "standby.view")
                  .select_related("entry__person", "message").order_by("-made_at", "pk"))
    round_ = StandbyRound.objects.filter(session=session).first()
    names = _group_names()
    return {"session_id": session.pk, "session_status": session.status,
            "leftover_doses": services.leftover_doses(session, now),
            "doses_on_offer": round_.doses if round_ else 0, "confirmed": round_.confirmed if round_ else 0,
            "wastage_avoided": services.wastage_avoided(session),
            "entries": [entry_out(e, names) for e in entries], "offers": [offer_out(o, now) for o in offers],
            "count": len(entries)}


# --- endpoints --------------------------------------------------------------------------------------


@sessions_router.post("/{session_id}/standby", response={200: EntryOut, 201: EntryOut, **ERRORS})
def sign_up(request, session_id: RowId, payload: SignUpIn):
    """Put a person on the session's standby list, to be called when a dose is left over.
    Only a person eligible on the session's day for a vaccine it could offer; once per session."""
    require(request.user, "standby.sign_up")
    session = Session.objects.select_related("site__division").filter(pk=session_id).first()
    if session is None:
        raise VaxopsError("session_not_found", {"session_id": session_id})
    person = reachable_person(request.user, payload.person_id)
    entry, created = services.sign_up(session, person, acting_user=request.user, phone=payload.phone,
                                      client_uuid=payload.client_uuid, source=Source.API)
    entry = StandbyEntry.objects.select_related("person").get(pk=entry.pk)
    return Status(201 if created else 200, entry_out(entry))


@sessions_router.get("/{session_id}/standby", response={200: StandbyOut, **READ_ERRORS})
def standby_list(request, session_id: RowId):
    """The session's standby list in calling order (priority group, then sign-up time), the
    offers with their state and time left, the leftover doses and the wastage avoided."""
    session = scoped_session(request.user, session_id, "standby.view")
    return standby_of(session, request.user)


@sessions_router.post("/{session_id}/standby/offers", response={200: OffersMadeOut, **ERRORS})
def make_offers(request, session_id: RowId):
    """Offer the leftover doses now: the next people of the list get an SMS, as many as the
    factor × the doses free, each offer open for the configured minutes."""
    session = scoped_session(request.user, session_id, "standby.manage")
    made = services.make_offers(session, acting_user=request.user, source=Source.API)
    offers = Offer.objects.filter(pk__in=[o.pk for o in made.offers]).select_related("entry__person", "message")
    return {"session_id": session.pk, "leftover_doses": made.leftover, "free_doses": made.free,
            "doses_on_offer": made.round.doses, "confirmed": made.round.confirmed, "expired": made.expired,
            "offers": [offer_out(o) for o in offers.order_by("pk")]}


def _answer(request, offer_id: int, service) -> dict[str, Any]:
    require(request.user, "standby.manage")
    if not Offer.objects.filter(pk=offer_id).exists():
        raise VaxopsError("offer_not_found", {"offer_id": offer_id})
    offer = service(offer_id, acting_user=request.user, source=Source.API)
    return offer_out(Offer.objects.select_related("entry__person", "message").get(pk=offer.pk))


@router.post("/offers/{offer_id}/confirm", response={200: OfferOut, **ERRORS})
def confirm(request, offer_id: RowId):
    """The person takes the offered dose (a phone call to the desk): first come, first served,
    never past the doses on offer (409 standby_full); too late is 409 offer_expired."""
    return _answer(request, offer_id, services.confirm_offer)


@router.post("/offers/{offer_id}/decline", response={200: OfferOut, **ERRORS})
def decline(request, offer_id: RowId):
    """The person does not want the dose: the offer is declined and its SMS, if not yet sent,
    is never sent."""
    return _answer(request, offer_id, services.decline_offer)


_SESSION = ("session_not_found",)
OPERATIONS.update({
    "vaxops_standby_api_sign_up": ("", (*_SESSION, "person_not_found", "standby_duplicate", "standby_session_closed",
                                        "standby_no_product", "standby_phone_required", "invalid_phone",
                                        "not_eligible", "person_inactive", "idempotency_conflict")),
    "vaxops_standby_api_standby_list": ("", _SESSION),
    "vaxops_standby_api_make_offers": ("", (*_SESSION, "standby_session_not_open")),
    "vaxops_standby_api_confirm": ("", ("offer_not_found", "offer_expired", "offer_not_open", "standby_full",
                                        "standby_session_not_open")),
    "vaxops_standby_api_decline": ("", ("offer_not_found", "offer_expired", "offer_not_open")),
})
