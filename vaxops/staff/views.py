"""Staff pages (/staff/): the staff list, a session's readiness checklist and roster, the
deployments to the user's area and the county's view (exceptions, short-staffed sessions,
doses per staff-hour).

Thin: reads go through ``access.scope`` and the same readers as the API; the forms call the
services, whose refusals are shown on the page (nothing written).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Prefetch, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from vaxops.access.scope import can, restrict
from vaxops.catalog.models import Product
from vaxops.core.errors import VaxopsError
from vaxops.core.formats import format_date, format_datetime
from vaxops.core.models import Source
from vaxops.regions.models import Division, Level
from vaxops.sites.models import Session, SessionStatus, Site
from vaxops.staff import readiness, reference, services
from vaxops.staff.models import (
    Deployment,
    Qualification,
    ReadinessException,
    RosterEntry,
    Staff,
    StaffingPlan,
    Unit,
)
from vaxops.staff.presenters import checklist_of, deployment_out

LISTED = 500


def _error(request: HttpRequest, exc: VaxopsError) -> HttpResponse:
    return render(request, "web/error.html", {"error": exc}, status=exc.status)


def _forbidden(request: HttpRequest, page: str) -> HttpResponse:
    return render(request, "staff/forbidden.html", {"forbidden_page": page}, status=403)


def _session_context(session: Session) -> dict[str, Any]:
    return {"session": session, "session_date": format_date(session.date),
            "session_products": ", ".join(p.name for p in session.products.all()),
            "session_hours": (f"{session.opens_at:%H:%M}–{session.closes_at:%H:%M}"
                              if session.opens_at and session.closes_at else "")}


# --- staff list --------------------------------------------------------------------------------


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def staff_list(request: HttpRequest) -> HttpResponse:
    """The staff of the user's area (and those deployed to it) by unit, with qualifications and
    their expiry; the forms add a staff member and a qualification."""
    if not can(request.user, "staff.view"):
        return _forbidden(request, "staff")
    may_manage = can(request.user, "staff.manage")
    error, form_for, posted = None, "", {}
    if request.method == "POST" and may_manage:
        form_for = request.POST.get("form", "")
        posted = request.POST
        try:
            if form_for == "qualification":
                try:
                    until = dt.date.fromisoformat(request.POST.get("valid_until", ""))
                    staff_id = int(request.POST.get("staff", ""))
                except ValueError:
                    raise VaxopsError("invalid_request", {"field": "valid_until"}) from None
                services.add_qualification(staff_id, kind=request.POST.get("kind", ""),
                                           product_code=request.POST.get("product") or None, valid_until=until,
                                           acting_user=request.user, source=Source.WEB)
            else:
                services.create_staff(name=request.POST.get("name", ""), role=request.POST.get("role", ""),
                                      unit_code=request.POST.get("unit", ""), phone=request.POST.get("phone", ""),
                                      acting_user=request.user, source=Source.WEB)
        except VaxopsError as exc:
            error = exc
        else:
            return redirect(reverse("staff:staff") + f"?saved={form_for or 'staff'}")
    elif request.method == "POST":
        return _forbidden(request, "staff")
    qs = services.visible_staff(request.user).select_related("unit").prefetch_related(
        Prefetch("qualifications", queryset=Qualification.objects.select_related("product").order_by("kind")))
    unit_code, role = request.GET.get("unit", ""), request.GET.get("role", "")
    if unit_code:
        qs = qs.filter(unit__code=unit_code)
    if role:
        qs = qs.filter(role=role)
    total = qs.count()
    today = timezone.localdate()
    groups: dict[int, dict[str, Any]] = {}
    for s in qs.order_by("unit__code", "role", "name", "pk")[:LISTED]:
        g = groups.setdefault(s.unit_id, {"unit": s.unit, "level": s.unit.get_hospital_level_display()
                                          if s.unit.hospital_level else "", "staff": []})
        g["staff"].append({
            "obj": s, "role_name": reference.role_name(s.role),
            "qualifications": [{"name": reference.qualification_name(q.kind),
                                "product": q.product.name if q.product_id else "",
                                "until": format_date(q.valid_until), "expired": q.valid_until < today}
                               for q in s.qualifications.all()],
        })
    units = list(restrict(Unit.objects.all(), request.user, "staff.view").order_by("code")[:LISTED])
    manage_units = list(restrict(Unit.objects.all(), request.user, "staff.manage").order_by("code")[:LISTED]) \
        if may_manage else []
    manageable = list(restrict(Staff.objects.select_related("unit"), request.user, "staff.manage")
                      .order_by("unit__code", "name")[:LISTED]) if may_manage else []
    return render(request, "staff/staff.html", {
        "groups": list(groups.values()), "total": total, "shown": min(total, LISTED), "units": units,
        "roles": [(code, reference.name_of(r)) for code, r in reference.roles().items()],
        "kinds": [(code, reference.name_of(k)) for code, k in reference.qualification_kinds().items()],
        "products": Product.objects.filter(is_active=True).order_by("code"),
        "unit_filter": unit_code, "role_filter": role, "may_manage": may_manage, "manage_units": manage_units,
        "manageable": manageable, "error": error, "form_for": form_for, "posted": posted,
        "saved": request.GET.get("saved", ""),
    }, status=error.status if error else 200)


# --- readiness checklist -----------------------------------------------------------------------


def _form_items(post) -> dict[str, Any]:
    """The checklist values a phone form sent: only the items whose fields were filled."""
    items: dict[str, Any] = {}
    plate, crew = post.get("plate", "").strip(), post.get("crew", "").strip()
    minutes, km = post.get("minutes", "").strip(), post.get("distance_km", "").strip()
    if plate or crew:
        items["ambulance"] = {"plate": plate, "crew": crew}
    elif minutes or km:
        items["ambulance"] = {"minutes": minutes, **({"distance_km": km} if km else {})}
    drugs: dict[str, Any] = {}
    for d in reference.checklist().drugs:
        if d.has_expiry:
            if post.get(f"drug_{d.code}", "").strip():
                drugs[d.code] = post.get(f"drug_{d.code}").strip()
        elif post.get(f"drug_{d.code}"):
            drugs[d.code] = True
    if post.get("kit_checked") or drugs:
        items["emergency_kit"] = {"checked": bool(post.get("kit_checked")), "drugs": drugs}
    for code, field in (("observation_seats", "seats"), ("cold_chain_reading", "celsius")):
        if post.get(field, "").strip():
            items[code] = post.get(field).strip()
    return items


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def readiness_page(request: HttpRequest, session_id: int) -> HttpResponse:
    """The checklist a site manager fills on a phone, each item with its state; the county
    command's exception form while the checklist is incomplete."""
    try:
        session = services.scoped_session(request.user, "staff.view", session_id)
    except VaxopsError as exc:
        if exc.code == "permission_denied":
            return _forbidden(request, "readiness")
        return _error(request, exc)
    may_record = can(request.user, "readiness.record")
    may_except = can(request.user, "readiness.exception")
    error, error_for = None, ""
    if request.method == "POST":
        which = request.POST.get("form", "checklist")
        try:
            if which == "exception":
                readiness.grant_exception(session.pk, reason=request.POST.get("reason", ""),
                                          acting_user=request.user, source=Source.WEB)
            else:
                readiness.record_readiness(session.pk, _form_items(request.POST), acting_user=request.user,
                                           source=Source.WEB)
        except VaxopsError as exc:
            error, error_for = exc, which
        else:
            return redirect(reverse("staff:readiness", args=[session.pk]) + f"?saved={which}")
    checklist = checklist_of(session)
    values = {i["code"]: i["value"] or {} for i in checklist["items"]}
    kit = values.get("emergency_kit") or {}
    drugs = [{"code": d.code, "name": reference.name_of(d), "has_expiry": d.has_expiry,
              "value": (kit.get("drugs") or {}).get(d.code, "")} for d in reference.checklist().drugs]
    ambulance = values.get("ambulance") or {}
    if isinstance(ambulance.get("crew"), list):
        ambulance = {**ambulance, "crew": "、".join(ambulance["crew"])}
    if error is not None and error_for == "checklist":
        post = request.POST
        ambulance = {"plate": post.get("plate", ""), "crew": post.get("crew", ""), "minutes": post.get("minutes", ""),
                     "distance_km": post.get("distance_km", "")}
        drugs = [{**d, "value": post.get(f"drug_{d['code']}", "")} for d in drugs]
    done = sum(1 for i in checklist["items"] if i["ok"])
    context = {
        **_session_context(session), "checklist": checklist, "items": {i["code"]: i for i in checklist["items"]},
        "done": done, "total": len(checklist["items"]), "may_record": may_record,
        "may_except": may_except and not checklist["complete"] and checklist["exception"] is None
        and session.status == SessionStatus.PLANNED,
        "ambulance": ambulance, "kit_checked": kit.get("checked", False), "drugs": drugs,
        "seats": values.get("observation_seats"), "celsius": values.get("cold_chain_reading"),
        "seats_needed": _seats_needed(session), "recorded_at": format_datetime(checklist["recorded_at"])
        if checklist["recorded_at"] else "",
        "error": error, "error_for": error_for, "saved": request.GET.get("saved", ""),
        "posted_reason": request.POST.get("reason", "") if error_for == "exception" else "",
    }
    return render(request, "staff/readiness.html", context, status=error.status if error else 200)


