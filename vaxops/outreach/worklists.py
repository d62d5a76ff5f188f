"""The work lists: who in an area is due, read from the due table (``DueEntry``) by one indexed
range of the area's division paths; and the brute-force reference the tests compare them with.

``kind`` of a list, on the day ``today`` (the campaign's date):

* ``unvaccinated``: never vaccinated and admitted by an approved age band (``due.first_due``);
* ``due``: the next primary dose falls due within ``SOON_DAYS`` and is not yet overdue;
* ``overdue``: the next primary dose is past its due-by day;
* ``booster``: a booster falls due within ``SOON_DAYS``.

Away and deferred residents are on none until their date (``list_date``). Order: 60 and over
first, then priority group rank, then the date they came onto the list. A grid's list is one
range of the due table's paths; a township's or a county's is read in that order from an index
on its code.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from vaxops.access.models import Role
from vaxops.access.scope import get_scoped, grants_for, restrict
from vaxops.core.errors import VaxopsError
from vaxops.outreach.due import date_of_age
from vaxops.outreach.models import DueEntry, DueKind
from vaxops.regions.models import Division, Level

KINDS = ("unvaccinated", "due", "overdue", "booster")
SOON_DAYS = 7
OLDER_AGE = 60
MAX_LIMIT = 500


def subtree_range(path: str) -> tuple[str, str]:
    """``[low, high)`` of the paths of a division's subtree (paths end in "/", and "/" sorts
    just before "0"): a plain index range on both engines, where LIKE is not indexed on SQLite."""
    return path, path[:-1] + "0"


def in_kind(kind: str, today: dt.date) -> dict[str, Any]:
    """The filter of one list kind on the due table."""
    soon = today + dt.timedelta(days=SOON_DAYS)
    if kind == "unvaccinated":
        return {"kind": DueKind.FIRST, "list_date__lte": today}
    if kind == "due":
        return {"kind": DueKind.NEXT, "list_date__lte": soon, "overdue_on__gte": today}
    if kind == "overdue":
        return {"kind": DueKind.NEXT, "list_date__lte": today, "overdue_on__lt": today}
    if kind == "booster":
        return {"kind": DueKind.BOOSTER, "list_date__lte": soon}
    raise VaxopsError("unknown_worklist_kind", {"kind": str(kind)[:40], "allowed": ", ".join(KINDS)})


def kind_of(entry_kind: str, list_day: dt.date | None, overdue_on: dt.date | None, today: dt.date) -> str | None:
    """Which list (if any) a due row is on, in memory: the same rule as ``in_kind``."""
    if list_day is None:
        return None
    soon = today + dt.timedelta(days=SOON_DAYS)
    if entry_kind == DueKind.FIRST:
        return "unvaccinated" if list_day <= today else None
    if entry_kind == DueKind.NEXT:
        if overdue_on is not None and overdue_on < today:
            return "overdue" if list_day <= today else None
        return "due" if list_day <= soon else None
    if entry_kind == DueKind.BOOSTER:
        return "booster" if list_day <= soon else None
    return None


def scoped_division(user: Any, code: str | None, action: str = "outreach.view") -> Division:
    if not code:
        raise VaxopsError("invalid_request", {"field": "division"})
    return get_scoped(Division.objects.all(), user, action, not_found="division_not_found",
                      detail={"division_code": str(code)[:15]}, code=code)


def _area_filter(division: Division, *, by_code: bool) -> dict[str, Any]:
    """Where a division's residents' due rows are: the range of its paths (the list index,
    which also covers a count), or for a township's or county's page its code (the index that
    gives the rows in list order)."""
    if by_code and division.level == Level.TOWNSHIP:
        return {"township_code": division.code}
    if by_code and division.level == Level.COUNTY:
        return {"county_code": division.code}
    low, high = subtree_range(division.path)
    return {"home_path__gte": low, "home_path__lt": high}


ORDER = ("priority_rank", "list_date", "person_id")
#: a list's count stops here ("1,000+"): counting further would walk the whole area; the
#: roll-ups (outreach.rollup) and the summary statistics give the exact totals
COUNT_CAP = 1_000


def entries(user: Any, division: Division, kind: str, today: dt.date, *, by_code: bool = False):
    """The due rows of ``kind`` under ``division`` the user may see (unordered: ``page`` gives
    them in list order)."""
    return restrict(DueEntry.objects.all(), user, "outreach.view").filter(
        **_area_filter(division, by_code=by_code), **in_kind(kind, today))


def count(user: Any, division: Division, kind: str, today: dt.date) -> tuple[int, bool]:
    """``(how many are on the list, whether the count stopped at COUNT_CAP)``."""
    n = entries(user, division, kind, today)[:COUNT_CAP + 1].count()
    return min(n, COUNT_CAP), n > COUNT_CAP


def page(user: Any, division: Division, kind: str, today: dt.date, *, offset: int = 0,
         limit: int = 100) -> list[DueEntry]:
    """``limit`` due rows from ``offset`` in list order: those 60 and over first, then the rest,
    each by rank, list date and person. Each part is read in index order and stops once the
    page is full, so a page costs the same in a township of a thousand or a million."""
    rows = entries(user, division, kind, today, by_code=True).select_related("person__home_division")
    older = date_of_age(today, -OLDER_AGE)
    first = list(rows.filter(birth_date__lte=older).order_by(*ORDER)[offset:offset + limit])
    if len(first) == limit:
        return first
    # The older part ends on this page (or before it): the younger part starts after it.
    # (counted only as far as the offset: past it the younger part starts at 0)
    older_count = offset + len(first) if first else rows.filter(birth_date__lte=older)[:offset].count()
    start = max(0, offset - older_count)
    return first + list(rows.filter(birth_date__gt=older).order_by(*ORDER)[start:start + limit - len(first)])


def mask_phone(phone: str) -> str:
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 8 else ("*" * len(phone))


def full_phone_paths(user: Any) -> list[str]:
    """The grids whose residents' full phone numbers the user sees: a grid worker's own."""
    return [g.division_path for g in grants_for(user) if g.role == Role.GRID_WORKER and g.division_path]


def worklist(user: Any, division: Division, kind: str, today: dt.date, *, limit: int = 100,
             offset: int = 0) -> dict[str, Any]:
    """``{items, count}`` of one list (the API's shape), a page of ``limit`` from ``offset``."""
    if not 1 <= limit <= MAX_LIMIT or offset < 0:
        raise VaxopsError("invalid_request", {"field": "limit" if not 1 <= limit <= MAX_LIMIT else "offset"})
    listed, capped = count(user, division, kind, today)
    full = full_phone_paths(user)
    items = []
    for e in page(user, division, kind, today, offset=offset, limit=limit):
        p = e.person
        phone = p.phone if any(e.home_path.startswith(path) for path in full) else mask_phone(p.phone)
        items.append({
            "person_id": p.pk, "name": p.name, "id_number_masked": p.id_number_masked, "age": p.age_on(today),
            "phone": phone, "household": p.home_division.name, "division_code": p.home_division.code,
            "kind": kind, "dose_number": e.dose_number, "due_date": e.due_date, "overdue_on": e.overdue_on,
            "list_date": e.list_date, "priority_groups": p.priority_groups, "last_outcome": e.last_outcome or None,
            "last_contact_at": e.last_contact_at,
        })
    return {"items": items, "count": listed, "count_capped": capped, "kind": kind, "division_code": division.code,
            "on": today}


def reference(division: Division, kind: str, today: dt.date) -> list[int]:
    """The brute-force list: every resident under ``division`` judged from scratch (people,
    valid doses, open deferrals, contacts), in list order. For the tests; scans the area."""
    from vaxops.campaign.services import TZ
    from vaxops.outreach.due import GivenDose, list_date, next_due
    from vaxops.outreach.duetable import rank_of, rules, series
    from vaxops.outreach.models import ContactAttempt
    from vaxops.outreach.outcomes import OUTCOMES
    from vaxops.registry.models import Person, PersonStatus

    products, name = rules(), series()
    older = date_of_age(today, -OLDER_AGE)
    found = []
    for p in Person.objects.filter(home_division__path__startswith=division.path):
        if p.status != PersonStatus.ACTIVE or p.deferrals.filter(lifted_at__isnull=True, until__isnull=True).exists():
            continue
        doses = [GivenDose(d.product.code, d.dose_number, d.kind, d.administered_at.astimezone(TZ).date())
                 for d in p.doses.filter(status="valid").select_related("product")]
        due = next_due(p.birth_date, doses, products, name)
        if due is None:
            continue
        holds = [d.until + dt.timedelta(days=1) for d in p.deferrals.filter(lifted_at__isnull=True)
                 if d.until is not None]
        last = ContactAttempt.objects.filter(person=p).order_by("at", "pk").last()
        if last is not None and OUTCOMES[last.outcome].hold and last.until is not None:
            holds.append(last.until)
        day = list_date(due.due_date, max(holds) if holds else None)
        entry_kind = {"first": DueKind.FIRST, "next": DueKind.NEXT, "booster": DueKind.BOOSTER}[due.kind]
        if kind_of(entry_kind, day, due.overdue_on, today) == kind:
            found.append((0 if p.birth_date <= older else 1, rank_of(p.priority_groups), day, p.pk))
    return [pk for *_key, pk in sorted(found)]
