"""Allocation proposals from live data, reviewed and approved into dispatched transfers.

``propose_allocation`` reads, for each child store of the sending store, what the pure engine
in ``vaxops.planning.allocation`` needs (``live_inputs``): people still to vaccinate, second
doses falling due, usable stock on hand, capacity from planned sessions and a weight from
``data/allocation_weights.json``; it runs the engine and keeps the proposal with its inputs.
``approve_allocation`` turns a proposal into one dispatched transfer per child, lots chosen
earliest expiry first (疫苗储存和运输管理规范 2017, Art. 18), in one durable transaction.
See docs/supply.md, "Allocation and dispatch", and docs/allocation.md.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from functools import cache, reduce
from operator import or_
from pathlib import Path
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from vaxops.access.scope import get_scoped, require
from vaxops.catalog.models import Product
from vaxops.core.audit import audit
from vaxops.core.errors import VaxopsError
from vaxops.core.formats import format_percent
from vaxops.planning.allocation import AllocationError, allocate, parse_problem
from vaxops.registry.models import Person, PersonStatus
from vaxops.sites.models import Session, SessionKind, Site, SiteKind
from vaxops.supply import ledger
from vaxops.supply.models import (
    Allocation,
    AllocationLine,
    AllocationStatus,
    Lot,
    LotStatus,
    StockBalance,
    Store,
    Transfer,
)

WEIGHTS_PATH = Path(__file__).resolve().parent / "data" / "allocation_weights.json"
MAX_HORIZON_DAYS = 90
# The transfers of one allocation get client UUIDs derived from it: a second approval, from any
# process, cannot create them twice (Transfer.client_uuid is unique).
_TRANSFER_NAMESPACE = uuid.UUID("5d0c3f52-8f3e-4d55-9a3e-6a1c0e2b7a11")


# -- weights -------------------------------------------------------------------------------


@cache
def weight_rules() -> tuple[float, dict[str, float]]:
    """(default weight, {rule code: weight}) from ``data/allocation_weights.json`` (read once
    per process: it changes with a deployment, not at run time)."""
    raw = json.loads(WEIGHTS_PATH.read_text(encoding="utf-8"))
    return float(raw["default"]), {r["code"]: float(r["weight"]) for r in raw["rules"]}


def weight_of(reasons: Iterable[str]) -> float:
    """The weight of a child matching the rules ``reasons`` (the largest; the default if none)."""
    default, rules = weight_rules()
    return max([default, *(rules[r] for r in reasons if r in rules)])


# -- live inputs ---------------------------------------------------------------------------


@dataclass
class ChildInputs:
    """What the engine is told about one child store, and where each figure came from."""

    store_id: int
    code: str
    area_path: str
    """The division whose residents the child serves (a site store: its site's division)."""
    first_dose_demand: int = 0
    second_dose_due: dict[str, int] = field(default_factory=dict)
    stock_on_hand: dict[str, int] = field(default_factory=dict)
    capacity: int | None = None
    """Doses it can give in the horizon; ``None``: no sessions and no default, not a limit."""
    capacity_source: str = "none"  # "sessions", "default" or "none"
    planned_sessions: int = 0
    weight: float = 1.0
    weight_reasons: list[str] = field(default_factory=list)

    def engine_capacity(self) -> int:
        if self.capacity is not None:
            return self.capacity
        return self.first_dose_demand + sum(self.second_dose_due.values())


@dataclass
class LiveInputs:
    today: dt.date
    horizon_end: dt.date
    series: list[str]
    children: list[ChildInputs]
    residents_outside_children: int = 0


@dataclass
class _StoreNode:
    pk: int
    code: str
    parent_id: int | None
    site_id: int | None
    division_path: str
    on_hold: bool


def _subtrees(children: list[Store]) -> dict[int, int]:
    """store id → the child store it lies under (the child itself included), active stores only."""
    nodes = {
        pk: _StoreNode(pk, code, parent, site, path, hold)
        for pk, code, parent, site, path, hold in Store.objects.filter(is_active=True).values_list(
            "pk", "code", "parent_id", "site_id", "division__path", "on_hold")
    }
    below: dict[int | None, list[int]] = defaultdict(list)
    for node in nodes.values():
        below[node.parent_id].append(node.pk)
    owner: dict[int, int] = {}
    for child in children:
        stack = [child.pk]
        while stack:
            pk = stack.pop()
            if pk in owner:  # a cycle in bad data must not loop forever
                continue
            owner[pk] = child.pk
            stack.extend(below.get(pk, ()))
    return owner


def _birth_date_limit(today: dt.date, years: int) -> dt.date:
    """The latest birth date of someone aged at least ``years`` on ``today``."""
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return dt.date(today.year - years, 2, 28)


def age_filter(products: Iterable[Product], today: dt.date) -> Q:
    """People in an age range some product's age rule in force on ``today`` allows."""
    bands: list[Q] = []
    for product in products:
        for rule in product.rule.age_rules:
            if rule.effective_from is not None and rule.effective_from > today:
                continue
            q = Q(birth_date__lte=_birth_date_limit(today, rule.min_age_years))
            if rule.max_age_years is not None:
                q &= Q(birth_date__gt=_birth_date_limit(today, rule.max_age_years + 1))
            bands.append(q)
    return reduce(or_, bands) if bands else Q(pk__in=[])


def _nearest(path: str, areas: dict[str, list[int]]) -> list[int]:
    """The children whose area is the deepest division above (or at) ``path``."""
    parts = path.rstrip("/").split("/")
    for n in range(len(parts), 0, -1):
        hit = areas.get("/".join(parts[:n]) + "/")
        if hit:
            return hit
    return []


def _split(count: int, among: list[int], into: dict[int, int]) -> None:
    """``count`` shared evenly by children that share one area (the remainder to the first)."""
    base, extra = divmod(count, len(among))
    for i, pk in enumerate(among):
        into[pk] += base + (1 if i < extra else 0)


def live_inputs(from_store: Store, products: list[Product], *, horizon_days: int,
                default_capacity: int | None, today: dt.date) -> LiveInputs:
    """The engine's inputs for each child store of ``from_store``, read from live data.

    - First-dose demand: active residents in an age range a product's rule in force today
      allows, with no valid dose in the products' series, counted in the child whose area is
      the deepest division above their home (so a township health centre counts its township
      and a county mass site the rest of the county; children sharing one division share it).
    - Second doses due: valid dose-``k`` records of active people whose dose ``k + 1`` (of a
      primary series) becomes possible from today through ``today + horizon_days`` and is not
      recorded yet, by the product of the series, counted where dose ``k`` was given (the site's
      store, else the site's division).
    - Stock on hand: usable balances (released, not expired, not on hold) of the child store
      and every store below it.
    - Capacity: planned doses of the sessions of the child's sites in the same days, else
      ``default_capacity``, else no limit.
    - Weight: the rules of ``data/allocation_weights.json`` (mass site, border, point to point).
    """
    from vaxops.regions.models import Division
    from vaxops.vaccination.models import DoseKind, DoseRecord, DoseStatus

    end = today + dt.timedelta(days=horizon_days)
    children_stores = list(
        Store.objects.filter(parent=from_store, is_active=True).select_related("division", "site__division")
        .order_by("code")
    )
    owner = _subtrees(children_stores)
    inputs: dict[int, ChildInputs] = {}
    for s in children_stores:
        area = s.site.division.path if s.site_id else s.division.path
        inputs[s.pk] = ChildInputs(store_id=s.pk, code=s.code, area_path=area)
    areas: dict[str, list[int]] = defaultdict(list)
    for c in inputs.values():
        areas[c.area_path].append(c.store_id)
    series = sorted({p.series for p in products})
    result = LiveInputs(today=today, horizon_end=end, series=series, children=list(inputs.values()))
    if not inputs:
        return result
    within = reduce(or_, [Q(division__path__startswith=p) for p in areas])

    # Sites drawing from each child's stores (a site's store, or a team's cold box).
    site_store = dict(
        Store.objects.filter(pk__in=owner, site__isnull=False).values_list("site_id", "pk")
    )
    site_child = {site: owner[store] for site, store in site_store.items()}

    # First-dose demand.
    vaccinated = DoseRecord.objects.filter(person=OuterRef("pk"), status=DoseStatus.VALID, series__in=series)
    people = (
        Person.objects.filter(status=PersonStatus.ACTIVE)
        .filter(reduce(or_, [Q(home_division__path__startswith=p) for p in areas]))
        .filter(age_filter(products, today))
        .filter(~Exists(vaccinated))
        .values("home_division__path").annotate(n=Count("pk")).order_by()
    )
    demand: dict[int, int] = defaultdict(int)
    for row in people:
        among = _nearest(row["home_division__path"], areas)
        if among:
            _split(row["n"], among, demand)
        else:
            result.residents_outside_children += row["n"]

    # Second doses falling due in the horizon, by the product of the series.
    due: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    tz = timezone.get_current_timezone()
    for product in Product.objects.filter(series__in=series, is_active=True):
        for k, rule in enumerate(product.rule.doses[1:], start=1):
            interval = rule.min_interval_days or 0
            first_day, last_day = today - dt.timedelta(days=interval), end - dt.timedelta(days=interval)
            given_next = DoseRecord.objects.filter(
                person=OuterRef("person"), series=OuterRef("series"), dose_number=k + 1, status=DoseStatus.VALID)
            rows = (
                DoseRecord.objects.filter(
                    product=product, dose_number=k, kind=DoseKind.PRIMARY, status=DoseStatus.VALID,
                    person__status=PersonStatus.ACTIVE,
                    administered_at__gte=dt.datetime.combine(first_day, dt.time.min, tz),
                    administered_at__lt=dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time.min, tz),
                )
                .filter(Q(site_id__in=list(site_child)) | within)
                .filter(~Exists(given_next))
                .values("site_id", "division__path").annotate(n=Count("pk")).order_by()
            )
            for row in rows:
                child = site_child.get(row["site_id"])
                among = [child] if child is not None else _nearest(row["division__path"], areas)
                if among:
                    per_child: dict[int, int] = defaultdict(int)
                    _split(row["n"], among, per_child)
                    for pk, n in per_child.items():
                        due[pk][product.code] += n

    # Usable stock on hand in each child's stores.
    stock: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for store_id, code, n in (
        usable_balances(today).filter(store_id__in=list(owner))
        .values("store_id", "lot__product__code").annotate(n=Sum("on_hand")).order_by()
        .values_list("store_id", "lot__product__code", "n")
    ):
        stock[owner[store_id]][code] += n

    # Capacity and point-to-point sessions.
    planned: dict[int, int] = defaultdict(int)
    sessions: dict[int, int] = defaultdict(int)
    p2p_sessions: set[int] = set()
    for site_id, kind, n, count in (
        Session.objects.filter(site_id__in=list(site_child), date__gte=today, date__lte=end)
        # A session that states no planned doses states no capacity either.
        .values("site_id", "kind").annotate(n=Sum("planned_doses"), c=Count("pk", filter=Q(planned_doses__gt=0)))
        .order_by()
        .values_list("site_id", "kind", "n", "c")
    ):
        child = site_child[site_id]
        planned[child] += n or 0
        sessions[child] += count
        if kind == SessionKind.POINT_TO_POINT:
            p2p_sessions.add(child)

    kinds: dict[int, set[str]] = defaultdict(set)
    for site_id, kind in Site.objects.filter(pk__in=list(site_child)).values_list("pk", "kind"):
        kinds[site_child[site_id]].add(kind)
    ancestors = {prefix for c in inputs.values() for prefix in _prefixes(c.area_path)}
    border_paths = set(Division.objects.filter(path__in=ancestors, is_border=True).values_list("path", flat=True))

    for pk, c in inputs.items():
        c.first_dose_demand = demand.get(pk, 0)
        c.second_dose_due = dict(sorted(due[pk].items())) if pk in due else {}
        c.stock_on_hand = dict(sorted(stock[pk].items())) if pk in stock else {}
        c.planned_sessions = sessions.get(pk, 0)
        if c.planned_sessions:
            c.capacity, c.capacity_source = planned[pk], "sessions"
        elif default_capacity is not None:
            c.capacity, c.capacity_source = default_capacity, "default"
        reasons = []
        if SiteKind.MASS_SITE in kinds[pk]:
            reasons.append("mass_site")
        if any(p in border_paths for p in _prefixes(c.area_path)):
            reasons.append("border")
        if SiteKind.POINT_TO_POINT in kinds[pk] or pk in p2p_sessions:
            reasons.append("point_to_point")
        c.weight_reasons = reasons
        c.weight = weight_of(reasons)
    return result


