"""People in batches: the one write path for registrations from the desk, the API, imports and
the demo (a single registration is a batch of one).

The interface below is the contract every caller uses; see ``register_people``. The engine
decides every item in memory from a handful of reads (the priority groups, the divisions
named in the batch, the persons already registered under the batch's ID numbers, the user's
grants), then writes the whole batch in one durable transaction: COPY on PostgreSQL for large
batches, batched INSERTs otherwise. ``registry.services.register_person`` is a batch of one.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from django.db import IntegrityError, connection, transaction
from django.db.models.base import ModelState
from django.utils import timezone

from vaxops.access.scope import admits, can, require
from vaxops.core.audit import audit, insert_row
from vaxops.core.errors import VaxopsError
from vaxops.core.models import AuditEvent


@dataclass(frozen=True, slots=True)
class PersonItem:
    """One person to register (the fields of ``POST /api/v1/people``)."""

    id_number: str
    name: str
    phone: str = ""
    division_code: str | None = None
    priority_groups: tuple[str, ...] = ()


@dataclass(slots=True)
class PersonOutcome:
    """What became of one item, in the order sent.

    ``already_present``: the ID number is registered with the same content (nothing written);
    ``updated``: registered, and the allowed fields (``UPDATABLE``) changed as the item says
    (only with ``update=True``; otherwise a difference is ``person_exists``). ``written`` says
    whether a ``created`` or ``updated`` item is in the database: False for every item of a
    ``dry_run``, and of an ``atomic`` batch refused because some item was.
    """

    index: int
    status: Literal["created", "already_present", "updated", "rejected"]
    person: Any = None
    error: VaxopsError | None = None
    changed: list[str] = field(default_factory=list)
    written: bool = False

    @property
    def code(self) -> str | None:
        return self.error.code if self.error else None


# Fields an import may change on a registered person.
UPDATABLE = ("name", "phone", "division_code", "priority_groups")

# From this many new persons on, PostgreSQL loads them with COPY (below: one INSERT per batch).
COPY_THRESHOLD = 500
# Rows per executemany / IN (…) read (SQLite allows 32,766 parameters per statement).
CHUNK = 5_000
# From this many items on, the cyclic collector is paused for the batch: the batch's tens of
# thousands of objects all live until it ends, so the collector's passes over them (and over
# everything else the process holds) would find nothing and cost more than the rules.
GC_PAUSE_MIN = 1_000
# Re-decisions after a unique violation (someone registered the same ID number meanwhile).
RETRIES = 3

_PERSON_COLUMNS = ("id", "id_number", "name", "phone", "birth_date", "sex", "home_division_id", "county_code",
                   "priority_groups", "status", "created_at")


def register_people(
    items: Sequence[PersonItem],
    *,
    acting_user: Any,
    source: str,
    update: bool = False,
    atomic: bool = False,
    dry_run: bool = False,
) -> list[PersonOutcome]:
    """Register a batch of people with exactly the rules of one registration; one outcome per
    item, in order. An ID number twice in one batch: the second is judged against the first.
    ``atomic``: one rejected item writes nothing; ``dry_run``: check everything, write nothing.

    With ``atomic`` (and a rejected item) or ``dry_run`` the outcomes are those the batch would
    have had; their persons are then unsaved (``pk`` is ``None`` for a new one). A user who
    may not register at all (``not_authenticated``, ``permission_denied``) is refused for the
    whole batch: the error is raised, nothing is written.

    Rules per item, in the order of ``register_person``: the ID number, the name, the phone,
    the priority groups; then an ID number already registered (in the user's reach: identical
    content is ``already_present``, a difference is ``person_exists``, or with ``update`` the
    ``UPDATABLE`` fields are changed when the person's home is in the user's area; out of
    reach: ``person_registered_elsewhere``); then the home division (``_Planner._home``) and
    the user's area. Audit: a batch of one writes the events of one registration
    (``person.register``, or ``person.update`` with before/after); a larger batch writes one
    ``person.batch`` event with its counts, plus ``person.update`` (before/after) per update.
    """
    require(acting_user, "person.add")
    items = list(items)
    if not items:
        return []
    pause = len(items) >= GC_PAUSE_MIN and gc.isenabled()
    if pause:
        gc.disable()
    try:
        return _register(items, acting_user=acting_user, source=source, update=update, atomic=atomic,
                         dry_run=dry_run)
    finally:
        if pause:
            gc.enable()


def _register(items: list[PersonItem], *, acting_user: Any, source: str, update: bool, atomic: bool,
              dry_run: bool) -> list[PersonOutcome]:
    for attempt in range(RETRIES):
        if dry_run:
            return _Planner(acting_user, update).plan(items)
        try:
            with transaction.atomic(durable=True):
                planner = _Planner(acting_user, update)
                outcomes = planner.plan(items)
                if atomic and any(o.status == "rejected" for o in outcomes):
                    return outcomes
                _write(planner, outcomes, acting_user=acting_user, source=source, single=len(items) == 1)
        except IntegrityError:
            # A concurrent registration of one of the ID numbers: decide again with it present.
            if attempt == RETRIES - 1:
                raise
            continue
        for outcome in outcomes:
            outcome.written = outcome.status in ("created", "updated")
        return outcomes
    raise AssertionError("unreachable")


@dataclass(slots=True)
class _Known:
    """A person as the batch knows it: registered before, or created/updated earlier in it."""

    person: Any  # Person (unsaved for one created in this batch)
    new: bool = False  # created in this batch
    updated: dict[str, Any] | None = None  # before-values, when updated in this batch


class _Planner:
    """Decides every item in memory; holds what ``_write`` needs."""

    def __init__(self, user: Any, update: bool) -> None:
        self.user, self.update = user, update
        self.created: list[_Known] = []
        self.changed: list[_Known] = []
        self.exists_new: list[tuple[VaxopsError, Any]] = []
        self._reached: set[int] | None = None
        self.vaccinates = can(user, "person.vaccinate")
        self.reach_action = "person.vaccinate" if self.vaccinates else "person.view"
        self.today = timezone.localdate()
        # Decisions that depend only on the value, made once per batch: raw name -> name or
        # refusal, division code -> home division or refusal.
        self.names: dict[str, Any] = {}
        self.homes: dict[str | None, Any] = {}

    # ---- reads (each once per batch)

    def _load(self, parsed: list[Any]) -> None:
        from vaxops.registry.models import Person, PriorityGroup
        from vaxops.registry.services import _site_divisions

        groups = list(PriorityGroup.objects.values_list("code", flat=True))
        self.allowed_groups, self.known_groups = groups, set(groups)
        numbers = sorted({p[0].number for p in parsed if not isinstance(p, VaxopsError)})
        self.known: dict[str, _Known] = {}
        # Which numbers are registered: one raw IN (…) per chunk (the ORM's lookup prepares each
        # of thousands of parameters, seconds per 100,000 numbers); then the few found, by id.
        found: list[int] = []
        table = connection.ops.quote_name(Person._meta.db_table)
        with connection.cursor() as cursor:
            for start in range(0, len(numbers), CHUNK):
                chunk = numbers[start:start + CHUNK]
                cursor.execute(f"SELECT id FROM {table} WHERE id_number IN ({', '.join(['%s'] * len(chunk))})", chunk)
                found.extend(row[0] for row in cursor.fetchall())
        for start in range(0, len(found), CHUNK):
            for person in Person.objects.filter(pk__in=found[start:start + CHUNK]).select_related("home_division"):
                self.known[person.id_number] = _Known(person)
        codes = sorted({p[4] for p in parsed if not isinstance(p, VaxopsError) and p[4]})
        self.divisions = {}
        from vaxops.regions.models import Division

        for start in range(0, len(codes), CHUNK):
            for division in Division.objects.filter(code__in=codes[start:start + CHUNK]):
                self.divisions[division.code] = division
        self.site_divisions = list(_site_divisions(self.user))

    def _is_reached(self, pk: int | None) -> bool:
        if pk is None or not self.vaccinates:
            return False
        if self._reached is None:
            from vaxops.access.scope import _reached

            self._reached = set(_reached(self.user).values_list("person_id", flat=True))
        return pk in self._reached

    # ---- rules

    def _parse(self, item: PersonItem) -> Any:
        """(resident, name, phone, groups, division code) or the first VaxopsError, as register_person."""
        from vaxops.registry.services import validate_id_number, validate_name, validate_phone

        try:
            resident = validate_id_number(item.id_number, today=self.today)
            name = self.names.get(item.name)
            if name is None:
                try:
                    name = self.names[item.name] = validate_name(item.name)
                except VaxopsError as exc:
                    name = self.names[item.name] = exc
            if isinstance(name, VaxopsError):
                raise VaxopsError(name.code, dict(name.detail))
            phone = validate_phone(item.phone)
        except VaxopsError as exc:
            return exc
        return resident, name, phone, list(dict.fromkeys(item.priority_groups or ())), item.division_code

    def _check_groups(self, wanted: list[str]) -> None:
        for code in wanted:
            if code not in self.known_groups:
                raise VaxopsError("unknown_priority_group", {
                    "priority_group": code[:40], "allowed": list(self.allowed_groups),
                })

    def _home(self, division_code: str | None) -> Any:
        hit = self.homes.get(division_code)
        if hit is None:
            try:
                hit = self.homes[division_code] = self._decide_home(division_code)
            except VaxopsError as exc:
                hit = self.homes[division_code] = exc
        if isinstance(hit, VaxopsError):
            raise VaxopsError(hit.code, dict(hit.detail))
        return hit

    def _decide_home(self, division_code: str | None) -> Any:
        """Where the person lives, precise enough to count coverage: a township or below.

        Coverage is counted by home division, so a province, prefecture or county is refused
        (``home_division_too_coarse``): the resident would be in no township's figures. The one
        exception is a desk registration, where site staff may give their own site's division
        (the traveller in front of them lives somewhere they cannot name). Without a division,
        site staff get their site's division when they work at one; everyone else must give one.
        Then the area: site staff register whoever comes to the desk (travellers included);
        everyone else registers residents of their own area only (``division_not_found``).
        """
        from vaxops.regions.models import Division, Level

        if division_code:
            division = self.divisions.get(division_code)
            if division is None:
                raise VaxopsError("division_not_found", {"division_code": division_code[:20]})
        else:
            if len(self.site_divisions) != 1:
                raise VaxopsError("home_division_too_coarse", {"division_code": None})
            division = self.site_divisions[0]
        if division.level < Level.TOWNSHIP and all(d.pk != division.pk for d in self.site_divisions):
            raise VaxopsError("home_division_too_coarse", {"division_code": division.code, "level": division.level})
        if not self.vaccinates and not admits(self.user, "person.add", Division, {"path": division.path}):
            raise VaxopsError("division_not_found", {"division_code": division.code})
        return division

    def _reaches(self, person: Any) -> bool:
        """Whether a second registration of ``person`` may say so (``person_exists`` with its id):
        a person outside the user's reach is ``person_registered_elsewhere`` with no id and no
        detail, so that registering cannot be used to find out who is who elsewhere (site staff
        then reach the traveller through the exact-ID look-up, which is audited)."""
        from vaxops.registry.models import Person

        row = {"home_division__path": person.home_division.path, "county_code": person.county_code}
        return admits(self.user, self.reach_action, Person, row) or self._is_reached(person.pk)

    def plan(self, items: list[PersonItem]) -> list[PersonOutcome]:
        from vaxops.registry.models import Person

        parsed = [self._parse(item) for item in items]
        self._load(parsed)
        outcomes: list[PersonOutcome] = []
        for index, entry in enumerate(parsed):
            if isinstance(entry, VaxopsError):
                outcomes.append(PersonOutcome(index, "rejected", error=entry))
                continue
            resident, name, phone, groups, division_code = entry
            try:
                self._check_groups(groups)
                known = self.known.get(resident.number)
                if known is not None:
                    outcomes.append(self._existing(index, known, name, phone, groups, division_code))
                    continue
                home = self._home(division_code)
            except VaxopsError as exc:
                outcomes.append(PersonOutcome(index, "rejected", error=exc))
                continue
            person = _new_person(
                Person, id_number=resident.number, name=name, phone=phone, birth_date=resident.birth_date,
                sex=resident.sex, home=home, groups=groups,
            )
            known = self.known[resident.number] = _Known(person, new=True)
            self.created.append(known)
            outcomes.append(PersonOutcome(index, "created", person=person))
        return outcomes

    def _existing(self, index: int, known: _Known, name: str, phone: str, groups: list[str],
                  division_code: str | None) -> PersonOutcome:
        person = known.person
        if not self._reaches(person):
            raise VaxopsError("person_registered_elsewhere")
        try:
            home, home_error = self._home(division_code), None
        except VaxopsError as exc:
            home, home_error = None, exc
        new = {"name": name, "phone": phone, "division_code": home.code if home else None, "priority_groups": groups}
        old = _content(person)
        changed = [f for f in UPDATABLE if new[f] != old[f]]
        if not changed:
            return PersonOutcome(index, "already_present", person=person)
        if not self.update:
            error = VaxopsError("person_exists", {"id": person.pk})
            if known.new:  # its id is known once the batch is written
                self.exists_new.append((error, person))
            raise error
        if home_error is not None:
            raise home_error
        from vaxops.registry.models import Person

        place = {"home_division__path": person.home_division.path, "county_code": person.county_code}
        if not admits(self.user, "person.add", Person, place):
            raise VaxopsError("person_not_found", {"id": person.pk})
        if known.updated is None and not known.new:
            known.updated = old
            self.changed.append(known)
        person.name, person.phone, person.priority_groups = name, phone, list(groups)
        person.home_division = home
        person.county_code = home.county_code
        return PersonOutcome(index, "updated", person=person, changed=changed)


def _content(person: Any) -> dict[str, Any]:
    return {"name": person.name, "phone": person.phone, "division_code": person.home_division.code,
            "priority_groups": list(person.priority_groups or [])}


def _new_person(model: type, *, id_number: str, name: str, phone: str, birth_date: dt.date, sex: str, home: Any,
                groups: list[str]) -> Any:
    """An unsaved Person without ``Model.__init__`` (a fifth of the cost at demo scale)."""
    person = model.__new__(model)
    state = ModelState()
    state.fields_cache = {"home_division": home}
    person.__dict__.update(
        _state=state, id=None, id_number=id_number, name=name, phone=phone, birth_date=birth_date, sex=sex,
        home_division_id=home.pk, county_code=home.county_code, priority_groups=groups, status="active",
        merged_into_id=None, created_at=None,
    )
    return person


# ---- writing


def _write(planner: _Planner, outcomes: list[PersonOutcome], *, acting_user: Any, source: str, single: bool) -> None:
    from vaxops.registry.services import person_as_dict

    now = timezone.now()
    created = [k.person for k in planner.created]
    if created:
        _insert_people(created, now)
        # Their rows of the work lists (outreach.duetable), in the same transaction.
        from vaxops.outreach.duetable import add_people

        add_people(created)
        for error, person in planner.exists_new:
            error.detail["id"] = person.pk
    for known in planner.changed:
        _update_person(known.person)
    if planner.changed:
        # A new home (or priority groups) moves the person's row of the work lists.
        from vaxops.outreach.duetable import refresh

        refresh([known.person.pk for known in planner.changed])
    for known in planner.changed:
        after = _content(known.person)
        before = known.updated or {}
        fields = [f for f in UPDATABLE if before.get(f) != after[f]]
        audit("person.update", known.person, actor=acting_user, source=source,
              before={f: before[f] for f in fields}, after={f: after[f] for f in fields},
              county_code=known.person.county_code)
    if single:
        if created:
            person = created[0]
            audit("person.register", person, actor=acting_user, source=source, after=person_as_dict(person),
                  county_code=person.county_code)
        return
    counts = {status: sum(o.status == status for o in outcomes)
              for status in ("created", "already_present", "updated", "rejected")}
    written = created + [k.person for k in planner.changed]
    counties = {p.county_code for p in written}
    after: dict[str, Any] = {"items": len(outcomes), **counts}
    if created:
        after["created_ids"] = [created[0].pk, created[-1].pk]  # consecutive, first and last
    event = AuditEvent(
        at=now, actor=acting_user if getattr(acting_user, "pk", None) else None, action="person.batch",
        object_type="registry.person", object_id=str(created[0].pk) if created else "", after=after,
        source=source, county_code=counties.pop() if len(counties) == 1 else "",
    )
    insert_row(event)


def _insert_people(people: list[Any], now: dt.datetime) -> None:
    """Insert the new persons with consecutive ids (COPY on PostgreSQL for many)."""
    vendor = connection.vendor
    ops = connection.ops
    with connection.cursor() as cursor:
        if vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence('registry_person', 'id')) FROM generate_series(1, %s)",
                [len(people)],
            )
            ids = sorted(row[0] for row in cursor.fetchall())
        else:
            ids = None
        jsons: dict[tuple[str, ...], str] = {}

        def groups_json(groups: list[str]) -> str:
            key = tuple(groups)
            value = jsons.get(key)
            if value is None:
                value = jsons[key] = json.dumps(groups)
            return value

        if vendor == "postgresql" and len(people) >= COPY_THRESHOLD:
            columns = ", ".join(_PERSON_COLUMNS)
            with cursor.cursor.copy(f"COPY registry_person ({columns}) FROM STDIN") as copy:
                for pk, p in zip(ids, people, strict=True):
                    copy.write_row((pk, p.id_number, p.name, p.phone, p.birth_date, p.sex, p.home_division_id,
                                    p.county_code, groups_json(p.priority_groups), "active", now))
        else:
            created_at = ops.adapt_datetimefield_value(now)
            sql = (f"INSERT INTO registry_person ({', '.join(_PERSON_COLUMNS)}) "
                   f"VALUES ({', '.join(['%s'] * len(_PERSON_COLUMNS))})")
            rows = []
            if ids is None:
                # SQLite: the transaction holds the write lock (IMMEDIATE), so the first row's
                # id decides the rest.
                first = people[0]
                cursor.execute(
                    sql.replace("(id, ", "(", 1).replace("VALUES (%s, ", "VALUES (", 1),
                    [first.id_number, first.name, first.phone, ops.adapt_datefield_value(first.birth_date),
                     first.sex, first.home_division_id, first.county_code, groups_json(first.priority_groups),
                     "active", created_at],
                )
                ids = list(range(cursor.lastrowid, cursor.lastrowid + len(people)))
                todo = list(zip(ids[1:], people[1:], strict=True))
            else:
                todo = list(zip(ids, people, strict=True))
            date = str if vendor == "sqlite" else ops.adapt_datefield_value
            as_json = groups_json if vendor == "sqlite" else (lambda groups: ops.adapt_json_value(groups, None))
            for pk, p in todo:
                rows.append((pk, p.id_number, p.name, p.phone, date(p.birth_date), p.sex, p.home_division_id,
                             p.county_code, as_json(p.priority_groups), "active", created_at))
            for start in range(0, len(rows), CHUNK):
                cursor.executemany(sql, rows[start:start + CHUNK])
    for pk, p in zip(ids, people, strict=True):
        p.__dict__["id"] = pk
        p.created_at = now
        p._state.adding = False
        p._state.db = "default"


def _update_person(person: Any) -> None:
    type(person).objects.filter(pk=person.pk).update(
        name=person.name, phone=person.phone, home_division=person.home_division_id,
        county_code=person.county_code, priority_groups=list(person.priority_groups),
    )


__all__ = ["UPDATABLE", "PersonItem", "PersonOutcome", "register_people"]
