"""Targets: set by the level above for each division below it (the one writer), and their
progress at any moment with the children ranked (reads). docs/targets.md."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone

from vaxops.access.scope import PERMISSIONS, get_scoped, grants_for, require, restrict
from vaxops.campaign.services import TZ
from vaxops.core.audit import audit
from vaxops.core.errors import VaxopsError
from vaxops.regions.models import Division
from vaxops.registry.models import PriorityGroup

from . import figures
from .models import AGE_BASES, Metric, Target, ValueKind
from .projection import Plan, first_reached, progress

MAX_COUNT = 10**9


def _parse_day(value: Any, field: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.astimezone(TZ).date() if timezone.is_aware(value) else value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise VaxopsError("invalid_request", {"field": field}) from None


def _ramp(points: Any, starts: dt.date, due: dt.date) -> list[list[Any]]:
    """A stated ramp: ``[[date, fraction], …]`` with dates inside (starts, due) rising, and
    fractions in (0, 1) rising."""
    out: list[list[Any]] = []
    for point in points or []:
        try:
            day, fraction = point
            day = _parse_day(day, "ramp")
            fraction = float(fraction)
        except (TypeError, ValueError, VaxopsError):
            raise VaxopsError("target_ramp_invalid") from None
        last_day, last_fraction = (dt.date.fromisoformat(out[-1][0]), out[-1][1]) if out else (starts, 0.0)
        if not (last_day < day < due) or not (last_fraction < fraction < 1) or math.isnan(fraction):
            raise VaxopsError("target_ramp_invalid")
        out.append([day.isoformat(), round(fraction, 4)])
    return out


def _above(user: Any, division: Division) -> bool:
    """Whether ``user`` sits above ``division``: its parent is within their area (the top of
    the tree only for an unrestricted grant)."""
    if division.parent_id is None:
        allowed = PERMISSIONS["target.set"]
        return any(g.everything for g in grants_for(user) if g.role in allowed)
    return restrict(Division.objects.filter(pk=division.parent_id), user, "target.set").exists()


def set_target(*, division_code: str, metric: str, base: str, value: Any, due: Any, kind: str | None = None,
               starts: Any = None, ramp: Any = None, acting_user: Any, source: str) -> tuple[Target, bool]:
    """Set (or change) the target of ``division_code`` for ``metric`` over ``base`` due ``due``.

    Set by the level above: the division must be within the user's area (``division_not_found``
    otherwise) and so must its parent (``target_not_above``: a county sets its townships'
    targets, not its own). ``metric``: first_dose_people, completed_people, doses or
    key_group_coverage; ``base``: "18+", "60+", "all" or a priority-group code (a key-group
    coverage needs a group; doses need an age base). ``value`` is a number of people or doses
    (``kind`` "count") or a coverage percentage (``kind`` "percent"; key-group coverage always is).
    ``starts`` (default: today) begins the expected curve, linear to the end of ``due`` or
    through ``ramp``. One durable transaction, audited with the values before and after;
    returns (target, created).
    """
    require(acting_user, "target.set")
    division = get_scoped(Division.objects.all(), acting_user, "target.set", not_found="division_not_found",
                          detail={"division_code": str(division_code)[:15]}, code=str(division_code))
    if not _above(acting_user, division):
        raise VaxopsError("target_not_above", {"division_code": division.code})
    if metric not in Metric.values:
        raise VaxopsError("target_metric_unknown", {"metric": str(metric)[:40], "allowed": Metric.values})
    is_group = base not in AGE_BASES
    if is_group and not PriorityGroup.objects.filter(code=base).exists():
        raise VaxopsError("target_base_unknown", {"base": str(base)[:40]})
    if (metric == Metric.KEY_GROUP_COVERAGE and not is_group) or (metric == Metric.DOSES and is_group):
        raise VaxopsError("target_base_invalid", {"metric": metric, "base": base})
    if metric == Metric.KEY_GROUP_COVERAGE:
        kind = ValueKind.PERCENT
    kind = kind or ValueKind.COUNT
    if kind not in ValueKind.values:
        raise VaxopsError("target_value_invalid", {"value": str(value)[:20]})
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise VaxopsError("target_value_invalid", {"value": str(value)[:20]}) from None
    limit = 100 if kind == ValueKind.PERCENT else MAX_COUNT
    if not amount.is_finite() or amount <= 0 or amount > limit or (kind == ValueKind.COUNT and amount != int(amount)):
        raise VaxopsError("target_value_invalid", {"value": str(value)[:20]})
    amount = amount.quantize(Decimal("0.01"))
    due_day = _parse_day(due, "due")
    start_day = _parse_day(starts, "starts") if starts else timezone.now().astimezone(TZ).date()
    if not (start_day < due_day) or not (dt.date(2000, 1, 1) <= start_day and due_day <= dt.date(2100, 12, 31)):
        raise VaxopsError("target_due_invalid", {"starts": start_day.isoformat(), "due": due_day.isoformat()})
    points = _ramp(ramp, start_day, due_day)
    fields = {"value": amount, "kind": kind, "starts": start_day, "ramp": points}
    with transaction.atomic(durable=True):
        target = Target.objects.select_for_update().filter(division=division, metric=metric, base=base,
                                                           due=due_day).first()
        before = _as_dict(target) if target else None
        created = target is None
        if created:
            target = Target(division=division, metric=metric, base=base, due=due_day,
                            county_code=division.county_code or "")
        for name, v in fields.items():
            setattr(target, name, v)
        target.set_by = acting_user if getattr(acting_user, "pk", None) else None
        target.set_at = timezone.now()
        target.save()
        audit("targets.target.set", target, actor=acting_user, source=source, before=before,
              after=_as_dict(target), county_code=target.county_code)
    return target, created


def _as_dict(target: Target) -> dict[str, Any]:
    return {"division": target.division.code, "metric": target.metric, "base": target.base,
            "value": str(target.value), "kind": target.kind, "starts": target.starts.isoformat(),
            "due": target.due.isoformat(), "ramp": target.ramp}


# -- progress ----------------------------------------------------------------------------------


def target_count(target: Target, at: dt.datetime) -> int:
    """The target as a number of people (or doses): a coverage percentage of the base population, rounded up."""
    if target.kind == ValueKind.PERCENT:
        return math.ceil(float(target.value) / 100 * figures.population(target.division, target.base, at) - 1e-9)
    return int(target.value)


def target_progress(target: Target, at: dt.datetime) -> dict[str, Any]:
    """One target's progress at ``at`` (see ``projection.progress``), as the API item."""
    at = at.astimezone(TZ)
    count = target_count(target, at)
    week_ago_day = at.date() - dt.timedelta(days=7)
    since = min(target.starts, week_ago_day)
    series, achieved = figures.daily(target.division, target.metric, target.base, at, since)
    week_ago = figures.value_at(series, week_ago_day)
    ramp = tuple((dt.date.fromisoformat(d), float(f)) for d, f in target.ramp)
    plan = Plan(target=count, starts=target.starts, due=target.due, ramp=ramp)
    met_on = first_reached([(d, c) for d, c in series if d >= target.starts], count) if count > 0 else None
    p = progress(plan, at, achieved=achieved, week_ago=week_ago,
                 week_ago_at=dt.datetime.combine(week_ago_day + dt.timedelta(days=1), dt.time.min, tzinfo=TZ),
                 met_on=met_on)
    if p.met:
        status = "met_ahead" if p.met_ahead else "met"
    else:
        status = "ahead" if p.ahead_by > 0 else ("behind" if p.ahead_by < 0 else "on_track")
    return {
        "id": target.pk, "division_code": target.division.code, "division_name": target.division.name,
        "metric": target.metric, "base": target.base, "kind": target.kind, "value": float(target.value),
        "starts": target.starts, "due": target.due, "target": p.target, "achieved": p.achieved,
        "percent": p.percent, "expected_by_now": p.expected_by_now, "ahead_by": p.ahead_by,
        "ahead_days": p.ahead_days, "rate_7d": p.rate_7d, "projected_date": p.projected_date,
        "met": p.met, "met_on": p.met_on, "met_ahead": p.met_ahead, "status": status,
    }


