"""The demo's bookings for the coming days (issue 10, appointments; docs/appointments.md).

Kangding's sessions of the next days (the planner's week, ``demo_sites.plan_today``) get
30-minute slots with places for first doses, second doses and boosters; residents of Kangding
are booked through the appointments service as a desk or a grid worker would book them:
never-vaccinated people for their first dose, people with one dose for their (overdue) second,
two households together, one booking cancelled and one moved to another day (both audited);
then tomorrow's day-before reminders are made in the outbox. Everything goes through
``vaxops.appointments.services`` (eligibility checked for each booking), so it stays cheap:
a few hundred bookings at most, whatever the scale.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.db.models import Count, OuterRef, Subquery
from django.utils import timezone

#: the coming days with bookings (the day after the build and the ones after it)
DAYS = 3
#: bookings per session at most (first doses, second doses, boosters), and the households
PER_SESSION = {1: 6, 2: 4, 3: 2}
CAPACITY = {1: 12, 2: 8, 3: 4}
HOUSEHOLDS = 2
#: sessions that get bookings (the busiest first); every coming session gets its slots
BOOKED_SESSIONS = 12
SEED_NAMESPACE = uuid.UUID("8d2f8a56-5a0e-4b0b-9a33-0a9c6a0e1f30")


def _key(*parts: Any) -> uuid.UUID:
    """Stable client ids, so the build writes the same bookings for the same seed."""
    return uuid.uuid5(SEED_NAMESPACE, "/".join(map(str, parts)))


def _candidates(county: str, limit: int) -> dict[int, list[Any]]:
    """Active residents of the county with a phone, by the dose they are due for (1, 2, 3)."""
    from django.db.models.functions import Coalesce

    from vaxops.registry.models import Person, PersonStatus
    from vaxops.vaccination.models import DoseRecord, DoseStatus

    people = (Person.objects.filter(county_code=county, status=PersonStatus.ACTIVE).exclude(phone="")
              .select_related("home_division"))
    doses = Subquery(DoseRecord.objects.filter(person_id=OuterRef("pk"), status=DoseStatus.VALID).order_by()
                     .values("person_id").annotate(c=Count("id")).values("c"))
    counted = people.annotate(n=Coalesce(doses, 0))
    return {number: list(counted.filter(n=number - 1).order_by("pk")[:limit]) for number in (1, 2, 3)}


def build(builder: Any, admin: Any) -> None:
    from vaxops.appointments import reminders, services
    from vaxops.appointments.models import Appointment
    from vaxops.campaign.demo import KANGDING
    from vaxops.campaign.services import TZ
    from vaxops.core.errors import VaxopsError
    from vaxops.sites.models import Session, SessionStatus

    today = timezone.now().astimezone(TZ).date()
    sessions = list(Session.objects.filter(site__county_code=KANGDING, date__gt=today,
                                           date__lte=today + dt.timedelta(days=DAYS))
                    .exclude(status=SessionStatus.CLOSED).select_related("site__division")
                    .order_by("date", "site__code", "opens_at"))
    for s in sessions:
        services.set_slots(s, minutes=30, capacity=CAPACITY, acting_user=admin, source="cli")
    busy = sorted(sessions, key=lambda s: (-s.planned_doses, s.date, s.site.code))[:BOOKED_SESSIONS]
    wanted = sum(PER_SESSION.values()) * len(busy)
    pool = _candidates(KANGDING, wanted + HOUSEHOLDS * 3)
    booked, refused, households = 0, 0, 0
    # Two households booked together at the busiest session, one slot each.
    if busy:
        first = busy[0]
        starts = [row["starts_at"] for row in services.slots_of(first)]
        for h in range(HOUSEHOLDS):
            members = [services.Member(p, 1) for p in pool[1][:3]]
            pool[1] = pool[1][3:]
            if len(members) < 2:
                break
            try:
                rows, _ = services.book_household(client_uuid=_key("household", first.pk, h), members=members,
                                                  session=first, starts_at=starts[-1 - h], acting_user=admin,
                                                  source="cli")
            except VaxopsError:
                refused += len(members)
                continue
            households += 1
            booked += len(rows)
    made: list[Any] = []
    for i, s in enumerate(busy):
        starts = [row["starts_at"] for row in services.slots_of(s)]
        for number, n in PER_SESSION.items():
            for k in range(n):
                if not pool[number]:
                    break
                person = pool[number].pop(0)
                slot = starts[(k * 3 + i) % len(starts)]
                try:
                    a, _ = services.book(client_uuid=_key("one", s.pk, number, person.pk), person=person, session=s,
                                         starts_at=slot, dose_number=number, acting_user=admin, source="cli")
                except VaxopsError:
                    refused += 1  # e.g. a deferral in force on that day
                    continue
                made.append(a)
                booked += 1
    # One booking cancelled (travelling), one moved to the next day: both audited, both
    # reminders suppressed.
    cancelled = rescheduled = 0
    if len(made) >= 2 and len(sessions) >= 2:
        services.cancel(made[0], acting_user=admin, reason="外出务工，返乡后再约", source="cli")
        cancelled = 1
        later = next((s for s in sessions if s.date > made[1].session.date and s.site_id == made[1].session.site_id),
                     None) or next((s for s in sessions if s.date > made[1].session.date), None)
        if later is not None:
            try:
                services.reschedule(made[1], client_uuid=_key("moved", made[1].pk), session=later,
                                    starts_at=services.slots_of(later)[0]["starts_at"], acting_user=admin,
                                    source="cli")
                rescheduled = 1
            except VaxopsError:
                pass
    counts = reminders.generate_day_before(today, acting_user=admin, source="cli")
    live = Appointment.objects.filter(status="booked").count()
    builder.report.later["appointments"] = {
        "sessions_with_slots": len(sessions), "bookings": booked, "households": households, "refused": refused,
        "cancelled": cancelled, "rescheduled": rescheduled, "live": live, "reminders": counts["made"]}
    builder.clock.done("appointments", f"{len(sessions)} sessions of the coming {DAYS} days with slots, {booked} "
                                       f"bookings ({households} households), {counts['made']} reminders for "
                                       "tomorrow")
