"""The appointments pages: a session's booking grid (/appointments/sessions/<id>/: the slots
with booked and free places per dose number, setting the slots, booking a person or a
household by ID number, the bookings with cancel) and the desk's next-dose booking shown with
the confirmation of a dose (/appointments/desk/next/, loaded after the dose is recorded, so the
dose path itself does no more work).

Views are thin: reads through ``vaxops.access.scope`` (``api.scoped_session``), each POST one
service of ``vaxops.appointments.services``, then back to the page with the outcome as a message
in the user's language (a reload never posts again).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from vaxops.access.scope import admits, can, restrict
from vaxops.appointments import services
from vaxops.appointments.api import scoped_session
from vaxops.appointments.models import Appointment, AppointmentStatus
from vaxops.core.errors import VaxopsError
from vaxops.core.formats import format_date
from vaxops.core.models import Source
from vaxops.sites.models import Session, SessionStatus, Site

#: how many sessions of the coming days the desk offers for the next dose
DESK_SESSIONS = 6
DESK_DAYS = 120


def _tz():
    from vaxops.campaign.services import TZ

    return TZ


def _refusal(request: HttpRequest, exc: VaxopsError) -> HttpResponse:
    if exc.code == "permission_denied":
        return render(request, "web/forbidden.html", status=403)
    return render(request, "web/error.html", {"error": exc}, status=exc.status)


def _back(session_id: int) -> HttpResponse:
    return redirect("appointments:grid", session_id)


def _find(user: Any, number: str):
    from vaxops.registry.api import search_people

    number = (number or "").strip().upper()
    person = search_people(user, id_number=number, source=Source.WEB).select_related("home_division").first() \
        if number else None
    if person is None:
        raise VaxopsError("person_not_found", {"id_number": number[:18]})
    return person


def _dose_numbers(rows: list[dict[str, Any]]) -> list[str]:
    return sorted({n for r in rows for n in r["capacity"]}, key=int)


@login_required
@never_cache
@require_GET
def grid(request: HttpRequest, session_id: int) -> HttpResponse:
    try:
        found = scoped_session(request.user, session_id)
    except VaxopsError as exc:
        return _refusal(request, exc)
    rows = services.slots_of(found)
    numbers = _dose_numbers(rows)
    for r in rows:
        r["cells"] = [{"number": n, "capacity": r["capacity"].get(n, 0), "booked": r["booked"].get(n, 0),
                       "free": r["free"].get(n, 0),
                       "full": r["capacity"].get(n, 0) > 0 and r["free"].get(n, 0) == 0}
                      for n in numbers]
    bookings = list(restrict(Appointment.objects.filter(session=found), request.user, "appointment.view")
                    .select_related("person", "slot").order_by("slot__starts_at", "pk"))
    site_row = {"pk": found.site_id, "division__path": found.site.division.path}
    totals = {n: {"capacity": sum(r["capacity"].get(n, 0) for r in rows),
                  "booked": sum(r["booked"].get(n, 0) for r in rows)} for n in numbers}
    return render(request, "appointments/grid.html", {
        "session": found, "rows": rows, "numbers": numbers, "totals": totals, "bookings": bookings,
        "counts": services.figures_of(found),
        "can_manage": admits(request.user, "slot.manage", Site, site_row) and found.status != SessionStatus.CLOSED,
        "can_book": can(request.user, "appointment.book") and found.status != SessionStatus.CLOSED,
        "can_cancel": can(request.user, "appointment.cancel"),
        "minutes_choices": services.SLOT_MINUTES, "new_uuid": uuid.uuid4(),
    })


def _int(value: Any, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


@login_required
@require_POST
def set_slots(request: HttpRequest, session_id: int) -> HttpResponse:
    try:
        found = scoped_session(request.user, session_id, "slot.manage")
        capacity = {n: _int(request.POST.get(f"capacity_{n}"), -1) for n in range(1, 4)
                    if (request.POST.get(f"capacity_{n}") or "").strip()}
        slots = services.set_slots(found, minutes=_int(request.POST.get("minutes")), capacity=capacity,
                                   acting_user=request.user, source=Source.WEB)
    except VaxopsError as exc:
        if exc.code in {"permission_denied", "session_not_found"}:
            return _refusal(request, exc)
        messages.error(request, exc.message)
        return _back(session_id)
    messages.success(request, ngettext("%(count)d slot set.", "%(count)d slots set.", len(slots)) % {
        "count": len(slots)})
    return _back(session_id)


def _starts_at(raw: str | None) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(raw or "")
    except ValueError:
        raise VaxopsError("invalid_datetime", {"field": "starts_at"}) from None
    if value.tzinfo is None:
        raise VaxopsError("invalid_datetime", {"field": "starts_at"})
    return value


def _error_text(exc: VaxopsError) -> str:
    extra = exc.detail.get("reason_messages") or []
    return " ".join([exc.message, *map(str, extra)])


@login_required
@require_POST
def book(request: HttpRequest, session_id: int) -> HttpResponse:
    """Book the people whose ID numbers are given (one: a person; several, one a line: a
    household, together or not at all) into the chosen slot for the chosen dose."""
    try:
        found = scoped_session(request.user, session_id)
        numbers = [n for n in (request.POST.get("id_numbers") or "").split() if n.strip()]
        if not numbers:
            raise VaxopsError("person_not_found", {"id_number": ""})
        dose = _int(request.POST.get("dose_number"), 1)
        members = [services.Member(_find(request.user, n), dose) for n in numbers[:services.MAX_HOUSEHOLD + 1]]
        try:
            key = uuid.UUID(request.POST.get("client_uuid") or "")
        except ValueError:
            key = uuid.uuid4()
        rows, _created = services.book_household(client_uuid=key, members=members, session=found,
                                                 starts_at=_starts_at(request.POST.get("starts_at")),
                                                 acting_user=request.user, source=Source.WEB)
    except VaxopsError as exc:
        if exc.code in {"permission_denied", "session_not_found"}:
            return _refusal(request, exc)
        messages.error(request, _error_text(exc))
        return _back(session_id)
    when = rows[0].slot.starts_at.astimezone(_tz()).strftime("%H:%M")
    messages.success(request, _("Booked at %(time)s: %(names)s.") % {
        "time": when, "names": "、".join(r.person.name for r in rows)})
    return _back(session_id)


@login_required
@require_POST
def cancel(request: HttpRequest, appointment_id: int) -> HttpResponse:
    from vaxops.access.scope import get_scoped

    try:
        a = get_scoped(Appointment.objects.select_related("session__site__division", "person__home_division",
                                                          "slot"),
                       request.user, "appointment.cancel", not_found="appointment_not_found",
                       detail={"appointment_id": appointment_id}, pk=appointment_id)
    except VaxopsError as exc:
        return _refusal(request, exc)
    try:
        services.cancel(a, acting_user=request.user, reason=request.POST.get("reason", ""), source=Source.WEB)
    except VaxopsError as exc:
        messages.error(request, exc.message)
        return _back(a.session_id)
    messages.success(request, _("The booking of %(name)s is cancelled; the place is free again.") % {
        "name": a.person.name})
    if request.POST.get("next") == "desk":
        return redirect("web:desk")
    return _back(a.session_id)


# --- the desk's next dose ----------------------------------------------------------------------


def next_sessions(user: Any, site: Site, number: int, earliest: dt.date) -> list[dict[str, Any]]:
    """The coming sessions of ``site`` from ``earliest`` (and from today) with a free place for
    dose ``number``: [{session, slots: [{starts_at, free}]}], at most ``DESK_SESSIONS``."""
    from vaxops.appointments.models import SlotCapacity

    start = max(earliest, timezone.now().astimezone(_tz()).date())
    sessions = list(restrict(Session.objects.filter(site=site, date__gte=start,
                                                    date__lte=start + dt.timedelta(days=DESK_DAYS))
                             .exclude(status=SessionStatus.CLOSED), user, "slot.view")
                    .select_related("site").order_by("date", "opens_at")[:DESK_SESSIONS * 3])
    now = timezone.now()
    caps = (SlotCapacity.objects.filter(slot__session__in=sessions, dose_number=number, slot__ends_at__gt=now)
            .select_related("slot").order_by("slot__starts_at"))
    by_session: dict[int, list[dict[str, Any]]] = {}
    for c in caps:
        if c.capacity > c.booked:
            by_session.setdefault(c.slot.session_id, []).append(
                {"starts_at": c.slot.starts_at.astimezone(_tz()), "free": c.capacity - c.booked})
    return [{"session": s, "slots": by_session[s.pk]} for s in sessions if s.pk in by_session][:DESK_SESSIONS]


def _desk_person(request: HttpRequest, number: str):
    """The person of the desk's confirmation, again by the exact ID number the form carries."""
    from vaxops.registry.models import Person

    action = "person.vaccinate" if can(request.user, "person.vaccinate") else "person.view"
    number = (number or "").strip().upper()
    return restrict(Person.objects.select_related("home_division"), request.user, action).filter(
        id_number=number).first() if number else None


