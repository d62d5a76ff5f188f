"""Every role × every endpoint × in-area / out-of-area / anonymous.

In-area objects sit in Kangding (513301, township 513301001, site KD-MASS); out-of-area objects
sit in another prefecture (513201, site AB-FIX). Out-of-area objects are "not found" (404),
never "forbidden", so their existence is not revealed; a role that may not act at all gets 403.
Site staff reach a person outside their area only after finding them by the exact ID number
(area "reached": the card in hand), never by a bare numeric id: residents may be vaccinated
anywhere, but ids must not be enumerable.
"""

from __future__ import annotations

import pytest

from conftest import ROLES, dose_body, make_person
from vaxops.vaccination.models import DoseRecord

SCOPE_DIVISION = {
    "prefecture_command": "513300", "county_command": "513301", "site_manager": "513301",
    "vaccinator": "513301", "grid_worker": "513301001", "supply_officer": "513301",
    "supervisor": "513301", "admin": "513300", "township_organiser": "513301001",
}
SITE_ROLES = {"site_manager", "vaccinator"}
PERSON_VIEW = set(ROLES) - {"supply_officer"}
PERSON_ADD = {"vaccinator", "site_manager", "grid_worker", "township_organiser", "county_command", "admin"}
DOSE_VOID = {"site_manager", "county_command", "admin"}
AEFI_REPORT = {"site_manager", "vaccinator", "county_command", "supervisor"}
AEFI_VIEW = {"site_manager", "county_command", "prefecture_command", "supervisor", "admin"}
AEFI_CLASSIFY = {"supervisor"}


def expected(role: str, endpoint: str, area: str) -> int:
    # "reached": out of area, but the user first looked the person up by the exact ID number.
    site_reach = role in SITE_ROLES and area == "reached"
    everywhere = role == "admin"
    if endpoint in {"person", "eligibility"}:
        if role not in PERSON_VIEW:
            return 403
        return 200 if area == "in" or everywhere or site_reach else 404
    if endpoint == "people_add":
        if role not in PERSON_ADD:
            return 403
        # Site staff register whoever comes to the desk, wherever they live.
        return 201 if area == "in" or everywhere or role in SITE_ROLES else 404
    if endpoint == "dose_add":
        if role not in SITE_ROLES:
            return 403
        return 201 if area == "in" else 404
    if endpoint == "dose_add_traveller":  # an out-of-area person at the user's own site
        if role not in SITE_ROLES:
            return 403
        return 201 if site_reach else 404
    if endpoint == "dose_void":
        if role not in DOSE_VOID:
            return 403
        return 200 if area == "in" or role == "admin" else 404
    if endpoint in {"sites", "stats"}:
        return 200 if area == "in" or role == "admin" else 404
    if endpoint == "lots":
        return 200
    if endpoint == "aefi_report":
        if role not in AEFI_REPORT:
            return 403
        return 201 if area == "in" else 404
    if endpoint == "aefi_view":
        if role not in AEFI_VIEW:
            return 403
        return 200 if area == "in" or everywhere else 404
    if endpoint == "aefi_triage":
        if role not in AEFI_CLASSIFY:
            return 403
        return 200 if area == "in" else 404
    raise AssertionError(endpoint)


ENDPOINTS = ["person", "eligibility", "people_add", "dose_add", "dose_add_traveller", "dose_void", "sites", "stats",
             "lots", "aefi_report", "aefi_view", "aefi_triage"]


def call(client, endpoint, area, role, objs):
    person = objs["person_in" if area == "in" else "person_out"]
    if endpoint == "person":
        return client.get(f"/people/{person.pk}")
    if endpoint == "eligibility":
        return client.get(f"/people/{person.pk}/eligibility", product="BIBP", on="2021-05-10")
    if endpoint == "people_add":
        division = "513301001" if area == "in" else "513201001"  # a home is a township or below
        return client.post("/people", {"id_number": objs["new_number"], "name": "新人", "division_code": division})
    if endpoint == "dose_add":
        site = "KD-MASS" if area == "in" else "AB-FIX"
        return client.post("/doses", dose_body(person.pk, site=site))
    if endpoint == "dose_add_traveller":
        # After the person's first dose elsewhere on 1 May: dose 2 is due.
        return client.post("/doses", dose_body(objs["person_out"].pk, site="KD-MASS", at="2021-06-10T10:00:00+08:00"))
    if endpoint == "dose_void":
        dose = objs["dose_in" if area == "in" else "dose_out"]
        return client.post(f"/doses/{dose.pk}/void", {"reason": "entered in error"})
    if endpoint == "sites":
        return client.get("/sites", division=SCOPE_DIVISION[role] if area == "in" else "513201")
    if endpoint == "stats":
        return client.get("/stats/summary", division=SCOPE_DIVISION[role] if area == "in" else "513201")
    if endpoint == "lots":
        return client.get("/lots", product="BIBP")
    if endpoint == "aefi_report":
        dose = objs["dose_in" if area == "in" else "dose_out"]
        return client.post("/aefi", {
            "client_uuid": str(__import__("uuid").uuid4()), "person_id": dose.person_id, "dose_id": dose.pk,
            "onset_at": "2021-05-01T10:00:00+08:00", "detected_at": "2021-05-01T10:05:00+08:00",
            "events": ["syncope"], "serious": False, "serious_criteria": []})
    if endpoint == "aefi_view":
        return client.get(f"/aefi/{objs['aefi_in' if area == 'in' else 'aefi_out'].pk}")
    if endpoint == "aefi_triage":
        return client.post(f"/aefi/{objs['aefi_in' if area == 'in' else 'aefi_out'].pk}/triage")
    raise AssertionError(endpoint)


