"""Key-group figures "应种尽种" as of a moment: registered, removed (with why), eligible, first
dose and completed, coverage; and the eligible members not yet vaccinated.

Reads only. Key groups are small (thousands of people per county, not millions), so the figures
are one grouped query over the memberships with EXISTS probes into the person's deferrals and
doses (both indexed by person), not a counter table. The placement of a member is where the
person lives (their home division's subtree), or, for a unit's view, the responsible unit.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from vaxops.campaign.services import TZ
from vaxops.registry.models import Deferral, PersonStatus, PriorityGroup
from vaxops.vaccination.models import DoseRecord, DoseStatus

from .models import Membership

OUT_STATUSES = (PersonStatus.MOVED_OUT, PersonStatus.DECEASED)


def contraindicated_at(at: dt.datetime) -> Exists:
    """The person had a permanent contraindication at ``at``: a deferral with no end (``until``
    empty), recorded by then and not lifted by then (it leaves the "应种" denominator)."""
    return Exists(Deferral.objects.filter(
        Q(lifted_at__isnull=True) | Q(lifted_at__gt=at),
        person_id=OuterRef("person_id"), until__isnull=True, since__lte=at.astimezone(TZ).date(),
    ))


def dosed_by(at: dt.datetime, *, completed: bool) -> Exists:
    """The person had a valid first dose (or a completed series) given by ``at``."""
    doses = DoseRecord.objects.filter(person_id=OuterRef("person_id"), status=DoseStatus.VALID,
                                      administered_at__lte=at)
    doses = doses.filter(completes_series=True) if completed else doses.filter(dose_number=1, kind="primary")
    return Exists(doses)


def members_at(members: QuerySet[Membership], at: dt.datetime) -> QuerySet[Membership]:
    """Those of ``members`` in their group on the day of ``at`` (``Membership.since``)."""
    return members.filter(since__lte=at.astimezone(TZ).date())


def annotated(members: QuerySet[Membership], at: dt.datetime) -> QuerySet[Membership]:
    """``members`` in their group at ``at``, with ``contraindicated``, ``first`` and
    ``completed`` as of ``at``."""
    return members_at(members, at).annotate(
        contraindicated=contraindicated_at(at), first=dosed_by(at, completed=False),
        completed=dosed_by(at, completed=True),
    )


def in_area(members: QuerySet[Membership], division: Any | None = None, unit: Any | None = None
            ) -> QuerySet[Membership]:
    """Members living in ``division``'s subtree and/or answered for by ``unit``."""
    if division is not None:
        members = members.filter(person__home_division__path__startswith=division.path)
    if unit is not None:
        members = members.filter(unit=unit)
    return members


def group_figures(members: QuerySet[Membership], at: dt.datetime) -> list[dict[str, Any]]:
    """Per priority group (every group, in rank order, zeros included): the figures of the
    ``members`` (already restricted to the reader's area) as of ``at``."""
    out = annotated(members, at)
    contraindicated = Q(contraindicated=True)
    gone = Q(person__status__in=OUT_STATUSES)
    eligible = ~contraindicated & ~gone
    rows = {
        r["group_id"]: r for r in out.values("group_id").annotate(
            registered=Count("id"),
            contraindicated_people=Count("id", filter=contraindicated & ~gone),
            deceased_people=Count("id", filter=Q(person__status=PersonStatus.DECEASED)),
            moved_out_people=Count("id", filter=Q(person__status=PersonStatus.MOVED_OUT)),
            eligible=Count("id", filter=eligible),
            first_dose_people=Count("id", filter=eligible & Q(first=True)),
            completed_people=Count("id", filter=eligible & Q(completed=True)),
        ).order_by()
    }
    result = []
    for group in PriorityGroup.objects.all():
        r = rows.get(group.pk, {})
        eligible_n = r.get("eligible", 0)
        first_n = r.get("first_dose_people", 0)
        completed_n = r.get("completed_people", 0)
        result.append({
            "code": group.code, "name": group.name,
            "registered": r.get("registered", 0),
            "contraindicated": r.get("contraindicated_people", 0),
            "deceased": r.get("deceased_people", 0),
            "moved_out": r.get("moved_out_people", 0),
            "removed": r.get("registered", 0) - eligible_n,
            "eligible": eligible_n,
            "first_dose_people": first_n,
            "completed_people": completed_n,
            "not_vaccinated": eligible_n - first_n,
            "coverage": round(first_n / eligible_n, 4) if eligible_n else None,
            "completed_coverage": round(completed_n / eligible_n, 4) if eligible_n else None,
        })
    return result


def not_vaccinated(members: QuerySet[Membership], at: dt.datetime) -> QuerySet[Membership]:
    """The eligible members without a first dose by ``at`` (the list to reach), by unit and name."""
    return (
        annotated(members, at)
        .filter(contraindicated=False, first=False)
        .exclude(person__status__in=OUT_STATUSES)
        .select_related("person", "person__home_division", "unit", "group")
        .order_by("group__rank", "unit__code", "person__name", "pk")
    )
