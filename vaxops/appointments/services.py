"""The appointments' writes (docs/appointments.md): a session's slots, booking (one person or a
household together), cancelling, rescheduling, and the bookings' end at the session's close.

Each write is one durable transaction with one audit event, and writes nothing when refused;
``acting_user`` None is the system (a command, the demo).

Never past capacity: a booking takes its place with one conditional update of the slot's
``SlotCapacity`` row for the dose number (``booked + n <= capacity``), which PostgreSQL
re-checks after waiting on a concurrent booking's row lock and SQLite runs under its write
lock; a check constraint on the row stands behind it. A person holds one live booking per dose
number (a partial unique index).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from vaxops.access.scope import admits, check_scoped, within_county
from vaxops.appointments.models import Appointment, AppointmentStatus, Slot, SlotCapacity, reminder_reason
from vaxops.core.audit import audit
from vaxops.core.errors import VaxopsError
from vaxops.outbox.services import suppress
from vaxops.registry.models import Person, PersonStatus
from vaxops.registry.services import validate_phone
from vaxops.sites.models import Session, SessionStatus, Site

#: the slot lengths a session may be cut into (minutes)
SLOT_MINUTES = (10, 15, 20, 30, 60)
MAX_DOSE_NUMBER = 5
MAX_CAPACITY = 10_000
MAX_HOUSEHOLD = 12


def _tz():
    from vaxops.campaign.services import TZ

    return TZ


def _user(user: Any) -> Any:
    return user if getattr(user, "pk", None) else None


# --- scope ------------------------------------------------------------------------------------


def _site_row(session: Session) -> dict[str, Any]:
    return {"pk": session.site_id, "division__path": session.site.division.path}


def may_view_slots(user: Any, session: Session) -> bool:
    """Whether ``user`` may see the session's slots: at the session's site (site staff, the
    commands above it), or working in the session's county (a grid worker, a township
    organiser: they book their residents there)."""
    if user is None:
        return True
    return admits(user, "slot.view", Site, _site_row(session)) or within_county(
        user, "slot.view", session.site.county_code)


def check_view(user: Any, session: Session) -> None:
    """Raise ``session_not_found`` (or 401/403) unless ``user`` may see the session's slots."""
    if user is None or may_view_slots(user, session):
        return
    check_scoped(user, "slot.view", Site, None, not_found="session_not_found", detail={"session_id": session.pk})


def check_manage(user: Any, session: Session) -> None:
    """Raise unless ``user`` may set the session's slots (its site's manager, the county command)."""
    if user is None:
        return
    check_scoped(user, "slot.manage", Site, _site_row(session), not_found="session_not_found",
                 detail={"session_id": session.pk})


def may_book(user: Any, session: Session, person: Person) -> bool:
    """Whether ``user`` may book ``person`` at ``session``: at the session's site (site staff,
    the county command), or a resident of their area (a grid worker, a township organiser) for
    a session of the person's county."""
    if user is None:
        return True
    if admits(user, "appointment.book", Site, _site_row(session)):
        return True
    row = {"home_division__path": person.home_division.path, "county_code": person.county_code, "pk": person.pk}
    return session.site.county_code == person.county_code and admits(user, "appointment.book", Person, row)


def check_book(user: Any, session: Session, person: Person) -> None:
    if user is None or may_book(user, session, person):
        return
    check_view(user, session)  # 404 for a session outside the area
    check_scoped(user, "appointment.book", Site, None, not_found="person_not_found",
                 detail={"person_id": person.pk})


def _appointment_row(a: Appointment) -> dict[str, Any]:
    return {"session__site__division__path": a.session.site.division.path, "session__site_id": a.session.site_id,
            "person__home_division__path": a.person.home_division.path}


def check_appointment(user: Any, action: str, a: Appointment) -> None:
    if user is None:
        return
    check_scoped(user, action, Appointment, _appointment_row(a), not_found="appointment_not_found",
                 detail={"appointment_id": a.pk})


