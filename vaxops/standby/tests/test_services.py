"""The standby list's rules: who may sign up, the order of the calls, offers at the factor,
expiry, first to confirm gets the dose, nobody past the count, the wastage avoided."""

from __future__ import annotations

import datetime as dt
import math
import uuid

import pytest
from django.test import override_settings

from conftest import make_person
from vaxops.core.errors import VaxopsError
from vaxops.core.models import AuditEvent
from vaxops.outbox.models import Message
from vaxops.standby import services
from vaxops.standby.models import EntryStatus, Offer, OfferStatus, StandbyEntry, StandbyRound
from vaxops.standby.tests.helpers import DAY, at, give, multi_dose_lot, open_session, people

pytestmark = pytest.mark.django_db


@pytest.fixture
def session(world):
    multi_dose_lot(world)
    return open_session(world)


def sign(world, session, person, when, role="vaccinator", **kw):
    entry, created = services.sign_up(session, person, acting_user=world.users[role], at=when, **kw)
    assert created
    return entry


def open_vial_with(world, left: int, when=None):
    """Doses given until the day's open vial has ``left`` doses (5-dose vials)."""
    when = when or at(14)  # a 6-hour window: still open at the end of the day
    for i, p in enumerate(people(world, 5 - left, start=900)):
        give(world, p, when + dt.timedelta(minutes=i))
    return left


def test_the_list_is_called_by_priority_group_then_sign_up_time(world, session):
    a, b, c, d = people(world, 4, groups=[None, ["teachers"], ["medical_staff"], ["teachers"]])
    for i, p in enumerate([a, b, c, d]):
        sign(world, session, p, at(8, i))
    open_vial_with(world, 2)
    made = services.make_offers(session, acting_user=world.users["site_manager"], at=at(16, 30))
    assert made.leftover == 2 and made.free == 2
    # 2 doses × factor 2: the four, medical staff first, then the teachers by sign-up time.
    assert [o.entry.person_id for o in made.offers] == [c.pk, b.pk, d.pk, a.pk]
    ranks = list(StandbyEntry.objects.filter(session=session).values_list("person_id", flat=True))
    assert ranks == [c.pk, b.pk, d.pk, a.pk]


@pytest.mark.parametrize(("factor", "left"), [(2, 1), (2, 3), (3, 2), (2.5, 3)])
def test_offers_go_out_at_the_factor_of_the_leftover_count(world, session, factor, left):
    for i, p in enumerate(people(world, 12)):
        sign(world, session, p, at(8, i))
    open_vial_with(world, left)
    with override_settings(VAXOPS_STANDBY_OFFER_FACTOR=factor, VAXOPS_STANDBY_OFFER_MINUTES=20):
        made = services.make_offers(session, acting_user=world.users["site_manager"], at=at(16, 30))
    assert len(made.offers) == math.ceil(factor * left)
    assert made.round.doses == left
    assert {o.expires_at for o in made.offers} == {at(16, 50)}
    # Each offer is an SMS in the outbox, in Chinese, for its own reason.
    messages = Message.objects.filter(reason__startswith="standby-offer:")
    assert messages.count() == len(made.offers)
    text = messages.first().text
    assert "康定体育馆大规模接种点" in text and "16:50" in text
    assert AuditEvent.objects.filter(action="standby.offer").count() == 1


def test_offering_again_tops_up_to_the_factor_without_calling_anyone_twice(world, session):
    ps = people(world, 8)
    for i, p in enumerate(ps):
        sign(world, session, p, at(8, i))
    open_vial_with(world, 2)
    first = services.make_offers(session, acting_user=None, at=at(16, 30))
    again = services.make_offers(session, acting_user=None, at=at(16, 35))
    assert len(first.offers) == 4 and again.offers == []
    later = services.make_offers(session, acting_user=None, at=at(16, 46))  # the first four expired
    assert later.expired == 4 and len(later.offers) == 4
    assert {o.entry_id for o in later.offers}.isdisjoint({o.entry_id for o in first.offers})
    assert Message.objects.filter(status="suppressed").count() == 4  # never sent: they lapsed