def _prefixes(path: str) -> list[str]:
    parts = path.rstrip("/").split("/")
    return ["/".join(parts[:n]) + "/" for n in range(1, len(parts) + 1)]


def usable_balances(today: dt.date):
    """Balances that may be sent or given today: doses on hand of a released lot not past its
    expiry, not on hold, in a store without an open excursion."""
    return StockBalance.objects.filter(
        on_hand__gt=0, on_hold=False, store__on_hold=False, lot__status=LotStatus.RELEASED,
        lot__expiry_date__gte=today,
    )


# -- proposal ------------------------------------------------------------------------------


def _check_supply(supply: Any) -> dict[str, int]:
    if not isinstance(supply, dict) or not supply:
        raise VaxopsError("invalid_quantity", {"field": "supply"})
    clean: dict[str, int] = {}
    for code, doses in supply.items():
        if isinstance(doses, bool) or not isinstance(doses, int) or doses <= 0:
            raise VaxopsError("invalid_quantity", {"product": code, "field": "supply"})
        clean[str(code)] = doses
    return clean


def propose_allocation(*, from_store_code: str, supply: dict[str, int], horizon_days: int = 14,
                       default_capacity: int | None = None, acting_user: Any, source: str,
                       today: dt.date | None = None) -> Allocation:
    """Split ``supply`` ({product code: doses}) of a store among its child stores by the pure
    engine in ``vaxops.planning.allocation``, from live demand, due second doses, stock on hand
    and capacity; stored as a proposed Allocation with one line per child × product.

    Refuses (nothing written): anonymous, a role without ``allocation.propose``, a store outside
    the user's area (``store_not_found``), a store with no child store, a product unknown, zero
    or negative doses, the store on hold (``stock_on_hold``), a product without usable stock
    at the store (``nothing_to_allocate``) or more than its usable stock (``insufficient_stock``).
    ``today`` (the campaign's local date by default) is the first day of the horizon.
    """
    require(acting_user, "allocation.propose")
    store = get_scoped(Store.objects.select_related("division"), acting_user, "allocation.propose",
                       not_found="store_not_found", detail={"store": from_store_code}, code=from_store_code)
    if isinstance(horizon_days, bool) or not isinstance(horizon_days, int) or not 1 <= horizon_days <= MAX_HORIZON_DAYS:
        raise VaxopsError("allocation_invalid_horizon", {"horizon_days": horizon_days, "max": MAX_HORIZON_DAYS})
    if default_capacity is not None and (
        isinstance(default_capacity, bool) or not isinstance(default_capacity, int) or default_capacity < 0
    ):
        raise VaxopsError("invalid_quantity", {"field": "default_capacity"})
    wanted = _check_supply(supply)
    today = today or timezone.localdate()
    found = {p.code: p for p in Product.objects.filter(code__in=list(wanted))}
    for code in wanted:
        if code not in found:
            raise VaxopsError("product_not_found", {"product": code})
    if store.on_hold:
        raise VaxopsError("stock_on_hold", {"store": store.code})
    usable = dict(
        usable_balances(today).filter(store=store).values("lot__product__code").annotate(n=Sum("on_hand"))
        .order_by().values_list("lot__product__code", "n")
    )
    for code, doses in wanted.items():
        on_hand = usable.get(code, 0)
        if on_hand <= 0:
            raise VaxopsError("nothing_to_allocate", {"product": code, "store": store.code})
        if doses > on_hand:
            raise VaxopsError("insufficient_stock", {"on_hand": on_hand, "requested": doses, "product": code,
                                                     "store": store.code})
    supplied = [found[c] for c in wanted]
    live = live_inputs(store, supplied, horizon_days=horizon_days, default_capacity=default_capacity, today=today)
    if not live.children:
        raise VaxopsError("store_has_no_children", {"store": store.code})

    # Every product of the series goes to the engine (unsupplied ones with 0): a second dose due
    # of CoronaVac may be given with BIBP (same platform), and stock on hand of any product counts.
    engine_products = {p.code: p for p in Product.objects.filter(series__in=live.series, is_active=True)}
    engine_products.update(found)
    problem = {
        "products": {c: {"platform": p.platform, "package_size": max(1, p.doses_per_vial)}
                     for c, p in engine_products.items()},
        "supply": {c: wanted.get(c, 0) for c in engine_products},
        "children": [
            {"code": c.code, "capacity": c.engine_capacity(), "first_dose_demand": c.first_dose_demand,
             "weight": c.weight,
             "second_dose_due": {k: v for k, v in c.second_dose_due.items() if k in engine_products},
             "stock_on_hand": {k: v for k, v in c.stock_on_hand.items() if k in engine_products}}
            for c in live.children
        ],
    }
    try:
        result = allocate(parse_problem(problem))
    except AllocationError as error:
        raise VaxopsError("allocation_engine_refused", {"engine_code": error.code, "field": error.field})

    outcomes = {o.code: o for o in result.children}
    shipped = {(a.code, a.product): a for a in result.allocations}
    children_out = []
    for c in live.children:
        o = outcomes[c.code]
        children_out.append({
            **asdict(c), "engine_capacity": c.engine_capacity(),
            "doses": o.doses, "first_doses": o.first_doses, "second_doses": o.second_doses,
            "stock_used": o.stock_used, "first_dose_fill": o.first_dose_fill,
            "second_dose_fill": o.second_dose_fill, "binding": o.binding,
            "second_dose_binding": o.second_dose_binding, "engine_explanation": o.explanation,
        })
    inputs = {
        "today": today.isoformat(), "horizon_days": horizon_days, "horizon_end": live.horizon_end.isoformat(),
        "default_capacity": default_capacity, "series": live.series,
        "usable_on_hand": {c: usable.get(c, 0) for c in wanted},
        "residents_outside_children": live.residents_outside_children,
        "weights": {"default": weight_rules()[0], **weight_rules()[1]},
        "problem": problem,
        "level": result.level if result.level != float("inf") else None,
        "unallocated": {c: result.unallocated.get(c, 0) for c in wanted},
        "children": children_out,
    }
    with transaction.atomic(durable=True):
        allocation = Allocation.objects.create(
            from_store=store, supply=wanted, status=AllocationStatus.PROPOSED, created_at=timezone.now(),
            created_by=acting_user if getattr(acting_user, "pk", None) else None, inputs=inputs,
        )
        lines = []
        for c, out in zip(live.children, children_out, strict=True):
            for code in wanted:
                a = shipped.get((c.code, code))
                lines.append(AllocationLine(
                    allocation=allocation, store_id=c.store_id, product=found[code],
                    doses=a.doses if a else 0, first_doses=a.first_doses if a else 0,
                    second_doses=a.second_doses if a else 0, binding=out["binding"],
                    explanation=_line_explanation(c, out, code),
                ))
        AllocationLine.objects.bulk_create(lines)
        audit("allocation.propose", allocation, actor=acting_user, source=source,
              after={"from_store": store.code, "supply": wanted, "horizon_days": horizon_days,
                     "shipped": {c: sum(a.doses for a in result.allocations if a.product == c) for c in wanted}},
              county_code=store.county_code)
    return allocation


