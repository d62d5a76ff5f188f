"""Shared test fixtures: a small prefecture with two counties, sites, lots, one user per role."""

from __future__ import annotations

import datetime as dt
import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest


@dataclass
class World:
    """Names of what the ``world`` fixture built, so tests read as the domain."""

    divisions: dict = field(default_factory=dict)
    sites: dict = field(default_factory=dict)
    lots: dict = field(default_factory=dict)
    stores: dict = field(default_factory=dict)  # code -> Store (a site's store has the site's code)
    users: dict = field(default_factory=dict)  # role -> user (in-area: Kangding 513301)
    tokens: dict = field(default_factory=dict)  # role -> bearer token
    people: dict = field(default_factory=dict)


ROLES = [
    "prefecture_command", "county_command", "site_manager", "vaccinator",
    "grid_worker", "supply_officer", "supervisor", "admin", "township_organiser",
]


def reload_priority_groups() -> None:
    """The priority groups the migrations load (reference data), again if a transactional test
    flushed them."""
    import importlib

    from django.apps import apps

    from vaxops.registry.models import PriorityGroup

    if PriorityGroup.objects.filter(code="medical_staff").exists():
        return
    for module in ("vaxops.registry.migrations.0002_priority_groups", "vaxops.keygroups.migrations.0002_border_residents"):
        importlib.import_module(module).load(apps, None)


def threaded(work, count: int) -> list:
    """Run ``work(i)`` for i in 0..count-1 on as many threads released together (a barrier), each
    with its own database connection (concurrency tests, PostgreSQL); each result in its place:
    the value, the ``VaxopsError`` code, or the exception."""
    import threading

    from django.db import connections

    from vaxops.core.errors import VaxopsError

    barrier = threading.Barrier(count)
    results: list = [None] * count

    def target(i):
        try:
            barrier.wait()
            results[i] = work(i)
        except VaxopsError as exc:
            results[i] = exc.code
        except Exception as exc:  # noqa: BLE001 - reported as the test's failure
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results


def build_world() -> World:
    from vaxops.access.services import create_user
    from vaxops.catalog.models import Product
    from vaxops.regions.models import Division, Level
    from vaxops.sites.models import Site
    from vaxops.supply.models import Lot

    w = World()
    if not Product.objects.exists():  # flushed by a transactional test
        from vaxops.catalog.loader import load_catalog

        load_catalog(Product)
    from vaxops.supply.models import StockReason
    from vaxops.supply.reasons import forget, load_reasons

    if not StockReason.objects.exists():  # flushed by a transactional test: reload the data
        load_reasons(StockReason)
        forget()

    def div(code, level, parent, zh, en, pop=(100, 300, 200, 1000, 300), **kw):
        d = Division.objects.create(
            code=code, level=level, parent=parent, name_zh=zh, name_en=en,
            pop_0_2=pop[0], pop_3_11=pop[1], pop_12_17=pop[2], pop_18_59=pop[3], pop_60_plus=pop[4], **kw,
        )
        w.divisions[code] = d
        return d

    sc = div("510000", Level.PROVINCE, None, "四川省", "Sichuan")
    gz = div("513300", Level.PREFECTURE, sc, "甘孜藏族自治州", "Garze")
    kd = div("513301", Level.COUNTY, gz, "康定市", "Kangding")
    ld = div("513322", Level.COUNTY, gz, "泸定县", "Luding")
    div("513301001", Level.TOWNSHIP, kd, "炉城街道", "Lucheng")
    div("513322001", Level.TOWNSHIP, ld, "泸桥镇", "Luqiao")
    # Another prefecture: outside the area of every user but the admin.
    ab = div("513200", Level.PREFECTURE, sc, "阿坝藏族羌族自治州", "Ngawa")
    brk = div("513201", Level.COUNTY, ab, "马尔康市", "Barkam")
    div("513201001", Level.TOWNSHIP, brk, "马尔康镇", "Barkam town")
    for code, name, d, kind in [
        ("KD-MASS", "康定体育馆大规模接种点", kd, "mass_site"),
        ("KD-THC", "炉城卫生院", w.divisions["513301001"], "township_health_centre"),
        ("LD-MASS", "泸定体育馆大规模接种点", ld, "mass_site"),
        ("AB-FIX", "马尔康常规接种点", w.divisions["513201"], "fixed_site"),
    ]:
        w.sites[code] = Site.objects.create(code=code, name_zh=name, name_en=code, kind=kind, division=d,
                                            county_code=d.county_code)
    bibp = Product.objects.get(code="BIBP")
    corona = Product.objects.get(code="CORONAVAC")
    far = dt.date(2030, 1, 1)
    for key, product, number, expiry, status in [
        ("bibp", bibp, "B2021001", far, "released"),
        ("coronavac", corona, "C2021001", far, "released"),
        ("expired", bibp, "B2020999", dt.date(2021, 3, 1), "released"),
        ("quarantined", bibp, "B2021Q01", far, "quarantined"),
        ("recalled", bibp, "B2021R01", far, "recalled"),
    ]:
        w.lots[key] = Lot.objects.create(product=product, lot_number=number, expiry_date=expiry, status=status)

    build_stores(w)
    # Today's sessions, open all day: most tests record doses given now, which need an open
    # session of the site today (docs/sessions.md). Reference data of the fixture, inserted
    # directly (the sessions service is tested on its own in vaxops/sites/tests).
    for site in w.sites.values():
        open_today(site)

    scopes = {
        "prefecture_command": "513300", "county_command": "513301", "site_manager": "KD-MASS",
        "vaccinator": "KD-MASS", "grid_worker": "513301001", "supply_officer": "513301",
        "supervisor": "513301", "admin": "", "township_organiser": "513301001",
    }
    for role in ROLES:
        # Published test passwords: the validators are for real accounts (see create_user).
        user, token = create_user(username=role, role=role, scope=scopes[role], password="pw-" + role,
                                  with_token=True, known_password=True, source="cli")
        w.users[role], w.tokens[role] = user, token
    # Out-of-area twins (Luding) for the access matrix.
    out_scopes = {"county_command": "513322", "site_manager": "LD-MASS", "vaccinator": "LD-MASS",
                  "grid_worker": "513322001", "supply_officer": "513322", "supervisor": "513322"}
    for role, scope in out_scopes.items():
        user, token = create_user(username=f"{role}_ld", role=role, scope=scope, with_token=True, source="cli")
        w.users[f"{role}_ld"], w.tokens[f"{role}_ld"] = user, token
    return w


