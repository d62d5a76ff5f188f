"""The writers of AEFI facts: a report (with cluster detection in its transaction), the steps of
its investigation, and the supervisor's action on a cluster (docs/aefi.md).

Each is one durable transaction with one audit event, called by the API, the pages and the
demo alike; every refusal is a ``VaxopsError`` raised before anything is written. The rules
themselves are the pure functions of ``vaxops.safety.rules``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from vaxops.access.scope import get_scoped, grants_for, require, restrict
from vaxops.core.audit import audit
from vaxops.core.errors import VaxopsError
from vaxops.core.models import Source
from vaxops.safety import catalogue, rules
from vaxops.safety.models import AefiCluster, AefiReport, AefiStatus, ClusterRule, ClusterStatus

CLOCK_SKEW = dt.timedelta(minutes=5)  # as for doses: a device's clock may run a little ahead
TEXT_LIMIT = 4000
REASON_LIMIT = 500


# --- checks ------------------------------------------------------------------------------------


def _codes(values: Iterable[str]) -> list[str]:
    """The codes in their order, each once, stripped."""
    seen: list[str] = []
    for v in values:
        code = str(v).strip()
        if code not in seen:
            seen.append(code)
    return seen


_EARLIEST = dt.datetime(1901, 1, 1, tzinfo=dt.UTC)  # as vaxops.core.schema.Instant
_LATEST = dt.datetime(2200, 1, 1, tzinfo=dt.UTC)


def _aware(moment: Any, field: str) -> dt.datetime:
    """An aware time the database and the clocks can hold (a year-1 onset would overflow)."""
    if not isinstance(moment, dt.datetime) or timezone.is_naive(moment):
        raise VaxopsError("invalid_datetime", {"field": field})
    try:
        inside = _EARLIEST <= moment < _LATEST
    except OverflowError:
        inside = False
    if not inside:
        raise VaxopsError("invalid_datetime", {"field": field})
    return moment


def check_report(*, events: Sequence[str], signs: Sequence[str], serious: bool, serious_criteria: Sequence[str],
                 outcome: str, description: str, onset_at: dt.datetime, detected_at: dt.datetime,
                 now: dt.datetime) -> None:
    """The checks of a report's own content, in the order a person would correct them."""
    if not events:
        raise VaxopsError("aefi_events_required")
    known = catalogue.events()
    for code in events:
        if code not in known:
            raise VaxopsError("aefi_unknown_event", {"event": code})
    known_signs = catalogue.brighton_signs()
    for code in signs:
        if code not in known_signs:
            raise VaxopsError("aefi_unknown_sign", {"sign": code})
    criteria = catalogue.serious_criteria()
    for code in serious_criteria:
        if code not in criteria:
            raise VaxopsError("aefi_unknown_criterion", {"criterion": code})
    if serious and not serious_criteria:
        raise VaxopsError("aefi_criteria_required")
    if serious_criteria and not serious:
        raise VaxopsError("aefi_criteria_not_serious")
    if outcome and outcome not in catalogue.outcomes():
        raise VaxopsError("aefi_unknown_outcome", {"outcome": outcome})
    if outcome == "fatal" and "death" not in serious_criteria:
        raise VaxopsError("aefi_fatal_without_death")
    if len(description) > TEXT_LIMIT:
        raise VaxopsError("aefi_text_too_long", {"field": "description", "limit": TEXT_LIMIT})
    if onset_at > now + CLOCK_SKEW:
        raise VaxopsError("aefi_in_future", {"field": "onset_at"})
    if detected_at > now + CLOCK_SKEW:
        raise VaxopsError("aefi_in_future", {"field": "detected_at"})
    if detected_at < onset_at:
        raise VaxopsError("aefi_detected_before_onset",
                          {"detected_at": detected_at.isoformat(), "onset_at": onset_at.isoformat()})


def _reporter_site(user: Any):
    """The site of a user who works at one site (the place of a report without a dose)."""
    from vaxops.sites.models import Site

    site_ids = {g.site_id for g in grants_for(user) if g.site_id is not None}
    if len(site_ids) == 1:
        return Site.objects.select_related("division").filter(pk=site_ids.pop()).first()
    return None


def _same_content(report: AefiReport, values: dict[str, Any]) -> bool:
    return all(getattr(report, k) == v for k, v in values.items())


# --- reporting ---------------------------------------------------------------------------------