def test_the_first_to_confirm_gets_the_dose_and_nobody_past_the_count(world, session):
    ps = people(world, 6)
    for i, p in enumerate(ps):
        sign(world, session, p, at(8, i))
    open_vial_with(world, 2)
    made = services.make_offers(session, acting_user=None, at=at(16, 30))
    o1, o2, o3, o4 = made.offers
    manager = world.users["site_manager"]
    assert services.confirm_offer(o3, acting_user=manager, at=at(16, 31)).status == OfferStatus.CONFIRMED
    assert services.confirm_offer(o1, acting_user=manager, at=at(16, 32)).status == OfferStatus.CONFIRMED
    with pytest.raises(VaxopsError) as exc:
        services.confirm_offer(o2, acting_user=manager, at=at(16, 33))
    assert exc.value.code == "standby_full" and exc.value.status == 409
    assert StandbyRound.objects.get(session=session).confirmed == 2
    assert Offer.objects.get(pk=o2.pk).status == OfferStatus.OFFERED  # refused: nothing written
    # Once full, the open offers' unsent messages are never sent.
    assert set(Message.objects.filter(status="suppressed").values_list("reason", flat=True)) == {
        o.reason for o in made.offers}
    # Confirming again answers the confirmation unchanged.
    assert services.confirm_offer(o3, acting_user=manager, at=at(16, 34)).status == OfferStatus.CONFIRMED
    assert AuditEvent.objects.filter(action="standby.confirm").count() == 2
    assert o4.status == OfferStatus.OFFERED


def test_an_expired_offer_cannot_be_confirmed_and_lapses(world, session):
    [p] = people(world, 1)
    sign(world, session, p, at(8))
    open_vial_with(world, 1)
    [o1, ] = services.make_offers(session, acting_user=None, at=at(16, 30)).offers
    with pytest.raises(VaxopsError) as exc:
        services.confirm_offer(o1, acting_user=world.users["site_manager"], at=at(16, 45))
    assert exc.value.code == "offer_expired" and exc.value.status == 409
    assert services.expire_offers(session=session, acting_user=None, at=at(16, 45)) == 1
    assert Offer.objects.get(pk=o1.pk).status == OfferStatus.EXPIRED
    assert StandbyEntry.objects.get(person=p).status == EntryStatus.LAPSED
    with pytest.raises(VaxopsError) as exc:
        services.confirm_offer(o1, acting_user=world.users["site_manager"], at=at(16, 40))
    assert exc.value.code == "offer_not_open"
    assert Message.objects.get(reason=o1.reason).status == "suppressed"


def test_a_declined_offer_frees_its_place_for_the_next_call(world, session):
    ps = people(world, 3)
    for i, p in enumerate(ps):
        sign(world, session, p, at(8, i))
    open_vial_with(world, 1)
    o1, o2 = services.make_offers(session, acting_user=None, at=at(16, 30)).offers
    services.decline_offer(o1, acting_user=world.users["vaccinator"], at=at(16, 31))
    assert StandbyEntry.objects.get(person=ps[0]).status == EntryStatus.DECLINED
    [o3] = services.make_offers(session, acting_user=None, at=at(16, 32)).offers
    assert o3.entry.person_id == ps[2].pk
    with pytest.raises(VaxopsError) as exc:
        services.confirm_offer(o1, acting_user=world.users["vaccinator"], at=at(16, 33))
    assert exc.value.code == "offer_not_open"