def open_today(site, day: dt.date | None = None):
    """An open session of ``site`` (a Site or its code) all day on ``day`` (default: today in the
    campaign's time zone), inserted directly as fixture data; returns it."""
    from django.utils import timezone

    from vaxops.campaign.services import TZ
    from vaxops.sites.models import Session, SessionStatus, Site

    if isinstance(site, str):
        site = Site.objects.get(code=site)
    day = day or timezone.now().astimezone(TZ).date()
    session = Session.objects.create(site=site, date=day, status=SessionStatus.OPEN, opens_at=dt.time(0, 0),
                                     closes_at=dt.time(23, 59, 59), opened_at=timezone.now())
    return session


#: doses of each lot the world's site stores start with (received on 2021-01-04)
SITE_STOCK = 10_000


def build_stores(w: World) -> None:
    """The stores of the world: the prefecture's and each county's CDC cold room, one store
    per site (with the site's code), and every lot stocked at every site."""
    from vaxops.supply import reasons
    from vaxops.supply.ledger import Line, post
    from vaxops.supply.models import StockReason, Store

    # Reasons are loaded by a data migration; a transactional test's flush removes them (and
    # the process cache would still hold the flushed rows).
    reasons.forget()
    if not StockReason.objects.exists():
        reasons.load_reasons(StockReason)

    def store(code, level, division, parent=None, site=None, equipment="refrigerator"):
        d = w.divisions[division]
        w.stores[code] = Store.objects.create(
            code=code, name_zh=f"{d.name_zh}疫苗库" if site is None else site.name_zh, name_en=code, level=level,
            division=d, county_code=d.county_code or "", site=site, parent=parent, equipment_class=equipment)
        return w.stores[code]

    gz = store("GZ-CDC", 2, "513300", equipment="cold_room")
    kd = store("KD-CDC", 3, "513301", gz, equipment="cold_room")
    ld = store("LD-CDC", 3, "513322", gz, equipment="cold_room")
    ab = store("AB-CDC", 2, "513200", equipment="cold_room")
    for code, parent in (("KD-MASS", kd), ("KD-THC", kd), ("LD-MASS", ld), ("AB-FIX", ab)):
        site = w.sites[code]
        store(code, 5, site.division.code, parent, site=site)
    at = dt.datetime(2021, 1, 4, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    lines = [Line(s.pk, lot.pk, SITE_STOCK, "receipt") for s in w.stores.values() for lot in w.lots.values()]
    from django.db import transaction

    # In a transaction: the ledger locks the balances (FOR UPDATE on PostgreSQL), which a
    # transactional test's autocommit would refuse.
    with transaction.atomic():
        post(lines, reason="receipt", user=None, occurred_at=at, document_number="WORLD-STOCK")


def stock(world: World | None, site_code: str, lot, doses: int = SITE_STOCK, *, reason: str = "receipt"):
    """Put ``doses`` of ``lot`` into the store of site ``site_code`` (created, under the site's
    county store when the world has one, if the site has none yet); returns the store. For
    tests that create their own lots or sites: every dose draws from its site's store."""
    from django.db import transaction

    from vaxops.sites.models import Site
    from vaxops.supply.ledger import Line, post
    from vaxops.supply.models import Store

    site = Site.objects.select_related("division").get(code=site_code)
    store = Store.objects.filter(site=site).first()
    if store is None:
        parent = None
        if world is not None:
            parent = next((s for s in world.stores.values() if s.level == 3 and s.county_code == site.county_code),
                          None)
        store = Store.objects.create(code=site.code, name_zh=site.name_zh, name_en=site.code, level=5,
                                     division=site.division, county_code=site.county_code or "", site=site,
                                     parent=parent)
        if world is not None:
            world.stores[store.code] = store
    at = dt.datetime(2021, 1, 4, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    with transaction.atomic():
        post([Line(store.pk, lot.pk, doses, reason)], reason=reason, user=None, occurred_at=at,
             document_number="TEST-STOCK")
    return store


@pytest.fixture
def world(db) -> World:
    return build_world()


class Api:
    """A thin JSON client for /api/v1 with a bearer token and a language."""

    def __init__(self, client, token: str | None = None, language: str = "en"):
        self.client, self.token, self.language = client, token, language

    def _headers(self):
        h = {"HTTP_ACCEPT_LANGUAGE": self.language}
        if self.token:
            h["HTTP_AUTHORIZATION"] = f"Bearer {self.token}"
        return h

    def get(self, path, **params):
        return self.client.get("/api/v1" + path, params, **self._headers())

    def post(self, path, body=None, *, raw: bytes | None = None, content_type="application/json"):
        data = raw if raw is not None else json.dumps(body or {})
        return self.client.post("/api/v1" + path, data=data, content_type=content_type, **self._headers())


@pytest.fixture
def api(client):
    def make(token: str | None = None, language: str = "en") -> Api:
        return Api(client, token, language)

    return make


def dose_body(person_id: int, *, product="BIBP", lot="B2021001", site="KD-MASS",
              at="2021-05-10T10:00:00+08:00", **extra) -> dict:
    return {"client_uuid": str(uuid.uuid4()), "person_id": person_id, "product": product, "lot_number": lot,
            "site_code": site, "administered_at": at, **extra}


def make_person(world: World, *, born=dt.date(1980, 5, 17), seq=123, county="513301", name="张三",
                division=None, **kw):
    """Register a person through the service (as the admin) and return it.

    Home: ``division``, else the county's first township (a home is a township or below). A
    county-level home is registered as at a desk of the county's mass site (its own division),
    the one way a resident is registered above township level.
    """
    from vaxops.registry.idnumber import make_id_number
    from vaxops.registry.services import register_person

    actor = world.users["admin"]
    if division is not None and len(division) == 6:
        actor = world.users[{"513301": "vaccinator", "513322": "vaccinator_ld"}[division]]
    return register_person(
        id_number=make_id_number(county, born, seq), name=name,
        division_code=division or f"{county}001", acting_user=actor, source="cli", **kw,
    )


@pytest.fixture
def person(world):
    return make_person(world)


def card_in_hand(world: World, role: str, person) -> None:
    """Site staff look the person up by the exact ID number (the card in hand), the one way
    they reach a resident of another county (access.scope: ``person.vaccinate``)."""
    from vaxops.registry.api import search_people

    assert search_people(world.users[role], id_number=person.id_number).exists()


CHROMIUM = os.environ.get("VAXOPS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync",
]


@pytest.fixture(scope="module")
def chromium() -> Iterator:
    """A headless Debian Chromium (through Playwright) for the browser tests of one module (with one
    browser for the whole run, browser log-ins timed out twice in full runs); skipped where Chromium is
    missing, a failure when CI=true."""
    if not Path(CHROMIUM).exists():
        reason = f"Chromium not found at {CHROMIUM}: install Debian's chromium to run the browser tests"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    # Playwright's sync API runs an event loop in this thread; the tests' own ORM calls are
    # ordinary synchronous code that Django would otherwise refuse to run there.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()