def report_aefi(*, client_uuid: uuid.UUID | str, person: Any, dose: Any = None, onset_at: dt.datetime,
                detected_at: dt.datetime, events: Iterable[str], serious: bool, serious_criteria: Iterable[str] = (),
                outcome: str = "", description: str = "", acting_user: Any, at: dt.datetime | None = None,
                signs: Iterable[str] = (), source: str = Source.API) -> AefiReport:
    """Report a suspected AEFI of ``person`` (after ``dose``, a ``DoseRecord``, when known).

    The dose supplies the lot, product, site, vaccinator and time of vaccination; the report is
    placed at the dose's site (without a dose: at the reporter's one site, else the person's
    home). Refuses, before writing: ``aefi_events_required``, ``aefi_unknown_event`` /
    ``_sign`` / ``_criterion`` / ``_outcome``, ``aefi_criteria_required`` (serious without a
    criterion), ``aefi_criteria_not_serious``, ``aefi_fatal_without_death``, ``aefi_in_future``,
    ``aefi_detected_before_onset``, ``dose_not_found`` (outside the reporter's area, or
    voided), ``aefi_dose_of_another_person``, ``aefi_onset_before_dose``, ``person_not_found``,
    ``idempotency_conflict`` (the client_uuid of another report).

    In one durable transaction: the report with its deadline (``rules.report_due_by``), its
    Brighton level (anaphylaxis), and cluster detection against the reports of the same site
    (serious) or lot (non-serious), the site or lot row locked so that two reports committing
    together cannot both miss the cluster; a cluster opened or joined is recorded on the report
    and in its one audit event ``aefi.report``. A replay of the same submission returns the
    first report with ``replayed = True``.
    """
    require(acting_user, "aefi.report")
    now = at or timezone.now()
    onset_at = _aware(onset_at, "onset_at")
    detected_at = _aware(detected_at, "detected_at")
    events, signs, criteria = _codes(events), _codes(signs), _codes(serious_criteria)
    outcome, description = (outcome or "").strip(), (description or "").strip()
    check_report(events=events, signs=signs, serious=serious, serious_criteria=criteria, outcome=outcome,
                 description=description, onset_at=onset_at, detected_at=detected_at, now=now)
    try:
        client_uuid = uuid.UUID(str(client_uuid))
    except ValueError:
        raise VaxopsError("invalid_request", {"field": "client_uuid"}) from None
    from vaxops.registry.models import Person
    from vaxops.vaccination.models import DoseRecord, DoseStatus

    site = None
    if dose is not None:
        dose_id = getattr(dose, "pk", dose)
        dose = restrict(DoseRecord.objects.select_related("site__division", "lot", "product"), acting_user,
                        "aefi.report").filter(pk=dose_id, status=DoseStatus.VALID).first()
        if dose is None:
            raise VaxopsError("dose_not_found")
        if dose.person_id != person.pk:
            raise VaxopsError("aefi_dose_of_another_person")
        if onset_at < dose.administered_at:
            raise VaxopsError("aefi_onset_before_dose", {"onset_at": onset_at.isoformat(),
                                                         "vaccinated_at": dose.administered_at.isoformat()})
        site = dose.site
    else:
        if not restrict(Person.objects.filter(pk=person.pk), acting_user, "person.view").exists():
            raise VaxopsError("person_not_found")
        site = _reporter_site(acting_user)
    content = {"person_id": person.pk, "dose_id": dose.pk if dose else None, "onset_at": onset_at,
               "detected_at": detected_at, "events": events, "serious": serious, "serious_criteria": criteria}
    existing = AefiReport.objects.filter(client_uuid=client_uuid).first()
    if existing is not None:
        return _replay(existing, content, acting_user)
    try:
        with transaction.atomic(durable=True):
            report = _write(client_uuid=client_uuid, person=person, dose=dose, site=site, onset_at=onset_at,
                            detected_at=detected_at, events=events, signs=signs, serious=serious,
                            criteria=criteria, outcome=outcome, description=description, acting_user=acting_user,
                            now=now, source=source)
    except IntegrityError:
        # The same submission committed meanwhile (a device retrying on a slow line).
        existing = AefiReport.objects.filter(client_uuid=client_uuid).first()
        if existing is None:
            raise
        return _replay(existing, content, acting_user)
    report.replayed = False
    return report


def _replay(existing: AefiReport, content: dict[str, Any], acting_user: Any) -> AefiReport:
    if existing.reporter_id != acting_user.pk or not _same_content(existing, content):
        raise VaxopsError("idempotency_conflict")
    existing.replayed = True
    return existing


