"""/api/v1/aefi: report (201, replay 200), list with overdue, detail, the steps, classification,
counts per 100,000 doses (against a count by hand) and clusters with their one-click action."""

from __future__ import annotations

import datetime as dt
import random
import uuid

import pytest

from vaxops.safety.models import AefiReport
from vaxops.safety.tests.helpers import DOSE_AT, dose

H = dt.timedelta(hours=1)


def body(d, **kw):
    onset = d.administered_at + H
    return {"client_uuid": str(uuid.uuid4()), "person_id": d.person_id, "dose_id": d.pk,
            "onset_at": onset.isoformat(), "detected_at": (onset + dt.timedelta(minutes=30)).isoformat(),
            "events": ["fever_38_6"], "serious": False, "serious_criteria": [], **kw}


def test_report_answers_its_deadline_and_a_replay_is_200(api, world):
    d = dose(world)
    client = api(world.tokens["vaccinator"])
    b = body(d, events=["anaphylaxis"], serious=True, serious_criteria=["life_threatening"],
             signs=["generalised_urticaria", "stridor"], outcome="recovering")
    r = client.post("/aefi", b)
    assert r.status_code == 201, r.content
    out = r.json()
    assert out["status"] == "reported" and out["cluster_id"] is None
    assert dt.datetime.fromisoformat(out["report_due_by"]) == d.administered_at + H + dt.timedelta(minutes=150)
    assert out["report_due_by"].endswith("+08:00")
    again = client.post("/aefi", b)
    assert again.status_code == 200 and again.json()["id"] == out["id"]
    other = client.post("/aefi", {**b, "events": ["syncope"]})
    assert other.status_code == 409 and other.json()["code"] == "idempotency_conflict"
    detail = api(world.tokens["site_manager"]).get(f"/aefi/{out['id']}").json()
    assert detail["brighton_level"] == 1 and detail["lot_number"] == "B2021001" and detail["site_code"] == "KD-MASS"
    assert detail["events"] == [{"code": "anaphylaxis", "name": "anaphylaxis"}]


@pytest.mark.parametrize(("change", "code"), [
    ({"events": ["nope"]}, "aefi_unknown_event"),
    ({"onset_at": "2021-05-10T09:00:00+08:00"}, "aefi_onset_before_dose"),
    ({"detected_at": "2021-05-10T10:30:00+08:00"}, "aefi_detected_before_onset"),
    ({"onset_at": "2021-05-10T11:00:00"}, "invalid_datetime"),
    ({"serious": True}, "aefi_criteria_required"),
    ({"events": "fever_38_6"}, "invalid_request"),
    ({"person_id": 10**12}, "person_not_found"),
    ({"dose_id": 10**12}, "dose_not_found"),
])
def test_bad_input_is_422_or_404_and_writes_nothing(api, world, change, code):
    d = dose(world)
    r = api(world.tokens["vaccinator"], "zh-hans").post("/aefi", body(d, **change))
    assert r.status_code in (404, 422), r.content
    assert r.json()["code"] == code and r.json()["message"]
    assert AefiReport.objects.count() == 0


def test_a_dose_of_another_person_is_refused(api, world):
    d, other = dose(world), dose(world)
    r = api(world.tokens["vaccinator"]).post("/aefi", body(d, person_id=other.person_id))
    assert (r.status_code, r.json()["code"]) == (422, "aefi_dose_of_another_person")


def test_the_list_keeps_the_overdue_and_the_division(api, world):
    reporter = api(world.tokens["vaccinator"])
    now = dt.datetime.now(dt.UTC)
    recent = dose(world, at=now - 3 * H)
    fresh = reporter.post("/aefi", body(recent)).json()  # 48 h from now: not overdue
    late = reporter.post("/aefi", body(dose(world))).json()  # 2021: long overdue
    ld = api(world.tokens["vaccinator_ld"]).post("/aefi", body(dose(world, site="LD-MASS"))).json()
    county = api(world.tokens["county_command"])
    ids = [x["id"] for x in county.get("/aefi").json()["items"]]
    assert ids == [late["id"], fresh["id"]]  # nearest deadline first, Luding not seen
    assert [x["id"] for x in county.get("/aefi", overdue="true").json()["items"]] == [late["id"]]
    assert [x["id"] for x in county.get("/aefi", overdue="false").json()["items"]] == [fresh["id"]]
    prefecture = api(world.tokens["prefecture_command"])
    assert prefecture.get("/aefi", division="513322").json()["items"][0]["id"] == ld["id"]
    assert county.get("/aefi", division="513322").status_code == 404
    assert county.get("/aefi", status="nonsense").status_code == 422
    assert api(world.tokens["vaccinator"]).get("/aefi").status_code == 403


