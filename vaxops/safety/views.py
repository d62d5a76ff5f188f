"""The AEFI pages under /aefi/: the report form, the county/prefecture list with each report's
deadline, one report with its steps and classification, and the cluster alerts with the
supervisor's one-click quarantine.

Reads go through ``vaxops.access.scope``; writes are the services of ``vaxops.safety.services``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from vaxops.access.scope import can, get_scoped, restrict
from vaxops.campaign.services import TZ
from vaxops.core.errors import VaxopsError
from vaxops.core.formats import format_datetime
from vaxops.core.models import Source
from vaxops.regions.models import Division
from vaxops.safety import catalogue, rules, services
from vaxops.safety.models import AefiCluster, AefiReport, AefiStatus, ClusterStatus
from vaxops.safety.stats import aefi_stats, overdue_filter
from vaxops.supply.lots import mask_name

PER_PAGE = 100
MAX_ID = 2**63 - 1  # a larger id in the address is no row (and would overflow PostgreSQL's bigint)


def label(row: dict[str, Any]) -> str:
    """A data row's name in the active language."""
    return row["en"] if (get_language() or "").startswith("en") else row["zh"]


def named(table: dict[str, dict[str, Any]], codes) -> list[str]:
    return [label(table[c]) if c in table else c for c in codes]


def status_label(status: str) -> str:
    return str(AefiStatus(status).label) if status in AefiStatus.values else status