def _line_explanation(c: ChildInputs, out: dict, product: str) -> dict:
    return {
        "first_dose_demand": c.first_dose_demand,
        "second_dose_due": c.second_dose_due.get(product, 0),
        "second_dose_due_total": sum(c.second_dose_due.values()),
        "stock_on_hand": c.stock_on_hand.get(product, 0),
        "stock_on_hand_total": sum(c.stock_on_hand.values()),
        "capacity": c.capacity,
        "capacity_source": c.capacity_source,
        "planned_sessions": c.planned_sessions,
        "weight": c.weight,
        "weight_reasons": c.weight_reasons,
        "first_doses_total": out["first_doses"],
        "second_doses_total": out["second_doses"],
        "doses_total": out["doses"],
        "first_dose_fill": out["first_dose_fill"],
        "first_dose_fill_percent": None if out["first_dose_fill"] is None else round(100 * out["first_dose_fill"], 1),
        "second_dose_fill": out["second_dose_fill"],
        "binding": out["binding"],
        "second_dose_binding": out["second_dose_binding"],
    }


# -- approval ------------------------------------------------------------------------------


def approve_allocation(*, allocation_id: int, acting_user: Any, source: str) -> list[Transfer]:
    """Approve a proposed allocation: creates its dispatched transfers in one transaction.

    One transfer per child store with doses, each line a usable lot at the sending store
    (released, not expired, not on hold), earliest expiry first. Locks the allocation row and
    the sender's balances (ledger.lock); any refusal (``allocation_not_proposed``,
    ``stock_on_hold``, ``insufficient_stock``, ``invalid_route``) writes nothing.
    """
    require(acting_user, "allocation.approve")
    found = get_scoped(Allocation.objects.all(), acting_user, "allocation.approve",
                       not_found="allocation_not_found", pk=allocation_id)
    today = timezone.localdate()
    now = timezone.now()
    with transaction.atomic(durable=True):
        qs = Allocation.objects.select_related("from_store")
        if connection.vendor == "postgresql":
            qs = qs.select_for_update(of=("self",))
        allocation = qs.get(pk=found.pk)
        if allocation.status != AllocationStatus.PROPOSED:
            raise VaxopsError("allocation_not_proposed", {"status": allocation.get_status_display(),
                                                          "status_code": allocation.status})
        sender = allocation.from_store
        if sender.on_hold:
            raise VaxopsError("stock_on_hold", {"store": sender.code})
        wanted = list(
            allocation.lines.filter(doses__gt=0).select_related("store", "product").order_by("store__code", "product__code")
        )
        for line in wanted:
            if line.store.parent_id != sender.pk or not line.store.is_active:
                raise VaxopsError("invalid_route", {"from_store": sender.code, "to_store": line.store.code})
        lots = list(
            Lot.objects.filter(product_id__in={x.product_id for x in wanted}, status=LotStatus.RELEASED,
                               expiry_date__gte=today, balances__store=sender, balances__on_hand__gt=0)
            .order_by("expiry_date", "lot_number").distinct()
        )
        balances = ledger.lock((sender.pk, lot.pk) for lot in lots)
        left = {lot.pk: 0 if balances[(sender.pk, lot.pk)].on_hold else balances[(sender.pk, lot.pk)].on_hand
                for lot in lots}
        picks: dict[int, list[tuple[Lot, int]]] = defaultdict(list)
        for line in wanted:
            need = line.doses
            for lot in lots:
                if need == 0:
                    break
                if lot.product_id != line.product_id or left[lot.pk] <= 0:
                    continue
                take = min(need, left[lot.pk])
                left[lot.pk] -= take
                need -= take
                picks[line.store_id].append((lot, take))
            if need:
                usable = sum(v for lot in lots if lot.product_id == line.product_id for v in [left[lot.pk]])
                raise VaxopsError("insufficient_stock", {
                    "on_hand": usable + line.doses - need, "requested": line.doses,
                    "product": line.product.code, "store": sender.code, "to_store": line.store.code})
        stores = {line.store_id: line.store for line in wanted}
        transfers = []
        for store_id in sorted(picks, key=lambda pk: stores[pk].code):
            transfers.append(_dispatch(allocation, sender, stores[store_id], picks[store_id], now=now,
                                       user=acting_user, source=source, locked=balances))
        allocation.status = AllocationStatus.APPROVED
        allocation.approved_at = now
        allocation.approved_by = acting_user if getattr(acting_user, "pk", None) else None
        allocation.save(update_fields=["status", "approved_at", "approved_by"])
        audit("allocation.approve", allocation, actor=acting_user, source=source,
              before={"status": AllocationStatus.PROPOSED},
              after={"status": AllocationStatus.APPROVED, "transfers": [t.pk for t in transfers],
                     "doses": sum(n for p in picks.values() for _lot, n in p)},
              county_code=sender.county_code)
    return transfers