def _seats_needed(session: Session) -> int:
    from vaxops.staff import readiness_rules

    facts, _ = readiness._facts([session.pk])
    rule = reference.checklist().item("observation_seats").rule
    return readiness_rules.seats_needed(rule, facts[session.pk])


# --- roster ------------------------------------------------------------------------------------


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def roster_page(request: HttpRequest, session_id: int) -> HttpResponse:
    """Pick a session's staff: the county's own staff and those deployed to it for the day."""
    try:
        session = services.scoped_session(request.user, "staff.view", session_id)
    except VaxopsError as exc:
        if exc.code == "permission_denied":
            return _forbidden(request, "roster")
        return _error(request, exc)
    may_manage = can(request.user, "roster.manage")
    error = None
    if request.method == "POST":
        try:
            ids = [int(i) for i in request.POST.getlist("staff")]
            planned = request.POST.get("planned_staff", "").strip()
            planned_staff = int(planned) if planned else None
        except ValueError:
            error = VaxopsError("invalid_request", {"field": "staff"})
        else:
            try:
                services.set_roster(session.pk, ids, planned_staff=planned_staff, acting_user=request.user,
                                    source=Source.WEB)
            except VaxopsError as exc:
                error = exc
            else:
                return redirect(reverse("staff:roster", args=[session.pk]) + "?saved=1")
    county = session.site.county_code
    on_roster = set(RosterEntry.objects.filter(session=session).values_list("staff_id", flat=True))
    if error is not None:
        on_roster = {int(i) for i in request.POST.getlist("staff") if i.isdigit()}
    deployed = {}
    for d in services.covering_deployments(county, session.date, session.site_id).select_related("to_division") \
            .prefetch_related("staff"):
        for m in d.staff.all():
            deployed[m.pk] = d
    home = restrict(Staff.objects.filter(unit__county_code=county), request.user, "staff.view")
    candidates = Staff.objects.filter(Q(pk__in=home.values("pk")) | Q(pk__in=list(deployed)) | Q(pk__in=on_roster)) \
        .select_related("unit").order_by("role", "unit__code", "name", "pk")[:LISTED * 4]
    rows = [{"obj": s, "role_name": reference.role_name(s.role), "checked": s.pk in on_roster,
             "deployed": deployed.get(s.pk), "outside": s.unit.county_code != county} for s in candidates]
    plan = StaffingPlan.objects.filter(session=session).values_list("planned_staff", flat=True).first()
    return render(request, "staff/roster.html", {
        **_session_context(session), "rows": rows, "on_roster": len(on_roster), "planned_staff": plan,
        "may_manage": may_manage and session.status != SessionStatus.CLOSED, "error": error,
        "saved": request.GET.get("saved"), "staff_hours": services.staff_hours(session)["staff_hours"],
    }, status=error.status if error else 200)