def _next_box(request: HttpRequest, ctx: dict[str, Any]) -> HttpResponse:
    """The box as an HTMX fragment, or (a browser without scripts) on a page of its own."""
    template = "appointments/_desk_next.html" if request.headers.get("HX-Request") else "appointments/desk_next_page.html"
    return render(request, template, ctx)


def _next_context(request: HttpRequest, data: Any) -> dict[str, Any]:
    site = restrict(Site.objects.select_related("division"), request.user, "dose.add").filter(
        code=data.get("site", "")).first()
    person = _desk_person(request, data.get("id_number", ""))
    number = _int(data.get("number"), 0)
    try:
        earliest = dt.date.fromisoformat(data.get("earliest") or "")
    except ValueError:
        earliest = timezone.now().astimezone(_tz()).date()
    ctx: dict[str, Any] = {"site": site, "person": person, "number": number, "earliest": earliest,
                           "new_uuid": uuid.uuid4()}
    if site is None or person is None or not 1 <= number <= services.MAX_DOSE_NUMBER:
        ctx["unavailable"] = True
        return ctx
    ctx["booked"] = (Appointment.objects.filter(person=person, dose_number=number, status=AppointmentStatus.BOOKED)
                     .select_related("session__site", "slot").first())
    ctx["choices"] = [] if ctx["booked"] else next_sessions(request.user, site, number, earliest)
    return ctx


