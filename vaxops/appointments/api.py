"""Appointments: /api/v1/sessions/{id}/slots and /api/v1/appointments… (docs/appointments.md).

Thin: reads go through ``vaxops.access.scope``, every write is one service of
``vaxops.appointments.services``; errors are the services' ``{code, message, detail}``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from ninja import Field, Query, Router, Schema, Status

from vaxops.access.scope import get_scoped, require, restrict
from vaxops.appointments import services
from vaxops.appointments.models import Appointment, AppointmentStatus
from vaxops.core.errors import VaxopsError
from vaxops.core.models import Source
from vaxops.core.openapi import OPERATIONS
from vaxops.core.schema import RowId
from vaxops.registry.api import ErrorOut, reachable_person
from vaxops.sites.models import Session

router = Router(tags=["appointments"])
sessions_router = Router(tags=["appointments"])

ERRORS = {403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}
READ_ERRORS = {403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


class SlotsIn(Schema):
    minutes: int = Field(description="The length of each slot: 10, 15, 20, 30 or 60 minutes.")
    capacity: dict[str, int] = Field(description='People per dose number, e.g. {"1": 20, "2": 10}.')
    start: dt.time | None = Field(None, description="HH:MM, default the session's opening.")
    end: dt.time | None = Field(None, description="HH:MM, default the session's closing.")


class SlotOut(Schema):
    id: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    capacity: dict[str, int] = Field(description="People per dose number.")
    booked: dict[str, int] = Field(description="Booked per dose number.")
    free: dict[str, int] = Field(description="Places left per dose number.")


class AppointmentIn(Schema):
    client_uuid: uuid.UUID = Field(description="A retry with the same id answers 200 with the booking.")
    person_id: RowId
    session_id: RowId
    starts_at: dt.datetime = Field(description="The slot's start, with its UTC offset.")
    dose_number: int = Field(ge=1, le=5)
    phone: str | None = Field(None, max_length=20, description="The number for the reminder (default: the person's).")


class MemberIn(Schema):
    person_id: RowId
    dose_number: int = Field(ge=1, le=5)


class HouseholdIn(Schema):
    client_uuid: uuid.UUID
    session_id: RowId
    starts_at: dt.datetime
    members: list[MemberIn] = Field(max_length=12, description="The household's people, booked together or not at all.")


class CancelIn(Schema):
    reason: str | None = Field(None, max_length=200)


class RescheduleIn(Schema):
    client_uuid: uuid.UUID = Field(description="The id of the new booking.")
    session_id: RowId
    starts_at: dt.datetime


class AppointmentOut(Schema):
    id: int
    person_id: int
    name: str
    id_number_masked: str
    session_id: int
    site: str
    site_name: str
    date: dt.date
    starts_at: dt.datetime
    ends_at: dt.datetime
    dose_number: int
    status: str = Field(description="booked | cancelled | rescheduled | attended | no_show")
    status_name: str
    household_uuid: uuid.UUID | None
    replaced_by: int | None


class AppointmentList(Schema):
    items: list[AppointmentOut]
    count: int


class HouseholdOut(Schema):
    items: list[AppointmentOut]
    count: int


def _local(moment: dt.datetime) -> dt.datetime:
    from vaxops.campaign.services import TZ

    return moment.astimezone(TZ)


def appointment_out(a: Appointment) -> dict[str, Any]:
    return {"id": a.pk, "person_id": a.person_id, "name": a.person.name, "id_number_masked": a.person.id_number_masked,
            "session_id": a.session_id, "site": a.session.site.code, "site_name": a.session.site.name,
            "date": a.session.date, "starts_at": _local(a.slot.starts_at), "ends_at": _local(a.slot.ends_at),
            "dose_number": a.dose_number, "status": a.status,
            "status_name": str(AppointmentStatus(a.status).label), "household_uuid": a.household_uuid,
            "replaced_by": a.replaced_by_id}


def _rows():
    return Appointment.objects.select_related("person", "session__site", "slot")


def scoped_session(user: Any, session_id: int, action: str = "slot.view") -> Session:
    """The session if ``user`` may see its slots, else ``session_not_found`` (or 401/403)."""
    require(user, action)
    session = Session.objects.select_related("site__division").filter(pk=session_id).first()
    if session is None:
        raise VaxopsError("session_not_found", {"session_id": session_id})
    if action == "slot.manage":
        services.check_manage(user, session)
    else:
        services.check_view(user, session)
    return session


@sessions_router.post("/{session_id}/slots", response={200: list[SlotOut], **ERRORS})
def set_slots(request, session_id: RowId, payload: SlotsIn):
    """Cut the session's hours into slots of ``minutes`` with a capacity per dose number; the
    slots already there take the new capacity (never below what is booked)."""
    session = scoped_session(request.user, session_id, "slot.manage")
    services.set_slots(session, minutes=payload.minutes, capacity=payload.capacity, start=payload.start,
                       end=payload.end, acting_user=request.user, source=Source.API)
    return services.slots_of(session)


@sessions_router.get("/{session_id}/slots", response={200: list[SlotOut], **READ_ERRORS})
def list_slots(request, session_id: RowId):
    """The session's slots in time order with capacity, booked and free places per dose number."""
    return services.slots_of(scoped_session(request.user, session_id))


@sessions_router.get("/{session_id}/appointments", response={200: AppointmentList, **READ_ERRORS})
def session_appointments(request, session_id: RowId):
    """The session's bookings you may see, in slot order."""
    session = scoped_session(request.user, session_id)
    rows = restrict(_rows().filter(session=session), request.user, "appointment.view").order_by("slot__starts_at",
                                                                                                "pk")
    items = [appointment_out(a) for a in rows[:2000]]
    return {"items": items, "count": len(items)}