@pytest.fixture
def objs(world):
    from conftest import make_person as mp
    from vaxops.access.services import create_user
    from vaxops.registry.idnumber import make_id_number
    from vaxops.vaccination.services import record_dose

    person_in = mp(world, division="513301001", seq=201)
    person_out = mp(world, county="513201", division="513201001", seq=203, name="外州人")
    create_user(username="ab_vaccinator", role="vaccinator", scope="AB-FIX", source="cli")
    from django.contrib.auth import get_user_model

    ab_vacc = get_user_model().objects.get(username="ab_vaccinator")
    dose_in, _ = record_dose(client_uuid="00000000-0000-4000-8000-000000000001", person_id=make_person(
        world, seq=205, division="513301001").pk, product_code="BIBP", lot_number="B2021001", site_code="KD-MASS",
        administered_at=__import__("datetime").datetime.fromisoformat("2021-05-01T09:00:00+08:00"),
        acting_user=world.users["vaccinator"], source="api")
    dose_out, _ = record_dose(client_uuid="00000000-0000-4000-8000-000000000002", person_id=person_out.pk,
                              product_code="BIBP", lot_number="B2021001", site_code="AB-FIX",
                              administered_at=dose_in.administered_at, acting_user=ab_vacc, source="api")
    from vaxops.safety.services import report_aefi

    def aefi(dose, user):
        onset = dose.administered_at + __import__("datetime").timedelta(hours=1)
        return report_aefi(client_uuid=__import__("uuid").uuid4(), person=dose.person, dose=dose, onset_at=onset,
                           detected_at=onset, events=["fever_38_6"], serious=False, acting_user=user)

    return {"aefi_in": aefi(dose_in, world.users["vaccinator"]), "aefi_out": aefi(dose_out, ab_vacc),
            "person_in": person_in, "person_out": person_out, "dose_in": dose_in, "dose_out": dose_out,
            "new_number": make_id_number("513301", __import__("datetime").date(1970, 3, 3), 777)}


# The traveller of "dose_add_traveller" is always out of the area.
CASES = [(area, endpoint) for area in ("in", "out", "reached") for endpoint in ENDPOINTS
         if not (endpoint == "dose_add_traveller" and area == "in")]


@pytest.mark.parametrize(("area", "endpoint"), CASES)
@pytest.mark.parametrize("role", ROLES)
def test_role_endpoint_area(api, world, objs, role, endpoint, area):
    client = api(world.tokens[role])
    if area == "reached":
        client.get("/people", id_number=objs["person_out"].id_number)
    r = call(client, endpoint, "out" if area == "reached" else area, role, objs)
    assert r.status_code == expected(role, endpoint, area), (r.status_code, r.content[:300])
    if r.status_code in (403, 404):
        assert r.json()["code"] in {"permission_denied", "person_not_found", "site_not_found",
                                    "division_not_found", "dose_not_found", "aefi_not_found"}
    if endpoint == "dose_void" and r.status_code != 200:
        assert DoseRecord.objects.filter(status="voided").count() == 0


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_anonymous_gets_401_everywhere(api, world, objs, endpoint):
    r = call(api(None), endpoint, "in", "admin", objs)
    assert r.status_code == 401 and r.json()["code"] == "not_authenticated"


@pytest.mark.parametrize("role", sorted(PERSON_VIEW - SITE_ROLES - {"admin"}))
def test_out_of_area_person_is_not_found_by_exact_number_either(api, world, objs, role):
    r = api(world.tokens[role]).get("/people", id_number=objs["person_out"].id_number)
    assert r.status_code == 200 and r.json()["count"] == 0


