"""The one writer of key-group memberships (docs/keygroups.md)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone

from vaxops.access.scope import require, restrict
from vaxops.core.audit import audit
from vaxops.core.errors import VaxopsError
from vaxops.registry.models import Person, PriorityGroup
from vaxops.staff.models import Unit

from .models import Membership


def add_members(rows: Iterable[Mapping[str, Any]], *, acting_user: Any, source: str) -> dict[str, Any]:
    """Register people in priority groups: each row ``{person_id, group, unit?, since?}``
    (``group`` a ``PriorityGroup`` code, ``unit`` a ``staff.Unit`` code, ``since`` the day they
    belong from, not after today; default today: the figures as of an earlier day leave them out).

    All or nothing, in one durable transaction: every person must be within the user's area
    (``keygroup.manage``; otherwise ``person_not_found``), every group known
    (``keygroup_not_found``), every unit within the area (``unit_not_found``). A person already
    in the group is left as they are (a list imported twice adds nobody twice); a new unit given
    for an existing member replaces the old one. The group is appended to the person's
    ``priority_groups`` (the dose counters read the first), so the desk shows it too. One audit
    event per new or changed member (for a batch of more than 50, one per group with the ids).
    Returns ``{"added": n, "unchanged": n, "changed": n, "members": [ids]}``.
    """
    require(acting_user, "keygroup.manage")
    rows = list(rows)
    today = timezone.localdate()
    since_of = [_since(row.get("since"), today) for row in rows]
    groups = {g.code: g for g in PriorityGroup.objects.all()}
    for row in rows:
        if row.get("group") not in groups:
            raise VaxopsError("keygroup_not_found", {"group": str(row.get("group"))[:40]})
    person_ids = {row["person_id"] for row in rows}
    unit_codes = {row["unit"] for row in rows if row.get("unit")}
    now = timezone.now()
    with transaction.atomic(durable=True):
        # Only the columns needed (a list of thousands stays cheap): pk → (county, priority groups).
        people = {pk: (county, groups) for pk, county, groups in restrict(
            Person.objects.filter(pk__in=person_ids), acting_user, "keygroup.manage",
        ).values_list("pk", "county_code", "priority_groups")}
        missing = person_ids - set(people)
        if missing:
            raise VaxopsError("person_not_found", {"person_id": min(missing)})
        units = {u.code: u for u in restrict(Unit.objects.filter(code__in=unit_codes), acting_user,
                                              "keygroup.manage")}
        if unit_codes - set(units):
            raise VaxopsError("unit_not_found", {"unit": sorted(unit_codes - set(units))[0]})
        existing = {(m.group_id, m.person_id): m for m in Membership.objects.select_for_update().filter(
            person_id__in=person_ids, group__code__in={r["group"] for r in rows})}
        new: dict[tuple[int, int], Membership] = {}
        changed: list[Membership] = []
        added_by = acting_user if getattr(acting_user, "pk", None) else None
        for row, since in zip(rows, since_of, strict=True):
            group, person_id = groups[row["group"]], row["person_id"]
            unit = units.get(row.get("unit") or "")
            key = (group.pk, person_id)
            member = existing.get(key) or new.get(key)
            if member is None:
                new[key] = Membership(group=group, person_id=person_id, unit=unit, county_code=people[person_id][0],
                                      since=since, added_at=now, added_by=added_by)
            elif unit is not None and member.unit_id != unit.pk:
                member.unit = unit
                changed.append(member)
        created = Membership.objects.bulk_create(list(new.values()))
        if changed:
            Membership.objects.bulk_update(changed, ["unit"])
        _append_groups(people, new.values())
        _audit(created, changed, acting_user, source)
    added_ids = [m.pk for m in created]
    return {"added": len(created), "changed": len(changed), "unchanged": len(rows) - len(created) - len(changed),
            "members": added_ids}


def _since(value: Any, today: dt.date) -> dt.date:
    """A member's first day in the group: a date (or ISO text) not after today; none: today."""
    if value in (None, ""):
        return today
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value)
        except ValueError:
            raise VaxopsError("invalid_request", {"field": "since", "value": value[:20]}) from None
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise VaxopsError("invalid_request", {"field": "since"})
    if value > today:
        raise VaxopsError("member_since_in_future", {"since": value.isoformat(), "today": today.isoformat()})
    return value


