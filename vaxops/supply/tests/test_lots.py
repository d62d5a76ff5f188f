"""Quarantine, recall and release of lots; a lot's trace and its recipients (docs/supply.md)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid

import pytest
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from conftest import SITE_STOCK, make_person
from vaxops.catalog.models import Product
from vaxops.core.errors import VaxopsError
from vaxops.core.models import AuditEvent
from vaxops.supply import ledger, lots
from vaxops.supply.ledger import Line
from vaxops.supply.models import (
    Lot,
    LotStatus,
    StockLine,
    StockReason,
    Transfer,
    TransferLine,
    TransferStatus,
)
from vaxops.vaccination.models import DoseRecord, DoseStatus
from vaxops.vaccination.services import record_dose, void_dose

AT = dt.datetime(2021, 5, 10, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def give(world, person, *, lot="B2021001", site="KD-MASS", user="vaccinator", at=AT):
    dose, _ = record_dose(
        client_uuid=uuid.uuid4(), person_id=person.pk, product_code="BIBP", lot_number=lot, site_code=site,
        administered_at=at, acting_user=world.users[user], source="web",
    )
    return dose


def draw_down(world, doses) -> None:
    """The dose path wrote the administered lines of ``doses`` itself: one per store × lot of
    each dose (batch of one), quantity −1."""
    per: dict[tuple[int, int], int] = {}
    for d in doses:
        key = (world.stores[d.site.code].pk, d.lot_id)
        per[key] = per.get(key, 0) + 1
    for (store_id, lot_id), n in per.items():
        lines = StockLine.objects.filter(reason__code="administered", store_id=store_id, lot_id=lot_id)
        assert -sum(lines.values_list("quantity", flat=True)) == n


def transfer_out(world, lot_key="bibp", doses=10, src="KD-CDC", dst="KD-MASS"):
    lot = world.lots[lot_key]
    s, d = world.stores[src], world.stores[dst]
    ledger.post([Line(s.pk, lot.pk, -doses, "transfer_out", destination_store_id=d.pk)], reason="transfer_out",
                user=None, occurred_at=AT)


def set_status(world, action, lot="B2021001", reason="GMP inspection finding", user="supervisor", **kw):
    fn = {"quarantine": lots.quarantine_lot, "recall": lots.recall_lot, "release": lots.release_lot}[action]
    return fn(lot_number=lot, reason=reason, acting_user=world.users[user], source="cli", **kw)


# --- the rules of status changes ---------------------------------------------------------------


def test_recall_stops_the_next_dose_and_release_lets_it_through(world):
    first, second = make_person(world, seq=11), make_person(world, seq=12)
    give(world, first)
    set_status(world, "recall")
    with pytest.raises(VaxopsError) as exc:
        give(world, second)
    assert exc.value.code == "lot_recalled"
    set_status(world, "release", reason="Retested: conforms")
    assert give(world, second).lot.lot_number == "B2021001"


def test_quarantine_stops_the_next_dose(world, person):
    set_status(world, "quarantine")
    with pytest.raises(VaxopsError) as exc:
        give(world, person)
    assert exc.value.code == "lot_quarantined"
    assert not DoseRecord.objects.exists()


def test_recall_stops_the_next_transfer_and_release_lets_it_through(world):
    set_status(world, "recall")
    events = StockLine.objects.count()
    with pytest.raises(VaxopsError) as exc:
        transfer_out(world)
    assert exc.value.code == "lot_recalled"
    assert StockLine.objects.count() == events
    set_status(world, "release", reason="Retested: conforms")
    transfer_out(world)
    assert StockLine.objects.count() == events + 1


def test_quarantined_lot_may_still_be_written_off_where_it_is(world):
    set_status(world, "quarantine")
    with pytest.raises(VaxopsError) as exc:
        transfer_out(world)
    assert exc.value.code == "lot_quarantined"
    lot, store = world.lots["bibp"], world.stores["KD-CDC"]
    ledger.post([Line(store.pk, lot.pk, -5, "expired")], reason="expired", user=None, occurred_at=AT)


def test_status_change_keeps_its_reason_time_and_one_audit_event(world):
    lot = set_status(world, "quarantine", reason="  VVM stage 3 found in a box  ")
    lot.refresh_from_db()
    assert (lot.status, lot.status_reason) == (LotStatus.QUARANTINED, "VVM stage 3 found in a box")
    assert lot.status_changed_at is not None
    events = AuditEvent.objects.filter(object_type="supply.lot", object_id=str(lot.pk))
    assert [(e.action, e.before["status"], e.after["status"]) for e in events] == [
        ("lot.quarantine", "released", "quarantined")
    ]
    assert events[0].actor == world.users["supervisor"]


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_status_change_without_a_reason_is_refused(world, reason):
    with pytest.raises(VaxopsError) as exc:
        set_status(world, "quarantine", reason=reason)
    assert exc.value.code == "lot_status_reason_required"
    assert Lot.objects.get(pk=world.lots["bibp"].pk).status == LotStatus.RELEASED
    assert not AuditEvent.objects.filter(object_type="supply.lot").exists()


def test_too_long_a_reason_is_refused(world):
    with pytest.raises(VaxopsError) as exc:
        set_status(world, "quarantine", reason="x" * 501)
    assert exc.value.code == "lot_status_reason_too_long"


def test_the_same_status_again_is_refused(world):
    with pytest.raises(VaxopsError) as exc:
        set_status(world, "quarantine", lot="B2021Q01")
    assert (exc.value.code, exc.value.detail["status_code"]) == ("lot_status_unchanged", "quarantined")
    with pytest.raises(VaxopsError) as exc:
        set_status(world, "release")
    assert exc.value.code == "lot_status_unchanged"


def test_unknown_lot_is_not_found(world):
    with pytest.raises(VaxopsError) as exc:
        set_status(world, "recall", lot="NOPE")
    assert (exc.value.code, exc.value.status) == ("lot_not_found", 404)


def test_lot_number_of_two_products_needs_the_product(world):
    corona = Product.objects.get(code="CORONAVAC")
    twin = Lot.objects.create(product=corona, lot_number="B2021001", expiry_date=dt.date(2030, 1, 1))
    with pytest.raises(VaxopsError) as exc:
        set_status(world, "recall")
    assert exc.value.code == "lot_product_required"
    assert exc.value.detail["shared_products"] == ["BIBP", "CORONAVAC"]
    lot = set_status(world, "recall", product_code="CORONAVAC")
    assert lot.pk == twin.pk
    assert Lot.objects.get(pk=world.lots["bibp"].pk).status == LotStatus.RELEASED


@pytest.mark.parametrize("role", ["county_command", "supply_officer", "vaccinator", "prefecture_command"])
def test_only_a_supervisor_changes_a_lot_status(world, role):
    with pytest.raises(VaxopsError) as exc:
        set_status(world, "recall", user=role)
    assert exc.value.code == "permission_denied"


# --- the trace ---------------------------------------------------------------------------------


def _wastage(world, store="KD-MASS", doses=3, reason="broken"):
    lot = world.lots["bibp"]
    ledger.post([Line(world.stores[store].pk, lot.pk, -doses, reason)], reason=reason, user=None, occurred_at=AT)


def test_trace_counts_equal_the_dose_rows(world):
    from vaxops.access.services import create_user

    world.users["vaccinator_thc"], _ = create_user(username="vaccinator_thc", role="vaccinator", scope="KD-THC",
                                                   source="cli")
    people = [make_person(world, seq=100 + i) for i in range(5)]
    doses = [give(world, p) for p in people[:3]] + [give(world, p, site="KD-THC", user="vaccinator_thc") for p in people[3:]]
    void_dose(dose_id=doses[0].pk, reason="entered twice", acting_user=world.users["site_manager"], source="web")
    draw_down(world, doses)
    assert StockLine.objects.filter(reason__code="dose_voided").count() == 1  # the void returned its dose
    _wastage(world)
    # A transfer from the county store, received at the site: inside the area, not "received".
    kd, mass, lot = world.stores["KD-CDC"], world.stores["KD-MASS"], world.lots["bibp"]
    ledger.post([Line(kd.pk, lot.pk, -40, "transfer_out", destination_store_id=mass.pk),
                 Line(mass.pk, lot.pk, 40, "transfer_in", source_store_id=kd.pk)],
                reason="transfer_out", user=None, occurred_at=AT)
    valid = DoseRecord.objects.filter(lot=world.lots["bibp"], status=DoseStatus.VALID).count()
    with translation.override("zh-hans"):  # names in the language of the request (here: the default)
        t = lots.trace("B2021001", user=world.users["prefecture_command"])
    from_lines = -sum(StockLine.objects.filter(lot=world.lots["bibp"], reason__code__in=["administered", "dose_voided"])
                      .values_list("quantity", flat=True))
    assert valid == 4
    assert t["administered"] == from_lines == valid == t["dose_records"]
    assert t["wasted"] == 3
    assert t["in_transit"] == 0
    stores = {s["code"]: s for s in t["stores"]}
    assert (stores["KD-MASS"]["administered"], stores["KD-THC"]["administered"]) == (2, 2)
    assert stores["KD-MASS"]["wasted"] == 3
    assert stores["KD-MASS"]["on_hand"] == SITE_STOCK - 2 - 3 + 40
    assert stores["KD-MASS"]["received"] == SITE_STOCK + 40
    assert t["recipients_by_county"] == [{"county_code": "513301", "county_name": "康定市", "count": 4}]
    # The prefecture command sees the Garze stores, not Ngawa's.
    assert "AB-CDC" not in stores and {"GZ-CDC", "KD-CDC", "LD-CDC", "LD-MASS"} <= set(stores)
    assert t["received"] == SITE_STOCK * len(stores)
    assert t["on_hand"] == sum(s["on_hand"] for s in t["stores"])
    # Every dose of the lot is accounted for: received = on hand + in transit + administered + wasted.
    assert t["received"] == t["on_hand"] + t["in_transit"] + t["administered"] + t["wasted"]


def test_trace_counts_doses_in_transit(world):
    lot, src, dst = world.lots["bibp"], world.stores["KD-CDC"], world.stores["KD-MASS"]
    transfer = Transfer.objects.create(from_store=src, to_store=dst, status=TransferStatus.IN_TRANSIT,
                                       created_at=AT, dispatched_at=AT)
    TransferLine.objects.create(transfer=transfer, lot=lot, doses=25)
    ledger.post([Line(src.pk, lot.pk, -25, "transfer_out", destination_store_id=dst.pk)], reason="transfer_out",
                user=None, occurred_at=AT, transfer=transfer)
    t = lots.trace("B2021001", user=world.users["supervisor"])
    assert t["in_transit"] == 25
    assert t["received"] == t["on_hand"] + t["in_transit"] + t["administered"] + t["wasted"]


def test_county_supervisor_traces_only_their_county(world):
    give(world, make_person(world, seq=21))
    give(world, make_person(world, seq=22, county="513322"), site="LD-MASS", user="vaccinator_ld")
    kd = lots.trace("B2021001", user=world.users["supervisor"])
    assert {s["code"] for s in kd["stores"]} == {"KD-CDC", "KD-MASS", "KD-THC"}
    assert [r["county_code"] for r in kd["recipients_by_county"]] == ["513301"]
    ld = lots.trace("B2021001", user=world.users["supervisor_ld"])
    assert {s["code"] for s in ld["stores"]} == {"LD-CDC", "LD-MASS"}
    assert [(r["county_code"], r["count"]) for r in ld["recipients_by_county"]] == [("513322", 1)]


def test_trace_of_a_lot_that_never_reached_the_area_is_not_found(world):
    lot = Lot.objects.create(product=Product.objects.get(code="BIBP"), lot_number="B2021AB1",
                             expiry_date=dt.date(2030, 1, 1))
    ledger.post([Line(world.stores["AB-FIX"].pk, lot.pk, 100, "receipt")], reason="receipt", user=None,
                occurred_at=AT)
    with pytest.raises(VaxopsError) as exc:
        lots.trace("B2021AB1", user=world.users["supervisor"])
    assert (exc.value.code, exc.value.status) == ("lot_not_in_area", 404)
    assert lots.trace("B2021AB1", user=world.users["admin"])["on_hand"] == 100


def test_wastage_reasons_are_the_data_flag(world):
    for code in StockReason.objects.filter(is_wastage=True, type="debit").values_list("code", flat=True):
        _wastage(world, doses=1, reason=code)
    n = StockReason.objects.filter(is_wastage=True, type="debit").count()
    assert lots.trace("B2021001", user=world.users["supervisor"])["wasted"] == n


# --- the recipients ----------------------------------------------------------------------------


@pytest.mark.parametrize("name,masked", [
    ("张三", "张*"), ("张小三", "张*三"), ("欧阳小峰", "欧**峰"), ("李", "*"), ("Tashi Dorje", "T*"),
    ("", ""), ("  王 小 明 ", "王*明"),
])
def test_names_are_masked(name, masked):
    assert lots.mask_name(name) == masked


@given(st.text(min_size=1, max_size=20))
def test_a_masked_name_never_shows_more_than_two_characters(name):
    masked = lots.mask_name(name)
    assert len(masked.replace("*", "")) <= 2
    assert masked == "" or "*" in masked


@pytest.mark.parametrize("text,lot", [
    ("B2021001", "B2021001"), ("  b2021001 ", "B2021001"),
    ("(01)06901234567892(17)230101(10)B2021001", "B2021001"),
    ("]d2010690123456789217230101" + "10B2021001", "B2021001"),
    ("0106901234567892" + "10B2021001\x1d" + "17230101", "B2021001"),
    ("010690123456789221SERIAL1\x1d10B2021001", "B2021001"),
])
def test_a_scanned_code_gives_its_lot_number(text, lot):
    assert lots.lot_number_from_scan(text) == lot


@given(st.from_regex(r"[A-Z0-9]{4,20}", fullmatch=True))
def test_a_gs1_code_gives_back_its_lot(lot):
    assert lots.lot_number_from_scan(f"(01)06901234567892(17)300101(10){lot}") == lot
    assert lots.lot_number_from_scan("010690123456789217300101" + f"10{lot}") == lot


def test_recipients_are_masked_with_phones_in_full(world):
    p = make_person(world, seq=31, name="张小三", phone="13800138000")
    give(world, p)
    lot, doses = lots.recipients("B2021001", user=world.users["supervisor"])
    [r] = lots.recipient_rows(doses)
    assert r.name == "张*三"
    assert r.id_number == p.id_number[:6] + "********" + p.id_number[-4:]
    assert r.phone == "13800138000"
    assert (r.county_code, r.site_code, r.dose_number, r.administered_on) == ("513301", "KD-MASS", 1,
                                                                              dt.date(2021, 5, 10))


def test_recipients_csv_is_utf8_with_bom_and_formula_safe(world):
    from vaxops.sites.models import Site

    Site.objects.filter(code="KD-MASS").update(name_zh='=HYPERLINK("http://x")', name_en="@SUM(A1)")
    give(world, make_person(world, seq=32, phone="13800138001"))
    _, doses = lots.recipients("B2021001", user=world.users["supervisor"])
    data = b"".join(lots.recipients_csv(doses, language="zh-hans"))
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data[3:].decode("utf-8"))))
    assert len(rows) == 2
    assert rows[1][:3] == ["张*", rows[1][1], "13800138001"]
    assert rows[0][:3] == ["姓名", "身份证号码", "电话"]
    assert rows[1][6] == '\'=HYPERLINK("http://x")'
    assert rows[1][7] == "2021年5月10日"
    english = list(csv.reader(io.StringIO(b"".join(lots.recipients_csv(doses, language="en"))[3:].decode())))
    assert english[0][0] == "Name" and english[1][6] == "'@SUM(A1)"


def test_recipients_need_their_permission(world):
    with pytest.raises(VaxopsError) as exc:
        lots.recipients("B2021001", user=world.users["supply_officer"])
    assert exc.value.code == "permission_denied"


def test_a_status_written_by_another_process_holds_on_the_next_dose_and_transfer(world, person):
    # An UPDATE straight to the table, as another process's commit looks from here: no signal,
    # no cache to drop. The next dose and the next transfer still read it.
    give(world, make_person(world, seq=41))
    Lot.objects.filter(pk=world.lots["bibp"].pk).update(status=LotStatus.QUARANTINED)
    with pytest.raises(VaxopsError) as exc:
        give(world, person)
    assert exc.value.code == "lot_quarantined"
    with pytest.raises(VaxopsError) as exc:
        transfer_out(world)
    assert exc.value.code == "lot_quarantined"


def test_recall_stops_the_next_dispatch_and_the_trace_counts_what_is_in_transit(world):
    from vaxops.supply.services import TransferLineIn, dispatch_transfer

    def dispatch(doses=25):
        return dispatch_transfer(client_uuid=uuid.uuid4(), from_store_code="KD-CDC", to_store_code="KD-MASS",
                                 lines=[TransferLineIn("B2021001", doses)], acting_user=world.users["supply_officer"],
                                 source="cli")[0]

    dispatch()
    set_status(world, "recall")
    with pytest.raises(VaxopsError) as exc:
        dispatch()
    assert exc.value.code == "lot_recalled"
    set_status(world, "release", reason="Retested: conforms")
    dispatch(5)
    t = lots.trace("B2021001", user=world.users["supervisor"])
    assert t["in_transit"] == 30
    assert {s["code"]: s["on_hand"] for s in t["stores"]}["KD-CDC"] == SITE_STOCK - 30
    assert t["received"] == t["on_hand"] + t["in_transit"] + t["administered"] + t["wasted"]


def test_trace_costs_a_fixed_number_of_queries(world, django_assert_max_num_queries):
    for seq in range(6):
        give(world, make_person(world, seq=60 + seq))
    user = world.users["prefecture_command"]
    lots.trace("B2021001", user=user)  # the user's grants are read once and kept on the user
    with django_assert_max_num_queries(10):
        lots.trace("B2021001", user=user)