# --- staff (issue 9): staff, rosters, the readiness checklist, exceptions, deployments ------------

STAFF_VIEW = {"site_manager", "county_command", "prefecture_command", "supervisor", "admin"}
STAFF_MANAGE = {"county_command", "site_manager", "admin"}
ROSTER_MANAGE = {"site_manager", "county_command"}
READINESS_RECORD = {"site_manager"}
READINESS_EXCEPTION = {"county_command"}
DEPLOYMENT_MANAGE = {"county_command", "prefecture_command"}
STAFF_ENDPOINTS = ["staff_list", "staff_add", "roster_put", "readiness_put", "readiness_get", "exception_post",
                   "deployment_post", "deployment_list"]


def staff_expected(role: str, endpoint: str, area: str) -> int:
    allowed = {"staff_list": STAFF_VIEW, "staff_add": STAFF_MANAGE, "roster_put": ROSTER_MANAGE,
               "readiness_put": READINESS_RECORD, "readiness_get": STAFF_VIEW,
               "exception_post": READINESS_EXCEPTION, "deployment_post": DEPLOYMENT_MANAGE,
               "deployment_list": STAFF_VIEW}[endpoint]
    if role not in allowed:
        return 403
    if endpoint in {"staff_list", "deployment_list"}:
        return 200
    ok = {"staff_add": 201, "exception_post": 201, "deployment_post": 201}.get(endpoint, 200)
    if area == "in" or role == "admin":
        return ok
    return 422 if endpoint == "deployment_post" else 404  # out-of-area staff are unknown staff


@pytest.fixture
def staff_objs(world):
    import datetime as dt

    from vaxops.sites.models import Session
    from vaxops.staff.services import create_staff, create_unit

    admin = world.users["admin"]
    for code, div in (("KD-HOSP", "513301"), ("AB-HOSP", "513201")):
        create_unit(code=code, name_zh=code, kind="hospital", hospital_level=2, division_code=div, acting_user=admin)
    kd = create_staff(name="康定医生", role="doctor", unit_code="KD-HOSP", acting_user=admin)
    ab = create_staff(name="马尔康医生", role="doctor", unit_code="AB-HOSP", acting_user=admin)
    sessions = {area: Session.objects.create(site=world.sites[code], date=dt.date(2021, 5, 11))
                for area, code in (("in", "KD-MASS"), ("out", "AB-FIX"))}
    return {"staff": {"in": kd, "out": ab}, "unit": {"in": "KD-HOSP", "out": "AB-HOSP"}, "session": sessions}


def staff_call(client, endpoint, area, objs):
    import json

    session = objs["session"][area]
    staff = objs["staff"][area]

    def put(path, body):
        return client.client.put("/api/v1" + path, data=json.dumps(body), content_type="application/json",
                                 **client._headers())

    if endpoint == "staff_list":
        return client.get("/staff")
    if endpoint == "staff_add":
        return client.post("/staff", {"name": "新人", "role": "nurse", "unit": objs["unit"][area]})
    if endpoint == "roster_put":
        return put(f"/sessions/{session.pk}/roster", {"staff": [staff.pk]})
    if endpoint == "readiness_put":
        return put(f"/sessions/{session.pk}/readiness", {"items": {"cold_chain_reading": 5}})
    if endpoint == "readiness_get":
        return client.get(f"/sessions/{session.pk}/readiness")
    if endpoint == "exception_post":
        return client.post(f"/sessions/{session.pk}/readiness/exception", {"reason": "救护车在途"})
    if endpoint == "deployment_post":
        return client.post("/deployments", {"staff": [staff.pk], "to_division": "513322", "starts_on": "2021-05-10",
                                            "ends_on": "2021-05-12", "reason": "支援"})
    if endpoint == "deployment_list":
        return client.get("/deployments")
# --- standby list for leftover doses (issue 9 §6, part standby) --------------------------------
STANDBY_VIEW = {"site_manager", "vaccinator", "county_command"}
STANDBY_MANAGE = {"site_manager", "vaccinator", "county_command"}
STANDBY_SIGN_UP = {"site_manager", "vaccinator", "grid_worker", "township_organiser"}
STANDBY_ENDPOINTS = ["standby_list", "standby_offers", "standby_sign_up", "standby_confirm"]