# --- deployments -------------------------------------------------------------------------------


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def deployments_page(request: HttpRequest) -> HttpResponse:
    """Who is deployed to the user's area, for which days, from where; the command deploys."""
    if not can(request.user, "staff.view"):
        return _forbidden(request, "deployments")
    may_deploy = can(request.user, "deployment.manage")
    error = None
    if request.method == "POST" and may_deploy:
        try:
            ids = [int(i) for i in request.POST.getlist("staff")]
            starts = dt.date.fromisoformat(request.POST.get("starts_on", ""))
            ends = dt.date.fromisoformat(request.POST.get("ends_on", ""))
        except ValueError:
            error = VaxopsError("deployment_dates_invalid", {"limit": services.MAX_DEPLOYMENT_DAYS})
        else:
            try:
                services.deploy(ids, to_division=request.POST.get("to_division", ""), starts_on=starts, ends_on=ends,
                                to_site=request.POST.get("to_site") or None, reason=request.POST.get("reason", ""),
                                acting_user=request.user, source=Source.WEB)
            except VaxopsError as exc:
                error = exc
            else:
                return redirect(reverse("staff:deployments") + "?saved=1")
    elif request.method == "POST":
        return _forbidden(request, "deployments")
    qs = restrict(Deployment.objects.all(), request.user, "staff.view").select_related(
        "to_division", "to_site").prefetch_related(
        Prefetch("staff", queryset=Staff.objects.select_related("unit").order_by("name", "pk"))
    ).order_by("-starts_on", "pk")[:200]
    deployments = [deployment_out(d) for d in qs]
    context: dict[str, Any] = {"deployments": deployments, "may_deploy": may_deploy, "error": error,
                               "saved": request.GET.get("saved"), "posted": request.POST if error else {}}
    if may_deploy:
        context["deployable"] = list(restrict(Staff.objects.select_related("unit"), request.user, "deployment.manage")
                                     .order_by("unit__code", "role", "name")[:LISTED])
        context["targets"] = list(Division.objects.filter(level=Level.COUNTY).order_by("code")[:300])
        context["sites"] = list(restrict(Site.objects.filter(is_active=True), request.user, "site.view")
                                .select_related("division").order_by("code")[:300])
        context["posted_staff"] = {int(i) for i in request.POST.getlist("staff") if i.isdigit()} if error else set()
    return render(request, "staff/deployments.html", context, status=error.status if error else 200)