# --- slots ------------------------------------------------------------------------------------


def local_start(session: Session, at: dt.time) -> dt.datetime:
    return dt.datetime.combine(session.date, at, _tz())


def slot_starts(session: Session, minutes: int, start: dt.time | None = None,
                end: dt.time | None = None) -> list[tuple[dt.datetime, dt.datetime]]:
    """The slots of ``minutes`` from ``start`` (default: the session's opening) that end by
    ``end`` (default: its closing): [(starts_at, ends_at)]."""
    opens = start or session.opens_at or dt.time(8)
    closes = end or session.closes_at or dt.time(18)
    t, last = local_start(session, opens), local_start(session, closes)
    step = dt.timedelta(minutes=minutes)
    out = []
    while t + step <= last:
        out.append((t, t + step))
        t += step
    return out


def _capacity(raw: Mapping[Any, Any]) -> dict[int, int]:
    if not isinstance(raw, Mapping) or not raw:
        raise VaxopsError("slot_capacity_invalid", {"field": "capacity"})
    out: dict[int, int] = {}
    for key, value in raw.items():
        try:
            number = int(key)
        except (TypeError, ValueError):
            raise VaxopsError("slot_capacity_invalid", {"field": f"capacity.{str(key)[:10]}"}) from None
        if not 1 <= number <= MAX_DOSE_NUMBER:
            raise VaxopsError("slot_capacity_invalid", {"field": f"capacity.{number}"})
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_CAPACITY:
            raise VaxopsError("slot_capacity_invalid", {"field": f"capacity.{number}"})
        out[number] = value
    return out


def set_slots(session: Session, *, minutes: int, capacity: Mapping[Any, int], start: dt.time | None = None,
              end: dt.time | None = None, acting_user: Any, source: str = "api") -> list[Slot]:
    """Cut the session's hours (or ``start``–``end`` within them) into slots of ``minutes``,
    each taking ``capacity`` people per dose number ({1: 20, 2: 10}); slots already there get the
    new capacity (never below what is booked: 409 ``slot_capacity_below_booked``). Refused on
    a closed session. Returns the slots set."""
    check_manage(acting_user, session)
    if minutes not in SLOT_MINUTES:
        raise VaxopsError("slot_minutes_invalid", {"minutes": minutes, "allowed": ", ".join(map(str, SLOT_MINUTES))})
    wanted = _capacity(capacity)
    if session.status == SessionStatus.CLOSED:
        raise VaxopsError("booking_session_closed", {"session_id": session.pk})
    opens, closes = session.opens_at or dt.time(0), session.closes_at or dt.time(23, 59, 59)
    if (start and not opens <= start < closes) or (end and not opens < end <= closes) or (
            start and end and end <= start):
        raise VaxopsError("slot_outside_hours", {"opens_at": opens.strftime("%H:%M"),
                                                 "closes_at": closes.strftime("%H:%M")})
    times = slot_starts(session, minutes, start, end)
    if not times:
        raise VaxopsError("slot_outside_hours", {"opens_at": opens.strftime("%H:%M"),
                                                 "closes_at": closes.strftime("%H:%M")})
    with transaction.atomic(durable=True):
        Session.objects.select_for_update().filter(pk=session.pk).values_list("pk", flat=True).first()
        existing = {s.starts_at: s for s in Slot.objects.filter(session=session)}
        new = [Slot(session=session, starts_at=a, ends_at=b, county_code=session.site.county_code)
               for a, b in times if a not in existing]
        # A new slot may not overlap a kept one (a session cut into 30 minutes, then 15).
        for s in new:
            for other in existing.values():
                if s.starts_at < other.ends_at and other.starts_at < s.ends_at:
                    raise VaxopsError("slot_overlap", {"time": s.starts_at.astimezone(_tz()).strftime("%H:%M")})
        Slot.objects.bulk_create(new)
        slots = list(Slot.objects.filter(session=session, starts_at__in=[a for a, _ in times]).order_by("starts_at"))
        caps = {(c.slot_id, c.dose_number): c for c in SlotCapacity.objects.select_for_update()
                .filter(slot__in=slots)}
        create, update = [], []
        for s in slots:
            for number, n in wanted.items():
                c = caps.get((s.pk, number))
                if c is None:
                    create.append(SlotCapacity(slot=s, dose_number=number, capacity=n))
                elif c.capacity != n:
                    if n < c.booked:
                        raise VaxopsError("slot_capacity_below_booked", {
                            "time": s.starts_at.astimezone(_tz()).strftime("%H:%M"), "dose_number": number,
                            "booked": c.booked, "capacity": n})
                    c.capacity = n
                    update.append(c)
        SlotCapacity.objects.bulk_create(create)
        if update:
            SlotCapacity.objects.bulk_update(update, ["capacity"])
        audit("slots.set", session, actor=acting_user, source=source, county_code=session.site.county_code,
              after={"minutes": minutes, "capacity": {str(k): v for k, v in wanted.items()}, "slots": len(slots),
                     "new": len(new), "from": times[0][0].isoformat(), "to": times[-1][1].isoformat()})
    return slots