def standby_expected(role: str, endpoint: str, area: str) -> int:
    allowed = {"standby_list": STANDBY_VIEW, "standby_offers": STANDBY_MANAGE, "standby_sign_up": STANDBY_SIGN_UP,
               "standby_confirm": STANDBY_MANAGE}[endpoint]
    if role not in allowed:
        return 403
    if area == "out":
        return 404
    return 201 if endpoint == "standby_sign_up" else 200


@pytest.fixture
def standby_objs(world):
    """An open session today at KD-MASS (in the area) and at AB-FIX (outside), each with one
    open offer, a round of 5 doses in an open vial and a resident to sign up."""
    import datetime as dt

    from django.utils import timezone

    from vaxops.campaign.services import TZ
    from vaxops.catalog.models import Product
    from vaxops.sites.models import Session
    from vaxops.standby.models import Offer, StandbyEntry, StandbyRound
    from vaxops.supply.models import OpenVial

    now = timezone.now()
    objs = {}
    for area, site, county, division, seq in (("in", "KD-MASS", "513301", "513301001", 301),
                                             ("out", "AB-FIX", "513201", "513201001", 303)):
        session = Session.objects.create(site=world.sites[site], date=now.astimezone(TZ).date(), status="open")
        session.products.set([Product.objects.get(code="BIBP")])
        waiting = make_person(world, county=county, division=division, seq=seq, phone="13900000001", name="候补")
        caller = make_person(world, county=county, division=division, seq=seq + 10, phone="13900000002", name="来电")
        entry = StandbyEntry.objects.create(session=session, person=caller, phone="13900000002", priority_rank=1000,
                                            signed_up_at=now, status="offered", county_code=county)
        StandbyRound.objects.create(session=session, doses=5)
        OpenVial.objects.create(store=world.stores[site], lot=world.lots["bibp"], opened_at=now,
                                expires_at=now + dt.timedelta(hours=6), doses_left=5)
        offer = Offer.objects.create(entry=entry, made_at=now, expires_at=now + dt.timedelta(minutes=15))
        objs[area] = {"session": session, "person": waiting, "offer": offer}
    return objs


def standby_call(client, endpoint, objs):
    session, person, offer = objs["session"], objs["person"], objs["offer"]
    if endpoint == "standby_list":
        return client.get(f"/sessions/{session.pk}/standby")
    if endpoint == "standby_offers":
        return client.post(f"/sessions/{session.pk}/standby/offers")
    if endpoint == "standby_sign_up":
        return client.post(f"/sessions/{session.pk}/standby", {"person_id": person.pk})
    if endpoint == "standby_confirm":
        return client.post(f"/standby/offers/{offer.pk}/confirm")
    raise AssertionError(endpoint)


@pytest.mark.parametrize("area", ["in", "out"])
@pytest.mark.parametrize("endpoint", STAFF_ENDPOINTS)
@pytest.mark.parametrize("role", ROLES)
def test_staff_role_endpoint_area(api, world, staff_objs, role, endpoint, area):
    r = staff_call(api(world.tokens[role]), endpoint, area, staff_objs)
    assert r.status_code == staff_expected(role, endpoint, area), (r.status_code, r.content[:300])
    if r.status_code in (403, 404, 422):
        assert r.json()["code"] in {"permission_denied", "session_not_found", "unit_not_found", "unknown_staff"}


@pytest.mark.parametrize("endpoint", STAFF_ENDPOINTS)
def test_staff_endpoints_anonymous_get_401(api, world, staff_objs, endpoint):
    r = staff_call(api(None), endpoint, "in", staff_objs)
    assert r.status_code == 401 and r.json()["code"] == "not_authenticated"


# --- sessions (issue 9, sessions): view, plan, open, close -------------------------------------

SESSION_VIEW = set(ROLES) - {"grid_worker", "township_organiser"}
SESSION_PLAN = {"county_command", "site_manager", "admin"}
SESSION_OPEN = {"site_manager", "county_command", "admin"}  # also session.close


def expected_session(role: str, endpoint: str, area: str) -> int:
    allowed = {"session_view": SESSION_VIEW, "session_plan": SESSION_PLAN}.get(endpoint, SESSION_OPEN)
    if role not in allowed:
        return 403
    ok = {"session_view": 200, "session_plan": 201}.get(endpoint, 200)
    return ok if area == "in" or role == "admin" else 404