def _write(*, client_uuid, person, dose, site, onset_at, detected_at, events, signs, serious, criteria, outcome,
           description, acting_user, now, source) -> AefiReport:
    if site is not None:
        division, county_code = site.division, site.county_code
        _lock_site(site.pk)
    else:
        division, county_code = person.home_division, person.county_code
    if dose is not None:
        _lock_lot(dose.lot_id)
    level = rules.brighton_level(signs) if catalogue.is_anaphylaxis(events) else None
    report = AefiReport.objects.create(
        client_uuid=client_uuid, person=person, dose=dose, lot_id=dose.lot_id if dose else None,
        product_id=dose.product_id if dose else None, site=site, vaccinator_id=dose.vaccinator_id if dose else None,
        vaccinated_at=dose.administered_at if dose else None, division=division, county_code=county_code,
        onset_at=onset_at, detected_at=detected_at, reported_at=now, events=events, signs=signs, serious=serious,
        serious_criteria=criteria, outcome=outcome, description=description, reporter=acting_user,
        report_due_by=rules.report_due_by(detected_at, serious=serious, serious_criteria=criteria),
        investigation_due_by=rules.investigation_due_by(now), brighton_level=level,
    )
    cluster, opened = detect_cluster(report, now=now)
    audit("aefi.report", report, actor=acting_user, source=source, county_code=county_code, after={
        "person_id": person.pk, "dose_id": report.dose_id, "events": events, "serious": serious,
        "serious_criteria": criteria, "report_due_by": report.report_due_by.isoformat(),
        "brighton_level": level, "cluster_id": cluster.pk if cluster else None, "cluster_opened": opened,
    })
    return report


def _lock_site(site_id: int) -> None:
    from vaxops.sites.models import Site

    # NO KEY UPDATE: doses referencing the site (KEY SHARE) go on; only reports wait.
    list(Site.objects.select_for_update(no_key=True).filter(pk=site_id).values_list("pk", flat=True))


def _lock_lot(lot_id: int) -> None:
    from vaxops.supply.models import Lot

    list(Lot.objects.select_for_update(no_key=True).filter(pk=lot_id).values_list("pk", flat=True))


# --- clusters ----------------------------------------------------------------------------------


def _case(r: AefiReport) -> rules.Case:
    return rules.Case(id=r.pk, site_id=r.site_id, lot_id=r.lot_id, onset_at=r.onset_at, serious=r.serious,
                      groups=rules.groups_of(r.events))


def detect_cluster(report: AefiReport, *, now: dt.datetime) -> tuple[AefiCluster | None, bool]:
    """Apply the cluster rules to a report just written (inside its transaction, the site or lot
    locked); returns ``(cluster, opened)``: the cluster it opened or joined, or ``(None, False)``."""
    case = _case(report)
    if not case.groups:
        return None, False
    window = rules.window()
    span = (report.onset_at - window, report.onset_at + window)
    if report.serious and report.site_id is not None:
        others = AefiReport.objects.filter(site_id=report.site_id, serious=True, onset_at__range=span).exclude(
            pk=report.pk)
        found = rules.site_cluster(case, [_case(o) for o in others], window=window)
        if found is None:
            return None, False
        group, members = found
        return _join_or_open(report, ClusterRule.SITE, group, [m.id for m in members], now=now)
    if not report.serious and report.lot_id is not None:
        others = list(AefiReport.objects.filter(lot_id=report.lot_id, serious=False, onset_at__range=span).exclude(
            pk=report.pk))
        found = rules.lot_candidates(case, [_case(o) for o in others], window=window)
        if found is None:
            return None, False
        group, members = found
        if not _lot_rises(report, group, len(members) + 1, window):
            return None, False
        return _join_or_open(report, ClusterRule.LOT, group, [m.id for m in members], now=now)
    return None, False


def _lot_rises(report: AefiReport, group: str, window_reports: int, window: dt.timedelta) -> bool:
    from vaxops.vaccination.models import DoseRecord, DoseStatus

    baseline_days = catalogue.cluster_rules()["lot_rule"]["baseline_days"]
    start = report.onset_at - window
    base_start = start - dt.timedelta(days=baseline_days)
    doses = DoseRecord.objects.filter(lot_id=report.lot_id, status=DoseStatus.VALID)
    window_doses = doses.filter(administered_at__gte=start, administered_at__lte=report.onset_at).count()
    baseline_doses = doses.filter(administered_at__gte=base_start, administered_at__lt=start).count()
    baseline_reports = sum(
        1 for events in AefiReport.objects.filter(lot_id=report.lot_id, serious=False, onset_at__gte=base_start,
                                                  onset_at__lt=start).values_list("events", flat=True)
        if group in rules.groups_of(events)
    )
    return rules.lot_rise(window_reports=window_reports, window_doses=window_doses,
                          baseline_reports=baseline_reports, baseline_doses=baseline_doses)


