"""Temperature readings, cold-chain excursions and their review (docs/supply.md).

The alarm rules are data evaluated by the pure ``vaxops.supply.excursion_rules``; this module
stores readings, keeps the store's ``Excursion`` rows in step with what the rules say and puts
the store on hold the moment a new excursion opens. While a store is on hold the ledger refuses
its doses and dispatches (``stock_on_hold``); a supervisor's review releases the stock (after a
VVM check or not) or discards all of it as a cold-chain failure, and the hold ends when the
store has no open excursion left.

What a review means for later readings: the period up to the review has been judged, so the
rules count again from the last reviewed excursion's end (or its review, if it was still going
on): a cold box's cumulative indicators start afresh, like a new shipping indicator, and a
fridge still warm after a release needs another full 10 h to alarm again. Readings from before
that moment are kept and shown but raise nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

from django.db import connection, transaction
from django.db.models import Max
from django.db.models.functions import Coalesce
from django.utils import timezone

from vaxops.access.scope import get_scoped, require, restrict
from vaxops.core.audit import audit
from vaxops.core.errors import VaxopsError
from vaxops.supply import excursion_rules as rules_mod
from vaxops.supply import ledger
from vaxops.supply.models import (
    Excursion,
    ExcursionStatus,
    ReadingSource,
    StockBalance,
    Store,
    TemperatureReading,
)

#: the plausible range of a vaccine store's thermometer (issue 8 §10); anything else is a typo
MIN_CELSIUS, MAX_CELSIUS = Decimal("-60"), Decimal("60")
#: a clock a few minutes ahead of the server's is not a reading from the future
FUTURE_SLACK = dt.timedelta(minutes=5)
DECISIONS = ("release", "discard")


@cache
def rules() -> rules_mod.RuleSet:
    """The alarm rules of ``data/excursion_rules.json`` (read once per process: they are data
    shipped with the code, changed only by a deployment)."""
    return rules_mod.load_rules()


def _store_for(user: Any, store_code: str, action: str, *, lock: bool = False) -> Store:
    qs = Store.objects.select_related("division")
    if lock and connection.vendor == "postgresql":
        qs = qs.select_for_update(of=("self",))
    return get_scoped(qs, user, action, not_found="store_not_found", detail={"store": store_code},
                      code=store_code)


def _celsius(value: Any) -> Decimal:
    try:
        c = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise VaxopsError("temperature_out_of_range", {"celsius": str(value)[:20]}) from None
    if not c.is_finite() or c < MIN_CELSIUS or c > MAX_CELSIUS:
        raise VaxopsError("temperature_out_of_range", {"celsius": str(value)[:20]})
    return c


def _clean(readings: Sequence[tuple[dt.datetime, float]], now: dt.datetime) -> dict[dt.datetime, Decimal]:
    """The readings checked (−60…+60 °C, not in the future) and keyed by moment."""
    cleaned: dict[dt.datetime, Decimal] = {}
    for at, celsius in readings:
        if not isinstance(at, dt.datetime) or timezone.is_naive(at):
            raise VaxopsError("invalid_datetime", {"field": "at"})
        c = _celsius(celsius)
        if at > now + FUTURE_SLACK:
            raise VaxopsError("occurred_in_future", {"occurred_at": at.isoformat()})
        cleaned.setdefault(at, c)  # the same moment twice in one upload: the first counts
    return cleaned


def record_temperatures(*, store_code: str, readings: Sequence[tuple[dt.datetime, float]], kind: str = "manual",
                        acting_user: Any, source: str) -> tuple[int, list[Excursion]]:
    """Store readings (manual or logger); detect excursions by the equipment class's rules; an
    excursion puts the store on hold. Returns (readings accepted, excursions opened).

    Refused, with nothing written: a store outside the user's area (``store_not_found``), a
    reading outside −60…+60 °C (``temperature_out_of_range``), one in the future
    (``occurred_in_future``). A reading the store already has (same moment, same kind) is
    skipped, so a logger file can be uploaded twice; ``duplicates_of`` counts them.
    Locks the store row (PostgreSQL), so two uploads to one store are evaluated one after the
    other and open one excursion, not two.
    """
    require(acting_user, "temperature.record")
    if kind not in ReadingSource.values:
        raise VaxopsError("invalid_request", {"field": "source", "value": str(kind)[:20]})
    now = timezone.now()
    with transaction.atomic(durable=True):
        store = _store_for(acting_user, store_code, "temperature.record", lock=True)
        cleaned = _clean(readings, now)
        existing = set(TemperatureReading.objects.filter(store=store, source=kind, at__in=list(cleaned))
                       .values_list("at", flat=True))
        new = [TemperatureReading(store=store, at=at, celsius=c, source=kind, recorded_at=now,
                                  recorded_by=acting_user if getattr(acting_user, "pk", None) else None)
               for at, c in sorted(cleaned.items()) if at not in existing]
        TemperatureReading.objects.bulk_create(new)
        opened, updated = _reevaluate(store, min((r.at for r in new), default=None), now)
        if opened and not store.on_hold:
            Store.objects.filter(pk=store.pk).update(on_hold=True)
            store.on_hold = True
        audit("temperature.record", store, actor=acting_user, source=source, county_code=store.county_code,
              after={"kind": kind, "accepted": len(new), "duplicates": len(readings) - len(new),
                     "from": min(cleaned).isoformat() if cleaned else None,
                     "to": max(cleaned).isoformat() if cleaned else None,
                     "excursions_opened": [e.pk for e in opened], "excursions_updated": [e.pk for e in updated],
                     "on_hold": store.on_hold})
    return len(new), opened


def _baseline(store: Store) -> dt.datetime | None:
    """Where the rules start counting: the end (or review) of the store's last reviewed excursion."""
    return (Excursion.objects.filter(store=store).exclude(status=ExcursionStatus.OPEN)
            .aggregate(at=Max(Coalesce("ended_at", "reviewed_at")))["at"])