def slots_of(session: Session) -> list[dict[str, Any]]:
    """The session's slots in time order: ``[{id, starts_at, ends_at, capacity: {n: c},
    booked: {n: b}, free: {n: c - b}}]`` (local times)."""
    out: dict[int, dict[str, Any]] = {}
    for s in Slot.objects.filter(session=session).order_by("starts_at"):
        out[s.pk] = {"id": s.pk, "starts_at": s.starts_at.astimezone(_tz()), "ends_at": s.ends_at.astimezone(_tz()),
                     "capacity": {}, "booked": {}, "free": {}}
    for c in SlotCapacity.objects.filter(slot__session=session).order_by("dose_number"):
        row = out[c.slot_id]
        key = str(c.dose_number)
        row["capacity"][key], row["booked"][key], row["free"][key] = c.capacity, c.booked, c.capacity - c.booked
    return list(out.values())


# --- booking ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Member:
    """One person of a booking (a household books several at once)."""

    person: Person
    dose_number: int
    phone: str | None = None


def _session(session: Session | int) -> Session:
    pk = session.pk if isinstance(session, Session) else session
    found = Session.objects.select_related("site__division").filter(pk=pk).first()
    if found is None:
        raise VaxopsError("session_not_found", {"session_id": pk})
    return found


def _slot(session: Session, starts_at: dt.datetime) -> Slot:
    if starts_at.tzinfo is None:
        raise VaxopsError("invalid_datetime", {"field": "starts_at"})
    slot = Slot.objects.filter(session=session, starts_at=starts_at).first()
    if slot is None:
        raise VaxopsError("slot_not_found", {"session_id": session.pk,
                                             "time": starts_at.astimezone(_tz()).strftime("%H:%M")})
    return slot


def _products(session: Session) -> list:
    from vaxops.catalog.models import Product

    products = list(session.products.all()) or list(Product.objects.filter(is_active=True))
    return sorted(products, key=lambda p: p.code)