@pytest.mark.parametrize("area", ["in", "out"])
@pytest.mark.parametrize("endpoint", ["session_view", "session_plan", "session_open", "session_close"])
@pytest.mark.parametrize("role", ROLES)
def test_sessions_role_endpoint_area(api, world, role, endpoint, area):
    import datetime as dt

    from vaxops.sites.models import Session

    site = world.sites["KD-MASS" if area == "in" else "AB-FIX"]
    status = "open" if endpoint == "session_close" else "planned"
    session = Session.objects.create(site=site, date=dt.date(2021, 5, 12), status=status, opens_at=dt.time(8),
                                     closes_at=dt.time(12))
    from vaxops.staff.testing import make_ready

    make_ready(session)  # the readiness gate is the staff part's: here the checklist is complete
    client = api(world.tokens[role])
    if endpoint == "session_view":
        r = client.get(f"/sessions/{session.pk}")
    elif endpoint == "session_plan":
        r = client.post("/sessions", {"site": site.code, "date": "2021-05-13", "kind": "fixed", "opens_at": "08:00",
                                      "closes_at": "12:00", "planned_doses": 10})
    else:
        r = client.post(f"/sessions/{session.pk}/{'open' if endpoint == 'session_open' else 'close'}")
    assert r.status_code == expected_session(role, endpoint, area), (r.status_code, r.content[:300])
    if r.status_code in (403, 404):
        assert r.json()["code"] in {"permission_denied", "session_not_found", "site_not_found"}
        session.refresh_from_db()
        assert session.status == status


# --- visits (issue 9 §4): the visit steps, the board and the what-if ---------------------------

VISIT_MANAGE = {"site_manager", "vaccinator"}
BOARD_VIEW = {"site_manager", "vaccinator", "county_command", "prefecture_command", "supervisor"}
WHATIF_RUN = {"site_manager", "county_command"}
VISIT_ENDPOINTS = {"check_in": (VISIT_MANAGE, 201), "screening": (VISIT_MANAGE, 200), "board": (BOARD_VIEW, 200),
                   "what_if": (WHATIF_RUN, 200)}


@pytest.fixture
def visit_objs(world, objs):
    import datetime as dt
    import uuid

    from django.contrib.auth import get_user_model

    from vaxops.sites.models import Session
    from vaxops.visits.services import check_in

    out = {}
    for area, code, user in (("in", "KD-MASS", world.users["vaccinator"]),
                             ("out", "AB-FIX", get_user_model().objects.get(username="ab_vaccinator"))):
        session = Session.objects.create(site=world.sites[code], date=dt.date(2021, 5, 11), status="open",
                                         opens_at=dt.time(8), closes_at=dt.time(17))
        person = objs["person_in" if area == "in" else "person_out"]
        visit = check_in(session, person, client_uuid=uuid.uuid4(), acting_user=user,
                         at=dt.datetime(2021, 5, 11, 9, tzinfo=dt.timezone(dt.timedelta(hours=8))))
        out[area] = {"session": session, "visit": visit,
                     "new_person": make_person(world, seq=300 if area == "in" else 301,
                                               division="513301001" if area == "in" else None,
                                               county="513301" if area == "in" else "513201")}
    return out


def call_visit(client, endpoint, objs):
    import uuid

    session = objs["session"]
    if endpoint == "check_in":
        return client.post(f"/sessions/{session.pk}/visits",
                           {"client_uuid": str(uuid.uuid4()), "person_id": objs["new_person"].pk})
    if endpoint == "screening":
        return client.post(f"/visits/{objs['visit'].pk}/screening", {"outcome": "pass"})
    if endpoint == "board":
        return client.get(f"/sessions/{session.pk}/board")
    return client.post(f"/sessions/{session.pk}/what-if", {"at": "2021-05-11T09:30:00+08:00"})


@pytest.mark.parametrize("area", ["in", "out"])
@pytest.mark.parametrize("endpoint", sorted(VISIT_ENDPOINTS))
@pytest.mark.parametrize("role", ROLES)
def test_visit_endpoints_by_role_and_area(api, world, visit_objs, role, endpoint, area):
    roles, ok = VISIT_ENDPOINTS[endpoint]
    r = call_visit(api(world.tokens[role]), endpoint, visit_objs[area])
    want = 403 if role not in roles else (ok if area == "in" else 404)
    assert r.status_code == want, (r.status_code, r.content[:300])
    if want == 404:
        assert r.json()["code"] in {"session_not_found", "visit_not_found"}


@pytest.mark.parametrize("endpoint", sorted(VISIT_ENDPOINTS))
def test_anonymous_gets_401_on_visit_endpoints(api, world, visit_objs, endpoint):
    r = call_visit(api(None), endpoint, visit_objs["in"])
    assert r.status_code == 401 and r.json()["code"] == "not_authenticated"