def test_confirmed_people_still_to_come_keep_their_doses(world, session):
    ps = people(world, 6)
    for i, p in enumerate(ps):
        sign(world, session, p, at(8, i))
    open_vial_with(world, 2)
    offers = services.make_offers(session, acting_user=None, at=at(16, 30)).offers
    services.confirm_offer(offers[0], acting_user=None, at=at(16, 31))
    # Still 2 doses in the vial, but one is reserved: one more is free to offer.
    again = services.make_offers(session, acting_user=None, at=at(16, 50))
    assert again.leftover == 2 and again.free == 1 and again.round.doses == 2
    give(world, ps[0], at(16, 55))  # the confirmed person arrives and is vaccinated
    assert services.wastage_avoided(session) == 1
    assert services.closing_figures(session) == {"wastage_avoided": 1}


def test_wastage_avoided_counts_only_confirmed_people_vaccinated_after_confirming(world, session):
    ps = people(world, 4)
    for i, p in enumerate(ps):
        sign(world, session, p, at(8, i))
    open_vial_with(world, 3)
    offers = services.make_offers(session, acting_user=None, at=at(16, 30)).offers
    services.confirm_offer(offers[0], acting_user=None, at=at(16, 31))
    services.confirm_offer(offers[1], acting_user=None, at=at(16, 32))
    give(world, ps[0], at(16, 40))
    give(world, ps[2], at(16, 41))  # offered, never confirmed: a walk-in, not a standby dose
    assert services.wastage_avoided(session) == 1


def test_no_leftover_makes_no_offers(world, session):
    [p] = people(world, 1)
    sign(world, session, p, at(8))
    made = services.make_offers(session, acting_user=None, at=at(16, 30))
    assert made.offers == [] and made.leftover == 0 and made.round.doses == 0


# --- sign up: bad input -----------------------------------------------------------------------


def test_a_duplicate_sign_up_is_refused_and_a_retry_is_a_replay(world, session):
    [p] = people(world, 1)
    key = uuid.uuid4()
    entry = sign(world, session, p, at(8), client_uuid=key)
    again, created = services.sign_up(session, p, acting_user=world.users["vaccinator"], client_uuid=key)
    assert again.pk == entry.pk and not created
    with pytest.raises(VaxopsError) as exc:
        services.sign_up(session, p, acting_user=world.users["vaccinator"])
    assert exc.value.code == "standby_duplicate" and exc.value.status == 409
    [q] = people(world, 1, start=700)
    with pytest.raises(VaxopsError) as exc:
        services.sign_up(session, q, acting_user=world.users["vaccinator"], client_uuid=key)
    assert exc.value.code == "idempotency_conflict"
    assert StandbyEntry.objects.count() == 1


def test_a_person_not_eligible_is_refused_with_the_reasons(world, session):
    child = make_person(world, born=dt.date(2015, 1, 1), seq=801, phone="13900000801")
    with pytest.raises(VaxopsError) as exc:
        services.sign_up(session, child, acting_user=world.users["vaccinator"], at=at(8))
    assert exc.value.code == "not_eligible" and exc.value.detail["reasons"]
    adult = people(world, 1)[0]
    give(world, adult, at(9))  # dose 1 today: dose 2 not before 21 days
    with pytest.raises(VaxopsError) as exc:
        services.sign_up(session, adult, acting_user=world.users["vaccinator"], at=at(10))
    assert exc.value.code == "not_eligible"
    assert StandbyEntry.objects.count() == 0


def test_a_person_without_a_phone_is_refused_unless_one_is_given(world, session):
    [p] = people(world, 1, phone=False)
    with pytest.raises(VaxopsError) as exc:
        services.sign_up(session, p, acting_user=world.users["vaccinator"])
    assert exc.value.code == "standby_phone_required"
    with pytest.raises(VaxopsError) as exc:
        services.sign_up(session, p, acting_user=world.users["vaccinator"], phone="12345")
    assert exc.value.code == "invalid_phone"
    entry, _ = services.sign_up(session, p, acting_user=world.users["vaccinator"], phone="13912345678")
    assert entry.phone == "13912345678"


