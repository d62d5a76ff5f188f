"""The stock pages as their users meet them: who may open which page, the figures each page
shows, and the forms that move stock (one event on success; on refusal the message in the
user's language beside the field, the input kept, nothing written)."""

from __future__ import annotations

import re
import uuid

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from vaxops.core.errors import VaxopsError
from vaxops.supply.models import StockBalance, StockEvent, Transfer, TransferStatus
from vaxops.supply.tests.helpers import counts, on_hand, receive, send

STORES = reverse("supply:stores")
WAITING = reverse("supply:waiting")
RECEIPT = reverse("supply:receipt")


def store_url(code: str) -> str:
    return reverse("supply:store", args=[code])


def page(r) -> str:
    return r.content.decode()


def zh_message(code: str, detail: dict | None = None) -> str:
    with translation.override("zh-hans"):
        return VaxopsError(code, detail).message


@pytest.fixture
def en(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def as_user(client, world, role: str):
    client.force_login(world.users[role])
    return client


# -- who may open what ----------------------------------------------------------------------

GET_PAGES = [STORES, store_url("KD-CDC"), RECEIPT, WAITING, reverse("supply:dispatch", args=["KD-CDC"]),
             reverse("supply:count", args=["KD-MASS"]), reverse("supply:adjust", args=["KD-MASS"])]
POST_PAGES = [reverse("supply:receive", args=[1]), reverse("supply:temperature", args=[1]),
              reverse("supply:receipt_temperature", args=[1])]


@pytest.mark.parametrize("url", GET_PAGES)
def test_an_anonymous_visitor_is_sent_to_the_login_page(client, db, url):
    r = client.get(url)
    assert r.status_code == 302 and r["Location"].startswith(reverse("web:login") + "?next=")


@pytest.mark.parametrize("url", POST_PAGES + [RECEIPT])
def test_an_anonymous_post_is_sent_to_the_login_page_and_writes_nothing(client, world, url):
    before = counts()
    assert client.post(url, {"doses": "5"}).status_code == 302
    assert counts() == before


@pytest.mark.parametrize("role, url", [
    ("grid_worker", STORES), ("grid_worker", store_url("KD-MASS")),
    ("vaccinator", RECEIPT), ("vaccinator", WAITING), ("vaccinator", reverse("supply:count", args=["KD-MASS"])),
    ("vaccinator", reverse("supply:adjust", args=["KD-MASS"])),
    ("site_manager", RECEIPT), ("site_manager", reverse("supply:dispatch", args=["KD-MASS"])),
    ("county_command", reverse("supply:dispatch", args=["KD-CDC"])), ("supervisor", WAITING),
])
def test_a_role_that_may_not_open_the_page_gets_the_forbidden_page(en, world, role, url):
    r = as_user(en, world, role).get(url)
    assert r.status_code == 403
    assert 'data-error-code="permission_denied"' in page(r)
    assert "Your role does not allow this supply page" in page(r)


@pytest.mark.parametrize("role, url", [
    ("supply_officer", store_url("LD-CDC")), ("supply_officer", store_url("AB-FIX")),
    ("vaccinator", store_url("KD-THC")), ("county_command", store_url("GZ-CDC")),
    ("supply_officer", reverse("supply:dispatch", args=["LD-CDC"])),
    ("supply_officer", reverse("supply:count", args=["LD-MASS"])),
    ("site_manager", reverse("supply:adjust", args=["KD-THC"])),
    ("supply_officer", store_url("NO-SUCH")),
])
def test_a_store_outside_the_area_is_not_found(en, world, role, url):
    r = as_user(en, world, role).get(url)
    assert r.status_code == 404
    assert 'data-error-code="store_not_found"' in page(r)


def test_a_transfer_to_a_store_outside_the_area_cannot_be_received(en, world):
    transfer = send(world, 100, frm="LD-CDC", to="LD-MASS", user="supply_officer_ld")
    before = counts()
    r = as_user(en, world, "site_manager").post(reverse("supply:receive", args=[transfer.pk]),
                                                {f"accepted_{transfer.lines.get().pk}": "100"})
    assert r.status_code == 404 and counts() == before


# -- the figures ----------------------------------------------------------------------------


def test_the_overview_lists_the_stores_of_the_area_by_level_with_doses_and_marks(en, world):
    send(world, 300, to="KD-MASS")
    r = as_user(en, world, "supply_officer").get(STORES)
    assert r.status_code == 200
    html = page(r)
    assert 'data-store="KD-CDC"' in html and 'data-store="KD-MASS"' in html
    assert 'data-store="LD-CDC"' not in html and 'data-store="GZ-CDC"' not in html
    assert ">County store</h2>" in html and ">Site store</h2>" in html
    kd = re.search(r'data-store="KD-CDC".*?data-testid="on-hand">([^<]+)<', html, re.S).group(1)
    assert kd == "49,700"  # five lots of 10,000, 300 sent on
    mass = re.search(r'data-store="KD-MASS".*?</tr>', html, re.S).group(0)
    assert "1 transfer waiting" in mass
    assert reverse("supply:store", args=["KD-CDC"]) in html


def test_the_site_staff_see_only_their_own_store(en, world):
    html = page(as_user(en, world, "vaccinator").get(STORES))
    assert 'data-store="KD-MASS"' in html and 'data-store="KD-CDC"' not in html


def test_the_supply_link_is_in_the_menu_for_those_who_see_stock(client, world):
    zh = as_user(client, world, "vaccinator").get(STORES)
    assert '疫苗供应</a>' in page(zh)
    client.force_login(world.users["grid_worker"])
    assert '疫苗供应</a>' not in page(client.get(reverse("web:dashboard")))


def test_the_store_page_shows_lots_in_words_days_of_supply_and_the_events(en, world):
    send(world, 700, frm="KD-CDC", to="KD-MASS")
    r = as_user(en, world, "supply_officer").get(store_url("KD-CDC"))
    assert r.status_code == 200
    html = page(r)
    row = re.search(r'<tr data-lot="B2021001".*?</tr>', html, re.S).group(0)
    assert world.lots["bibp"].product.name_en in row  # the product by its name, not its code
    assert "1 January 2030" in row and ">9,300<" in row
    # 700 sent on in the last 7 days: 100 a day; 9,300 usable BIBP doses (the expired,
    # quarantined and recalled lots do not count) last 93 days. CoronaVac was not used.
    bibp = re.search(r'<tr data-product="BIBP">.*?</tr>', html, re.S).group(0)
    assert ">9,300<" in bibp and "93 days" in bibp
    corona = re.search(r'<tr data-product="CORONAVAC">.*?</tr>', html, re.S).group(0)
    assert 'data-testid="days">—<' in corona
    events = re.search(r'data-testid="events".*?</table>', html, re.S).group(0)
    assert "Transfer out" in events and "−700" in events and "supply_officer" in events
    transit = re.search(r'data-testid="transit".*?</table>', html, re.S).group(0)
    assert "outgoing" in transit and "700 doses" in transit
    assert "/supply/stores/KD-CDC/temperatures/" in html


def test_the_store_page_reads_in_chinese_by_default(client, world):
    html = page(as_user(client, world, "supply_officer").get(store_url("KD-CDC")))
    assert "2030年1月1日" in html and "康定市疫苗库" in html


def test_a_delivery_difference_shows_on_the_sender_and_the_receiver_page(en, world):
    transfer = send(world, 500)
    receive(world, transfer, 480, 20, reason="broken")
    for role, code in (("supply_officer", "KD-CDC"), ("site_manager", "KD-MASS")):
        html = page(as_user(en, world, role).get(store_url(code)))
        diff = re.search(r'data-testid="differences".*?</table>', html, re.S).group(0)
        assert ">480<" in diff and 'data-testid="rejected">20<' in diff and "Broken" in diff


def test_stock_received_without_a_temperature_is_explained_as_on_hold(en, world):
    transfer = send(world, 200)
    receive(world, transfer, 200, celsius=None)
    html = page(as_user(en, world, "site_manager").get(store_url("KD-MASS")))
    holds = re.search(r'data-testid="holds".*?</section>', html, re.S).group(0)
    assert f"received in transfer {transfer.pk}" in holds and "without the arrival temperature record" in holds
    assert "B2021Q01" in holds and "quarantined" in holds
    assert "Lot B2020999 (10,000 doses) expired on 1 March 2021" in holds


# -- receive a shipment -----------------------------------------------------------------------


def receipt_form(client, **fields):
    form = page(client.get(RECEIPT))
    client_uuid = re.search(r'name="client_uuid" value="([^"]+)"', form).group(1)
    data = {"client_uuid": client_uuid, "store": "KD-CDC", "product": "BIBP", "lot_number": "G2021777",
            "expiry_date": "2030-06-30", "manufacturer": "北京生物", "release_certificate": "SJ202105001",
            "doses": "2000", "arrival_temperature_c": "4.5"}
    data.update(fields)
    return data


def test_receiving_a_shipment_writes_one_event_and_shows_the_new_balance(en, world):
    client = as_user(en, world, "supply_officer")
    data = receipt_form(client)
    assert re.search(r'<select name="store"[^>]*autofocus', page(client.get(RECEIPT)))  # the first field
    before = StockEvent.objects.count()
    r = client.post(RECEIPT, data)
    assert r.status_code == 302 and r["Location"] == store_url("KD-CDC")
    assert StockEvent.objects.count() == before + 1
    html = page(client.get(r["Location"]))
    assert "Received 2000 doses of lot G2021777." in html
    assert re.search(r'<tr data-lot="G2021777".*?>2,000<', html, re.S)


def test_the_same_receipt_form_sent_twice_is_recorded_once(en, world):
    client = as_user(en, world, "supply_officer")
    data = receipt_form(client)
    client.post(RECEIPT, data)
    before = counts()
    r = client.post(RECEIPT, data)
    assert r.status_code == 302 and counts() == before
    assert "already recorded" in page(client.get(r["Location"]))


def test_a_receipt_of_an_expired_lot_shows_the_chinese_message_beside_the_date_and_writes_nothing(client, world):
    client = as_user(client, world, "supply_officer")
    data = receipt_form(client, expiry_date="2020-12-31")
    before = counts()
    r = client.post(RECEIPT, data)
    assert r.status_code == 422 and counts() == before
    html = page(r)
    expected = zh_message("lot_expired_on_receipt", {"lot_number": "G2021777", "expiry_date": "2020-12-31"})
    assert re.search("[\u4e00-\u9fff]", expected)
    error = re.search(r'data-testid="error-expiry_date">(.*?)</div>', html, re.S).group(1)
    assert expected in error
    assert 'value="G2021777"' in html and 'value="SJ202105001"' in html  # the input is kept
    assert f'value="{data["client_uuid"]}"' in html


def test_a_receipt_outside_the_cold_chain_is_refused_beside_the_temperature(en, world):
    client = as_user(en, world, "supply_officer")
    before = counts()
    r = client.post(RECEIPT, receipt_form(client, arrival_temperature_c="12"))
    assert r.status_code == 422 and counts() == before
    assert "outside 2–8 °C" in re.search(r'data-testid="error-arrival_temperature_c">(.*?)</div>', page(r), re.S).group(1)


# -- dispatch ---------------------------------------------------------------------------------


def dispatch_url(code="KD-CDC"):
    return reverse("supply:dispatch", args=[code])


def dispatch_form(client, world, code="KD-CDC"):
    html = page(client.get(dispatch_url(code)))
    return html, re.search(r'name="client_uuid" value="([^"]+)"', html).group(1)


def test_the_dispatch_form_offers_valid_routes_and_usable_lots_earliest_expiry_first(en, world):
    html, _ = dispatch_form(as_user(en, world, "supply_officer"), world)
    targets = re.findall(r'<option value="([A-Z-]+)"', html.split('name="to_store"')[1].split("</select>")[0])
    assert targets == ["GZ-CDC", "LD-CDC", "KD-MASS", "KD-THC"]  # parent, sibling, children
    lots = re.findall(r'<tr data-lot="([^"]+)"', html)
    assert lots == ["B2021001", "C2021001"]  # the expired, quarantined and recalled lots are not offered
    assert "3 lots on hand are not offered" in html


def test_dispatching_a_transfer_writes_one_event_and_moves_the_stock_in_transit(en, world):
    client = as_user(en, world, "supply_officer")
    _, client_uuid = dispatch_form(client, world)
    lot = world.lots["bibp"]
    before = StockEvent.objects.count()
    data = {"client_uuid": client_uuid, "to_store": "KD-MASS", f"doses_{lot.pk}": "600"}
    r = client.post(dispatch_url(), data)
    assert r.status_code == 302
    assert StockEvent.objects.count() == before + 1
    assert on_hand(world, "KD-CDC") == 9_400
    transfer = Transfer.objects.get(client_uuid=client_uuid)
    assert transfer.status == TransferStatus.IN_TRANSIT and transfer.to_store.code == "KD-MASS"
    assert client.post(dispatch_url(), data).status_code == 302  # a double submit is a replay
    assert on_hand(world, "KD-CDC") == 9_400 and Transfer.objects.filter(client_uuid=client_uuid).count() == 1


def test_dispatching_more_than_on_hand_shows_the_message_beside_the_lot_and_writes_nothing(client, world):
    client = as_user(client, world, "supply_officer")
    _, client_uuid = dispatch_form(client, world)
    lot = world.lots["bibp"]
    before = counts()
    r = client.post(dispatch_url(), {"client_uuid": client_uuid, "to_store": "KD-MASS", f"doses_{lot.pk}": "12000"})
    assert r.status_code == 409 and counts() == before
    row = re.search(r'<tr data-lot="B2021001".*?</tr>', page(r), re.S).group(0)
    assert zh_message("insufficient_stock", {"on_hand": 10000, "requested": 12000}) in row
    assert 'value="12000"' in row and "autofocus" in row


def test_a_dispatch_without_any_doses_is_refused(en, world):
    client = as_user(en, world, "supply_officer")
    _, client_uuid = dispatch_form(client, world)
    before = counts()
    r = client.post(dispatch_url(), {"client_uuid": client_uuid, "to_store": "KD-MASS"})
    assert r.status_code == 422 and counts() == before
    assert VaxopsError("invalid_quantity").message in page(r)


# -- transfers waiting, proof of delivery -----------------------------------------------------


def test_the_site_manager_sees_the_transfer_waiting_and_receives_it(en, world):
    transfer = send(world, 500)
    client = as_user(en, world, "site_manager")
    html = page(client.get(WAITING))
    assert f'data-transfer="{transfer.pk}"' in html
    line = transfer.lines.get()
    before = StockEvent.objects.count()
    r = client.post(reverse("supply:receive", args=[transfer.pk]), {
        f"accepted_{line.pk}": "490", f"rejected_{line.pk}": "10", f"reason_{line.pk}": "broken",
        f"t{transfer.pk}-arrival_temperature_c": "5", f"t{transfer.pk}-delivered_by": "王师傅",
    })
    assert r.status_code == 302 and r["Location"] == store_url("KD-MASS")
    assert StockEvent.objects.count() == before + 2  # transfer in, and the rejected doses back to the sender
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.RECEIVED and transfer.delivered_by == "王师傅"
    assert on_hand(world, "KD-MASS") == 10_490
    assert f"Transfer {transfer.pk} received." in page(client.get(r["Location"]))


def test_a_rejection_without_a_reason_is_shown_beside_its_line_and_nothing_is_written(client, world):
    transfer = send(world, 500)
    line = transfer.lines.get()
    client = as_user(client, world, "site_manager")
    before = counts()
    r = client.post(reverse("supply:receive", args=[transfer.pk]), {
        f"accepted_{line.pk}": "490", f"rejected_{line.pk}": "10", f"t{transfer.pk}-arrival_temperature_c": "5",
    })
    assert r.status_code == 422 and counts() == before
    row = re.search(r'<tr data-lot="B2021001".*?</tr>', page(r), re.S).group(0)
    assert zh_message("rejection_reason_required", {"lot_number": "B2021001"}) in row
    assert 'value="490"' in row and 'value="10"' in row
    assert Transfer.objects.get(pk=transfer.pk).status == TransferStatus.IN_TRANSIT


def test_a_transfer_received_without_temperature_waits_for_it_then_is_released(en, world):
    transfer = send(world, 300)
    receive(world, transfer, 300, celsius=None)
    client = as_user(en, world, "site_manager")
    html = page(client.get(WAITING))
    assert f'data-testid="held-transfer" data-transfer="{transfer.pk}"' in html
    bad = client.post(reverse("supply:temperature", args=[transfer.pk]), {f"h{transfer.pk}-arrival_temperature_c": "99"})
    assert bad.status_code == 422 and "−60 to +60" in page(bad)
    assert StockBalance.objects.get(store=world.stores["KD-MASS"], lot=world.lots["bibp"]).on_hold
    r = client.post(reverse("supply:temperature", args=[transfer.pk]), {f"h{transfer.pk}-arrival_temperature_c": "6"})
    assert r.status_code == 302
    assert not StockBalance.objects.get(store=world.stores["KD-MASS"], lot=world.lots["bibp"]).on_hold
    assert "the doses are released" in page(client.get(r["Location"]))


def test_a_receipt_without_temperature_is_listed_and_its_record_supplied(en, world):
    client = as_user(en, world, "supply_officer")
    client.post(RECEIPT, receipt_form(client, arrival_temperature_c=""))
    event = StockEvent.objects.get(reason__code="receipt", lines__lot__lot_number="G2021777")
    html = page(client.get(WAITING))
    assert f'data-event="{event.pk}"' in html
    r = client.post(reverse("supply:receipt_temperature", args=[event.pk]), {f"r{event.pk}-arrival_temperature_c": "5"})
    assert r.status_code == 302
    assert f'data-event="{event.pk}"' not in page(client.get(WAITING))


# -- count and adjust -------------------------------------------------------------------------


def test_a_count_writes_the_difference_as_one_event(en, world):
    client = as_user(en, world, "site_manager")
    url = reverse("supply:count", args=["KD-MASS"])
    html = page(client.get(url))
    assert len(re.findall(r'name="counted_\d+"', html)) == 5  # every lot of the store
    before = StockEvent.objects.count()
    r = client.post(url, {f"counted_{world.lots['bibp'].pk}": "9990"})
    assert r.status_code == 302 and StockEvent.objects.count() == before + 1
    assert on_hand(world, "KD-MASS") == 9_990
    assert "1 lots differ" in page(client.get(r["Location"])) or "differ from the books" in page(client.get(store_url("KD-MASS")))


def test_a_count_that_is_not_a_number_is_refused_beside_its_lot(client, world):
    client = as_user(client, world, "site_manager")
    before = counts()
    r = client.post(reverse("supply:count", args=["KD-MASS"]), {f"counted_{world.lots['bibp'].pk}": "九千"})
    assert r.status_code == 422 and counts() == before
    row = re.search(r'<tr data-lot="B2021001".*?</tr>', page(r), re.S).group(0)
    assert 'data-testid="line-error"' in row and 'value="九千"' in row


def test_an_adjustment_offers_manual_reasons_only_and_writes_one_event(en, world):
    client = as_user(en, world, "site_manager")
    url = reverse("supply:adjust", args=["KD-MASS"])
    html = page(client.get(url))
    reasons = re.findall(r'<option value="([a-z_]+)"', html.split('name="reason"')[1].split("</select>")[0])
    assert set(reasons) == {"returned", "broken", "expired", "cold_chain_failure", "vvm_discard", "lost", "found"}
    client_uuid = re.search(r'name="client_uuid" value="([^"]+)"', html).group(1)
    before = StockEvent.objects.count()
    data = {"client_uuid": client_uuid, "lot_number": "B2021001", "reason": "broken", "doses": "5", "note": "掉地"}
    r = client.post(url, data)
    assert r.status_code == 302 and StockEvent.objects.count() == before + 1
    assert on_hand(world, "KD-MASS") == 9_995
    client.post(url, data)  # sent twice: recorded once
    assert on_hand(world, "KD-MASS") == 9_995


def test_an_adjustment_of_zero_doses_shows_the_chinese_message_and_writes_nothing(client, world):
    client = as_user(client, world, "site_manager")
    before = counts()
    r = client.post(reverse("supply:adjust", args=["KD-MASS"]), {
        "client_uuid": str(uuid.uuid4()), "lot_number": "B2021001", "reason": "lost", "doses": "0"})
    assert r.status_code == 422 and counts() == before
    error = re.search(r'data-testid="error-doses">(.*?)</div>', page(r), re.S).group(1)
    assert zh_message("invalid_quantity") in error


def test_an_open_excursion_puts_the_store_on_hold_on_every_page(en, world):
    import datetime as dt

    from django.utils import timezone

    from vaxops.supply.models import Excursion

    store = world.stores["KD-CDC"]
    started = timezone.now() - dt.timedelta(hours=12)
    Excursion.objects.create(store=store, rule="fridge_heat", started_at=started, detected_at=started)
    store.on_hold = True
    store.save(update_fields=["on_hold"])
    client = as_user(en, world, "supply_officer")
    overview = re.search(r'data-store="KD-CDC".*?</tr>', page(client.get(STORES)), re.S).group(0)
    assert 'data-testid="mark-excursion"' in overview
    holds = re.search(r'data-testid="holds".*?</section>', page(client.get(store_url("KD-CDC"))), re.S).group(0)
    assert "cold-chain excursion (fridge_heat)" in holds and "open for 12 h" in holds
    html = page(client.get(dispatch_url()))
    assert 'data-testid="store-on-hold"' in html and '<tr data-lot=' not in html


def test_a_transfer_received_meanwhile_by_someone_else_is_said_above_the_list(en, world):
    transfer = send(world, 100)
    line = transfer.lines.get()
    receive(world, transfer, 100, user="supply_officer")
    client = as_user(en, world, "site_manager")
    before = counts()
    r = client.post(reverse("supply:receive", args=[transfer.pk]), {
        f"accepted_{line.pk}": "100", f"t{transfer.pk}-arrival_temperature_c": "5"}, follow=True)
    assert counts() == before
    assert "only a transfer in transit can be received" in page(r)


def test_a_wrong_temperature_on_receipt_keeps_the_lines_and_focuses_the_temperature(en, world):
    transfer = send(world, 100)
    line = transfer.lines.get()
    client = as_user(en, world, "site_manager")
    before = counts()
    r = client.post(reverse("supply:receive", args=[transfer.pk]), {
        f"accepted_{line.pk}": "100", f"t{transfer.pk}-arrival_temperature_c": "70"})
    assert r.status_code == 422 and counts() == before
    html = page(r)
    assert re.search(rf'name="t{transfer.pk}-arrival_temperature_c"[^>]*autofocus', html)
    assert "−60 to +60" in html and 'value="70"' in html


def test_a_receipt_temperature_sent_twice_says_nothing_is_on_hold(en, world):
    client = as_user(en, world, "supply_officer")
    client.post(RECEIPT, receipt_form(client, arrival_temperature_c=""))
    event = StockEvent.objects.get(reason__code="receipt", lines__lot__lot_number="G2021777")
    url = reverse("supply:receipt_temperature", args=[event.pk])
    client.post(url, {f"r{event.pk}-arrival_temperature_c": "5"})
    before = counts()
    r = client.post(url, {f"r{event.pk}-arrival_temperature_c": "5"}, follow=True)
    assert counts() == before and VaxopsError("nothing_on_hold").message in page(r)


def test_the_overview_costs_the_same_few_queries_however_many_stores(en, world, django_assert_max_num_queries):
    from vaxops.supply.services import create_store

    client = as_user(en, world, "admin")
    client.get(STORES)
    with django_assert_max_num_queries(12) as few:
        client.get(STORES)
    for i in range(10):
        create_store(code=f"KD-T{i}", name_zh=f"乡镇库{i}", level=4, division_code="513301001", parent_code="KD-CDC",
                     acting_user=None, source="cli")
    with django_assert_max_num_queries(len(few.captured_queries)):
        r = client.get(STORES)
    assert 'data-store="KD-T9"' in page(r)
