"""The standby page of a session (/standby/sessions/<id>/): the list in calling order, the
leftover doses in open vials, the offers with their time left, "offer leftover doses now",
confirming or declining for a caller on the phone, a sign-up by ID number, the wastage avoided.

Views are thin: reads through ``vaxops.access.scope`` (``api.scoped_session``/``standby_of``),
each POST one service of ``vaxops.standby.services``, then back to the page with the outcome
as a message in the user's language (a reload never posts again).
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from vaxops.access.scope import admits, can
from vaxops.core.errors import VaxopsError
from vaxops.core.models import Source
from vaxops.sites.models import Site
from vaxops.standby import services
from vaxops.standby.api import scoped_session, standby_of
from vaxops.standby.models import Offer


def _refusal(request: HttpRequest, exc: VaxopsError) -> HttpResponse:
    if exc.code == "permission_denied":
        return render(request, "web/forbidden.html", status=403)
    return render(request, "web/error.html", {"error": exc}, status=exc.status)


@login_required
@never_cache
@require_GET
def session(request: HttpRequest, session_id: int) -> HttpResponse:
    try:
        found = scoped_session(request.user, session_id, "standby.view")
    except VaxopsError as exc:
        return _refusal(request, exc)
    now = timezone.now()
    data = standby_of(found, request.user, now)
    for o in data["offers"]:
        o["minutes_left"] = (o["seconds_left"] + 59) // 60
    site_row = {"pk": found.site_id, "division__path": found.site.division.path}
    return render(request, "standby/session.html", {
        "session": found, "data": data, "vials": list(services.open_vials(found, now)),
        "can_manage": admits(request.user, "standby.manage", Site, site_row),
        "can_sign_up": can(request.user, "standby.sign_up"),
        "factor": f"{services.offer_factor():g}", "minutes": services.offer_minutes(),
        "new_uuid": uuid.uuid4(),
    })


def _back(session_id: int) -> HttpResponse:
    return redirect("standby:session", session_id)


@login_required
@require_POST
def offer_now(request: HttpRequest, session_id: int) -> HttpResponse:
    try:
        found = scoped_session(request.user, session_id, "standby.manage")
        made = services.make_offers(found, acting_user=request.user, source=Source.WEB)
    except VaxopsError as exc:
        if exc.code in {"permission_denied", "session_not_found"}:
            return _refusal(request, exc)
        messages.error(request, exc.message)
        return _back(session_id)
    if made.offers:
        messages.success(request, ngettext(
            "%(count)d offer sent for %(doses)d leftover doses.", "%(count)d offers sent for %(doses)d leftover doses.",
            len(made.offers)) % {"count": len(made.offers), "doses": made.free})
    elif not made.free:
        messages.error(request, _("No leftover dose is free to offer now."))
    else:
        messages.success(request, _("Enough offers are open already; nobody else is waiting to be called."))
    return _back(session_id)


def _answer(request: HttpRequest, offer_id: int, service, done: str) -> HttpResponse:
    offer = Offer.objects.select_related("entry").filter(pk=offer_id).first()
    if offer is None:
        return _refusal(request, VaxopsError("offer_not_found", {"offer_id": offer_id}))
    try:
        scoped_session(request.user, offer.entry.session_id, "standby.manage")
        service(offer_id, acting_user=request.user, source=Source.WEB)
    except VaxopsError as exc:
        if exc.code in {"permission_denied", "session_not_found"}:
            return _refusal(request, VaxopsError("offer_not_found", {"offer_id": offer_id})
                            if exc.code == "session_not_found" else exc)
        messages.error(request, exc.message)
        return _back(offer.entry.session_id)
    messages.success(request, done)
    return _back(offer.entry.session_id)


@login_required
@require_POST
def confirm(request: HttpRequest, offer_id: int) -> HttpResponse:
    return _answer(request, offer_id, services.confirm_offer, _("Confirmed: the dose is kept for this person."))


@login_required
@require_POST
def decline(request: HttpRequest, offer_id: int) -> HttpResponse:
    return _answer(request, offer_id, services.decline_offer, _("Declined: the next person can be called."))


@login_required
@require_POST
def sign_up(request: HttpRequest, session_id: int) -> HttpResponse:
    """Sign up a person found by the exact ID number of the card in hand."""
    from vaxops.registry.api import search_people

    try:
        found = scoped_session(request.user, session_id, "standby.sign_up")
        number = (request.POST.get("id_number") or "").strip().upper()
        person = search_people(request.user, id_number=number).first() if number else None
        if person is None:
            raise VaxopsError("person_not_found", {"id_number": number[:18]})
        try:
            key = uuid.UUID(request.POST.get("client_uuid") or "")
        except ValueError:
            key = None
        phone = (request.POST.get("phone") or "").strip() or None
        entry, created = services.sign_up(found, person, acting_user=request.user, phone=phone, client_uuid=key,
                                          source=Source.WEB)
    except VaxopsError as exc:
        if exc.code in {"permission_denied", "session_not_found"}:
            return _refusal(request, exc)
        messages.error(request, exc.message)
        return _back(session_id)
    if created:
        messages.success(request, _("%(name)s is on the standby list.") % {"name": entry.person.name})
    return _back(session_id)