def check_eligible(person: Person, session: Session, dose_number: int) -> None:
    """Raise ``booking_not_eligible`` (with the rules' reasons and the first day the dose may be
    given) unless ``person`` may have dose ``dose_number`` of a vaccine the session gives on the
    session's day: a second dose is bookable from the day it falls due."""
    from vaxops.vaccination.services import assess_person, dose_history

    history = dose_history(person)
    same: tuple[Any, Any] | None = None  # the most hopeful verdict for the dose number asked
    other: tuple[Any, Any] | None = None  # a verdict for another dose number (the one that is due)
    for product in _products(session):
        verdict = assess_person(person, product, session.date, history)
        if verdict.dose_number == dose_number or verdict.dose_number is None:
            if verdict.status == "eligible" and verdict.dose_number == dose_number:
                return
            if same is None or (verdict.status == "not_yet" and same[1].status != "not_yet"):
                same = (product, verdict)
        elif other is None:
            other = (product, verdict)
    if same is not None and same[1].dose_number == dose_number:
        product, verdict, wrong_number = same[0], same[1], None
    elif other is not None:
        product, verdict, wrong_number = other[0], None, other[1].dose_number
    else:
        product, verdict, wrong_number = (same or (None, None))[0], (same or (None, None))[1], None
    reasons = list(verdict.reason_codes) if verdict is not None else ["dose_number_mismatch"]
    raise VaxopsError("booking_not_eligible", {
        "dose_number": dose_number, "session_date": session.date.isoformat(),
        "product": product.code if product else None, "reasons": reasons,
        "reason_messages": _reason_messages(verdict, wrong_number),
        "next_dose_number": wrong_number,
        "earliest_date": verdict.earliest_date.isoformat() if verdict is not None and verdict.earliest_date else None,
    })


def _reason_messages(verdict: Any, wrong_number: int | None) -> list[str]:
    from django.utils.translation import gettext as _

    from vaxops.catalog.messages import reason_message

    out = [reason_message(r.code, dict(r.params)) for r in (verdict.reasons if verdict is not None else ())]
    if wrong_number is not None and not out:
        out.append(_("The person's next dose is dose %(number)s.") % {"number": wrong_number})
    return out


def _take(slot: Slot, counts: Mapping[int, int]) -> None:
    """Take ``counts`` ({dose number: people}) of the slot's capacity, all or none (the one
    guard against overbooking: a conditional update of each capacity row)."""
    for number, n in sorted(counts.items()):
        taken = SlotCapacity.objects.filter(slot=slot, dose_number=number, booked__lte=F("capacity") - n).update(
            booked=F("booked") + n)
        if not taken:
            raise VaxopsError("slot_full", {"session_id": slot.session_id, "dose_number": number,
                                            "time": slot.starts_at.astimezone(_tz()).strftime("%H:%M")})


def _release(rows: Sequence[Appointment]) -> None:
    counts: dict[tuple[int, int], int] = {}
    for a in rows:
        counts[(a.slot_id, a.dose_number)] = counts.get((a.slot_id, a.dose_number), 0) + 1
    for (slot_id, number), n in counts.items():
        SlotCapacity.objects.filter(slot_id=slot_id, dose_number=number, booked__gte=n).update(booked=F("booked") - n)


def _member_uuid(client_uuid: uuid.UUID, person_id: int) -> uuid.UUID:
    return uuid.uuid5(client_uuid, f"person:{person_id}")


def _replay(client_uuid: uuid.UUID, members: Sequence[Member], session: Session) -> list[Appointment] | None:
    uuids = [client_uuid] if len(members) == 1 else [_member_uuid(client_uuid, m.person.pk) for m in members]
    found = list(Appointment.objects.filter(client_uuid__in=uuids))
    if not found:
        return None
    want = {(m.person.pk, m.dose_number) for m in members}
    if len(found) != len(members) or {(a.person_id, a.dose_number) for a in found} != want or any(
            a.session_id != session.pk for a in found):
        raise VaxopsError("idempotency_conflict", {"client_uuid": str(client_uuid)})
    return found