UPDATE_CHUNK = 500


def _append_groups(people: Mapping[int, tuple[str, list[str]]], members: Iterable[Membership]) -> None:
    """Append each new member's group code to the person's ``priority_groups`` (in order of
    arrival: an existing first group stays first)."""
    changed: dict[int, list[str]] = {}
    for m in members:
        groups = changed.get(m.person_id, people[m.person_id][1])
        if m.group.code not in groups:
            changed[m.person_id] = [*groups, m.group.code]
    if changed:
        # One UPDATE per distinct list and chunk of ids: a batch's members mostly share a few
        # lists, where a bulk update's CASE of one branch per person costs its size squared.
        by_groups: dict[tuple[str, ...], list[int]] = {}
        for pk, groups in changed.items():
            by_groups.setdefault(tuple(groups), []).append(pk)
        for groups, ids in by_groups.items():
            ids.sort()
            for start in range(0, len(ids), UPDATE_CHUNK):
                Person.objects.filter(pk__in=ids[start:start + UPDATE_CHUNK]).update(priority_groups=list(groups))
        # Their place on the outreach work lists follows their highest group.
        from vaxops.outreach.duetable import set_groups

        set_groups(changed)


def _audit(created: list[Membership], changed: list[Membership], actor: Any, source: str) -> None:
    if len(created) + len(changed) <= 50:
        for m in created:
            audit("keygroups.member.add", m, actor=actor, source=source, county_code=m.county_code,
                  after={"group": m.group.code, "person_id": m.person_id, "unit": m.unit.code if m.unit else None})
        for m in changed:
            audit("keygroups.member.unit", m, actor=actor, source=source, county_code=m.county_code,
                  after={"group": m.group.code, "person_id": m.person_id, "unit": m.unit.code if m.unit else None})
        return
    created_ids = {m.pk for m in created}
    by_group: dict[str, list[Membership]] = {}
    for m in [*created, *changed]:
        by_group.setdefault(m.group.code, []).append(m)
    for members in by_group.values():
        group = members[0].group
        audit("keygroups.member.add_batch", group, actor=actor, source=source,
              after={"group": group.code, "added": [m.person_id for m in members if m.pk in created_ids],
                     "unit_changed": [m.person_id for m in members if m.pk not in created_ids]})


BATCH = 5000


def members_from_registry(*, acting_user: Any, source: str, county_code: str | None = None) -> int:
    """Add as members the people of the user's area registered with priority groups (at the desk,
    ``register_person(priority_groups=…)``) who are not members of those groups yet, in batches
    of ``BATCH`` rows through ``add_members`` (each batch its own transaction); returns how many
    were added. The unit stays empty (the page, the API or an import names it)."""
    require(acting_user, "keygroup.manage")
    people = restrict(Person.objects.exclude(priority_groups=[]), acting_user, "keygroup.manage")
    if county_code:
        people = people.filter(county_code=county_code)
    known = set(Membership.objects.values_list("person_id", "group__code").iterator(chunk_size=BATCH))
    groups = set(PriorityGroup.objects.values_list("code", flat=True))
    added, batch = 0, []
    for pk, codes, registered in people.values_list("pk", "priority_groups", "created_at").iterator(chunk_size=BATCH):
        # In the group from the day they were registered with it.
        since = timezone.localdate(registered)
        batch.extend({"person_id": pk, "group": c, "since": since} for c in codes
                     if c in groups and (pk, c) not in known)
        if len(batch) >= BATCH:
            added += add_members(batch, acting_user=acting_user, source=source)["added"]
            batch = []
    if batch:
        added += add_members(batch, acting_user=acting_user, source=source)["added"]
    return added
