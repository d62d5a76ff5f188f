"""Issuing a daily report: the one writer of ``IssuedReport``."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from vaxops.access.scope import get_scoped
from vaxops.core.audit import audit
from vaxops.core.errors import VaxopsError
from vaxops.regions.models import Division, Level
from vaxops.reports.daily import build_document, report_context
from vaxops.reports.models import IssuedReport

ISSUED_ACTION = "report.issued"


def canonical_hash(content: dict[str, Any]) -> str:
    """SHA-256 of the documents' canonical JSON (sorted keys, UTF-8), each with its ``sha256``
    field left empty: the same on SQLite and PostgreSQL (whose jsonb reorders keys)."""
    blank = copy.deepcopy(content)
    for doc in blank.values():
        doc["sha256"] = None
    text = json.dumps(blank, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def verify(report: IssuedReport) -> bool:
    """Whether the stored report is still the one issued (its hash matches its content)."""
    return canonical_hash(report.content) == report.sha256 and all(
        doc.get("sha256") == report.sha256 for doc in report.content.values()
    )


def issue_daily_report(*, division_code: str, day: dt.date, cutoff: str | None = None, acting_user: Any,
                       source: str, now: dt.datetime | None = None) -> IssuedReport:
    """Issue ``division_code``'s report for ``day`` at ``cutoff``: freeze the document in every
    language with its hash, audited; one report per division and day (``report_already_issued``).

    ``acting_user`` must hold ``report.issue`` over the division (``None``: the command line and
    the demo, unscoped). ``now`` is the moment of issue (the demo replays 2021-06-01). One
    durable transaction; a refusal writes nothing. Two issues of the same report at once: the
    unique constraint lets one in, the other gets ``report_already_issued``.
    """
    if acting_user is None:
        division = Division.objects.filter(code=division_code).first()
        if division is None:
            raise VaxopsError("division_not_found", {"division_code": division_code})
    else:
        division = get_scoped(Division.objects.all(), acting_user, "report.issue", not_found="division_not_found",
                              detail={"division_code": division_code}, code=division_code)
    now = now or timezone.now()
    ctx = report_context(division, day, cutoff, user=acting_user, now=now)
    detail = {"division_code": division.code, "date": day.isoformat()}
    with transaction.atomic(durable=True):
        if IssuedReport.objects.filter(division=division, day=day).exists():
            raise VaxopsError("report_already_issued", detail)
        content = {}
        for code, _name in settings.LANGUAGES:
            with translation.override(code):
                content[code] = build_document(ctx)
        issued_by = acting_user.get_username() if acting_user is not None else None
        for doc in content.values():
            doc.update(status="issued", issued_at=now.isoformat(), issued_by=issued_by)
        sha = canonical_hash(content)
        for doc in content.values():
            doc["sha256"] = sha
        figures = content[settings.LANGUAGE_CODE]["figures"]
        try:
            with transaction.atomic():
                report = IssuedReport.objects.create(
                    division=division, county_code=division.county_code if division.level >= Level.COUNTY else "",
                    day=day, cutoff=ctx.cutoff, issued_at=now, issued_by=acting_user, figures=figures,
                    content=content, sha256=sha,
                )
        except IntegrityError:
            raise VaxopsError("report_already_issued", detail)
        audit(ISSUED_ACTION, report, actor=acting_user, source=source,
              after={"division": division.code, "date": day.isoformat(), "cutoff": ctx.cutoff.isoformat(),
                     "sha256": sha, "doses_total": figures["cumulative"]["doses_total"]},
              county_code=report.county_code)
    return report