def test_a_closed_session_takes_nobody_and_makes_no_offers(world):
    multi_dose_lot(world)
    closed = open_session(world, status="closed")
    [p] = people(world, 1)
    with pytest.raises(VaxopsError) as exc:
        services.sign_up(closed, p, acting_user=world.users["vaccinator"])
    assert exc.value.code == "standby_session_closed"
    with pytest.raises(VaxopsError) as exc:
        services.make_offers(closed, acting_user=world.users["site_manager"])
    assert exc.value.code == "standby_session_not_open"


def test_a_planned_session_takes_sign_ups_but_offers_only_once_open(world, session):
    planned = open_session(world, day=DAY + dt.timedelta(days=1), status="planned")
    [p] = people(world, 1)
    services.sign_up(planned, p, acting_user=world.users["vaccinator"], at=at(8))
    with pytest.raises(VaxopsError) as exc:
        services.make_offers(planned, acting_user=world.users["site_manager"])
    assert exc.value.code == "standby_session_not_open"


def test_a_session_without_multi_dose_vaccine_has_no_standby(world):
    session = open_session(world, site="KD-THC")
    from vaxops.supply.models import StockBalance

    assert not StockBalance.objects.filter(store__site__code="KD-THC", lot__doses_per_vial__gt=1).exists()
    [p] = people(world, 1)
    with pytest.raises(VaxopsError) as exc:
        services.sign_up(session, p, acting_user=None)
    assert exc.value.code == "standby_no_product"


def test_staff_of_another_site_and_roles_without_the_right_are_refused(world, session):
    [p] = people(world, 1)
    with pytest.raises(VaxopsError) as exc:
        services.sign_up(session, p, acting_user=world.users["vaccinator_ld"])
    assert exc.value.code == "session_not_found"
    with pytest.raises(VaxopsError) as exc:
        services.sign_up(session, p, acting_user=world.users["supply_officer"])
    assert exc.value.code == "permission_denied"
    with pytest.raises(VaxopsError) as exc:
        services.make_offers(session, acting_user=world.users["site_manager_ld"])
    assert exc.value.code == "session_not_found"
    with pytest.raises(VaxopsError) as exc:
        services.make_offers(session, acting_user=world.users["grid_worker"])
    assert exc.value.code == "permission_denied"
    # A grid worker signs up the residents of their grid for a session of their county.
    entry, _ = services.sign_up(session, p, acting_user=world.users["grid_worker"])
    assert entry.signed_up_by == world.users["grid_worker"]
    assert StandbyEntry.objects.count() == 1 and AuditEvent.objects.filter(action="standby.sign_up").count() == 1


def test_an_offer_of_another_site_is_not_found(world, session):
    [p] = people(world, 1)
    sign(world, session, p, at(8))
    open_vial_with(world, 1)
    [offer, ] = services.make_offers(session, acting_user=None, at=at(16, 30)).offers[:1]
    with pytest.raises(VaxopsError) as exc:
        services.confirm_offer(offer, acting_user=world.users["site_manager_ld"], at=at(16, 31))
    assert exc.value.code == "offer_not_found"
    with pytest.raises(VaxopsError) as exc:
        services.decline_offer(offer, acting_user=world.users["grid_worker"], at=at(16, 31))
    assert exc.value.code == "permission_denied"


def test_doses_given_to_walk_ins_meanwhile_are_not_confirmed_again(world, session):
    ps = people(world, 4)
    for i, p in enumerate(ps):
        sign(world, session, p, at(8, i))
    open_vial_with(world, 2)
    offers = services.make_offers(session, acting_user=None, at=at(16, 30)).offers
    services.confirm_offer(offers[0], acting_user=None, at=at(16, 31))
    give(world, people(world, 1, start=980)[0], at(16, 32))  # a walk-in takes the other dose
    with pytest.raises(VaxopsError) as exc:
        services.confirm_offer(offers[1], acting_user=None, at=at(16, 33))
    assert exc.value.code == "standby_full"
    assert StandbyRound.objects.get(session=session).confirmed == 1
