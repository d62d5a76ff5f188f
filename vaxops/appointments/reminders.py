"""The day-before reminder of a booking (docs/appointments.md): an SMS in zh-Hans to the booked
person's phone, made in the outbox with the reason ``booking-day-before:<appointment id>``
(so never made, nor sent, twice), to go out at ``VAXOPS_BOOKING_REMINDER_TIME`` (default
18:00) the day before.

Suppressed when its reason goes: a cancelled or rescheduled booking suppresses its message at
once (``services``); ``still_holding`` is the check ``outbox.validity`` asks before sending,
which also catches a dose recorded meanwhile (on any device) and a session closed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from vaxops.appointments.models import Appointment, AppointmentStatus, reminder_reason
from vaxops.core.audit import audit
from vaxops.outbox.models import Message
from vaxops.outbox.services import MessageIn, enqueue_many
from vaxops.sites.models import SessionStatus

MESSAGE_KIND = "booking_reminder"


def _tz():
    from vaxops.campaign.services import TZ

    return TZ


def reminder_time() -> dt.time:
    raw = getattr(settings, "VAXOPS_BOOKING_REMINDER_TIME", "18:00")
    return dt.time.fromisoformat(raw) if isinstance(raw, str) else raw


def reminder_text(a: Appointment) -> str:
    """The SMS, in zh-Hans (the campaign's language): the site, the day and time, the dose."""
    from vaxops.core.formats import format_date

    local = a.slot.starts_at.astimezone(_tz())
    with translation.override("zh-hans"):
        return _("[%(site)s] Reminder: your appointment for dose %(number)s of the COVID-19 vaccine is tomorrow, "
                 "%(day)s at %(time)s. Bring your ID card. To cancel or change it, call the site.") % {
            "site": a.session.site.name_zh, "number": a.dose_number, "day": format_date(local.date()),
            "time": local.strftime("%H:%M")}


def generate_day_before(day: dt.date, *, acting_user: Any = None, source: str = "cli") -> dict[str, int]:
    """Make the reminders for the bookings of the sessions of the day after ``day`` that are
    still open and have a phone: one message per booking (a second run makes none: the reason is
    unique), to go out on ``day`` at the reminder time. One audit event. Returns
    {"bookings", "made", "no_phone"}."""
    tomorrow = day + dt.timedelta(days=1)
    rows = list(Appointment.objects.filter(session__date=tomorrow, status=AppointmentStatus.BOOKED)
                .exclude(session__status=SessionStatus.CLOSED)
                .select_related("session__site", "slot").order_by("pk"))
    wanted = [a for a in rows if a.phone]
    send_at = dt.datetime.combine(day, reminder_time(), _tz())
    with transaction.atomic(durable=True):
        reasons = [reminder_reason(a.pk) for a in wanted]
        had = Message.objects.filter(reason__in=reasons).count() if reasons else 0
        if wanted:
            enqueue_many([MessageIn(reason=reminder_reason(a.pk), phone=a.phone, text=reminder_text(a),
                                    kind=MESSAGE_KIND) for a in wanted], at=send_at)
        counts = {"bookings": len(rows), "made": len(wanted) - had, "no_phone": len(rows) - len(wanted)}
        audit("appointment.reminders", Appointment(pk=0), actor=acting_user, source=source,
              after={"day": day.isoformat(), **counts})
    return counts


def still_holding(reasons: list[str]) -> set[str]:
    """The ``booking-day-before`` reasons whose booking is still on: booked, its session not
    closed, and the person not yet given that dose (or a later one)."""
    from django.db.models import Exists, OuterRef

    from vaxops.vaccination.models import DoseRecord, DoseStatus

    ids: dict[int, str] = {}
    for reason in reasons:
        tail = reason.split(":", 1)[1] if ":" in reason else ""
        if tail.isdigit():
            ids[int(tail)] = reason
    if not ids:
        return set()
    dosed = DoseRecord.objects.filter(person_id=OuterRef("person_id"), status=DoseStatus.VALID,
                                      dose_number__gte=OuterRef("dose_number"))
    live = (Appointment.objects.filter(pk__in=list(ids), status=AppointmentStatus.BOOKED)
            .exclude(session__status=SessionStatus.CLOSED).filter(~Exists(dosed)).values_list("pk", flat=True))
    return {ids[pk] for pk in live}