def _dispatch(allocation: Allocation, sender: Store, receiver: Store, picks: list[tuple[Lot, int]], *,
              now: dt.datetime, user: Any, source: str, locked: dict) -> Transfer:
    """One dispatched transfer (in transit: the doses leave the sender) within the caller's
    transaction, written by the dispatch path of every transfer (``services.dispatch_within``):
    the same lot checks, event and audit as ``dispatch_transfer``."""
    from vaxops.supply.services import dispatch_within

    return dispatch_within(
        sender=sender, receiver=receiver, wanted=[(lot.lot_number, n) for lot, n in picks], when=now, now=now,
        client_uuid=uuid.uuid5(_TRANSFER_NAMESPACE, f"{allocation.pk}:{receiver.pk}"), allocation=allocation,
        document_number=f"ALLOC-{allocation.pk}-{receiver.code}", acting_user=user, source=source, locked=locked,
    )


# -- reading a proposal --------------------------------------------------------------------


BINDING_NAMES = {
    "supply": lambda: _("supply"),
    "demand": lambda: _("demand"),
    "capacity": lambda: _("capacity"),
    "maximum": lambda: _("maximum"),
    "minimum": lambda: _("minimum"),
}


def binding_name(code: str) -> str:
    """The binding constraint's name in the active language."""
    name = BINDING_NAMES.get(code)
    return name() if name else code