def _check_member(m: Member, session: Session, user: Any, at: dt.datetime) -> str:
    check_book(user, session, m.person)
    if m.person.status != PersonStatus.ACTIVE:
        raise VaxopsError("person_inactive", {"status": m.person.get_status_display()})
    if not isinstance(m.dose_number, int) or not 1 <= m.dose_number <= MAX_DOSE_NUMBER:
        raise VaxopsError("number_out_of_range", {"field": "dose_number"})
    phone = validate_phone(m.phone if m.phone is not None else m.person.phone)
    live = Appointment.objects.filter(person=m.person, dose_number=m.dose_number,
                                      status=AppointmentStatus.BOOKED).first()
    if live is not None:
        raise VaxopsError("already_booked", {"appointment_id": live.pk, "person_id": m.person.pk,
                                             "dose_number": m.dose_number,
                                             "session_date": live.session.date.isoformat()})
    check_eligible(m.person, session, m.dose_number)
    return phone


def book(*, client_uuid: uuid.UUID, person: Person, session: Session | int, starts_at: dt.datetime,
         dose_number: int, acting_user: Any, phone: str | None = None, at: dt.datetime | None = None,
         source: str = "api") -> tuple[Appointment, bool]:
    """Book ``person`` for dose ``dose_number`` in the slot of ``session`` starting at
    ``starts_at``; returns (appointment, created). The same ``client_uuid`` again is a replay.

    Refused, writing nothing: a closed or past session (409 ``booking_session_closed``), no such
    slot (404 ``slot_not_found``), a full slot for that dose number (409 ``slot_full``), a person
    already booked for that dose (409 ``already_booked``: reschedule instead), a dose the person
    may not have on that day (422 ``booking_not_eligible`` with the reasons)."""
    made, created = book_household(client_uuid=client_uuid, members=[Member(person, dose_number, phone)],
                                   session=session, starts_at=starts_at, acting_user=acting_user, at=at,
                                   source=source)
    return made[0], created


def book_household(*, client_uuid: uuid.UUID, members: Sequence[Member], session: Session | int,
                   starts_at: dt.datetime, acting_user: Any, at: dt.datetime | None = None,
                   source: str = "api") -> tuple[list[Appointment], bool]:
    """Book several people (a household) into one slot together: all or none, in one
    transaction, sharing a household id. The rules of ``book`` for each."""
    at = at or timezone.now()
    if not members or len(members) > MAX_HOUSEHOLD:
        raise VaxopsError("household_invalid", {"max": MAX_HOUSEHOLD})
    if len({m.person.pk for m in members}) != len(members):
        raise VaxopsError("household_invalid", {"max": MAX_HOUSEHOLD})
    session = _session(session)
    replayed = _replay(client_uuid, members, session)
    if replayed is not None:
        for a in replayed:
            check_appointment(acting_user, "appointment.view", a)
        return replayed, False
    if session.status == SessionStatus.CLOSED or session.date < at.astimezone(_tz()).date():
        raise VaxopsError("booking_session_closed", {"session_id": session.pk})
    slot = _slot(session, starts_at)
    if slot.ends_at <= at:
        raise VaxopsError("booking_session_closed", {"session_id": session.pk})
    phones = [_check_member(m, session, acting_user, at) for m in members]
    household = client_uuid if len(members) > 1 else None
    rows = [Appointment(client_uuid=client_uuid if len(members) == 1 else _member_uuid(client_uuid, m.person.pk),
                        person=m.person, session=session, slot=slot, dose_number=m.dose_number, phone=phone,
                        household_uuid=household, county_code=session.site.county_code, booked_at=at,
                        booked_by=_user(acting_user))
            for m, phone in zip(members, phones, strict=True)]
    counts: dict[int, int] = {}
    for m in members:
        counts[m.dose_number] = counts.get(m.dose_number, 0) + 1
    try:
        with transaction.atomic(durable=True):
            _take(slot, counts)
            for r in rows:
                r.save(force_insert=True)
            action = "appointment.book_household" if household else "appointment.book"
            audit(action, rows[0], actor=acting_user, source=source, county_code=session.site.county_code,
                  after={"session_id": session.pk, "starts_at": slot.starts_at.isoformat(),
                         "people": [{"appointment_id": r.pk, "person_id": r.person_id, "dose_number": r.dose_number}
                                    for r in rows], "household_uuid": str(household) if household else None})
    except IntegrityError:
        # A concurrent booking of the same person and dose (or the same client_uuid) won the race.
        replayed = _replay(client_uuid, members, session)
        if replayed is not None:
            return replayed, False
        raise VaxopsError("already_booked", {"person_id": members[0].person.pk,
                                             "dose_number": members[0].dose_number}) from None
    return rows, True