def _reevaluate(store: Store, earliest_new: dt.datetime | None, now: dt.datetime) -> tuple[list[Excursion],
                                                                                          list[Excursion]]:
    """Evaluate the rules over the readings the new ones can change and bring the store's open
    excursions in step. Returns (opened, updated).

    The window: from the baseline (last review), and, when every rule of the class is
    continuous, from the last reading before the new ones that is past no rule (a run cannot
    reach back beyond it), so a year of logger rows is not read again for each upload. Kinds are
    merged: a manual and a logger reading are both the store's temperature.
    """
    if earliest_new is None:
        return [], []
    ruleset = rules()
    class_rules = ruleset.for_class(store.equipment_class)
    baseline = _baseline(store)
    if baseline is not None and earliest_new < baseline:
        earliest_new = baseline
    readings = TemperatureReading.objects.filter(store=store)
    if baseline is not None:
        readings = readings.filter(at__gte=baseline)
    if all(r.trigger == "continuous" for r in class_rules):
        calm = None
        for at, celsius in (readings.filter(at__lt=earliest_new).order_by("-at", "source")
                            .values_list("at", "celsius").iterator(chunk_size=500)):
            if not any(r.past(float(celsius)) for r in class_rules):
                calm = at
                break
        if calm is not None:
            readings = readings.filter(at__gte=calm)
    series = [rules_mod.Reading(at, float(c)) for at, c in readings.order_by("at", "source").values_list("at", "celsius")]
    found = rules_mod.evaluate(series, class_rules, max_hold=ruleset.max_hold)
    if not found:
        return [], []
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    known = list(Excursion.objects.filter(store=store, started_at__lte=max(e.ended_at or far for e in found)))
    opened: list[Excursion] = []
    updated: list[Excursion] = []
    for e in found:
        if any(k.rule == e.rule and k.started_at == e.started_at and k.status != ExcursionStatus.OPEN for k in known):
            continue
        match = next((k for k in known if k.status == ExcursionStatus.OPEN and k.rule == e.rule
                      and k.started_at <= (e.ended_at or far) and e.started_at <= (k.ended_at or far)), None)
        peak = Decimal(str(e.peak)).quantize(Decimal("0.01"))
        if match is None:
            row = Excursion.objects.create(store=store, rule=e.rule, started_at=e.started_at, ended_at=e.ended_at,
                                           peak_celsius=peak, detected_at=now)
            known.append(row)
            opened.append(row)
            continue
        heat = ruleset.rules[e.rule].kind == "heat"
        new_peak = peak if match.peak_celsius is None else (max if heat else min)(match.peak_celsius, peak)
        changes = {"started_at": min(match.started_at, e.started_at), "ended_at": e.ended_at, "peak_celsius": new_peak}
        if any(getattr(match, k) != v for k, v in changes.items()):
            for k, v in changes.items():
                setattr(match, k, v)
            match.save(update_fields=list(changes))
            updated.append(match)
    return opened, updated


