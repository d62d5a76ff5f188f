"""Temperatures and cold-chain excursions: /api/v1 (docs/supply.md).

- ``POST /stores/{code}/temperatures`` ``{readings: [{at, celsius}], source?}``: manual
  readings or a logger's, as JSON; ``POST /stores/{code}/temperatures.csv``: a logger file as
  the body (``Content-Type: text/csv``, header ``timestamp,celsius``, any interval).
- ``GET /stores/{code}/temperatures?from=&to=``: the log, its excursions, the days missing a
  manual reading and the daily warnings.
- ``GET /excursions?status=open`` and ``POST /excursions/{id}/review``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from django.utils import timezone
from ninja import Field, Query, Router, Schema
from pydantic import field_validator

from vaxops.access.scope import get_scoped, require, restrict
from vaxops.core.errors import VaxopsError
from vaxops.core.models import Source
from vaxops.registry.api import ErrorOut
from vaxops.supply import coldchain
from vaxops.supply.models import Excursion, ExcursionStatus, Store
from vaxops.vaccination.api import parse_offset_datetime

stores_router = Router(tags=["cold chain"])
excursions_router = Router(tags=["cold chain"])

ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 415: ErrorOut, 422: ErrorOut}


class ReadingIn(Schema):
    at: dt.datetime = Field(description="ISO 8601 with its UTC offset; not in the future.")
    celsius: float = Field(description="−60 to +60 °C, else 422 temperature_out_of_range.")

    @field_validator("at", mode="before")
    @classmethod
    def _with_offset(cls, value: Any) -> dt.datetime:
        return parse_offset_datetime(value, "at")


class TemperaturesIn(Schema):
    readings: list[ReadingIn] = Field(max_length=coldchain.MAX_READINGS)
    source: Literal["manual", "logger"] = "manual"


class ExcursionOut(Schema):
    id: int
    store: str
    rule: str
    rule_name: str
    started_at: dt.datetime
    ended_at: dt.datetime | None = Field(description="None while the excursion is still going on.")
    peak_celsius: Decimal | None
    status: str
    detected_at: dt.datetime = Field(description="When the excursion put the store on hold.")
    hours_open: float = Field(description="Hours on hold: from detected_at to the review, or to now.")


class WarningOut(Schema):
    day: dt.date
    minutes_below: float = Field(description="Minutes below +2 °C that day.")
    minutes_above: float = Field(description="Minutes above +8 °C that day.")
    lowest: float
    highest: float


class TemperaturesOut(Schema):
    store: str
    accepted: int
    duplicates: int = Field(description="Readings the store already had (same moment, same source): skipped.")
    on_hold: bool
    excursions: list[ExcursionOut] = Field(description="The excursions this upload opened.")
    open_excursions: list[ExcursionOut] = Field(description="Every open excursion of the store after it.")
    warnings: list[WarningOut] = Field(description="Days of the upload with time outside 2–8 °C (no hold).")


class ReadingOut(Schema):
    at: dt.datetime
    celsius: Decimal
    source: str


class MissingOut(Schema):
    day: dt.date
    morning: bool
    afternoon: bool
    too_close: bool = Field(description="Both readings there, but less than 6 h apart.")


class LogOut(Schema):
    store: str
    on_hold: bool
    equipment_class: str
    from_: dt.date = Field(alias="from")
    to: dt.date
    items: list[ReadingOut]
    count: int
    excursions: list[ExcursionOut]
    missing: list[MissingOut]
    warnings: list[WarningOut]


class ExcursionList(Schema):
    items: list[ExcursionOut]
    count: int


class ReviewIn(Schema):
    decision: str = Field(description='"release" or "discard" (all the store\'s stock, as a cold-chain failure).')
    note: str = Field(max_length=500)
    vvm_checked: bool = False


class ReviewOut(Schema):
    id: int
    status: str
    store: str
    on_hold: bool
    vvm_checked: bool
    doses_discarded: int


def excursion_out(e: Excursion, now: dt.datetime) -> dict:
    return {"id": e.pk, "store": e.store.code, "rule": e.rule, "rule_name": coldchain.rule_name(e.rule),
            "started_at": e.started_at, "ended_at": e.ended_at, "peak_celsius": e.peak_celsius, "status": e.status,
            "detected_at": e.detected_at, "hours_open": coldchain.hours_open(e, now)}


def warning_out(w) -> dict:
    return {"day": w.day, "minutes_below": round(w.minutes_below, 1), "minutes_above": round(w.minutes_above, 1),
            "lowest": w.lowest, "highest": w.highest}


def _recorded(request, code: str, readings: list[tuple[dt.datetime, Any]], kind: str) -> dict:
    accepted, opened = coldchain.record_temperatures(store_code=code, readings=readings, kind=kind,
                                                     acting_user=request.user, source=Source.API)
    store = Store.objects.get(code=code)
    now = timezone.now()
    still_open = Excursion.objects.filter(store=store, status=ExcursionStatus.OPEN).select_related("store")
    warnings = []
    if readings:
        warnings = coldchain.warnings_between(store, min(r[0] for r in readings), max(r[0] for r in readings))
    for e in opened:
        e.store = store
    return {"store": store.code, "accepted": accepted, "duplicates": len(readings) - accepted, "on_hold": store.on_hold,
            "excursions": [excursion_out(e, now) for e in opened],
            "open_excursions": [excursion_out(e, now) for e in still_open],
            "warnings": [warning_out(w) for w in warnings]}


@stores_router.post("/{code}/temperatures", response={200: TemperaturesOut, **ERRORS})
def record_temperatures(request, code: str, payload: TemperaturesIn):
    """Manual readings (a morning and an afternoon one each day) or a logger's, as JSON."""
    readings = [(r.at, r.celsius) for r in payload.readings]
    return _recorded(request, code, readings, payload.source)