def _locked(appointment: Appointment | int) -> Appointment:
    pk = appointment.pk if isinstance(appointment, Appointment) else appointment
    a = (Appointment.objects.select_for_update(of=("self",)).select_related("session__site__division",
                                                                              "person__home_division", "slot")
         .filter(pk=pk).first())
    if a is None:
        raise VaxopsError("appointment_not_found", {"appointment_id": pk})
    return a


def _end_for_reschedule(a: Appointment, at: dt.datetime, user: Any) -> None:
    locked = _locked(a)
    if locked.status != AppointmentStatus.BOOKED:
        raise VaxopsError("appointment_not_open", {"appointment_id": a.pk, "status": locked.status})
    Appointment.objects.filter(pk=a.pk).update(status=AppointmentStatus.RESCHEDULED, ended_at=at,
                                               ended_by=_user(user))
    _release([locked])
    suppress(reminder_reason(a.pk), at=at)


def cancel(appointment: Appointment | int, *, acting_user: Any, reason: str = "", at: dt.datetime | None = None,
           source: str = "api") -> Appointment:
    """Cancel a booking: its place goes back to the slot, its reminder (if not yet sent) is never
    sent. Cancelling a cancelled booking answers it unchanged; one that has ended otherwise
    (attended, no-show, rescheduled) is 409 ``appointment_not_open``."""
    at = at or timezone.now()
    reason = (reason or "").strip()[:200]
    with transaction.atomic(durable=True):
        a = _locked(appointment)
        check_appointment(acting_user, "appointment.cancel", a)
        if a.status == AppointmentStatus.CANCELLED:
            return a
        if a.status != AppointmentStatus.BOOKED:
            raise VaxopsError("appointment_not_open", {"appointment_id": a.pk, "status": a.status})
        Appointment.objects.filter(pk=a.pk).update(status=AppointmentStatus.CANCELLED, ended_at=at,
                                                   ended_by=_user(acting_user), reason=reason)
        _release([a])
        suppress(reminder_reason(a.pk), at=at)
        audit("appointment.cancel", a, actor=acting_user, source=source, county_code=a.county_code,
              before={"status": AppointmentStatus.BOOKED},
              after={"status": AppointmentStatus.CANCELLED, "reason": reason, "session_id": a.session_id,
                     "starts_at": a.slot.starts_at.isoformat()})
    a.refresh_from_db()
    return a


