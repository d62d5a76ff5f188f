"""Sync conflicts: stored once, seen in the area only, resolved by keeping one record (audited)."""

from __future__ import annotations

import pytest

from conftest import dose_body
from vaxops.access.services import create_user
from vaxops.campaign.services import counter_snapshot, rebuild_counters, residence_snapshot
from vaxops.core.models import AuditEvent
from vaxops.supply.models import Lot
from vaxops.vaccination.models import DoseConflict, DoseRecord


@pytest.fixture
def tablet(world):
    """A second vaccinator of the mass site, syncing from a tablet."""
    _user, token = create_user(username="tablet", role="vaccinator", scope="KD-MASS", with_token=True, source="cli")
    return token


@pytest.fixture
def conflict(api, world, person, tablet):
    """Dose 1 recorded at the desk by the vaccinator; the tablet syncs its own dose 1 for them."""
    desk = api(world.tokens["vaccinator"]).post("/doses", dose_body(person.pk, at="2021-05-10T09:00:00+08:00"))
    assert desk.status_code == 201
    item = dose_body(person.pk, product="CORONAVAC", lot="C2021001", at="2021-05-10T11:30:00+08:00")
    r = api(tablet).post("/doses/batch", {"items": [item]})
    result = r.json()["results"][0]
    assert (result["status"], result["code"]) == ("rejected", "dose_already_recorded")
    return DoseConflict.objects.get(pk=result["conflict"]), item, desk.json()["id"]


def actions(obj_type: str, obj_id) -> list[str]:
    return list(AuditEvent.objects.filter(object_type=obj_type, object_id=str(obj_id)).order_by("id")
                .values_list("action", flat=True))


def test_a_conflict_is_stored_in_full_once(api, world, conflict, tablet):
    stored, item, existing_id = conflict
    assert stored.existing_dose_id == existing_id and stored.status == "open"
    assert stored.payload["client_uuid"] == item["client_uuid"] and stored.payload["product"] == "CORONAVAC"
    assert stored.submitted_by.username == "tablet" and stored.site.code == "KD-MASS"
    assert stored.county_code == "513301"
    assert actions("vaccination.doseconflict", stored.pk) == ["conflict.open"]
    again = api(tablet).post("/doses/batch", {"items": [item]}).json()["results"][0]
    assert again["conflict"] == stored.pk and DoseConflict.objects.count() == 1


def test_ones_own_second_entry_is_no_conflict(api, world, person):
    device = api(world.tokens["vaccinator"])
    device.post("/doses", dose_body(person.pk))
    result = device.post("/doses/batch", {"items": [dose_body(person.pk)]}).json()["results"][0]
    assert result["code"] == "dose_already_recorded" and result.get("conflict") is None
    assert DoseConflict.objects.count() == 0


def test_keep_existing_closes_the_conflict_and_records_nothing(api, world, conflict):
    stored, _item, existing_id = conflict
    manager = api(world.tokens["site_manager"])
    r = manager.post(f"/doses/conflicts/{stored.pk}/resolve", {"keep": "existing", "reason": "桌面登记为准"})
    assert r.status_code == 200, r.content
    body = r.json()
    assert (body["status"], body["resolution"], body["reason"]) == ("closed", "kept_existing", "桌面登记为准")
    assert body["resolved_by"]["username"] == "site_manager"
    assert DoseRecord.objects.get().pk == existing_id and DoseRecord.objects.get().status == "valid"
    assert actions("vaccination.doseconflict", stored.pk) == ["conflict.open", "conflict.claim", "conflict.resolve"]
    again = manager.post(f"/doses/conflicts/{stored.pk}/resolve", {"keep": "incoming", "reason": "x"})
    assert (again.status_code, again.json()["code"]) == (409, "conflict_closed")


