"""AEFI reports, their steps, counts and clusters: /api/v1/aefi (docs/aefi.md).

Thin: every read goes through ``vaxops.access.scope``, every write is one service of
``vaxops.safety.services``; errors are the services' ``{code, message, detail}``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status
from pydantic import field_validator

from vaxops.access.scope import get_scoped, require, restrict
from vaxops.campaign.services import TZ
from vaxops.core.errors import VaxopsError
from vaxops.core.models import Source
from vaxops.core.openapi import OPERATIONS
from vaxops.core.schema import RowId
from vaxops.regions.models import Division
from vaxops.registry.api import ErrorOut
from vaxops.safety import rules, services
from vaxops.safety.models import AefiCluster, AefiReport, ClusterStatus
from vaxops.safety.stats import aefi_stats, overdue_filter
from vaxops.vaccination.api import parse_offset_datetime

router = Router(tags=["aefi"])

ERRORS = {403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}
READ_ERRORS = {403: ErrorOut, 404: ErrorOut, 422: ErrorOut}
LIST_LIMIT = 500


# --- schemas -----------------------------------------------------------------------------------


class ReportIn(Schema):
    client_uuid: uuid.UUID
    person_id: RowId
    dose_id: RowId | None = Field(None, description="The dose record the event followed: its lot, product, site, "
                                  "vaccinator and time are taken from it.")
    onset_at: dt.datetime = Field(description="ISO 8601 with its UTC offset; not before the dose "
                                  "(422 aefi_onset_before_dose).")
    detected_at: dt.datetime = Field(description="When the event was found; not before the onset "
                                     "(422 aefi_detected_before_onset). The reporting clock runs from here.")
    events: list[str] = Field(max_length=20, description="Event codes (GET /api/v1/aefi/codes).")
    serious: bool
    serious_criteria: list[str] = Field(default_factory=list, max_length=5,
                                        description="death, life_threatening, hospitalisation, disability, "
                                        "congenital_anomaly; at least one when serious.")
    signs: list[str] = Field(default_factory=list, max_length=30,
                             description="Brighton signs of anaphylaxis recorded (the level is computed from them).")
    outcome: str | None = Field(None, max_length=32, description="recovered | recovering | not_recovered | "
                                "recovered_with_sequelae | fatal | unknown")
    description: str | None = Field(None, max_length=4000)

    @field_validator("onset_at", "detected_at", mode="before")
    @classmethod
    def _with_offset(cls, value: Any, info) -> dt.datetime:
        return parse_offset_datetime(value, info.field_name)


class ReportCreatedOut(Schema):
    id: int
    report_due_by: dt.datetime
    status: str
    cluster_id: int | None


class NamedOut(Schema):
    code: str
    name: str


class ReportOut(Schema):
    id: int
    client_uuid: uuid.UUID
    person_id: int
    dose_id: int | None
    product: str | None
    lot_number: str | None
    site_code: str | None
    vaccinated_at: dt.datetime | None
    division_code: str
    onset_at: dt.datetime
    detected_at: dt.datetime
    reported_at: dt.datetime
    events: list[NamedOut]
    signs: list[str]
    serious: bool
    serious_criteria: list[str]
    outcome: str
    description: str
    reporter: str
    report_due_by: dt.datetime
    overdue: bool = Field(description="Still not taken in by the county (triaged) after report_due_by.")
    investigation_due_by: dt.datetime
    status: str = Field(description="reported | triaged | investigated | classified | closed")
    brighton_level: int | None = Field(description="Computed from the recorded signs (anaphylaxis only).")
    brighton_level_assessed: int | None
    who_category: str
    cn_category: str
    findings: str
    cluster_id: int | None


class ReportList(Schema):
    items: list[ReportOut]
    count: int


class ListQuery(Schema):
    division: str | None = Field(None, max_length=16)
    overdue: bool | None = Field(None, description="true: only reports past their deadline and not yet triaged.")
    status: str | None = Field(None, max_length=16)
    serious: bool | None = None
    limit: int = Field(100, ge=1, le=LIST_LIMIT)
    offset: int = Field(0, ge=0, le=10_000_000)


class ClassifyIn(Schema):
    who_category: str = Field(max_length=4, description="A1 | A2 | A3 | A4 | B1 | B2 | C | D")
    cn_category: str = Field(max_length=24, description="general_reaction | abnormal_reaction | quality_incident | "
                             "programme_error | coincidental | psychogenic (or the Chinese name: 一般反应 …)")
    brighton_level: int | None = Field(None, description="For anaphylaxis: 1–3, 4 (not enough evidence), 5 (not a case).")


class InvestigateIn(Schema):
    findings: str | None = Field(None, max_length=4000)


class StepIn(Schema):
    pass


class RateRow(Schema):
    product: str
    product_name: str
    reported: int
    serious: int
    doses: int
    per_100000: float | None


class LotRateRow(RateRow):
    lot_number: str
    status: str


class StatsOut(Schema):
    division: str
    reported: int
    serious: int
    overdue: int
    doses: int
    per_100000: float | None
    serious_per_100000: float | None
    by_product: list[RateRow]
    by_lot: list[LotRateRow]


class ClusterOut(Schema):
    id: int
    rule: str = Field(description="site | lot")
    group: str
    site_code: str | None
    lot_number: str | None
    opened_at: dt.datetime
    report_due_by: dt.datetime
    status: str = Field(description="open | acted")
    report_ids: list[int]
    proposed_lots: list[str]
    acted_at: dt.datetime | None
    acted_by: str | None
    action_result: dict


class ClusterList(Schema):
    items: list[ClusterOut]
    count: int


class ActIn(Schema):
    reason: str | None = Field(None, max_length=500)


class CodesOut(Schema):
    events: list[dict]
    serious_criteria: list[dict]
    outcomes: list[dict]
    who_categories: list[dict]
    cn_categories: list[dict]
    brighton_signs: list[dict]


# --- helpers -----------------------------------------------------------------------------------


def _local(moment: dt.datetime | None) -> dt.datetime | None:
    return moment.astimezone(TZ) if moment is not None else None


def event_name(code: str) -> str:
    from django.utils.translation import get_language

    from vaxops.safety import catalogue

    row = catalogue.events().get(code)
    if row is None:
        return code
    return row["en"] if (get_language() or "").startswith("en") else row["zh"]


def report_out(r: AefiReport, now: dt.datetime | None = None) -> dict[str, Any]:
    now = now or timezone.now()
    return {
        "id": r.pk, "client_uuid": r.client_uuid, "person_id": r.person_id, "dose_id": r.dose_id,
        "product": r.product.code if r.product_id else None, "lot_number": r.lot.lot_number if r.lot_id else None,
        "site_code": r.site.code if r.site_id else None, "vaccinated_at": _local(r.vaccinated_at),
        "division_code": r.division.code, "onset_at": _local(r.onset_at), "detected_at": _local(r.detected_at),
        "reported_at": _local(r.reported_at), "events": [{"code": c, "name": event_name(c)} for c in r.events],
        "signs": list(r.signs), "serious": r.serious, "serious_criteria": list(r.serious_criteria),
        "outcome": r.outcome, "description": r.description, "reporter": r.reporter.get_username(),
        "report_due_by": _local(r.report_due_by),
        "overdue": rules.is_overdue(status=r.status, report_due_by=r.report_due_by, now=now),
        "investigation_due_by": _local(r.investigation_due_by), "status": r.status,
        "brighton_level": r.brighton_level, "brighton_level_assessed": r.brighton_level_assessed,
        "who_category": r.who_category, "cn_category": r.cn_category, "findings": r.findings,
        "cluster_id": r.cluster_id,
    }


REPORT_RELATED = ("product", "lot", "site", "division", "reporter")


def _scoped_report(request, report_id: int, action: str = "aefi.view") -> AefiReport:
    return get_scoped(AefiReport.objects.select_related(*REPORT_RELATED), request.user, action,
                      not_found="aefi_not_found", pk=report_id)


def scoped_division(user: Any, code: str | None) -> Division | None:
    if not code:
        return None
    return get_scoped(Division.objects.all(), user, "division.view", not_found="division_not_found",
                      detail={"division_code": code}, code=code)


def top_division(user: Any) -> Division:
    top = restrict(Division.objects.order_by("level", "code"), user, "division.view").first()
    if top is None:
        raise VaxopsError("division_not_found", {"division_code": None})
    return top


def cluster_out(c: AefiCluster) -> dict[str, Any]:
    return {
        "id": c.pk, "rule": c.rule, "group": c.group, "site_code": c.site.code if c.site_id else None,
        "lot_number": c.lot.lot_number if c.lot_id else None, "opened_at": _local(c.opened_at),
        "report_due_by": _local(c.report_due_by), "status": c.status,
        "report_ids": sorted(c.reports.values_list("pk", flat=True)),
        "proposed_lots": sorted(c.proposed_lots.values_list("lot_number", flat=True)),
        "acted_at": _local(c.acted_at), "acted_by": c.acted_by.get_username() if c.acted_by_id else None,
        "action_result": dict(c.action_result or {}),
    }


# --- reports -----------------------------------------------------------------------------------


@router.post("", response={200: ReportCreatedOut, 201: ReportCreatedOut, **ERRORS})
def create_report(request, payload: ReportIn):
    """Report a suspected AEFI (site staff, the county command, the supervisors). Idempotent by
    client_uuid: a retry of the same report answers 200 with the first one."""
    from vaxops.registry.models import Person

    require(request.user, "aefi.report")
    # Only the id is read here: the service decides whether the reporter reaches the person
    # (through the dose record, or in their area without one), so both answer alike.
    person = Person.objects.select_related("home_division").filter(pk=payload.person_id).first()
    if person is None:
        raise VaxopsError("person_not_found")
    report = services.report_aefi(
        client_uuid=payload.client_uuid, person=person, dose=payload.dose_id, onset_at=payload.onset_at,
        detected_at=payload.detected_at, events=payload.events, serious=payload.serious,
        serious_criteria=payload.serious_criteria, signs=payload.signs, outcome=payload.outcome or "",
        description=payload.description or "", acting_user=request.user, source=Source.API,
    )
    body = {"id": report.pk, "report_due_by": _local(report.report_due_by), "status": report.status,
            "cluster_id": report.cluster_id}
    return Status(200 if report.replayed else 201, body)


@router.get("", response={200: ReportList, **READ_ERRORS})
def list_reports(request, query: Query[ListQuery]):
    """The reports of your area (or of ``division``), the nearest deadline first; ``overdue=true``
    keeps those past their deadline and not yet taken in by the county."""
    require(request.user, "aefi.view")
    reports = restrict(AefiReport.objects.select_related(*REPORT_RELATED), request.user, "aefi.view")
    division = scoped_division(request.user, query.division)
    if division is not None:
        reports = reports.filter(division__path__startswith=division.path)
    now = timezone.now()
    if query.overdue is True:
        reports = reports.filter(overdue_filter(now))
    elif query.overdue is False:
        reports = reports.exclude(overdue_filter(now))
    if query.status:
        if query.status not in rules.STATUSES:
            raise VaxopsError("invalid_request", {"field": "status", "allowed": list(rules.STATUSES)})
        reports = reports.filter(status=query.status)
    if query.serious is not None:
        reports = reports.filter(serious=query.serious)
    total = reports.count()
    page = reports.order_by("report_due_by", "pk")[query.offset:query.offset + query.limit]
    return {"items": [report_out(r, now) for r in page], "count": total}


@router.get("/stats", response={200: StatsOut, **READ_ERRORS})
def stats(request, division: str | None = Query(None, max_length=16)):
    """AEFI reported, serious and overdue in your area (or ``division``), per 100,000 doses given
    at its sites, by product and by lot."""
    require(request.user, "aefi.view")
    div = scoped_division(request.user, division) or top_division(request.user)
    return aefi_stats(div, user=request.user)


@router.get("/codes", response={200: CodesOut, **READ_ERRORS})
def codes(request):
    """The codes a report and a classification use, with their Chinese and English names."""
    from vaxops.safety import catalogue

    if not _may_view(request.user):
        require(request.user, "aefi.report")
    return {
        "events": list(catalogue.events().values()), "serious_criteria": list(catalogue.serious_criteria().values()),
        "outcomes": list(catalogue.outcomes().values()), "who_categories": list(catalogue.who_categories().values()),
        "cn_categories": list(catalogue.cn_categories().values()),
        "brighton_signs": list(catalogue.brighton_signs().values()),
    }


def _may_view(user: Any) -> bool:
    from vaxops.access.scope import can

    return getattr(user, "is_authenticated", False) and can(user, "aefi.view")


@router.get("/clusters", response={200: ClusterList, **READ_ERRORS})
def list_clusters(request, status: str | None = Query(None, max_length=8)):
    """The AEFI clusters of your area, newest first, with the lots proposed for quarantine."""
    require(request.user, "aefi.view")
    clusters = restrict(AefiCluster.objects.select_related("site", "lot", "acted_by"), request.user, "aefi.view")
    if status:
        if status not in ClusterStatus.values:
            raise VaxopsError("invalid_request", {"field": "status", "allowed": list(ClusterStatus.values)})
        clusters = clusters.filter(status=status)
    items = [cluster_out(c) for c in clusters.order_by("-opened_at", "-pk")[:LIST_LIMIT]]
    return {"items": items, "count": len(items)}


@router.post("/clusters/{cluster_id}/act", response={200: ClusterOut, **ERRORS})
def act(request, cluster_id: RowId, payload: ActIn):
    """The supervisor's one click: quarantine every lot proposed by the cluster (through the
    lot quarantine of the supply chain)."""
    cluster = services.act_on_cluster(cluster_id, acting_user=request.user, reason=payload.reason or "",
                                      source=Source.API)
    return cluster_out(AefiCluster.objects.select_related("site", "lot", "acted_by").get(pk=cluster.pk))


@router.get("/{report_id}", response={200: ReportOut, **READ_ERRORS})
def get_report(request, report_id: RowId):
    """One report of your area."""
    return report_out(_scoped_report(request, report_id))


def _done(report: AefiReport) -> dict[str, Any]:
    return report_out(AefiReport.objects.select_related(*REPORT_RELATED).get(pk=report.pk))


@router.post("/{report_id}/triage", response={200: ReportOut, **ERRORS})
def triage(request, report_id: RowId, payload: StepIn | None = None):
    """The county CDC takes the report in (reported → triaged): its reporting clock stops."""
    return _done(services.triage(report_id, acting_user=request.user, source=Source.API))


@router.post("/{report_id}/investigate", response={200: ReportOut, **ERRORS})
def investigate(request, report_id: RowId, payload: InvestigateIn):
    """The investigation is done (triaged → investigated), with its findings."""
    return _done(services.investigate(report_id, findings=payload.findings or "", acting_user=request.user,
                                      source=Source.API))


@router.post("/{report_id}/classify", response={200: ReportOut, **ERRORS})
def classify(request, report_id: RowId, payload: ClassifyIn):
    """The causality (investigated → classified): the WHO and the Chinese category, and for
    anaphylaxis the Brighton level assessed."""
    return _done(services.classify(report_id, who_category=payload.who_category, cn_category=payload.cn_category,
                                   brighton_level=payload.brighton_level, acting_user=request.user,
                                   source=Source.API))


@router.post("/{report_id}/close", response={200: ReportOut, **ERRORS})
def close(request, report_id: RowId, payload: StepIn | None = None):
    """Close the case (classified → closed)."""
    return _done(services.close(report_id, acting_user=request.user, source=Source.API))


_REPORT = ("aefi_events_required", "aefi_unknown_event", "aefi_unknown_sign", "aefi_unknown_criterion",
           "aefi_unknown_outcome", "aefi_criteria_required", "aefi_criteria_not_serious", "aefi_fatal_without_death",
           "aefi_in_future", "aefi_detected_before_onset", "aefi_onset_before_dose", "aefi_dose_of_another_person",
           "aefi_text_too_long", "person_not_found", "dose_not_found", "idempotency_conflict", "invalid_datetime")
_STEP = ("aefi_not_found", "aefi_wrong_step")
OPERATIONS.update({
    "vaxops_safety_api_create_report": ("", _REPORT),
    "vaxops_safety_api_list_reports": ("", ("division_not_found",)),
    "vaxops_safety_api_stats": ("", ("division_not_found",)),
    "vaxops_safety_api_list_clusters": ("", ()),
    "vaxops_safety_api_act": ("", ("aefi_cluster_not_found", "aefi_cluster_acted", "aefi_cluster_no_lots",
                                   "lot_not_found")),
    "vaxops_safety_api_get_report": ("", ("aefi_not_found",)),
    "vaxops_safety_api_triage": ("", _STEP),
    "vaxops_safety_api_investigate": ("", (*_STEP, "aefi_text_too_long")),
    "vaxops_safety_api_classify": ("", (*_STEP, "aefi_unknown_category", "aefi_invalid_brighton_level")),
    "vaxops_safety_api_close": ("", _STEP),
})