@login_required
@never_cache
@require_GET
def desk_next(request: HttpRequest) -> HttpResponse:
    """The next-dose booking box of the desk's confirmation (HTMX fragment, or a page)."""
    if not can(request.user, "appointment.book"):
        return _next_box(request, {"unavailable": True})
    return _next_box(request, _next_context(request, request.GET))


@login_required
@require_POST
def desk_book(request: HttpRequest) -> HttpResponse:
    """Book the next dose chosen at the desk's confirmation; answers the box again."""
    if not can(request.user, "appointment.book"):
        return render(request, "web/forbidden.html", status=403)
    ctx = _next_context(request, request.POST)
    if ctx.get("unavailable"):
        return _next_box(request, ctx)
    try:
        session_id, _sep, raw = (request.POST.get("slot") or "").partition("|")
        key = uuid.UUID(request.POST.get("client_uuid") or "") if request.POST.get("client_uuid") else uuid.uuid4()
        a, _created = services.book(client_uuid=key, person=ctx["person"], session=_int(session_id),
                                    starts_at=_starts_at(raw), dose_number=ctx["number"],
                                    acting_user=request.user, source=Source.WEB)
    except (VaxopsError, ValueError) as exc:
        ctx["error"] = _error_text(exc) if isinstance(exc, VaxopsError) else _("Choose a time.")
        return _next_box(request, ctx)
    ctx = _next_context(request, request.POST)
    ctx["just_booked"] = True
    ctx["booked_day"] = format_date(a.session.date)
    return _next_box(request, ctx)