def test_keep_incoming_voids_the_existing_and_records_the_incoming(api, world, conflict, tablet):
    stored, item, existing_id = conflict
    r = api(world.tokens["site_manager"]).post(
        f"/doses/conflicts/{stored.pk}/resolve", {"keep": "incoming", "reason": "平板记录的是实际接种的疫苗"})
    assert r.status_code == 200, r.content
    existing = DoseRecord.objects.get(pk=existing_id)
    incoming = DoseRecord.objects.get(client_uuid=item["client_uuid"])
    assert existing.status == "voided" and existing.void_reason == "平板记录的是实际接种的疫苗"
    assert (incoming.status, incoming.product.code, incoming.dose_number) == ("valid", "CORONAVAC", 1)
    assert r.json()["incoming"]["dose_id"] == incoming.pk and r.json()["resolution"] == "kept_incoming"
    assert actions("vaccination.doserecord", existing_id) == ["dose.record", "dose.void"]
    assert actions("vaccination.doserecord", incoming.pk) == ["dose.record"]
    assert actions("vaccination.doseconflict", stored.pk)[-1] == "conflict.resolve"
    live = (counter_snapshot(), residence_snapshot())
    rebuild_counters()
    assert (counter_snapshot(), residence_snapshot()) == live and sum(live[0].values()) == 1
    # The tablet sends its batch again: its dose is now recorded, so the item replays.
    result = api(tablet).post("/doses/batch", {"items": [item]}).json()["results"][0]
    assert (result["status"], result["id"]) == ("replayed", incoming.pk)


def test_a_refused_recording_reinstates_the_voided_dose_and_keeps_the_conflict_open(api, world, conflict):
    stored, item, existing_id = conflict
    counters = (counter_snapshot(), residence_snapshot())
    Lot.objects.filter(lot_number="C2021001").update(status="quarantined")
    r = api(world.tokens["site_manager"]).post(
        f"/doses/conflicts/{stored.pk}/resolve", {"keep": "incoming", "reason": "平板为准"})
    assert (r.status_code, r.json()["code"]) == (422, "lot_quarantined")
    existing = DoseRecord.objects.get(pk=existing_id)
    assert existing.status == "valid" and existing.void_reason == "" and existing.voided_by is None
    assert not DoseRecord.objects.filter(client_uuid=item["client_uuid"]).exists()
    assert (counter_snapshot(), residence_snapshot()) == counters
    assert actions("vaccination.doserecord", existing_id) == ["dose.record", "dose.void", "dose.reinstate"]
    stored.refresh_from_db()
    assert stored.status == "open" and stored.claimed_by is None
    assert actions("vaccination.doseconflict", stored.pk)[-1] == "conflict.release"
    # Once the lot is usable again the same resolution goes through.
    Lot.objects.filter(lot_number="C2021001").update(status="released")
    r = api(world.tokens["site_manager"]).post(
        f"/doses/conflicts/{stored.pk}/resolve", {"keep": "incoming", "reason": "平板为准"})
    assert r.status_code == 200 and r.json()["status"] == "closed"


def test_a_county_command_resolves_a_late_conflict_as_a_retrospective_entry(api, world, conflict, settings, tablet):
    stored, item, existing_id = conflict
    settings.VAXOPS_RETROSPECTIVE_HOURS = 24
    r = api(world.tokens["county_command"]).post(
        f"/doses/conflicts/{stored.pk}/resolve", {"keep": "incoming", "reason": "核对纸质登记后以平板为准"})
    assert r.status_code == 200, r.content
    incoming = DoseRecord.objects.get(client_uuid=item["client_uuid"])
    assert incoming.retrospective and incoming.retrospective_reason == "核对纸质登记后以平板为准"
    assert incoming.vaccinator.username == "county_command"
    # The tablet's user could not have made a retrospective entry, yet its resend replays it.
    result = api(tablet).post("/doses/batch", {"items": [item]}).json()["results"][0]
    assert (result["status"], result["id"]) == ("replayed", incoming.pk)


def test_who_sees_and_who_resolves(api, world, conflict):
    stored, _item, _existing = conflict
    for role in ("site_manager", "county_command", "prefecture_command", "supervisor", "admin"):
        r = api(world.tokens[role]).get("/doses/conflicts")
        assert [c["id"] for c in r.json()["items"]] == [stored.pk], role
    for role in ("county_command_ld", "site_manager_ld", "supervisor_ld"):
        assert api(world.tokens[role]).get("/doses/conflicts").json()["items"] == [], role
    for role in ("vaccinator", "grid_worker", "supply_officer"):
        assert api(world.tokens[role]).get("/doses/conflicts").status_code == 403, role
    body = {"keep": "existing", "reason": "x"}
    for role, status, code in [("vaccinator", 403, "permission_denied"), ("county_command_ld", 404, "conflict_not_found"),
                               ("site_manager_ld", 404, "conflict_not_found"), ("admin", 403, "permission_denied")]:
        r = api(world.tokens[role]).post(f"/doses/conflicts/{stored.pk}/resolve", body)
        assert (r.status_code, r.json()["code"]) == (status, code), role
    stored.refresh_from_db()
    assert stored.status == "open"


