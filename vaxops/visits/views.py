"""The visit pages: the desk's visit steps, the live board with its what-if, the public big
screen and the site figures.

Views are thin: they read through ``vaxops.access.scope`` (``services.scoped_session`` /
``scoped_visit``), write through ``visits.services`` and show each ``VaxopsError`` as a message.
A request sent by HTMX gets only the part of the page that changes; without HTMX the same URL
returns the whole page, so every step also works without JavaScript.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core import signing
from django.db.models import F
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from vaxops.access.scope import can, restrict
from vaxops.campaign.services import TZ
from vaxops.catalog.models import Product
from vaxops.core.errors import VaxopsError
from vaxops.core.models import Source
from vaxops.registry.api import search_people
from vaxops.registry.models import Deferral
from vaxops.supply.models import Lot, LotStatus
from vaxops.visits import services
from vaxops.visits.board import board
from vaxops.visits.figures import measured, predicted
from vaxops.visits.models import Stage, Visit, VisitStatus
from vaxops.visits.screening import QUESTIONS, suggested_deferral
from vaxops.visits.whatif import what_if

SCREEN_SALT = "vaxops.visits.screen"
#: Rows shown per queue on the desk.
DESK_ROWS = 40


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _forbidden(request: HttpRequest) -> HttpResponse:
    return render(request, "web/_forbidden.html" if _is_htmx(request) else "web/forbidden.html", status=403)


def _session(request: HttpRequest, session_id: int, action: str):
    """The session if the user may ``action`` there; None for a forbidden role; 404 outside the area."""
    try:
        return services.scoped_session(session_id, request.user, action)
    except VaxopsError as exc:
        if exc.code == "permission_denied":
            return None
        raise Http404(exc.message) from None


def _moment(request: HttpRequest, session) -> dt.datetime:
    """``?at=`` (ISO 8601 with offset, or HH:MM on the session's day) or now: the demo reads a
    replayed day at its reported moment."""
    from vaxops.visits.api import moment_param

    try:
        return moment_param(session, request.GET.get("at") or request.POST.get("at"), "at") or timezone.now()
    except VaxopsError:
        return timezone.now()


def screen_token(session, at: dt.datetime | None = None) -> str:
    """The signed token of the session's big screen (ids cannot be guessed from it)."""
    return signing.dumps({"s": session.pk, "at": at.isoformat() if at else None}, salt=SCREEN_SALT)


# --- the desk ------------------------------------------------------------------------------------


def _usable_lots(request: HttpRequest, session) -> list[Lot]:
    """Lots on hand at the session's site that may be used that day, first-expiring first (as
    the site desk offers them)."""
    return list(
        restrict(
            Lot.objects.filter(
                status=LotStatus.RELEASED, expiry_date__gte=session.date, balances__store__site=session.site,
                balances__store__on_hold=False, balances__on_hold=False, balances__on_hand__gt=0,
            ).select_related("product"),
            request.user, "lot.view",
        ).annotate(doses_left=F("balances__on_hand")).order_by("expiry_date", "lot_number")
    )


def _desk_context(request: HttpRequest, session, **extra: Any) -> dict[str, Any]:
    visits = Visit.objects.filter(session=session).select_related("person")
    lots = _usable_lots(request, session)
    products = {lot.product_id: lot.product for lot in lots}
    now = timezone.now()
    observing = list(visits.filter(status=VisitStatus.IN_OBSERVATION).order_by("observation_until")[:DESK_ROWS])
    for v in observing:
        v.can_release = now >= v.observation_until
    screened = list(visits.filter(status=VisitStatus.SCREENED).order_by("ticket")[:DESK_ROWS])
    for v in screened:
        v.dose_uuid = uuid.uuid4()  # a retried submission of this form replays the same dose
    return {
        "session": session, "site": session.site, "now": now,
        "waiting": list(visits.filter(status=VisitStatus.WAITING).order_by("ticket")[:DESK_ROWS]),
        "screened": screened,
        "observing": observing,
        "finished": list(visits.filter(status__in=[VisitStatus.RELEASED, VisitStatus.DEFERRED, VisitStatus.LEFT])
                         .order_by("-pk")[:10]),
        "questions": QUESTIONS, "reasons": Deferral.Reason.choices, "lots": lots,
        "products": sorted(products.values(), key=lambda p: p.code) or list(Product.objects.filter(is_active=True)),
        "client_uuid": uuid.uuid4(), "can_board": can(request.user, "board.view"),
        "session_open": session.status == "open",
        **extra,
    }


def _render_desk(request: HttpRequest, session, *, status: int = 200, **extra: Any) -> HttpResponse:
    template = "visits/_desk_work.html" if _is_htmx(request) else "visits/desk.html"
    return render(request, template, _desk_context(request, session, **extra), status=status)


@login_required
@require_GET
def desk(request: HttpRequest, session_id: int) -> HttpResponse:
    """The visit steps of one session: check-in, screening, vaccination, observation, release."""
    session = _session(request, session_id, "visit.manage")
    if session is None:
        return _forbidden(request)
    return _render_desk(request, session)


@login_required
@require_POST
def desk_check_in(request: HttpRequest, session_id: int) -> HttpResponse:
    """Find the person by the exact ID number (as the site desk does) and give a ticket."""
    session = _session(request, session_id, "visit.manage")
    if session is None:
        return _forbidden(request)
    raw = (request.POST.get("id_number") or "").strip()
    try:
        person = search_people(request.user, id_number=raw, source=Source.WEB).first() if raw else None
        if person is None:
            return _render_desk(request, session, error=_("No registered person has this ID number. Register "
                                                          "them at the site desk first."), not_found=bool(raw))
        visit = services.check_in(session, person, client_uuid=request.POST.get("client_uuid") or uuid.uuid4(),
                                  acting_user=request.user)
    except VaxopsError as exc:
        return _render_desk(request, session, error=exc.message)
    return _render_desk(request, session, done=_("Ticket %(ticket)s: %(name)s") % {
        "ticket": visit.ticket, "name": person.name}, ticket=visit.ticket)


def _step(request: HttpRequest, visit: Visit, step: str) -> str:
    post = request.POST
    if step == "screen":
        answers = {q.code: post.get(f"q_{q.code}") == "yes" for q in QUESTIONS}
        outcome = post.get("outcome", "")
        reason = post.get("contraindication") or (suggested_deferral(answers) if outcome == "defer" else None)
        until = None
        if post.get("until"):
            try:
                until = dt.date.fromisoformat(post["until"])
            except ValueError:
                raise VaxopsError("invalid_request", {"field": "until"}) from None
        services.screen(visit, outcome=outcome, contraindication=reason, until=until, answers=answers,
                        acting_user=request.user)
        return _("Ticket %(ticket)s screened.") % {"ticket": visit.ticket} if outcome == "pass" else _(
            "Ticket %(ticket)s deferred.") % {"ticket": visit.ticket}
    if step == "vaccinate":
        # "PRODUCT|LOT": a lot number is unique only within its product.
        product, _sep, lot_number = post.get("lot", "").partition("|")
        services.vaccinate(visit, product_code=product, lot_number=lot_number, acting_user=request.user,
                           client_uuid=post.get("client_uuid") or None)
        return _("Ticket %(ticket)s vaccinated: observation until %(until)s.") % {
            "ticket": visit.ticket,
            "until": Visit.objects.get(pk=visit.pk).observation_until.astimezone(TZ).strftime("%H:%M")}
    if step == "release":
        services.release(visit, acting_user=request.user)
        return _("Ticket %(ticket)s released.") % {"ticket": visit.ticket}
    if step == "leave":
        services.leave(visit, acting_user=request.user)
        return _("Ticket %(ticket)s left without finishing.") % {"ticket": visit.ticket}
    raise Http404("no such step")


@login_required
@require_POST
def desk_step(request: HttpRequest, visit_id: int, step: str) -> HttpResponse:
    """One step of one visit (screen, vaccinate, release, leave), then the desk again."""
    if not can(request.user, "visit.manage"):
        return _forbidden(request)
    try:
        visit = services.scoped_visit(visit_id, request.user)
    except VaxopsError as exc:
        raise Http404(exc.message) from None
    try:
        done = _step(request, visit, step)
    except VaxopsError as exc:
        return _render_desk(request, visit.session, error=exc.message, error_visit=visit.pk)
    return _render_desk(request, visit.session, done=done)


# --- the board -----------------------------------------------------------------------------------


def _board_context(request: HttpRequest, session, **extra: Any) -> dict[str, Any]:
    at = _moment(request, session)
    fixed = bool(request.GET.get("at") or request.POST.get("at"))
    stations = services.station_counts(session)
    return {
        "session": session, "site": session.site, "b": board(session, at), "at": at, "fixed_at": fixed,
        "at_param": request.GET.get("at") or request.POST.get("at") or "",
        "stations": stations, "stages": Stage.choices, "can_whatif": can(request.user, "whatif.run"),
        "can_desk": can(request.user, "visit.manage"),
        "screen_url": reverse("visits:screen", args=[screen_token(session, at if fixed else None)]),
        **extra,
    }


@login_required
@require_GET
def board_page(request: HttpRequest, session_id: int) -> HttpResponse:
    """The live board: counts polled every few seconds, stations and the what-if."""
    session = _session(request, session_id, "board.view")
    if session is None:
        return _forbidden(request)
    return render(request, "visits/board.html", _board_context(request, session))


@login_required
@require_GET
def board_part(request: HttpRequest, session_id: int) -> HttpResponse:
    """The board's counts alone (the part HTMX polls)."""
    session = _session(request, session_id, "board.view")
    if session is None:
        return _forbidden(request)
    return render(request, "visits/_board_counts.html", _board_context(request, session))


@login_required
@require_POST
def board_stations(request: HttpRequest, session_id: int) -> HttpResponse:
    session = _session(request, session_id, "whatif.run")
    if session is None:
        return _forbidden(request)
    try:
        counts = {stage: int(request.POST.get(stage, "")) for stage in Stage.values if request.POST.get(stage)}
        services.set_stations(session, counts, acting_user=request.user)
    except ValueError:
        return render(request, "visits/_stations.html", _board_context(
            request, session, stations_error=_("A station count must be a whole number.")))
    except VaxopsError as exc:
        return render(request, "visits/_stations.html", _board_context(request, session, stations_error=exc.message))
    template = "visits/_stations.html" if _is_htmx(request) else "visits/board.html"
    return render(request, template, _board_context(request, session, stations_saved=True))


@login_required
@require_POST
def board_whatif(request: HttpRequest, session_id: int) -> HttpResponse:
    """The simulator from the live state with the extra stations asked for."""
    session = _session(request, session_id, "whatif.run")
    if session is None:
        return _forbidden(request)
    from vaxops.visits.api import moment_param

    context: dict[str, Any] = {}
    try:
        extra = {}
        for stage in Stage.values:
            raw = request.POST.get(f"extra_{stage}", "").strip()
            if raw:
                extra[stage] = int(raw)
        at = _moment(request, session)
        until = moment_param(session, request.POST.get("until") or None, "until")
        answer = what_if(session, stations=services.station_counts(session), extra_stations=extra, until=until,
                         at=at)
        context.update(answer=answer, until=until, extra=extra)
    except ValueError:
        context["whatif_error"] = _("A station count must be a whole number.")
    except VaxopsError as exc:
        context["whatif_error"] = exc.message
    template = "visits/_whatif.html" if _is_htmx(request) else "visits/board.html"
    return render(request, template, _board_context(request, session, **context))


# --- the big screen ------------------------------------------------------------------------------


@require_GET
def screen(request: HttpRequest, token: str) -> HttpResponse:
    """The public big screen: counts only, in large type, in Chinese, refreshing itself."""
    try:
        data = signing.loads(token, salt=SCREEN_SALT)
        session = services.Session.objects.select_related("site").get(pk=int(data["s"]))
        at = dt.datetime.fromisoformat(data["at"]) if data.get("at") else timezone.now()
    except (signing.BadSignature, KeyError, TypeError, ValueError, services.Session.DoesNotExist):
        raise Http404(str(VaxopsError("screen_token_invalid").message)) from None
    with translation.override("zh-hans"):
        response = render(request, "visits/screen.html", {"session": session, "site": session.site,
                                                          "b": board(session, at), "at": at.astimezone(TZ),
                                                          "observation": int(services.observation_minutes())})
    response["Cache-Control"] = "no-store"
    return response


# --- figures -------------------------------------------------------------------------------------


@login_required
@require_GET
def figures_page(request: HttpRequest, session_id: int) -> HttpResponse:
    """Doses per hour, waits and the busiest hour, measured and as the simulator predicts them."""
    session = _session(request, session_id, "board.view")
    if session is None:
        return _forbidden(request)
    stations = services.station_counts(session)
    got, model = measured(session), predicted(session, stations)
    hours = sorted(set(got["doses_per_hour"]) | set((model or {}).get("doses_per_hour", {})))
    chart = {
        "hours": [f"{h:02d}:00" for h in hours],
        "measured": [got["doses_per_hour"].get(h, 0) for h in hours],
        "predicted": [(model or {}).get("doses_per_hour", {}).get(h, 0) for h in hours],
        "labels": {"measured": _("measured"), "predicted": _("simulator"), "doses": _("doses per hour")},
    }
    rows = [
        {"hour": f"{h:02d}:00", "measured": got["doses_per_hour"].get(h, 0),
         "predicted": (model or {}).get("doses_per_hour", {}).get(h, 0)} for h in hours
    ]
    return render(request, "visits/figures.html", {
        "session": session, "site": session.site, "measured": got, "predicted": model, "stations": stations,
        "rows": rows, "chart_data": json.loads(json.dumps(chart)),
    })
