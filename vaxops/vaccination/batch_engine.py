"""The engine of ``batch.record_doses``: checks in memory, one read per batch, decisions in order.

Every rule is the one ``record_dose`` always applied, in the same order (so a batch of one
answers exactly what a single dose did, error for error): the item's own fields first (client
UUID, time with offset, campaign start and future, retrospective permission and reason, the
site within the user's area, product known and approved, lot usable that day, for a dose given
today that is not a retrospective entry an open session of the site: ``session_not_open``), then under the
persons' row locks the person (within the area; for a retrospective entry a county command
reaches its residents), a replay of a submission already recorded, the person's status, a dose
of the series already given that day, eligibility (with a site manager's override), the dose
number sent, and last the stock: one dose of the lot from the site's store
(``supply.dosestock``: ``lot_not_at_site``, ``stock_on_hold``, ``insufficient_stock``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from django.db import connection, transaction
from django.utils.encoding import force_str

from vaxops.access.scope import admits, can, check_scoped
from vaxops.access.services import user_still_active
from vaxops.campaign.services import TZ
from vaxops.catalog import rules
from vaxops.core.errors import VaxopsError
from vaxops.outreach.duetable import after_doses
from vaxops.regions.models import Division, age_band
from vaxops.registry.models import Deferral, Person, PersonStatus
from vaxops.sites.models import Site
from vaxops.supply.dosestock import FOLD_MAX, DoseStock, stock_columns
from vaxops.supply.models import Lot, LotStatus
from vaxops.vaccination import services as sv
from vaxops.vaccination.batch import DoseItem, DoseOutcome
from vaxops.vaccination.batch_write import COPY_MIN, write_batch
from vaxops.vaccination.models import DoseKind, DoseRecord, DoseStatus

_PRIORITY_GROUPS = Person._meta.get_field("priority_groups")
_PERSONS, _DIVISIONS, _DEFERRALS = Person._meta.db_table, Division._meta.db_table, Deferral._meta.db_table
_DOSES, _LOTS = DoseRecord._meta.db_table, Lot._meta.db_table
_new_record = DoseRecord.__new__
# CPU seconds of this process per phase, summed over all batches (read by bench/bench_ingest.py).
TIMINGS: dict[str, float] = {}
_ModelState = type(DoseRecord()._state)


class _Work:
    """One item on its way through the checks."""

    __slots__ = ("index", "item", "key", "error", "replayable", "retro", "action", "site", "product", "on",
                 "lot", "stored_retro", "person_id", "session_id")

    def __init__(self, index: int, item: DoseItem) -> None:
        self.index, self.item = index, item
        self.key: uuid.UUID | None = None
        self.error: VaxopsError | None = None
        self.replayable = False  # a refusal of the item's own fields is answered by a replay
        self.lot = None
        self.session_id = None


class _Past:
    """A valid dose of a person, read or accepted earlier in the batch (``record`` unsaved)."""

    __slots__ = ("pk", "product_code", "dose_number", "kind", "administered_at", "series", "given_on", "record")

    def __init__(self, pk, product_code, dose_number, kind, administered_at, series, record=None, on=None) -> None:
        self.pk, self.product_code, self.dose_number, self.kind = pk, product_code, dose_number, kind
        self.administered_at, self.series, self.record = administered_at, series, record
        self.given_on = on or administered_at.astimezone(TZ).date()


class _Person:
    __slots__ = ("pk", "birth_date", "status", "groups", "county_code", "path", "home_id", "deferred", "id_number",
                 "admitted", "loaded")

    def __init__(self, row, decoded: dict) -> None:
        (self.pk, self.birth_date, self.status, groups, self.county_code, self.path, self.home_id,
         self.id_number, deferred) = row
        # Decoded once per distinct stored value in the batch (read only: copied for a model).
        key = groups if isinstance(groups, str) else None
        hit = decoded.get(key) if key is not None else None
        if hit is None:
            hit = _PRIORITY_GROUPS.from_db_value(groups, None, connection)
            if key is not None:
                decoded[key] = hit
        self.groups = hit
        self.deferred = bool(deferred)
        self.admitted: dict[bool, bool] = {}
        self.loaded = None


def _in(column: str, values: list, sqlite: bool) -> tuple[str, list]:
    """``column IN values`` as one parameter (a JSON array on SQLite, an array on PostgreSQL)."""
    if len(values) == 1:
        return f"{column} = %s", values
    if sqlite:
        return f"{column} IN (SELECT value FROM json_each(%s))", [json.dumps(values)]
    return f"{column} = ANY(%s)", [values]


class Batch:
    def __init__(self, items: Sequence[DoseItem], *, acting_user: Any, source: str, now: dt.datetime,
                 lock_stock_early: bool = False, within: Callable[[list[DoseOutcome]], None] | None = None) -> None:
        self.items, self.user, self.source, self.now = items, acting_user, source, now
        self.lock_stock_early = lock_stock_early
        self.within = within
        self.sqlite = connection.vendor == "sqlite"
        self.window = sv.retrospective_window()
        self.start = sv.campaign_start()
        self.authenticated = getattr(acting_user, "is_authenticated", False)
        self._can: dict[str, bool] = {}
        self._sites: dict[tuple[str, str], tuple[Site | None, VaxopsError | None]] = {}
        self._verdicts: dict[tuple, Any] = {}
        self._open: dict[tuple, bool] = {}
        self._areas: dict[tuple, bool] = {}
        self.outcomes: list[DoseOutcome] = []
        # Error details naming a dose accepted earlier in the batch: its id once written.
        self.fixups: list[tuple[dict, str, DoseRecord]] = []

    # --- the item's own fields ------------------------------------------------------------

    def can(self, action: str) -> bool:
        hit = self._can.get(action)
        if hit is None:
            hit = self._can[action] = can(self.user, action)
        return hit

    def _site(self, code: str, action: str) -> Site:
        hit = self._sites.get((code, action))
        if hit is None:
            site = sv.cached_site(code)
            try:
                check_scoped(
                    self.user, action, Site,
                    None if site is None else {"pk": site.pk, "division__path": site.division.path},
                    not_found="site_not_found", detail={"site_code": code},
                )
                hit = (site, None)
            except VaxopsError as exc:
                hit = (None, exc)
            self._sites[(code, action)] = hit
        if hit[1] is not None:
            raise VaxopsError(hit[1].code, dict(hit[1].detail))
        return hit[0]

    def precheck(self, w: _Work, products: dict) -> None:
        item = w.item
        key = item.client_uuid
        if not isinstance(key, uuid.UUID):
            try:
                key = uuid.UUID(str(key))
            except ValueError:
                w.error = VaxopsError("invalid_request", {"field": "client_uuid"})
                return
        w.key = key
        at = item.administered_at
        if not isinstance(at, dt.datetime) or at.utcoffset() is None:
            w.error = VaxopsError("invalid_datetime", {"field": "administered_at"})
            return
        w.replayable = self.authenticated
        try:
            if at < self.start or at > self.now + sv.CLOCK_SKEW:
                sv._check_administered_at(at, self.now)  # raises the right error
            retro = w.retro = self.now - at > self.window
            action = w.action = "dose.retrospective" if retro else "dose.add"
            if not self.can(action):
                if retro and self.can("dose.add"):
                    raise VaxopsError(
                        "retrospective_not_allowed",
                        {"hours": self.window.total_seconds() / 3600, "administered_at": at.isoformat()},
                    )
                sv.require(self.user, action)
            on = w.on = at.astimezone(TZ).date()
            w.site = self._site(item.site_code, action)
            w.stored_retro = (item.retrospective_reason or "").strip() if retro else ""
            if retro and not w.stored_retro:
                raise VaxopsError("retrospective_reason_required")
            product = w.product = products.get(item.product_code)
            if product is None:
                raise VaxopsError("product_not_found", {"product": item.product_code})
            approved_on = product.rule.approved_on
            if approved_on is not None and on < approved_on:
                raise VaxopsError(
                    "product_not_yet_approved",
                    {"product": product.code, "product_name": product.name, "approved_on": approved_on.isoformat(),
                     "day": on.isoformat()},
                )
        except VaxopsError as exc:
            w.error = exc
        except OverflowError:  # a time at the very edge of the calendar
            try:
                sv._check_administered_at(at, self.now)
            except VaxopsError as exc:
                w.error = exc

    # --- the reads ---------------------------------------------------------------------------

    def read_lots(self, works: list[_Work]) -> None:
        numbers = sorted({w.item.lot_number for w in works})
        self.stock_read = None  # the site's store and balance of each lot, read with it (dosestock)
        if not numbers:
            return
        clause, params = _in("l.lot_number", numbers, self.sqlite)
        sites = sorted({w.site.pk for w in works})
        columns = joins = ""
        if len(sites) * len(numbers) <= FOLD_MAX:
            site_clause, more = _in("s.site_id", sites, self.sqlite)
            columns, joins = stock_columns("l", site_clause)
            params = [*more, *params]
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT l.id, l.product_id, l.expiry_date, l.status, l.lot_number, l.doses_per_vial{columns} "
                f"FROM {_LOTS} l{joins} WHERE {clause} ORDER BY l.id",
                params,
            )
            rows = cursor.fetchall()
        if columns:
            self.stock_read = [(r[0], *r[6:]) for r in rows]
        by_number: dict[str, list] = {}
        for row in rows:
            by_number.setdefault(row[4], []).append(row)
        decided: dict[tuple, Any] = {}
        for w in works:
            hit = decided.get((w.product.pk, w.item.lot_number, w.on))
            if hit is None:
                hit = decided[(w.product.pk, w.item.lot_number, w.on)] = self._lot(
                    w.product, w.item.lot_number, w.on, by_number.get(w.item.lot_number, [])
                )
            if isinstance(hit, VaxopsError):
                w.error = VaxopsError(hit.code, dict(hit.detail))
            else:
                w.lot = hit

    def read_sessions(self, works: list[_Work]) -> None:
        """The session of each dose (docs/sessions.md): a dose given today (the day of the batch's
        ``now`` in the campaign's zone) that is not a retrospective entry needs an open session of
        its site today (``session_not_open``) and belongs to it; a dose of another day belongs to
        its site's session of that day when there is one. One read for the batch (cached)."""
        if not works:
            return
        today = self.now.astimezone(TZ).date()
        days = sv._day_sessions({(w.site.pk, w.on) for w in works}, today)
        pick = sv._pick_session
        for w in works:
            rows = days[(w.site.pk, w.on)]
            live = w.on == today and not w.retro
            if not rows and not live:
                continue
            session_id = pick(rows, w.item.administered_at, open_only=live)
            if session_id is None:
                w.error = VaxopsError("session_not_open", {"site_code": w.site.code, "site_name": w.site.name,
                                                           "day": today.isoformat()})
            w.session_id = session_id

    @staticmethod
    def _lot(product, lot_number: str, on: dt.date, rows: list):
        """What ``services.usable_lot`` decides, from the rows already read."""
        row = next((r for r in rows if r[1] == product.pk), None)
        if row is None:
            if rows:
                return VaxopsError(
                    "lot_wrong_product",
                    {"lot_number": lot_number, "lot_product": sv._product_by_id(rows[0][1]).code,
                     "product": product.code},
                )
            return VaxopsError("lot_not_found", {"lot_number": lot_number})
        if row[3] == LotStatus.QUARANTINED:
            return VaxopsError("lot_quarantined", {"lot_number": lot_number})
        if row[3] == LotStatus.RECALLED:
            return VaxopsError("lot_recalled", {"lot_number": lot_number})
        if row[2] < on:
            return VaxopsError("lot_expired", {"lot_number": lot_number, "expiry_date": row[2].isoformat()})
        lot = sv._loaded(
            Lot, {"id": row[0], "product_id": row[1], "lot_number": lot_number, "expiry_date": row[2], "status": row[3],
                  "doses_per_vial": row[5]},
        )
        lot.product = product
        return lot

    def read_persons(self, works: list[_Work]) -> tuple[dict[int, _Person], dict[str, _Person]]:
        ids = sorted({w.item.person_id for w in works if w.item.person_id is not None})
        numbers = sorted({(w.item.id_number or "").strip().upper() for w in works if w.item.person_id is None})
        if not ids and not numbers:
            return {}, {}
        clauses, params = [], []
        for column, values in (("p.id", ids), ("p.id_number", numbers)):
            if values:
                clause, more = _in(column, values, self.sqlite)
                clauses.append(clause)
                params += more
        sql = (
            f"SELECT p.id, p.birth_date, p.status, p.priority_groups, p.county_code, d.path, p.home_division_id, "
            f"p.id_number, EXISTS (SELECT 1 FROM {_DEFERRALS} x WHERE x.person_id = p.id AND x.lifted_at IS NULL) "
            f"FROM {_PERSONS} p JOIN {_DIVISIONS} d ON d.id = p.home_division_id WHERE {' OR '.join(clauses)}"
        )
        if connection.features.has_select_for_update_of:
            # In id order: concurrent batches lock their persons one after the other, never crosswise.
            sql += " ORDER BY p.id FOR UPDATE OF p"
        elif connection.features.has_select_for_update:
            sql += " ORDER BY p.id FOR UPDATE"
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        decoded: dict[str, Any] = {}
        by_id = {row[0]: _Person(row, decoded) for row in rows}
        return by_id, {p.id_number: p for p in by_id.values()}

    def read_history(self, person_ids: list[int], keys: list[uuid.UUID]) -> tuple[dict[int, list[_Past]], set]:
        """The persons' valid doses (oldest first) and which of ``keys`` are already recorded."""
        clauses, params = [], []
        if person_ids:
            clause, more = _in("person_id", person_ids, self.sqlite)
            clauses.append(f"({clause} AND status = %s)")
            params += [*more, DoseStatus.VALID]
        if keys:
            # UUIDField.get_db_prep_value of a UUID: itself where the engine has the type, else its hex.
            prep = keys if connection.features.has_native_uuid_field else [k.hex for k in keys]
            clause, more = _in("client_uuid", prep, self.sqlite)
            clauses.append(clause)
            params += more
        history: dict[int, list[_Past]] = {pk: [] for pk in person_ids}
        if not clauses:
            return history, set()
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id, person_id, product_id, series, dose_number, kind, administered_at, status, client_uuid "
                f"FROM {_DOSES} WHERE {' OR '.join(clauses)} ORDER BY administered_at, id",
                params,
            )
            rows = cursor.fetchall()
        wanted = set(keys)
        seen = set()
        for pk, owner, product_id, series, number, kind, at, status, key in rows:
            if status == DoseStatus.VALID and owner in history:
                history[owner].append(_Past(pk, sv._product_by_id(product_id).code, number, kind, sv._aware(at), series))
            key = key if isinstance(key, uuid.UUID) else uuid.UUID(key)
            if key in wanted:
                seen.add(key)
        return history, seen

    def read_deferrals(self, person_ids: list[int]) -> dict[int, list[tuple]]:
        out: dict[int, list[tuple]] = {}
        if not person_ids:
            return out
        clause, params = _in("person_id", person_ids, self.sqlite)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT person_id, code, since, until FROM {_DEFERRALS} WHERE {clause} AND lifted_at IS NULL "
                "ORDER BY id",
                params,
            )
            for person_id, code, since, until in cursor.fetchall():
                out.setdefault(person_id, []).append((code, since, until))
        return out

    # --- deciding ----------------------------------------------------------------------------

    def admitted(self, person: _Person, retro: bool) -> bool:
        """Whether the user may reach the person (``person.vaccinate``, or for a retrospective entry
        ``dose.retrospective``: a county command reaches its residents). The area part depends only on the home
        path and county, so it is decided once per home in the batch; only a person outside the
        area is asked about one by one (a reach by exact ID number, ``access.scope``)."""
        hit = person.admitted.get(retro)
        if hit is None:
            area = self._areas.get((person.path, person.county_code, retro))
            if area is None:
                place = {"home_division__path": person.path, "county_code": person.county_code}
                area = self._areas[(person.path, person.county_code, retro)] = admits(
                    self.user, "person.vaccinate", Person, place
                ) or (retro and admits(self.user, "dose.retrospective", Person, place))
            if area:
                hit = True
            else:
                place = {"pk": person.pk, "home_division__path": person.path, "county_code": person.county_code}
                hit = admits(self.user, "person.vaccinate", Person, place) or (
                    retro and admits(self.user, "dose.retrospective", Person, place)
                )
            person.admitted[retro] = hit
        return hit

    def verdict(self, person: _Person, product, on: dt.date, history: list[_Past], deferrals: list[tuple]):
        if history:
            prior = tuple(
                rules.PriorDose(product_code=d.product_code, dose_number=d.dose_number, kind=d.kind,
                                given_on=d.given_on, series=d.series)
                for d in history if d.series == product.series
            )
            others = tuple(rules.OtherVaccination(given_on=d.given_on, exempt=False)
                           for d in history if d.series != product.series)
        else:  # a first dose: what the expressions above give for no history
            prior = others = ()
        active = tuple(
            rules.ActiveDeferral(code=code, until=until)
            for code, since, until in deferrals if since <= on and (until is None or until >= on)
        ) if deferrals else ()
        # The verdict is a pure function of these inputs (catalog.rules): asked once per batch.
        birth = person.birth_date
        key = (product.code, on, birth, prior, others, active)
        hit = self._verdicts.get(key)
        if hit is None:
            # A primary dose's verdict depends on the birth date only through the age, when an age
            # band in force covers it (rules.age_band_open): shared between people of that age.
            age = on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))
            open_key = (product.code, on, age)
            open_ = self._open.get(open_key)
            if open_ is None:
                open_ = self._open[open_key] = rules.age_band_open(product.rule, on, age)
            by_age = (product.code, on, "age", age, prior, others, active) if open_ else None
            if by_age is not None:
                hit = self._verdicts.get(by_age)
            if hit is None:
                catalog = sv._load_catalog()
                hit = rules.assess(
                    product=product.rule, on=on, birth_date=birth, history=prior,
                    products=catalog.rule_of, other_vaccinations=others, deferrals=active,
                )
                if by_age is not None and hit.kind == "primary":
                    self._verdicts[by_age] = hit
            self._verdicts[key] = hit
        return hit

    def run(self, *, atomic: bool, dry_run: bool) -> list[DoseOutcome]:
        clock = time.process_time
        t0 = clock()
        works = [_Work(i, item) for i, item in enumerate(self.items)]
        products = sv.catalog_products()
        for w in works:
            self.precheck(w, products)
        # Lots are read before the persons' locks are taken, as a single dose always did.
        self.read_lots([w for w in works if w.error is None])
        # Then the sessions: today's live doses need their site's session open.
        self.read_sessions([w for w in works if w.error is None])
        alive = [w for w in works if w.error is None]
        # The stores of the batch's sites, read with the lots (a hold, like a lot's status, is
        # never cached).
        stores = DoseStock(((w.site, w.lot) for w in alive), self.stock_read) if alive else None
        t1 = clock()
        if not alive:  # every item refused on its own fields: only replays are left to find
            existing = self._existing({w.key for w in works if w.replayable})
            self.decide(works, {}, {}, {}, existing, {}, None)
            if self.within is not None and not dry_run and any(o.written for o in self.outcomes):
                with transaction.atomic(durable=True):
                    self.within(self.outcomes)
            return self.outcomes
        with transaction.atomic(durable=True):
            by_id, by_number = self.read_persons(alive)
            # The balances of the batch's (store, lot) pairs, locked once, in order, right after
            # the persons (the same order everywhere); a batch of single-dose lots decides on the
            # balances read with its lots and moves them in ``confirm``.
            stock = self.stock = stores.lock(early=self.lock_stock_early)
            keys = list(dict.fromkeys(w.key for w in works if w.key is not None))
            history, seen = self.read_history(sorted(by_id), keys)
            existing = self._existing(seen)
            deferrals = self.read_deferrals(sorted(p.pk for p in by_id.values() if p.deferred))
            t2 = clock()
            records, paths, fixups = self.decide(works, by_id, by_number, history, existing, deferrals, stock)
            self.people, self.history = by_id, history
            # Balances read without a lock: moved now, in one conditional statement, or StockMoved.
            stock.confirm(user=self.user, dry_run=dry_run or (atomic and any(o.status == "rejected"
                                                                           for o in self.outcomes)))
            t3 = clock()
            refused = atomic and any(o.status == "rejected" for o in self.outcomes)
            if records and not dry_run and not refused:
                self.write(records, paths, fixups)
            if self.within is not None and not dry_run and not refused:
                self.within(self.outcomes)  # the caller's own writes, in the batch's transaction
            t4 = clock()
        t5 = clock()
        for name, seconds in (("check", t1 - t0), ("read", t2 - t1), ("decide", t3 - t2), ("write", t4 - t3),
                              ("commit", t5 - t4)):
            TIMINGS[name] = TIMINGS.get(name, 0.0) + seconds
        return self.outcomes

    def _existing(self, seen: set) -> dict[uuid.UUID, DoseRecord]:
        if not seen:
            return {}
        return {
            d.client_uuid: d
            for d in DoseRecord.objects.filter(client_uuid__in=seen)
            .select_related("product", "lot", "site__division", "vaccinator")
        }

    def _replayed(self, w: _Work, existing: DoseRecord, fingerprint: str) -> DoseOutcome:
        try:
            record, _ = sv._replay(existing, fingerprint, self.user)
        except VaxopsError as exc:
            if existing.pk is None and "id" in exc.detail:  # accepted earlier in this batch
                self.fixups.append((exc.detail, "id", existing))
            return DoseOutcome(w.index, w.key, "rejected", error=exc)
        return DoseOutcome(w.index, w.key, "replayed", record=record, written=existing.pk is not None)

    def _fingerprint_of(self, w: _Work, person_id: int | None) -> str:
        item = w.item
        if person_id is None:  # named by ID number and refused before the person was read
            person_id = Person.objects.filter(id_number=(item.id_number or "").strip().upper()).values_list(
                "pk", flat=True).first() or 0
        return sv._fingerprint_or_none(person_id, item.product_code, item.lot_number, item.site_code,
                                       item.administered_at)

    def decide(self, works, by_id, by_number, history, existing, deferrals, stock):
        user, now, out = self.user, self.now, self.outcomes
        pending: dict[uuid.UUID, DoseRecord] = {}
        records: list[DoseRecord] = []
        paths: list[tuple[str, str]] = []
        fixups: list[tuple[dict, str, DoseRecord]] = self.fixups
        self.audits: list[dict | None] = []
        days: list[dt.date] = []  # each record's day in the campaign's zone
        self.days = days
        small = len(works) < COPY_MIN
        primary, user_id = DoseKind.PRIMARY, user.pk
        utc, sha256 = dt.UTC, hashlib.sha256
        site_paths: dict[int, str] = {}
        for w in works:
            item = w.item
            if w.error is not None:
                known = (pending.get(w.key) or existing.get(w.key)) if w.replayable else None
                if known is not None:
                    person_id = item.person_id if item.person_id is not None else None
                    out.append(self._replayed(w, known, self._fingerprint_of(w, person_id)))
                else:
                    out.append(DoseOutcome(w.index, w.key, "rejected", error=w.error))
                continue
            if item.person_id is not None:
                person = by_id.get(item.person_id)
            else:
                person = by_number.get((item.id_number or "").strip().upper())
            if person is None or not self.admitted(person, w.retro):
                detail = {"person_id": item.person_id} if item.person_id is not None else {"id_number": item.id_number}
                out.append(DoseOutcome(w.index, w.key, "rejected", error=VaxopsError("person_not_found", detail)))
                continue
            product, on, site, lot = w.product, w.on, w.site, w.lot
            # sv._fingerprint, inlined
            at_utc = item.administered_at.astimezone(utc).isoformat()
            fingerprint = sha256(
                f"{person.pk}|{item.product_code}|{item.lot_number}|{item.site_code}|{at_utc}".encode()
            ).hexdigest()
            known = pending.get(w.key) or existing.get(w.key)
            if known is not None:
                out.append(self._replayed(w, known, fingerprint))
                continue
            try:
                if person.status != PersonStatus.ACTIVE:
                    raise VaxopsError("person_inactive", {"status": force_str(PersonStatus(person.status).label)})
                past = history.setdefault(person.pk, [])
                if past:
                    series_history = [d for d in past if d.series == product.series]
                    same_day = next((d for d in series_history if d.given_on == on), None)
                else:  # no dose yet: nothing of the series, nothing that day
                    series_history, same_day = past, None
                if same_day is not None:
                    detail = {"id": same_day.pk, "dose_number": same_day.dose_number}
                    if same_day.record is not None:
                        fixups.append((detail, "id", same_day.record))
                    raise VaxopsError("dose_already_recorded", detail)
                verdict = self.verdict(person, product, on, past, deferrals.get(person.pk, ()))
                number = verdict.dose_number or (len(series_history) + 1)
                if item.dose_number is not None and item.dose_number != number:
                    taken = next((d for d in series_history if d.dose_number == item.dose_number), None)
                    if taken is not None:
                        detail = {"id": taken.pk, "dose_number": item.dose_number}
                        if taken.record is not None:
                            fixups.append((detail, "id", taken.record))
                        raise VaxopsError("dose_already_recorded", detail)
                    raise VaxopsError("dose_number_mismatch", {"expected": number, "sent": item.dose_number})
                stored_reason = sv._check_verdict(verdict, override_reason=item.override_reason, acting_user=user)
                if series_history and any(d.dose_number == number for d in series_history):
                    # What the unique index (one valid dose N per person and series) would refuse,
                    # answered as record_dose answers losing that race.
                    taken = max(series_history, key=lambda d: d.dose_number)
                    detail = {"id": taken.pk, "dose_number": taken.dose_number}
                    if taken.record is not None:
                        fixups.append((detail, "id", taken.record))
                    raise VaxopsError("dose_already_recorded", detail)
                # Last: only a dose that will be given takes stock (a replay never does).
                refusal = stock.take(site, lot, product, item.administered_at)
                if refusal is not None:
                    raise refusal
            except VaxopsError as exc:
                out.append(DoseOutcome(w.index, w.key, "rejected", error=exc))
                continue
            kind = verdict.kind or primary
            birth = person.birth_date
            age = on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))
            dose = _new_record(DoseRecord)
            dose.__dict__.update(
                id=None, person_id=person.pk, product_id=product.id, lot_id=lot.id, series=product.series,
                dose_number=number, kind=kind,
                completes_series=kind == primary and number >= product.doses_in_series,
                overdue=bool(verdict.overdue), site_id=site.id, session_id=w.session_id, division_id=site.division_id,
                county_code=site.county_code, vaccinator_id=user_id, administered_at=item.administered_at,
                age_band=age_band(age), priority_group=person.groups[0] if person.groups else "",
                client_uuid=w.key, fingerprint=fingerprint, override_reason=stored_reason,
                override_codes=sorted(r.code for r in verdict.reasons) if stored_reason else [],
                residence_division_id=person.home_id, recorded_at=now, retrospective=w.retro,
                retrospective_reason=w.stored_retro, status=DoseStatus.VALID, void_reason="", voided_at=None,
                voided_by_id=None, created_at=None,
            )
            state = dose._state = _ModelState()
            state.fields_cache = {"product": product, "lot": lot, "site": site, "vaccinator": user}
            if small:
                state.fields_cache["person"] = self._loaded_person(person)
            records.append(dose)
            days.append(on)
            site_path = site_paths.get(site.id)
            if site_path is None:
                site_path = site_paths[site.id] = site.division.path
            paths.append((site_path, person.path))
            self.audits.append(
                {"person": person.pk, "product": product.code, "lot": lot.lot_number, "dose_number": number,
                 "kind": kind, "site": site.code, "administered_at": item.administered_at.isoformat(),
                 "override_reason": stored_reason,
                 "reasons_overridden": sv._reasons(verdict) if stored_reason else [],
                 "retrospective": w.retro, "retrospective_reason": w.stored_retro}
                if small or stored_reason or w.retro else None
            )
            pending[w.key] = dose
            past.append(_Past(None, product.code, number, kind, item.administered_at, product.series, dose, on))
            if len(past) > 1 and past[-2].administered_at > item.administered_at:
                past.sort(key=lambda d: d.administered_at)  # stable: equal times keep insertion order
            out.append(DoseOutcome(w.index, w.key, "created", record=dose))
        return records, paths, fixups

    @staticmethod
    def _loaded_person(person: _Person) -> Person:
        if person.loaded is None:
            loaded = sv._loaded(
                Person, {"id": person.pk, "birth_date": person.birth_date, "status": person.status,
                         "priority_groups": list(person.groups) if isinstance(person.groups, list) else person.groups,
                         "county_code": person.county_code,
                         "home_division_id": person.home_id},
            )
            loaded.may_have_deferrals = person.deferred
            loaded.home_path = person.path
            person.loaded = loaded
        return person.loaded

    def write(self, records: list[DoseRecord], paths: list, fixups: list) -> None:
        days = self.days
        single = self.audits[0] if len(self.items) == 1 else None
        batch_audit = None
        if single is None:
            counts = {"created": 0, "replayed": 0, "rejected": 0}
            for o in self.outcomes:
                counts[o.status] += 1
            batch_audit = {
                "rows": len(records), "items": len(self.items), **counts,
                "overrides": [
                    {"client_uuid": str(d.client_uuid), "person": d.person_id, "reason": a["override_reason"],
                     "reasons_overridden": [r["code"] for r in a["reasons_overridden"]]}
                    for d, a in zip(records, self.audits, strict=True) if a is not None and a["override_reason"]
                ],
                "retrospective": [
                    {"client_uuid": str(d.client_uuid), "person": d.person_id, "reason": a["retrospective_reason"]}
                    for d, a in zip(records, self.audits, strict=True) if a is not None and a["retrospective"]
                ],
            }
        write_batch(records, paths=paths, acting_user=self.user, source=self.source,
                    single_audit=single, batch_audit=batch_audit, days=days)
        self.stock.write(user=self.user, records=records)
        # The work lists' due rows of the batch's people (outreach.duetable): one upsert per
        # batch, from the histories already read and the doses just decided.
        people = self.people
        after_doses((people[pk], self.history[pk]) for pk in dict.fromkeys(d.person_id for d in records))
        for detail, field, record in fixups:
            detail[field] = record.pk
        for o in self.outcomes:
            if o.status == "created" or (o.status == "replayed" and o.record is not None):
                o.written = True

    def lost_race(self) -> list[DoseOutcome]:
        """After the last attempt still lost a race: each dose that would have been created is
        answered as ``record_dose`` answers a lost race."""
        active = user_still_active(self.user)
        for o in self.outcomes:
            if o.status != "created":
                continue
            existing = sv._submitted(o.client_uuid)
            if existing is not None:
                try:
                    o.record, _ = sv._replay(existing, o.record.fingerprint, self.user)
                    o.status, o.written = "replayed", True
                except VaxopsError as exc:
                    o.status, o.record, o.error = "rejected", None, exc
                continue
            if not active:
                o.status, o.record, o.error = "rejected", None, VaxopsError("not_authenticated")
                continue
            taken = DoseRecord.objects.filter(
                person_id=o.record.person_id, series=o.record.series, status=DoseStatus.VALID
            ).order_by("-dose_number").first()
            o.status, o.record = "rejected", None
            o.error = VaxopsError(
                "dose_already_recorded", {"id": taken.pk if taken else None, "dose_number": taken and taken.dose_number}
            )
        return self.outcomes