def weight_reason_names(codes: Iterable[str]) -> list[str]:
    names = {"mass_site": _("mass site"), "border": _("border area"), "point_to_point": _("point-to-point sessions")}
    return [names.get(c, c) for c in codes]


def explain(explanation: dict) -> str:
    """A child's explanation (an AllocationLine's) in words, in the active language."""
    e = explanation
    fill = format_percent(e.get("first_dose_fill"))
    parts = []
    if e.get("capacity_source") == "sessions":
        capacity = _("planned sessions allow {capacity} doses").format(capacity=e["capacity"])
    elif e.get("capacity_source") == "default":
        capacity = _("no session planned: the stated capacity of {capacity} doses").format(capacity=e["capacity"])
    else:
        capacity = _("no session planned and no capacity stated: capacity is not a limit")
    parts.append(_("{demand} people still to vaccinate, {due} second doses due, {on_hand} doses on hand; {capacity}.")
                 .format(demand=e.get("first_dose_demand", 0), due=e.get("second_dose_due_total", 0),
                         on_hand=e.get("stock_on_hand_total", e.get("stock_on_hand", 0)), capacity=capacity))
    binding = e.get("binding")
    if e.get("first_dose_demand", 0) == 0:
        parts.append(_("No first-dose demand: only due second doses are served."))
    elif binding == "demand":
        parts.append(_("Every person still to vaccinate is covered ({fill} of first-dose demand).").format(fill=fill))
    elif binding == "capacity":
        parts.append(_("Capacity is the limit: the doses fill the planned sessions ({fill} of first-dose demand).")
                     .format(fill=fill))
    elif binding == "supply":
        parts.append(_("Supply is the limit: it runs out at the common level, {fill} of first-dose demand at weight {weight}.")
                     .format(fill=fill, weight=_number(e.get("weight", 1))))
    else:
        parts.append(_("Limited by its {binding} ({fill} of first-dose demand).")
                     .format(binding=binding_name(binding or ""), fill=fill))
    due, given = e.get("second_dose_due_total", 0), e.get("second_doses_total", 0)
    if due and given < due:
        parts.append(_("Only {given} of the {due} second doses due are covered: limited by its {binding}.").format(
            given=given, due=due, binding=binding_name(e.get("second_dose_binding") or "supply")))
    if e.get("weight_reasons"):
        parts.append(_("Weight {weight}: {reasons}.").format(
            weight=_number(e.get("weight", 1)), reasons=_(", ").join(weight_reason_names(e["weight_reasons"]))))
    return " ".join(parts)


def _number(value: float) -> str:
    return f"{value:g}"