def progress_items(division: Division, at: dt.datetime, user: Any) -> list[dict[str, Any]]:
    """The targets of ``division`` and of its children (those within the user's area; every one
    for ``user=None``, the daily report's per-division read) at ``at``:
    the division's own first, then each set of siblings' targets (same metric, base and due)
    ranked by percent done (``rank`` 1 = furthest along)."""
    targets = Target.objects.filter(division__in=[division.pk, *division.children.values_list("pk", flat=True)])
    if user is not None:
        targets = restrict(targets, user, "target.view")
    targets = targets.select_related("division")
    own, children = [], []
    for target in targets:
        item = target_progress(target, at)
        item["is_child"] = target.division_id != division.pk
        item["rank"] = None
        (children if item["is_child"] else own).append(item)
    sets: dict[tuple, list[dict[str, Any]]] = {}
    for item in children:
        sets.setdefault((item["metric"], item["base"], item["due"]), []).append(item)
    ranked = []
    for key in sorted(sets, key=lambda k: (k[2], k[0], k[1])):
        siblings = sorted(sets[key], key=lambda i: (-(i["percent"] if i["percent"] is not None else -1),
                                                   i["division_code"]))
        for rank, item in enumerate(siblings, start=1):
            item["rank"] = rank
        ranked.extend(siblings)
    return [*own, *ranked]