# --- the county's view -------------------------------------------------------------------------


@login_required
@never_cache
def county_page(request: HttpRequest) -> HttpResponse:
    """The county command's view: the exceptions granted, the sessions short of their planned
    staff, doses per staff-hour per site."""
    if not can(request.user, "staff.view"):
        return _forbidden(request, "county")
    exceptions = [
        {"obj": e, "site": e.session.site, "date": format_date(e.session.date),
         "granted_at": format_datetime(e.granted_at), "missing": [reference.item_name(c) for c in e.missing]}
        for e in restrict(ReadinessException.objects.select_related("session__site", "granted_by"), request.user,
                          "staff.view").order_by("-granted_at")[:200]
    ]
    plans = restrict(StaffingPlan.objects.all(), request.user, "staff.view").exclude(
        session__status=SessionStatus.CLOSED).annotate(rostered=Count("session__roster")).select_related(
        "session__site").order_by("session__date", "session__site__code")
    short = [{"session": p.session, "site": p.session.site, "date": format_date(p.session.date),
              "planned": p.planned_staff, "rostered": p.rostered, "gap": p.planned_staff - p.rostered}
             for p in plans[:LISTED * 2] if p.rostered < p.planned_staff][:200]
    return render(request, "staff/county.html", {
        "exceptions": exceptions, "short": short, "productivity": _doses_per_staff_hour(request.user),
    })


def _doses_per_staff_hour(user: Any) -> list[dict[str, Any]]:
    """Per site of the user's area: doses given at its rostered sessions, their staff-hours, and
    doses per staff-hour (the latest sessions with a roster)."""
    from vaxops.vaccination.models import DoseRecord, DoseStatus

    sites = restrict(Site.objects.all(), user, "staff.view")
    sessions = list(Session.objects.filter(site__in=sites).annotate(rostered=Count("roster")).filter(rostered__gt=0)
                    .select_related("site").order_by("-date")[:LISTED])
    doses = dict(DoseRecord.objects.filter(session__in=[s.pk for s in sessions], status=DoseStatus.VALID)
                 .values_list("session").annotate(n=Count("pk")).values_list("session", "n"))
    per_site: dict[int, dict[str, Any]] = defaultdict(lambda: {"doses": 0, "staff_hours": 0.0, "sessions": 0})
    for s in sessions:
        row = per_site[s.site_id]
        row["site"] = s.site
        row["sessions"] += 1
        row["doses"] += doses.get(s.pk, 0)
        row["staff_hours"] += s.rostered * services.session_hours(s)
    out = []
    for row in per_site.values():
        hours = row["staff_hours"]
        out.append({**row, "staff_hours": round(hours, 1),
                    "per_staff_hour": round(row["doses"] / hours, 2) if hours else None})
    return sorted(out, key=lambda r: r["site"].code)