@pytest.mark.parametrize("area", ["in", "out"])
@pytest.mark.parametrize("endpoint", STANDBY_ENDPOINTS)
@pytest.mark.parametrize("role", ROLES)
def test_standby_role_endpoint_area(api, world, standby_objs, role, endpoint, area):
    from vaxops.standby.models import Offer, StandbyEntry

    r = standby_call(api(world.tokens[role]), endpoint, standby_objs[area])
    assert r.status_code == standby_expected(role, endpoint, area), (r.status_code, r.content[:300])
    if r.status_code in (403, 404):
        assert r.json()["code"] in {"permission_denied", "session_not_found", "person_not_found", "offer_not_found"}
        assert StandbyEntry.objects.count() == 2 and Offer.objects.filter(status="confirmed").count() == 0


@pytest.mark.parametrize("endpoint", STANDBY_ENDPOINTS)
def test_standby_anonymous_gets_401(api, world, standby_objs, endpoint):
    r = standby_call(api(None), endpoint, standby_objs["in"])
    assert r.status_code == 401 and r.json()["code"] == "not_authenticated"


# --- appointments (issue 10, appointments; docs/appointments.md) --------------------------------
SLOT_VIEW = {"site_manager", "vaccinator", "grid_worker", "township_organiser", "county_command",
             "prefecture_command", "supervisor", "admin"}
SLOT_MANAGE = {"site_manager", "county_command", "admin"}
APPOINTMENT_BOOK = {"site_manager", "vaccinator", "grid_worker", "township_organiser", "county_command", "admin"}
APPOINTMENT_ENDPOINTS = ["slots_get", "slots_post", "book", "cancel"]


def appointment_expected(role: str, endpoint: str, area: str) -> int:
    allowed = {"slots_get": SLOT_VIEW, "slots_post": SLOT_MANAGE, "book": APPOINTMENT_BOOK,
               "cancel": APPOINTMENT_BOOK}[endpoint]
    if role not in allowed:
        return 403
    if area == "out" and role != "admin":
        return 404
    return 201 if endpoint == "book" else 200


@pytest.fixture
def appointment_objs(world):
    """A planned session in two days at KD-MASS (in the area) and at AB-FIX (outside), with
    slots, a resident to book and a booking to cancel."""
    import datetime as dt
    import uuid

    from django.utils import timezone

    from vaxops.appointments import services
    from vaxops.campaign.services import TZ
    from vaxops.catalog.models import Product
    from vaxops.sites.models import Session

    day = timezone.now().astimezone(TZ).date() + dt.timedelta(days=2)
    objs = {}
    for area, site, county, division, seq in (("in", "KD-MASS", "513301", "513301001", 401),
                                             ("out", "AB-FIX", "513201", "513201001", 403)):
        session = Session.objects.create(site=world.sites[site], date=day, status="planned", opens_at=dt.time(8),
                                         closes_at=dt.time(12))
        session.products.set([Product.objects.get(code="BIBP")])
        session = Session.objects.select_related("site__division").get(pk=session.pk)
        services.set_slots(session, minutes=30, capacity={1: 5}, acting_user=None)
        person = make_person(world, county=county, division=division, seq=seq, phone="13900000011", name="预约")
        booked = make_person(world, county=county, division=division, seq=seq + 10, phone="13900000012", name="已约")
        starts = dt.datetime.combine(day, dt.time(8), TZ)
        a, _ = services.book(client_uuid=uuid.uuid4(), person=booked, session=session, starts_at=starts, dose_number=1,
                             acting_user=None)
        objs[area] = {"session": session, "person": person, "appointment": a, "starts_at": starts}
    return objs


def appointment_call(client, endpoint, objs):
    import uuid

    session = objs["session"]
    if endpoint == "slots_get":
        return client.get(f"/sessions/{session.pk}/slots")
    if endpoint == "slots_post":
        return client.post(f"/sessions/{session.pk}/slots", {"minutes": 30, "capacity": {"1": 6}})
    if endpoint == "book":
        return client.post("/appointments", {"client_uuid": str(uuid.uuid4()), "person_id": objs["person"].pk,
                                             "session_id": session.pk, "starts_at": objs["starts_at"].isoformat(),
                                             "dose_number": 1})
    if endpoint == "cancel":
        return client.post(f"/appointments/{objs['appointment'].pk}/cancel")
    raise AssertionError(endpoint)