def _book_session(user: Any, session_id: int) -> Session:
    require(user, "appointment.book")
    session = Session.objects.select_related("site__division").filter(pk=session_id).first()
    if session is None:
        raise VaxopsError("session_not_found", {"session_id": session_id})
    services.check_view(user, session)
    return session


@router.post("", response={200: AppointmentOut, 201: AppointmentOut, **ERRORS})
def book(request, payload: AppointmentIn):
    """Book a person into a slot for a dose number: 201, or 409 ``slot_full`` when the slot has no
    place left for that dose, 422 ``booking_not_eligible`` with the rules' reasons."""
    session = _book_session(request.user, payload.session_id)
    person = reachable_person(request.user, payload.person_id)
    a, created = services.book(client_uuid=payload.client_uuid, person=person, session=session,
                               starts_at=payload.starts_at, dose_number=payload.dose_number, phone=payload.phone,
                               acting_user=request.user, source=Source.API)
    return Status(201 if created else 200, appointment_out(_rows().get(pk=a.pk)))


@router.post("/household", response={200: HouseholdOut, 201: HouseholdOut, **ERRORS})
def book_household(request, payload: HouseholdIn):
    """Book a household into one slot together: everyone or nobody."""
    session = _book_session(request.user, payload.session_id)
    members = [services.Member(reachable_person(request.user, m.person_id), m.dose_number) for m in payload.members]
    rows, created = services.book_household(client_uuid=payload.client_uuid, members=members, session=session,
                                            starts_at=payload.starts_at, acting_user=request.user,
                                            source=Source.API)
    items = [appointment_out(a) for a in _rows().filter(pk__in=[r.pk for r in rows]).order_by("pk")]
    return Status(201 if created else 200, {"items": items, "count": len(items)})


def _scoped(request, appointment_id: int, action: str) -> Appointment:
    return get_scoped(_rows().select_related("session__site__division", "person__home_division"), request.user,
                      action, not_found="appointment_not_found", detail={"appointment_id": appointment_id},
                      pk=appointment_id)


@router.get("", response={200: AppointmentList, **READ_ERRORS})
def list_appointments(request, person_id: int | None = Query(None, ge=1, le=2**62),
                      status: str | None = Query(None, max_length=12)):
    """The bookings you may see (at most 500, latest first); ``person_id`` and ``status`` filter."""
    require(request.user, "appointment.view")
    rows = restrict(_rows(), request.user, "appointment.view")
    if person_id is not None:
        rows = rows.filter(person_id=person_id)
    if status:
        rows = rows.filter(status=status)
    items = [appointment_out(a) for a in rows.order_by("-slot__starts_at", "-pk")[:500]]
    return {"items": items, "count": len(items)}


@router.get("/{appointment_id}", response={200: AppointmentOut, **READ_ERRORS})
def get_appointment(request, appointment_id: RowId):
    return appointment_out(_scoped(request, appointment_id, "appointment.view"))


@router.post("/{appointment_id}/cancel", response={200: AppointmentOut, **ERRORS})
def cancel(request, appointment_id: RowId, payload: CancelIn | None = None):
    """Cancel a booking: its place goes back to the slot and its reminder is never sent."""
    a = _scoped(request, appointment_id, "appointment.cancel")
    a = services.cancel(a, acting_user=request.user, reason=(payload.reason if payload else "") or "",
                        source=Source.API)
    return appointment_out(_rows().get(pk=a.pk))


@router.post("/{appointment_id}/reschedule", response={201: AppointmentOut, **ERRORS})
def reschedule(request, appointment_id: RowId, payload: RescheduleIn):
    """Move a booking to another slot: the new booking (201); the old one is "rescheduled"."""
    a = _scoped(request, appointment_id, "appointment.cancel")
    session = _book_session(request.user, payload.session_id)
    new = services.reschedule(a, client_uuid=payload.client_uuid, session=session, starts_at=payload.starts_at,
                              acting_user=request.user, source=Source.API)
    return Status(201, appointment_out(_rows().get(pk=new.pk)))


_BOOK = ("session_not_found", "person_not_found", "slot_not_found", "slot_full", "booking_session_closed",
         "booking_not_eligible", "already_booked", "person_inactive", "invalid_phone", "idempotency_conflict",
         "invalid_datetime")
OPERATIONS.update({
    "vaxops_appointments_api_set_slots": (
        "Set a session's slots: their length and the capacity per dose number.",
        ("session_not_found", "slot_minutes_invalid", "slot_capacity_invalid", "slot_capacity_below_booked",
         "slot_outside_hours", "slot_overlap", "booking_session_closed")),
    "vaxops_appointments_api_list_slots": ("A session's slots in time order with their capacity, booked and free places per dose number.", ("session_not_found",)),
    "vaxops_appointments_api_session_appointments": ("The bookings of a session that you may see, in slot order.", ("session_not_found",)),
    "vaxops_appointments_api_book": ("Book a person into a slot for a dose number.", _BOOK),
    "vaxops_appointments_api_book_household": ("Book a household into one slot together: everyone or nobody.", (*_BOOK, "household_invalid")),
    "vaxops_appointments_api_list_appointments": ("The bookings of your area, latest first, by person and status.", ()),
    "vaxops_appointments_api_get_appointment": ("One booking with its slot, dose number and status.", ("appointment_not_found",)),
    "vaxops_appointments_api_cancel": ("Cancel a booking: its place goes back to the slot, its reminder is not sent.", ("appointment_not_found", "appointment_not_open")),
    "vaxops_appointments_api_reschedule": ("Move a booking to another slot: a new booking, the old one marked rescheduled.",
                                           ("appointment_not_found", "appointment_not_open", *_BOOK)),
})