def deadline_words(due: dt.datetime, now: dt.datetime, *, stopped: bool) -> str:
    """The deadline as a time with how far it is, or that it has passed."""
    when = format_datetime(due)
    if stopped:
        return when
    minutes = int((due - now).total_seconds() // 60)
    if minutes < 0:
        hours = -minutes // 60
        return _("%(time)s: overdue by %(hours)s h %(minutes)s min") % {
            "time": when, "hours": hours, "minutes": -minutes % 60}
    return _("%(time)s, in %(hours)s h %(minutes)s min") % {"time": when, "hours": minutes // 60,
                                                             "minutes": minutes % 60}


def _forbidden(request: HttpRequest) -> HttpResponse:
    return render(request, "safety/forbidden.html", status=403)


def _error(request: HttpRequest, exc: VaxopsError) -> HttpResponse:
    if exc.code in ("not_authenticated", "permission_denied"):
        return _forbidden(request)
    return render(request, "web/error.html", {"error": exc}, status=exc.status)


def row_of(r: AefiReport, now: dt.datetime) -> dict[str, Any]:
    overdue = rules.is_overdue(status=r.status, report_due_by=r.report_due_by, now=now)
    return {
        "r": r, "person": mask_name(r.person.name), "events": named(catalogue.events(), r.events),
        "status": status_label(r.status), "overdue": overdue,
        "late": r.reported_at > r.report_due_by,
        "deadline": deadline_words(r.report_due_by, now, stopped=r.status != AefiStatus.REPORTED),
        "onset": format_datetime(r.onset_at), "url": reverse("safety:report", args=[r.pk]),
    }


# --- the report form ---------------------------------------------------------------------------


def _local_input(moment: dt.datetime | None) -> str:
    return moment.astimezone(TZ).strftime("%Y-%m-%dT%H:%M") if moment else ""


def _parse_local(value: str, field: str) -> dt.datetime:
    """A ``datetime-local`` value, read in the campaign's time zone."""
    try:
        return dt.datetime.strptime(value.strip(), "%Y-%m-%dT%H:%M").replace(tzinfo=TZ)
    except ValueError:
        raise VaxopsError("invalid_datetime", {"field": field}) from None


def _dose_from_query(request: HttpRequest):
    """The dose of ``?dose=`` (or of ``?visit=`` once visits link to doses), if the user reaches it."""
    from vaxops.vaccination.models import DoseRecord, DoseStatus

    dose_id = request.GET.get("dose") or request.POST.get("dose") or ""
    visit_id = request.GET.get("visit") or ""
    if not dose_id and visit_id.isdigit():
        try:
            from vaxops.visits.models import Visit  # the visits part links a visit to its dose
        except ImportError:
            Visit = None
        if Visit is not None and hasattr(Visit, "dose_id"):
            dose_id = str(Visit.objects.filter(pk=int(visit_id)).values_list("dose_id", flat=True).first() or "")
    if not dose_id.isdigit() or int(dose_id) > MAX_ID:
        return None
    return (restrict(DoseRecord.objects.select_related("person", "site", "lot", "product"), request.user,
                     "aefi.report").filter(pk=int(dose_id), status=DoseStatus.VALID).first())


def _person_doses(request: HttpRequest, id_number: str):
    from vaxops.registry.models import Person
    from vaxops.vaccination.models import DoseRecord, DoseStatus

    person = restrict(Person.objects.all(), request.user, "person.view").filter(
        id_number=id_number.strip().upper()).first()
    if person is None:
        return None, []
    doses = list(restrict(DoseRecord.objects.select_related("site", "lot", "product"), request.user, "aefi.report")
                 .filter(person=person, status=DoseStatus.VALID).order_by("-administered_at")[:10])
    return person, doses


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def report_new(request: HttpRequest) -> HttpResponse:
    """The report form: from a dose (``?dose=``, the desk's "raise an AEFI") or a person's ID number."""
    if not can(request.user, "aefi.report"):
        return _forbidden(request)
    from vaxops.registry.models import Person

    dose = _dose_from_query(request)
    id_number = (request.POST.get("id_number") or request.GET.get("id_number") or "").strip()
    person, doses = (dose.person, [dose]) if dose else (None, [])
    if dose is None and id_number:
        person, doses = _person_doses(request, id_number)
    now = timezone.now()
    values: dict[str, Any] = {
        "onset_at": _local_input(dose.administered_at + dt.timedelta(minutes=10) if dose else None),
        "detected_at": _local_input(now), "events": [], "serious_criteria": [], "signs": [], "serious": False,
        "outcome": "", "description": "", "client_uuid": str(uuid.uuid4()),
    }
    error: VaxopsError | None = None
    status = 200
    if request.method == "POST":
        p = request.POST
        values.update(onset_at=p.get("onset_at", ""), detected_at=p.get("detected_at", ""),
                      events=p.getlist("events"), serious_criteria=p.getlist("serious_criteria"),
                      signs=p.getlist("signs"), serious=p.get("serious") == "on", outcome=p.get("outcome", ""),
                      description=p.get("description", ""), client_uuid=p.get("client_uuid") or str(uuid.uuid4()))
        chosen = p.get("dose_id", "")
        if chosen.isdigit():
            dose = next((d for d in doses if d.pk == int(chosen)), dose)
        elif chosen == "none":
            dose = None
        try:
            if person is None:
                person_id = p.get("person_id", "")
                person = (Person.objects.filter(pk=int(person_id)).first()
                          if person_id.isdigit() and int(person_id) <= MAX_ID else None)
                if person is None:
                    raise VaxopsError("person_not_found")
            report = services.report_aefi(
                client_uuid=values["client_uuid"], person=person, dose=dose,
                onset_at=_parse_local(values["onset_at"], "onset_at"),
                detected_at=_parse_local(values["detected_at"], "detected_at"), events=values["events"],
                serious=values["serious"], serious_criteria=values["serious_criteria"], signs=values["signs"],
                outcome=values["outcome"], description=values["description"], acting_user=request.user,
                source=Source.WEB,
            )
        except VaxopsError as exc:
            if exc.code in ("not_authenticated", "permission_denied"):
                return _forbidden(request)
            error, status = exc, exc.status
        else:
            messages.success(request, _("The report is recorded. It must reach the county CDC by %(time)s.") % {
                "time": format_datetime(report.report_due_by)})
            if report.cluster_id:
                messages.warning(request, _("This report is part of a cluster: the county command and the "
                                            "supervisor are alerted."))
            if can(request.user, "aefi.view"):
                return redirect("safety:report", report_id=report.pk)
            return redirect(reverse("safety:report_new") + "?done=1")
    context = {
        "dose": dose, "person": person, "doses": doses, "id_number": id_number, "v": values, "error": error,
        "events": [(c, label(e)) for c, e in catalogue.events().items()],
        "criteria": [(c, label(e)) for c, e in catalogue.serious_criteria().items()],
        "outcomes": [(c, label(e)) for c, e in catalogue.outcomes().items()],
        "sign_groups": _sign_groups(),
        "done": request.GET.get("done") == "1",
    }
    return render(request, "safety/report_new.html", context, status=status)


def _sign_groups() -> list[dict[str, Any]]:
    groups = []
    for code, system in catalogue.brighton_systems().items():
        signs = [s for s in catalogue.brighton_signs().values() if s["system"] == code]
        groups.append({"name": label(system), "major": [(s["code"], label(s)) for s in signs if s["major"]],
                       "minor": [(s["code"], label(s)) for s in signs if not s["major"]]})
    return groups


# --- the list ----------------------------------------------------------------------------------


def _divisions(request: HttpRequest) -> list[Division]:
    """The user's area and the counties within it (the list's division filter)."""
    top = restrict(Division.objects.order_by("level", "code"), request.user, "division.view").first()
    if top is None:
        return []
    from vaxops.regions.models import Level

    below = restrict(Division.objects.filter(path__startswith=top.path, level__lte=Level.COUNTY), request.user,
                     "division.view").order_by("level", "code")
    return list(below[:60])


@login_required
@never_cache
@require_http_methods(["GET"])
def report_list(request: HttpRequest) -> HttpResponse:
    if not can(request.user, "aefi.view"):
        return _forbidden(request)
    now = timezone.now()
    reports = restrict(AefiReport.objects.select_related("person", "site", "product", "lot"), request.user,
                       "aefi.view")
    divisions = _divisions(request)
    code = request.GET.get("division", "")
    division = next((d for d in divisions if d.code == code), None) or (divisions[0] if divisions else None)
    if code and division is not None and division.code != code:
        try:
            division = get_scoped(Division.objects.all(), request.user, "division.view",
                                  not_found="division_not_found", detail={"division_code": code}, code=code)
        except VaxopsError as exc:
            return _error(request, exc)
    if division is not None:
        reports = reports.filter(division__path__startswith=division.path)
    status = request.GET.get("status", "")
    if status in rules.STATUSES:
        reports = reports.filter(status=status)
    overdue_only = request.GET.get("overdue") == "1"
    if overdue_only:
        reports = reports.filter(overdue_filter(now))
    serious_only = request.GET.get("serious") == "1"
    if serious_only:
        reports = reports.filter(serious=True)
    page = Paginator(reports.order_by("report_due_by", "pk"), PER_PAGE).get_page(request.GET.get("page"))
    figures = aefi_stats(division, user=request.user, now=now) if division is not None else None
    open_clusters = restrict(AefiCluster.objects.filter(status=ClusterStatus.OPEN), request.user, "aefi.view")
    if division is not None:
        open_clusters = open_clusters.filter(division__path__startswith=division.path)
    n_clusters = open_clusters.count()
    context = {
        "rows": [row_of(r, now) for r in page], "page": page, "divisions": divisions, "division": division,
        "status": status, "statuses": [(s, status_label(s)) for s in rules.STATUSES], "overdue_only": overdue_only,
        "serious_only": serious_only, "figures": figures, "open_clusters": n_clusters,
        "cluster_alert": ngettext("%(n)s open AEFI cluster in this area: its lots are proposed for quarantine.",
                                  "%(n)s open AEFI clusters in this area: their lots are proposed for quarantine.",
                                  n_clusters) % {"n": n_clusters},
        "may_report": can(request.user, "aefi.report"),
    }
    return render(request, "safety/list.html", context)


# --- one report --------------------------------------------------------------------------------

STEP_FUNCTIONS = {"triage": services.triage, "investigate": services.investigate, "close": services.close}


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def report_detail(request: HttpRequest, report_id: int) -> HttpResponse:
    if not can(request.user, "aefi.view"):
        return _forbidden(request)
    if report_id > MAX_ID:
        return _error(request, VaxopsError("aefi_not_found"))
    try:
        report = get_scoped(AefiReport.objects.select_related("person", "site", "product", "lot", "reporter",
                                                              "division", "cluster"),
                            request.user, "aefi.view", not_found="aefi_not_found", pk=report_id)
    except VaxopsError as exc:
        return _error(request, exc)
    error: VaxopsError | None = None
    status = 200
    if request.method == "POST":
        step = request.POST.get("step", "")
        try:
            if step == "classify":
                level = request.POST.get("brighton_level", "")
                services.classify(report, who_category=request.POST.get("who_category", ""),
                                  cn_category=request.POST.get("cn_category", ""),
                                  brighton_level=int(level) if level.isdigit() else None,
                                  acting_user=request.user, source=Source.WEB)
            elif step == "investigate":
                services.investigate(report, findings=request.POST.get("findings", ""), acting_user=request.user,
                                     source=Source.WEB)
            elif step in STEP_FUNCTIONS:
                STEP_FUNCTIONS[step](report, acting_user=request.user, source=Source.WEB)
            else:
                raise VaxopsError("invalid_request", {"field": "step"})
        except VaxopsError as exc:
            if exc.code in ("not_authenticated", "permission_denied"):
                return _forbidden(request)
            error, status = exc, exc.status
        else:
            messages.success(request, _("Done: the report is now %(status)s.") % {
                "status": status_label(AefiReport.objects.get(pk=report.pk).status)})
            return redirect("safety:report", report_id=report.pk)
    now = timezone.now()
    steps = [
        (status_label(AefiStatus.REPORTED), report.reported_at, report.reporter),
        (status_label(AefiStatus.TRIAGED), report.triaged_at, report.triaged_by),
        (status_label(AefiStatus.INVESTIGATED), report.investigated_at, report.investigated_by),
        (status_label(AefiStatus.CLASSIFIED), report.classified_at, report.classified_by),
        (status_label(AefiStatus.CLOSED), report.closed_at, report.closed_by),
    ]
    context = {
        "report": report, "row": row_of(report, now), "error": error,
        "steps": [{"name": n, "at": format_datetime(at) if at else "", "by": by.get_username() if by else ""}
                  for n, at, by in steps],
        "criteria": named(catalogue.serious_criteria(), report.serious_criteria),
        "signs": named(catalogue.brighton_signs(), report.signs),
        "outcome": label(catalogue.outcomes()[report.outcome]) if report.outcome in catalogue.outcomes() else "",
        "anaphylaxis": catalogue.is_anaphylaxis(report.events),
        "who": label(catalogue.who_categories()[report.who_category])
        if report.who_category in catalogue.who_categories() else "",
        "cn": label(catalogue.cn_categories()[report.cn_category])
        if report.cn_category in catalogue.cn_categories() else "",
        "who_choices": [(c, label(e)) for c, e in catalogue.who_categories().items()],
        "cn_choices": [(c, e["zh"] if label(e) == e["zh"] else f"{e['zh']} · {e['en']}")
                       for c, e in catalogue.cn_categories().items()],
        "may_classify": can(request.user, "aefi.classify"),
        "next_step": next((s for s, (start, _end) in rules.STEPS.items() if start == report.status), None),
        "vaccinated": format_datetime(report.vaccinated_at) if report.vaccinated_at else "",
        "detected": format_datetime(report.detected_at), "reported": format_datetime(report.reported_at),
        "investigation_due": format_datetime(report.investigation_due_by),
    }
    return render(request, "safety/report.html", context, status=status)


# --- clusters ----------------------------------------------------------------------------------


@login_required
@never_cache
@require_http_methods(["GET"])
def cluster_list(request: HttpRequest) -> HttpResponse:
    if not can(request.user, "aefi.view"):
        return _forbidden(request)
    clusters = restrict(AefiCluster.objects.select_related("site", "lot__product", "acted_by"), request.user,
                        "aefi.view").order_by("status", "-opened_at", "-pk")[:200]
    now = timezone.now()
    groups = {e["group"]: e for e in catalogue.events().values()}
    rows = []
    for c in clusters:
        reports = list(c.reports.select_related("person", "site", "product", "lot").order_by("onset_at"))
        rows.append({
            "c": c, "opened": format_datetime(c.opened_at), "due": format_datetime(c.report_due_by),
            "group": _group_name(c.group, groups), "rule": str(c.get_rule_display()),
            "reports": [row_of(r, now) for r in reports],
            "lots": list(c.proposed_lots.select_related("product").order_by("lot_number")),
            "acted": format_datetime(c.acted_at) if c.acted_at else "",
        })
    return render(request, "safety/clusters.html", {"rows": rows, "may_act": can(request.user, "aefi.cluster")})


def _group_name(group: str, groups: dict[str, dict[str, Any]]) -> str:
    """A similarity group named by the events in it."""
    names = [label(e) for e in catalogue.events().values() if e["group"] == group]
    return " / ".join(names[:3]) if names else group


@login_required
@require_POST
def cluster_act(request: HttpRequest, cluster_id: int) -> HttpResponse:
    if cluster_id > MAX_ID:
        return _error(request, VaxopsError("aefi_cluster_not_found"))
    try:
        cluster = services.act_on_cluster(cluster_id, acting_user=request.user,
                                          reason=request.POST.get("reason", ""), source=Source.WEB)
    except VaxopsError as exc:
        if exc.code in ("aefi_cluster_acted", "aefi_cluster_no_lots"):
            messages.error(request, exc.message)
            return redirect("safety:clusters")
        return _error(request, exc)
    done = [n for n, what in cluster.action_result.items() if what == "quarantined"]
    messages.success(request, _("Quarantined: %(lots)s.") % {"lots": ", ".join(done) or "—"})
    return redirect("safety:clusters")