def _join_or_open(report: AefiReport, rule: str, group: str, member_ids: list[int], *,
                  now: dt.datetime) -> tuple[AefiCluster, bool]:
    """Put the report into the cluster its similar reports already form, or open one with them
    (members already in a cluster of another rule stay there)."""
    key = {"site_id": report.site_id} if rule == ClusterRule.SITE else {"lot_id": report.lot_id}
    existing = set(AefiReport.objects.filter(pk__in=member_ids, cluster__rule=rule, cluster__group=group)
                   .values_list("cluster_id", flat=True))
    cluster = AefiCluster.objects.select_for_update().filter(pk__in=existing, **key).order_by("-opened_at").first()
    opened = cluster is None
    if opened:
        cluster = AefiCluster.objects.create(
            rule=rule, group=group, site_id=report.site_id if rule == ClusterRule.SITE else None,
            lot_id=report.lot_id if rule == ClusterRule.LOT else None, division_id=report.division_id,
            county_code=report.county_code, opened_at=now,
            report_due_by=now + dt.timedelta(hours=catalogue.clocks()["cluster_hours"]),
        )
    members = AefiReport.objects.filter(pk__in=[*member_ids, report.pk])
    if opened:
        members = members.filter(cluster__isnull=True)
    else:
        members = members.filter(pk=report.pk)
    members.update(cluster=cluster)
    # The cluster's own clock: every member not yet taken in is due with it.
    AefiReport.objects.filter(cluster=cluster, status=AefiStatus.REPORTED,
                              report_due_by__gt=cluster.report_due_by).update(report_due_by=cluster.report_due_by)
    report.refresh_from_db(fields=["cluster", "report_due_by"])
    lots = set(AefiReport.objects.filter(cluster=cluster, lot__isnull=False).values_list("lot_id", flat=True))
    new_lots = lots - set(cluster.proposed_lots.values_list("pk", flat=True))
    if new_lots:
        cluster.proposed_lots.add(*new_lots)
        if cluster.status == ClusterStatus.ACTED:
            cluster.status = ClusterStatus.OPEN  # a new lot to act on
            cluster.save(update_fields=["status"])
    return cluster, opened


def act_on_cluster(cluster: AefiCluster | int, *, acting_user: Any, reason: str = "",
                   source: str = Source.WEB) -> AefiCluster:
    """The supervisor's one click: quarantine every proposed lot of the cluster still released,
    through ``vaxops.supply.lots.quarantine_lot`` (each lot its own transaction and audit there,
    as a quarantine by hand would be), then mark the cluster acted in one transaction with one
    audit event ``aefi.cluster.act``. A lot already quarantined or recalled is left as it is. A
    failure half-way leaves the cluster open: clicking again quarantines the rest.
    Refuses ``aefi_cluster_not_found``, ``aefi_cluster_acted``, ``aefi_cluster_no_lots``."""
    from vaxops.supply.lots import quarantine_lot
    from vaxops.supply.models import LotStatus

    require(acting_user, "aefi.cluster")
    cluster_id = getattr(cluster, "pk", cluster)
    cluster = get_scoped(AefiCluster.objects.all(), acting_user, "aefi.cluster", not_found="aefi_cluster_not_found",
                         pk=cluster_id)
    if cluster.status != ClusterStatus.OPEN:
        raise VaxopsError("aefi_cluster_acted")
    lots = list(cluster.proposed_lots.select_related("product").order_by("lot_number"))
    if not lots:
        raise VaxopsError("aefi_cluster_no_lots")
    text = (reason or "").strip()[:REASON_LIMIT] or f"AEFI cluster {cluster.pk} ({cluster.group})"
    result: dict[str, str] = {}
    for lot in lots:
        if lot.status != LotStatus.RELEASED:
            result[lot.lot_number] = f"already_{lot.status}"
            continue
        try:
            quarantine_lot(lot_number=lot.lot_number, product_code=lot.product.code, reason=text,
                           acting_user=acting_user, source=source)
        except VaxopsError as exc:
            if exc.code != "lot_status_unchanged":
                raise
            result[lot.lot_number] = "already_quarantined"
        else:
            result[lot.lot_number] = "quarantined"
    with transaction.atomic(durable=True):
        cluster = AefiCluster.objects.select_for_update().get(pk=cluster.pk)
        if cluster.status != ClusterStatus.OPEN:
            raise VaxopsError("aefi_cluster_acted")
        cluster.status = ClusterStatus.ACTED
        cluster.acted_at = timezone.now()
        cluster.acted_by = acting_user
        cluster.action_result = result
        cluster.save(update_fields=["status", "acted_at", "acted_by", "action_result"])
        audit("aefi.cluster.act", cluster, actor=acting_user, source=source, county_code=cluster.county_code,
              before={"status": ClusterStatus.OPEN}, after={"status": cluster.status, "lots": result,
                                                            "reason": text})
    return cluster