def reschedule(appointment: Appointment | int, *, client_uuid: uuid.UUID, session: Session | int,
               starts_at: dt.datetime, acting_user: Any, at: dt.datetime | None = None,
               source: str = "api") -> Appointment:
    """Move a booking to another slot (of the same or another session): a new booking takes the
    new place, the old one becomes "rescheduled" (pointing to the new) and gives its place back,
    its reminder suppressed; all in one transaction, audited. A full slot refuses with nothing
    changed (409 ``slot_full``)."""
    pk = appointment.pk if isinstance(appointment, Appointment) else appointment
    old = (Appointment.objects.select_related("session__site__division", "person__home_division", "slot")
           .filter(pk=pk).first())
    if old is None:
        raise VaxopsError("appointment_not_found", {"appointment_id": pk})
    check_appointment(acting_user, "appointment.cancel", old)
    if old.status != AppointmentStatus.BOOKED:
        raise VaxopsError("appointment_not_open", {"appointment_id": old.pk, "status": old.status})
    at = at or timezone.now()
    target = _session(session)
    # The old booking stops counting as "already booked" inside the transaction; check the rest.
    member = Member(old.person, old.dose_number, old.phone)
    if _replay(client_uuid, [member], target) is not None:
        return Appointment.objects.get(client_uuid=client_uuid)
    if target.status == SessionStatus.CLOSED or target.date < at.astimezone(_tz()).date():
        raise VaxopsError("booking_session_closed", {"session_id": target.pk})
    slot = _slot(target, starts_at)
    check_book(acting_user, target, old.person)
    check_eligible(old.person, target, old.dose_number)
    new = Appointment(client_uuid=client_uuid, person=old.person, session=target, slot=slot,
                      dose_number=old.dose_number, phone=old.phone, household_uuid=old.household_uuid,
                      county_code=target.site.county_code, booked_at=at, booked_by=_user(acting_user))
    with transaction.atomic(durable=True):
        _end_for_reschedule(old, at, acting_user)
        _take(slot, {old.dose_number: 1})
        new.save(force_insert=True)
        Appointment.objects.filter(pk=old.pk).update(replaced_by=new)
        audit("appointment.reschedule", new, actor=acting_user, source=source, county_code=new.county_code,
              before={"appointment_id": old.pk, "session_id": old.session_id,
                      "starts_at": old.slot.starts_at.isoformat()},
              after={"appointment_id": new.pk, "session_id": target.pk, "starts_at": slot.starts_at.isoformat()})
    return new


# --- the session's close ---------------------------------------------------------------------


def _given(session: Session):
    """The valid doses given on the session's day to people booked at it (any site)."""
    from vaxops.vaccination.models import DoseRecord, DoseStatus

    start = dt.datetime.combine(session.date, dt.time(0), _tz())
    return DoseRecord.objects.filter(status=DoseStatus.VALID, administered_at__gte=start,
                                     administered_at__lt=start + dt.timedelta(days=1))


def close_bookings(session: Session, at: dt.datetime, user: Any) -> None:
    """The closing step (``sites.closing``): the session's open bookings end, as attended where
    the person was given that dose on the day, else as no-shows; their reminders not yet sent
    are suppressed. Two set-based updates, inside the closing's transaction."""
    from django.db.models import Exists, OuterRef

    open_rows = Appointment.objects.filter(session_id=session.pk, status=AppointmentStatus.BOOKED)
    ids = list(open_rows.values_list("pk", flat=True))
    if not ids:
        return
    given = _given(session).filter(person_id=OuterRef("person_id"), dose_number=OuterRef("dose_number"))
    ended = {"ended_at": at, "ended_by": _user(user)}
    Appointment.objects.filter(pk__in=ids).filter(Exists(given)).update(status=AppointmentStatus.ATTENDED, **ended)
    Appointment.objects.filter(pk__in=ids, status=AppointmentStatus.BOOKED).update(
        status=AppointmentStatus.NO_SHOW, **ended)
    suppress([reminder_reason(pk) for pk in ids], at=at)


def closing_figures(session: Session) -> dict[str, int]:
    """The bookings figures merged into a closed session's figures."""
    rows = dict(Appointment.objects.filter(session_id=session.pk).exclude(
        status__in=[AppointmentStatus.CANCELLED, AppointmentStatus.RESCHEDULED]).order_by()
        .values_list("status").annotate(n=Count("id")))
    if not rows:
        return {}
    return {"appointments_booked": sum(rows.values()), "appointments_attended": rows.get("attended", 0),
            "no_shows": rows.get("no_show", 0)}


def figures_of(session: Session) -> dict[str, int]:
    """Live counts of the session's bookings by status."""
    rows = dict(Appointment.objects.filter(session_id=session.pk).order_by().values_list("status")
                .annotate(n=Count("id")))
    return {s: rows.get(s, 0) for s in AppointmentStatus.values}


def open_bookings_q() -> Q:
    return Q(status=AppointmentStatus.BOOKED)