@pytest.mark.parametrize("area", ["in", "out"])
@pytest.mark.parametrize("endpoint", APPOINTMENT_ENDPOINTS)
@pytest.mark.parametrize("role", ROLES)
def test_appointment_role_endpoint_area(api, world, appointment_objs, role, endpoint, area):
    from vaxops.appointments.models import Appointment, SlotCapacity

    r = appointment_call(api(world.tokens[role]), endpoint, appointment_objs[area])
    assert r.status_code == appointment_expected(role, endpoint, area), (r.status_code, r.content[:300])
    if r.status_code in (403, 404):
        assert r.json()["code"] in {"permission_denied", "session_not_found", "person_not_found",
                                    "appointment_not_found"}
        assert Appointment.objects.filter(status="booked").count() == 2
        assert set(SlotCapacity.objects.values_list("capacity", flat=True)) == {5}


@pytest.mark.parametrize("endpoint", APPOINTMENT_ENDPOINTS)
def test_appointment_anonymous_gets_401(api, world, appointment_objs, endpoint):
    r = appointment_call(api(None), endpoint, appointment_objs["in"])
    assert r.status_code == 401 and r.json()["code"] == "not_authenticated"


# --- key groups and targets (issue 10, targets) -------------------------------------------------

KEYGROUP_LIST = {"county_command", "prefecture_command", "township_organiser", "grid_worker", "site_manager", "admin"}
KEYGROUP_MANAGE = {"county_command", "township_organiser", "admin"}
TARGET_SET = {"prefecture_command", "county_command", "admin"}
# The division below each setter's own that it sets a target for (in area).
TARGET_CHILD = {"prefecture_command": "513301", "county_command": "513301001", "admin": "513301"}
TARGET_ENDPOINTS = ["keygroup_stats", "keygroup_list", "keygroup_add", "target_set", "target_progress"]


def target_expected(role: str, endpoint: str, area: str) -> int:
    allowed = {"keygroup_list": KEYGROUP_LIST, "keygroup_add": KEYGROUP_MANAGE, "target_set": TARGET_SET}.get(
        endpoint, set(ROLES))
    if role not in allowed:
        return 403
    if area == "out" and role != "admin":
        return 404
    return 201 if endpoint in {"keygroup_add", "target_set"} else 200


def target_call(client, endpoint, area, role, world):
    division = SCOPE_DIVISION[role] if area == "in" else "513201"
    if endpoint == "keygroup_stats":
        return client.get("/stats/key-groups", division=division)
    if endpoint == "keygroup_list":
        return client.get("/key-groups/not-vaccinated", division=division)
    if endpoint == "keygroup_add":
        person = make_person(world, seq=777, county="513301" if area == "in" else "513201")
        return client.post("/key-groups/members", {"person_id": person.pk, "group": "teachers"})
    if endpoint == "target_set":
        code = TARGET_CHILD.get(role, "513301001") if area == "in" else "513201001"
        return client.post("/targets", {"division": code, "metric": "first_dose_people", "base": "18+",
                                        "value": 100, "due": "2021-06-30", "starts": "2021-03-22"})
    return client.get("/targets/progress", division=division)


@pytest.mark.parametrize("area", ["in", "out"])
@pytest.mark.parametrize("endpoint", TARGET_ENDPOINTS)
@pytest.mark.parametrize("role", ROLES)
def test_keygroups_and_targets_role_endpoint_area(api, world, role, endpoint, area):
    r = target_call(api(world.tokens[role]), endpoint, area, role, world)
    assert r.status_code == target_expected(role, endpoint, area), (role, endpoint, area, r.content[:300])


@pytest.mark.parametrize("endpoint", TARGET_ENDPOINTS)
def test_keygroups_and_targets_anonymous_get_401(api, world, endpoint):
    assert target_call(api(None), endpoint, "in", "admin", world).status_code == 401


# --- the daily report 日报 (issue 10, reports): read, download, issue, the page -------------------

REPORT_VIEW = {"prefecture_command", "county_command", "township_organiser", "supervisor", "admin"}
REPORT_ISSUE = {"prefecture_command", "county_command", "admin"}
REPORT_ENDPOINTS = {"report_json": (REPORT_VIEW, 200), "report_xlsx": (REPORT_VIEW, 200),
                    "report_issue": (REPORT_ISSUE, 201), "report_page": (REPORT_VIEW, 200)}


def report_call(client, django_client, world, role, endpoint, area):
    division = SCOPE_DIVISION[role] if area == "in" else "513201"
    query = {"division": division, "date": "2021-05-10", "cutoff": "19:00"}
    if endpoint == "report_json":
        return client.get("/reports/daily", **query)
    if endpoint == "report_xlsx":
        return client.get("/reports/daily", **query, format="xlsx")
    if endpoint == "report_issue":
        return client.post("/reports/daily/issue", {"division": division, "date": "2021-05-10"})
    django_client.force_login(world.users[role])
    return django_client.get("/reports/daily/", query)