@stores_router.post("/{code}/temperatures.csv", response={200: TemperaturesOut, **ERRORS},
                    openapi_extra={"requestBody": {"content": {"text/csv": {"schema": {
                        "type": "string", "example": "timestamp,celsius\n2021-05-10T08:00:00+08:00,4.6\n"}}}}})
def upload_logger_file(request, code: str, source: Literal["manual", "logger"] = "logger"):
    """A logger file as the body (``text/csv``): the header ``timestamp,celsius``, one reading a
    row, any interval; times with an offset, or local times read as Asia/Shanghai. Every row is
    checked and all the rows in error come back together (``temperature_file_invalid``)."""
    require(request.user, "temperature.record")
    content_type = request.META.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
    if content_type not in ("text/csv", "text/plain"):
        raise VaxopsError("unsupported_media_type", {"content_type": content_type[:100], "expected": "text/csv"})
    # Scope first: a store outside the area is not found, whatever the file says.
    get_scoped(Store.objects.all(), request.user, "temperature.record", not_found="store_not_found",
               detail={"store": code}, code=code)
    readings = coldchain.parse_logger_csv(request.body.decode("utf-8-sig"))
    return _recorded(request, code, readings, source)


def _day(value: str | None, name: str) -> dt.date | None:
    if value is None or value == "":
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise VaxopsError("invalid_request", {"field": name, "reason": "a day as YYYY-MM-DD"}) from None


class LogQuery(Schema):
    from_: str | None = Field(None, alias="from", description="First day (YYYY-MM-DD); default: 6 days before to.")
    to: str | None = Field(None, description="Last day (YYYY-MM-DD); default: today.")


@stores_router.get("/{code}/temperatures", response={200: LogOut, **ERRORS}, by_alias=True)
def temperature_log(request, code: str, q: Query[LogQuery]):
    """The store's readings of the days asked (at most 92), with its excursions over them, the
    days missing a manual reading and the days with time outside 2–8 °C."""
    store = get_scoped(Store.objects.all(), request.user, "stock.view", not_found="store_not_found",
                       detail={"store": code}, code=code)
    zone = timezone.get_default_timezone()
    now = timezone.now()
    last = _day(q.to, "to") or now.astimezone(zone).date()
    first = _day(q.from_, "from") or last - dt.timedelta(days=6)
    if first > last or (last - first).days > 91:
        raise VaxopsError("invalid_request", {"field": "from", "reason": "from ≤ to, at most 92 days"})
    try:
        lo = dt.datetime.combine(first, dt.time(), tzinfo=zone)
        hi = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tzinfo=zone) - dt.timedelta(microseconds=1)
    except OverflowError:
        raise VaxopsError("invalid_request", {"field": "to"}) from None
    items = list(coldchain.readings_between(request.user, store, lo, hi).values("at", "celsius", "source"))
    excursions = (restrict(Excursion.objects.filter(store=store), request.user, "stock.view")
                  .filter(started_at__lte=hi).exclude(ended_at__lt=lo).select_related("store").order_by("started_at"))
    return {"store": store.code, "on_hold": store.on_hold, "equipment_class": store.equipment_class,
            "from": first, "to": last, "items": items, "count": len(items),
            "excursions": [excursion_out(e, now) for e in excursions],
            "missing": [vars(m) for m in coldchain.missing_readings(store, first, last, now=now)],
            "warnings": [warning_out(w) for w in coldchain.warnings_between(store, lo, hi)]}


class ExcursionQuery(Schema):
    status: Literal["open", "released", "discarded", "all"] = "open"
    store: str | None = None


@excursions_router.get("", response={200: ExcursionList, **ERRORS})
def list_excursions(request, q: Query[ExcursionQuery]):
    """The excursions of the user's area (open by default), the longest on hold first."""
    require(request.user, "excursion.view")
    qs = restrict(Excursion.objects.all(), request.user, "excursion.view").select_related("store")
    if q.status != "all":
        qs = qs.filter(status=q.status)
    if q.store:
        qs = qs.filter(store__code=q.store)
    now = timezone.now()
    items = [excursion_out(e, now) for e in qs.order_by("detected_at", "pk")[:500]]
    return {"items": items, "count": len(items)}


@excursions_router.post("/{excursion_id}/review", response={200: ReviewOut, **ERRORS})
def review(request, excursion_id: int, payload: ReviewIn):
    """A supervisor's review: release (``vvm_checked`` when the vial monitors were checked) or
    discard every dose in the store as a cold-chain failure; the hold ends with the store's last
    open excursion."""
    e = coldchain.review_excursion(excursion_id=excursion_id, decision=payload.decision, note=payload.note,
                                   vvm_checked=payload.vvm_checked, acting_user=request.user, source=Source.API)
    discarded = -sum(line.quantity for line in e.discard_event.lines.all()) if e.discard_event_id else 0
    return {"id": e.pk, "status": e.status, "store": e.store.code, "on_hold": e.store.on_hold,
            "vvm_checked": e.vvm_checked, "doses_discarded": discarded}