# --- the steps of an investigation -------------------------------------------------------------


def _step(report: AefiReport | int, step: str, *, acting_user: Any, source: str,
          changes: dict[str, Any] | None = None, at: dt.datetime | None = None) -> AefiReport:
    require(acting_user, "aefi.classify")
    report_id = getattr(report, "pk", report)
    get_scoped(AefiReport.objects.all(), acting_user, "aefi.classify", not_found="aefi_not_found", pk=report_id)
    with transaction.atomic(durable=True):
        report = AefiReport.objects.select_for_update().get(pk=report_id)
        after = rules.next_status(report.status, step)
        if after is None:
            raise VaxopsError("aefi_wrong_step", {"status": report.status, "step": step,
                                                  "needs": rules.STEPS[step][0]})
        now = at or timezone.now()
        before = {"status": report.status}
        values = {"status": after, f"{_PAST[step]}_at": now, f"{_PAST[step]}_by": acting_user, **(changes or {})}
        for k, v in values.items():
            setattr(report, k, v)
        report.save(update_fields=list(values))
        audit(f"aefi.{step}", report, actor=acting_user, source=source, county_code=report.county_code,
              before=before, after={"status": after, **(changes or {})})
    return report


_PAST = {"triage": "triaged", "investigate": "investigated", "classify": "classified", "close": "closed"}


def triage(report: AefiReport | int, *, acting_user: Any, source: str = Source.API,
           at: dt.datetime | None = None) -> AefiReport:
    """The county CDC takes the report in (reported → triaged): its reporting clock stops.
    ``at`` (default now) is for a replay of history (the demo), like every step's."""
    return _step(report, "triage", acting_user=acting_user, source=source, at=at)


def investigate(report: AefiReport | int, *, findings: str = "", acting_user: Any,
                source: str = Source.API, at: dt.datetime | None = None) -> AefiReport:
    """The investigation is done (triaged → investigated), with its findings."""
    text = (findings or "").strip()
    if len(text) > TEXT_LIMIT:
        raise VaxopsError("aefi_text_too_long", {"field": "findings", "limit": TEXT_LIMIT})
    return _step(report, "investigate", acting_user=acting_user, source=source, changes={"findings": text}, at=at)


def classify(report: AefiReport | int, *, who_category: str, cn_category: str, brighton_level: int | None = None,
             acting_user: Any, source: str = Source.API, at: dt.datetime | None = None) -> AefiReport:
    """The causality (investigated → classified): a WHO category (A1–A4, B1, B2, C, D), a
    Chinese final category, and for anaphylaxis the Brighton level assessed (1–5; the level
    computed from the recorded signs stays as it is). Refuses ``aefi_unknown_category``,
    ``aefi_invalid_brighton_level``, ``aefi_wrong_step``."""
    who = (who_category or "").strip().upper()
    cn = (cn_category or "").strip()
    if who not in catalogue.who_categories():
        raise VaxopsError("aefi_unknown_category", {"category": who_category, "field": "who_category"})
    if cn not in catalogue.cn_categories():
        # The Chinese name itself is accepted too (一般反应 …).
        by_name = {row["zh"]: code for code, row in catalogue.cn_categories().items()}
        if cn not in by_name:
            raise VaxopsError("aefi_unknown_category", {"category": cn_category, "field": "cn_category"})
        cn = by_name[cn]
    if brighton_level is not None and (isinstance(brighton_level, bool) or brighton_level not in (1, 2, 3, 4, 5)):
        raise VaxopsError("aefi_invalid_brighton_level")
    return _step(report, "classify", acting_user=acting_user, source=source, at=at,
                 changes={"who_category": who, "cn_category": cn, "brighton_level_assessed": brighton_level})


def close(report: AefiReport | int, *, acting_user: Any, source: str = Source.API,
          at: dt.datetime | None = None) -> AefiReport:
    """The case is closed (classified → closed)."""
    return _step(report, "close", acting_user=acting_user, source=source, at=at)