@pytest.mark.parametrize("area", ["in", "out"])
@pytest.mark.parametrize("endpoint", sorted(REPORT_ENDPOINTS))
@pytest.mark.parametrize("role", ROLES)
def test_report_role_endpoint_area(api, client, world, role, endpoint, area):
    from vaxops.reports.models import IssuedReport

    roles, ok = REPORT_ENDPOINTS[endpoint]
    r = report_call(api(world.tokens[role]), client, world, role, endpoint, area)
    want = 403 if role not in roles else (ok if area == "in" or role == "admin" else 404)
    assert r.status_code == want, (r.status_code, r.content[:300])
    if endpoint != "report_page" and want in (403, 404):
        assert r.json()["code"] in {"permission_denied", "division_not_found"}
    if endpoint == "report_issue" and want != 201:
        assert IssuedReport.objects.count() == 0


@pytest.mark.parametrize("endpoint", ["report_json", "report_xlsx", "report_issue"])
def test_report_endpoints_anonymous_get_401(api, client, world, endpoint):
    r = report_call(api(None), client, world, "admin", endpoint, "in")
    assert r.status_code == 401 and r.json()["code"] == "not_authenticated"


# --- outreach: work lists, contact attempts, roll-ups (issue 10, outreach) ------------------------
OUTREACH_VIEW = {"grid_worker", "township_organiser", "county_command", "prefecture_command", "admin"}
OUTREACH_RECORD = {"grid_worker", "township_organiser", "county_command", "admin"}
OUTREACH_ENDPOINTS = ["worklist", "outreach_post", "outreach_rollup"]


def outreach_expected(role: str, endpoint: str, area: str) -> int:
    allowed = OUTREACH_RECORD if endpoint == "outreach_post" else OUTREACH_VIEW
    if role not in allowed:
        return 403
    if area == "out" and role != "admin":
        return 404
    return 201 if endpoint == "outreach_post" else 200


@pytest.fixture
def outreach_objs(world):
    """A resident of the world's township (in the area) and one of Barkam (outside)."""
    return {
        "in": {"division": "513301001", "person": make_person(world, seq=401, phone="13900000011")},
        "out": {"division": "513201001",
                "person": make_person(world, county="513201", division="513201001", seq=403, phone="13900000013")},
    }


def outreach_call(client, endpoint, objs):
    import uuid

    if endpoint == "worklist":
        return client.get("/worklists", division=objs["division"], kind="unvaccinated")
    if endpoint == "outreach_post":
        return client.post("/outreach", {"client_uuid": str(uuid.uuid4()), "person_id": objs["person"].pk,
                                         "channel": "phone", "outcome": "will_come"})
    if endpoint == "outreach_rollup":
        return client.get("/outreach/rollup", division=objs["division"])
    raise AssertionError(endpoint)


@pytest.mark.parametrize("area", ["in", "out"])
@pytest.mark.parametrize("endpoint", OUTREACH_ENDPOINTS)
@pytest.mark.parametrize("role", ROLES)
def test_outreach_role_endpoint_area(api, world, outreach_objs, role, endpoint, area):
    from vaxops.outreach.models import ContactAttempt

    r = outreach_call(api(world.tokens[role]), endpoint, outreach_objs[area])
    assert r.status_code == outreach_expected(role, endpoint, area), (r.status_code, r.content[:300])
    if r.status_code in (403, 404):
        assert r.json()["code"] in {"permission_denied", "division_not_found", "person_not_found"}
        assert not ContactAttempt.objects.exists()


@pytest.mark.parametrize("endpoint", OUTREACH_ENDPOINTS)
def test_outreach_anonymous_gets_401(api, world, outreach_objs, endpoint):
    r = outreach_call(api(None), endpoint, outreach_objs["in"])
    assert r.status_code == 401 and r.json()["code"] == "not_authenticated"


def test_a_grid_worker_of_another_township_reaches_nothing_here(api, world, outreach_objs):
    client = api(world.tokens["grid_worker_ld"])
    for endpoint in OUTREACH_ENDPOINTS:
        assert outreach_call(client, endpoint, outreach_objs["in"]).status_code == 404


def test_full_phone_numbers_only_for_the_grid_workers_own_grid(api, world, outreach_objs):
    mine = api(world.tokens["grid_worker"]).get("/worklists", division="513301001").json()["items"]
    county = api(world.tokens["county_command"]).get("/worklists", division="513301001").json()["items"]
    assert mine[0]["phone"] == "13900000011"
    assert county[0]["phone"] == "139****0011"
    assert "*" in mine[0]["id_number_masked"]