def review_excursion(*, excursion_id: int, decision: str, note: str, vvm_checked: bool = False,
                     acting_user: Any, source: str) -> Excursion:
    """Release the store's stock (optionally after a VVM check) or discard it all as a
    cold-chain failure; the hold ends when no open excursion is left.

    Refused, with nothing written: outside the user's area (``excursion_not_found``), a decision
    other than release or discard (``invalid_decision``), no note (``review_note_required``),
    an excursion already reviewed (``excursion_closed``). A discard is one ledger event debiting
    every lot on hand in the store (``cold_chain_failure``). Locks the store, then the excursion
    (the order ``record_temperatures`` takes them in).
    """
    require(acting_user, "excursion.review")
    if decision not in DECISIONS:
        raise VaxopsError("invalid_decision", {"decision": str(decision)[:20]})
    note = (note or "").strip()
    if not note:
        raise VaxopsError("review_note_required")
    now = timezone.now()
    with transaction.atomic(durable=True):
        excursion = get_scoped(Excursion.objects.select_related("store"), acting_user, "excursion.review",
                               not_found="excursion_not_found", pk=excursion_id)
        store_qs = Store.objects.filter(pk=excursion.store_id)
        if connection.vendor == "postgresql":
            store_qs = store_qs.select_for_update()
            Excursion.objects.select_for_update().filter(pk=excursion.pk).exists()
        store = store_qs.get()
        excursion.refresh_from_db()
        if excursion.status != ExcursionStatus.OPEN:
            raise VaxopsError("excursion_closed", {"status": excursion.status})
        before = {"status": excursion.status, "on_hold": store.on_hold}
        event = None
        if decision == "discard":
            event = _discard_all(store, excursion, acting_user, note, now)
        excursion.status = ExcursionStatus.DISCARDED if decision == "discard" else ExcursionStatus.RELEASED
        excursion.reviewed_at, excursion.note = now, note[:500]
        excursion.reviewed_by = acting_user if getattr(acting_user, "pk", None) else None
        excursion.vvm_checked = bool(vvm_checked)
        excursion.discard_event = event
        excursion.save(update_fields=["status", "reviewed_at", "reviewed_by", "note", "vvm_checked", "discard_event"])
        still_open = Excursion.objects.filter(store=store, status=ExcursionStatus.OPEN).exists()
        if store.on_hold != still_open:
            Store.objects.filter(pk=store.pk).update(on_hold=still_open)
            store.on_hold = still_open
        excursion.store = store
        audit("excursion.review", excursion, actor=acting_user, source=source, county_code=store.county_code,
              before=before,
              after={"status": excursion.status, "decision": decision, "vvm_checked": excursion.vvm_checked,
                     "note": excursion.note, "on_hold": store.on_hold, "store": store.code,
                     "discard_event": event.pk if event else None,
                     "doses_discarded": -sum(line.quantity for line in event.lines.all()) if event else 0})
    return excursion


def _discard_all(store: Store, excursion: Excursion, user: Any, note: str, now: dt.datetime):
    """Write off every dose on hand in ``store`` as a cold-chain failure (one event), or None."""
    keys = list(StockBalance.objects.filter(store=store, on_hand__gt=0).values_list("store_id", "lot_id"))
    locked = ledger.lock(keys)
    lines = [ledger.Line(b.store_id, b.lot_id, -b.on_hand, "cold_chain_failure")
             for b in locked.values() if b.on_hand > 0]
    if not lines:
        return None
    return ledger.post(lines, reason="cold_chain_failure", user=user, occurred_at=now, locked=locked, note=note[:500],
                       detail={"excursion": excursion.pk, "rule": excursion.rule})


# -- reads -----------------------------------------------------------------------------------


def readings_between(user: Any, store: Store, start: dt.datetime, end: dt.datetime):
    """The store's readings from ``start`` to ``end`` (inclusive), in the user's area."""
    return (restrict(TemperatureReading.objects.filter(store=store), user, "stock.view")
            .filter(at__gte=start, at__lte=end).order_by("at", "source"))


def warnings_between(store: Store, start: dt.datetime, end: dt.datetime) -> list[rules_mod.DailyWarning]:
    """The days from ``start`` to ``end`` with time outside 2–8 °C (a warning, no hold)."""
    series = [rules_mod.Reading(at, float(c)) for at, c in
              TemperatureReading.objects.filter(store=store, at__gte=start, at__lte=end)
              .order_by("at", "source").values_list("at", "celsius")]
    return rules_mod.daily_warnings(series, rules(), zone=timezone.get_default_timezone())


def missing_readings(store: Store, start: dt.date, end: dt.date, *,
                     now: dt.datetime | None = None) -> list[rules_mod.MissingReading]:
    """The days from ``start`` to ``end`` (campaign days) that break China's manual-reading rule
    (2017 storage rules, Art. 11: a morning and an afternoon reading at least 6 h apart, even
    with a logger). Only manual readings count; days after today are not flagged."""
    zone = timezone.get_default_timezone()
    now = now or timezone.now()
    end = min(end, now.astimezone(zone).date())
    if end < start:
        return []
    lo = dt.datetime.combine(start, dt.time(), tzinfo=zone)
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=zone)
    times = TemperatureReading.objects.filter(store=store, source=ReadingSource.MANUAL, at__gte=lo, at__lt=hi) \
        .values_list("at", flat=True)
    return rules_mod.missing_manual_readings(list(times), start, end, now=now, zone=zone)


def open_excursions(user: Any):
    """The open excursions of the user's area, oldest first, with their stores."""
    require(user, "excursion.view")
    return (restrict(Excursion.objects.filter(status=ExcursionStatus.OPEN), user, "excursion.view")
            .select_related("store", "store__division").order_by("detected_at", "pk"))


def hours_open(excursion: Excursion, now: dt.datetime | None = None) -> float:
    """Hours since the excursion put the store on hold (to one decimal)."""
    end = excursion.reviewed_at or now or timezone.now()
    return round(max((end - excursion.detected_at).total_seconds(), 0) / 3600, 1)


def rule_name(code: str) -> str:
    """The rule's name in the active language."""
    from django.utils.translation import get_language

    rule = rules().rules.get(code)
    if rule is None:
        return code
    return rule.name_en if (get_language() or "").startswith("en") else rule.name_zh