def test_the_steps_and_classification_through_the_api(api, world):
    rid = api(world.tokens["vaccinator"]).post("/aefi", body(dose(world))).json()["id"]
    sup = api(world.tokens["supervisor"])
    assert sup.post(f"/aefi/{rid}/classify", {"who_category": "A1", "cn_category": "general_reaction"}).json()[
        "code"] == "aefi_wrong_step"
    assert sup.post(f"/aefi/{rid}/triage").json()["status"] == "triaged"
    assert sup.post(f"/aefi/{rid}/triage").status_code == 409
    assert sup.post(f"/aefi/{rid}/investigate", {"findings": "Settled in a day."}).json()["status"] == "investigated"
    bad = sup.post(f"/aefi/{rid}/classify", {"who_category": "Z9", "cn_category": "general_reaction"})
    assert (bad.status_code, bad.json()["code"]) == (422, "aefi_unknown_category")
    ok = sup.post(f"/aefi/{rid}/classify", {"who_category": "A1", "cn_category": "一般反应"}).json()
    assert (ok["status"], ok["who_category"], ok["cn_category"]) == ("classified", "A1", "general_reaction")
    assert sup.post(f"/aefi/{rid}/close").json()["status"] == "closed"
    assert api(world.tokens["county_command"]).post(f"/aefi/{rid}/close").status_code == 403
    assert api(world.tokens["supervisor_ld"]).get(f"/aefi/{rid}").status_code == 404
    assert sup.get("/aefi/999999").json()["code"] == "aefi_not_found"


def test_clusters_are_listed_and_acted_on(api, world):
    reporter = api(world.tokens["vaccinator"])
    for lot in ("B2021001", "C2021001"):
        out = reporter.post("/aefi", body(dose(world, lot=lot), events=["syncope"], serious=True,
                                          serious_criteria=["hospitalisation"])).json()
    assert out["cluster_id"] is not None
    county = api(world.tokens["county_command"]).get("/aefi/clusters").json()
    assert county["count"] == 1 and county["items"][0]["proposed_lots"] == ["B2021001", "C2021001"]
    assert api(world.tokens["county_command"]).post(f"/aefi/clusters/{out['cluster_id']}/act", {}).status_code == 403
    acted = api(world.tokens["supervisor"]).post(f"/aefi/clusters/{out['cluster_id']}/act", {"reason": "cluster"})
    assert acted.status_code == 200 and acted.json()["status"] == "acted"
    assert api(world.tokens["supervisor"]).post(f"/aefi/clusters/{out['cluster_id']}/act", {}).status_code == 409


def test_counts_per_100000_doses_agree_with_a_count_by_hand(api, world):
    rng = random.Random(7)
    lots = ["B2021001", "C2021001"]
    doses = [dose(world, lot=rng.choice(lots), at=DOSE_AT + dt.timedelta(minutes=i)) for i in range(14)]
    doses += [dose(world, site="LD-MASS", lot="B2021001")]
    reporter = api(world.tokens["vaccinator"])
    reported = []
    for d in rng.sample(doses[:14], 6):
        is_serious = rng.random() < 0.5
        b = body(d, events=[rng.choice(["fever_38_6", "rash", "gbs"])], serious=is_serious,
                 serious_criteria=["hospitalisation"] if is_serious else [])
        assert reporter.post("/aefi", b).status_code == 201
        reported.append((d, is_serious))
    api(world.tokens["vaccinator_ld"]).post("/aefi", body(doses[-1]))  # Luding: not in Kangding's counts
    out = api(world.tokens["county_command"]).get("/aefi/stats", division="513301").json()
    kd = doses[:14]
    assert out["doses"] == len(kd)
    assert out["reported"] == len(reported)
    assert out["serious"] == sum(s for _, s in reported)
    assert out["per_100000"] == round(len(reported) * 100_000 / len(kd), 1)
    for row in out["by_lot"]:
        n = sum(1 for d, _ in reported if d.lot.lot_number == row["lot_number"])
        given = sum(1 for d in kd if d.lot.lot_number == row["lot_number"])
        assert (row["reported"], row["doses"]) == (n, given)
        assert row["per_100000"] == round(n * 100_000 / given, 1)
    for row in out["by_product"]:
        n = sum(1 for d, _ in reported if d.product.code == row["product"])
        assert row["reported"] == n and row["doses"] == sum(1 for d in kd if d.product.code == row["product"])
    assert sum(r["reported"] for r in out["by_product"]) == len(reported)
    pref = api(world.tokens["prefecture_command"]).get("/aefi/stats").json()
    assert (pref["reported"], pref["doses"]) == (len(reported) + 1, len(doses))


def test_codes_list_the_events_in_both_languages(api, world):
    out = api(world.tokens["vaccinator"]).get("/aefi/codes").json()
    fever = next(e for e in out["events"] if e["code"] == "fever_38_6")
    assert fever["zh"].startswith("发热") and "38.6" in fever["en"]
    assert api(None).get("/aefi/codes").status_code == 401


def test_the_contract_paths_are_published(client, db):
    spec = client.get("/api/v1/openapi.json").json()
    for path, method in [("/api/v1/aefi", "post"), ("/api/v1/aefi", "get"), ("/api/v1/aefi/{report_id}", "get"),
                         ("/api/v1/aefi/{report_id}/classify", "post"), ("/api/v1/aefi/stats", "get"),
                         ("/api/v1/aefi/clusters", "get"), ("/api/v1/aefi/clusters/{cluster_id}/act", "post")]:
        assert method in spec["paths"][path], path
    fields = spec["components"]["schemas"]["ReportIn"]["properties"]
    assert {"client_uuid", "person_id", "dose_id", "onset_at", "detected_at", "events", "serious",
            "serious_criteria", "outcome", "description"} <= set(fields)