def test_filters_and_bad_resolutions(api, world, conflict):
    stored, _item, _existing = conflict
    manager = api(world.tokens["site_manager"])
    assert manager.get("/doses/conflicts", status="closed").json()["count"] == 0
    assert manager.get("/doses/conflicts", status="open").json()["count"] == 1
    assert manager.get("/doses/conflicts", status="nope").status_code == 422
    row = manager.get("/doses/conflicts").json()["items"][0]
    assert row["existing"]["product"]["name"] and row["incoming"]["administered_at"] == "2021-05-10T11:30:00+08:00"
    assert "*" in row["person"]["id_number_masked"]
    for body, code in [({"keep": "both", "reason": "x"}, "invalid_resolution"),
                       ({"keep": "existing", "reason": "  "}, "conflict_reason_required")]:
        r = manager.post(f"/doses/conflicts/{stored.pk}/resolve", body)
        assert (r.status_code, r.json()["code"]) == (422, code)
    assert manager.post("/doses/conflicts/999999/resolve", {"keep": "existing", "reason": "x"}).status_code == 404


def test_a_resolution_that_died_after_the_void_is_undone_by_the_next_resolver(api, world, conflict):
    stored, item, existing_id = conflict
    manager = api(world.tokens["site_manager"])
    from vaxops.vaccination import conflicts as service
    from vaxops.vaccination.services import void_dose

    claim = service._claim(stored.pk, world.users["site_manager"], "api")
    void_dose(dose_id=existing_id, reason="平板为准", acting_user=world.users["site_manager"], source="api")
    busy = manager.post(f"/doses/conflicts/{stored.pk}/resolve", {"keep": "existing", "reason": "x"})
    assert (busy.status_code, busy.json()["code"]) == (409, "conflict_busy")
    # Two minutes later the claim is stale: the next resolver first reinstates the voided dose.
    DoseConflict.objects.filter(pk=stored.pk).update(claimed_at=claim.claimed_at - service.CLAIM_TIMEOUT)
    r = api(world.tokens["county_command"]).post(
        f"/doses/conflicts/{stored.pk}/resolve", {"keep": "existing", "reason": "桌面登记为准"})
    assert r.status_code == 200, r.content
    assert DoseRecord.objects.get(pk=existing_id).status == "valid"
    assert actions("vaccination.doserecord", existing_id) == ["dose.record", "dose.void", "dose.reinstate"]
    assert not DoseRecord.objects.filter(client_uuid=item["client_uuid"]).exists()


def test_a_resolution_that_died_after_recording_is_closed_by_the_next_resolver(api, world, conflict):
    stored, item, existing_id = conflict
    from vaxops.vaccination import conflicts as service
    from vaxops.vaccination.api import parse_offset_datetime
    from vaxops.vaccination.services import record_dose, void_dose

    manager, p = world.users["site_manager"], stored.payload
    claim = service._claim(stored.pk, manager, "api")
    void_dose(dose_id=existing_id, reason="平板为准", acting_user=manager, source="api")
    record_dose(client_uuid=stored.client_uuid, person_id=stored.person_id, product_code=p["product"],
                lot_number=p["lot_number"], site_code=p["site_code"],
                administered_at=parse_offset_datetime(p["administered_at"]), acting_user=manager, source="api")
    DoseConflict.objects.filter(pk=stored.pk).update(claimed_at=claim.claimed_at - service.CLAIM_TIMEOUT)
    r = api(world.tokens["county_command"]).post(
        f"/doses/conflicts/{stored.pk}/resolve", {"keep": "existing", "reason": "x"})
    assert (r.status_code, r.json()["code"]) == (409, "conflict_closed")
    stored.refresh_from_db()
    assert (stored.status, stored.resolution, stored.reason) == ("closed", "kept_incoming", "平板为准")
    assert stored.incoming_dose.client_uuid == stored.client_uuid
    assert DoseRecord.objects.filter(person_id=stored.person_id, status="valid").count() == 1
