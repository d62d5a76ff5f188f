"""The board's counts against a brute-force count of the same visits, at many moments; the
replay's rules; the what-if's determinism and its direction (one more station clears sooner)."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from vaxops.core.errors import VaxopsError
from vaxops.visits import services as sv
from vaxops.visits.board import board, board_counts
from vaxops.visits.models import Visit
from vaxops.visits.whatif import what_if

from .conftest import at, new_uuid, record_doses_for, register_many


def build_day(world, session, n=60, seed=7):
    """A replayed morning of ``n`` visits with every kind of ending; returns the rows."""
    rng = random.Random(seed)
    persons = register_many(world, n)
    rows, vaccinate = [], []
    for p in persons:
        t = at(8) + dt.timedelta(minutes=rng.uniform(0, 120))
        row = {"session_id": session.pk, "person_id": p.pk, "client_uuid": new_uuid(), "checked_in_at": t}
        fate = rng.random()
        if fate > 0.15:
            t = t + dt.timedelta(minutes=rng.uniform(1, 40))
            row["screened_at"] = t
            if fate < 0.22:
                row.update(outcome="defer", contraindication="acute_illness")
            elif fate > 0.3:
                t = t + dt.timedelta(minutes=rng.uniform(1, 30))
                vaccinate.append((p, t, row))
                if fate > 0.45:
                    row["released_at"] = t + dt.timedelta(minutes=30 + rng.uniform(0, 10))
                elif fate > 0.4:
                    row["left_at"] = t + dt.timedelta(minutes=rng.uniform(1, 20))
            elif fate > 0.25:
                row["left_at"] = t + dt.timedelta(minutes=5)
        elif fate > 0.1:
            row["left_at"] = t + dt.timedelta(minutes=10)
        rows.append(row)
    doses = record_doses_for(world, [p for p, _, _ in vaccinate], [t for _, t, _ in vaccinate])
    for (_, _, row), dose in zip(vaccinate, doses, strict=True):
        row["dose_id"] = dose.pk
    assert sv.replay_visits(rows, acting_user=world.users["site_manager"]) == n
    return rows


def brute_force(visits, t):
    def by(x):
        return x is not None and x <= t

    out = dict.fromkeys(["waiting", "in_screening", "in_observation", "overdue_in_observation", "vaccinated",
                         "released", "arrivals_last_hour", "throughput_last_hour"], 0)
    for v in visits:
        if not by(v.checked_in_at):
            continue
        here = not by(v.left_at)
        out["arrivals_last_hour"] += v.checked_in_at > t - dt.timedelta(hours=1)
        if by(v.vaccinated_at):
            out["vaccinated"] += 1
            out["throughput_last_hour"] += v.vaccinated_at > t - dt.timedelta(hours=1)
        if by(v.released_at):
            out["released"] += 1
        if not here:
            continue
        if not by(v.screened_at):
            out["waiting"] += 1
        elif v.deferral_id is None and not by(v.vaccinated_at):
            out["in_screening"] += 1
        elif by(v.vaccinated_at) and not by(v.released_at):
            out["in_observation"] += 1
            out["overdue_in_observation"] += v.observation_until < t
    return out


def test_board_counts_equal_a_brute_force_count_at_every_moment(world, session):
    build_day(world, session)
    visits = list(Visit.objects.filter(session=session))
    for minute in range(0, 6 * 60, 7):
        t = at(8) + dt.timedelta(minutes=minute)
        counts = board_counts(session, t)
        assert {k: counts[k] for k in brute_force(visits, t)} == brute_force(visits, t), t


def test_the_board_is_one_statement(world, session):
    build_day(world, session, n=20)
    with CaptureQueriesContext(connection) as queries:
        board(session, at(10))
    assert len(queries) == 1


def test_the_live_board_follows_the_steps(world, session):
    user = world.users["vaccinator"]
    (p,) = register_many(world, 1)
    v = sv.check_in(session, p, client_uuid=new_uuid(), acting_user=user, at=at(9))
    assert board(session, at(9, 1))["waiting"] == 1
    sv.screen(v, outcome="pass", acting_user=user, at=at(9, 2))
    assert board(session, at(9, 3))["in_screening"] == 1
    sv.vaccinate(v, product_code="BIBP", lot_number="B2021001", acting_user=user, at=at(9, 5))
    b = board(session, at(9, 6))
    assert (b["in_observation"], b["vaccinated"], b["throughput_last_hour"], b["waiting"]) == (1, 1, 1, 0)
    assert board(session, at(9, 40))["overdue_in_observation"] == 1
    sv.release(v, acting_user=user, at=at(9, 40))
    b = board(session, at(9, 41))
    assert (b["in_observation"], b["released"], b["queue_clears_at"]) == (0, 1, at(9, 41))


def test_expected_wait_and_clearing_follow_the_rates(world, session):
    build_day(world, session)
    b = board(session, at(9, 30))
    queue = b["waiting"] + b["in_screening"]
    assert b["expected_wait_minutes"] == pytest.approx(queue / b["throughput_last_hour"] * 60, abs=0.1)
    assert b["queue_clears_at"] > at(9, 30)


def test_replay_refuses_a_release_before_observation_ends_and_writes_nothing(world, session):
    (p,) = register_many(world, 1)
    (dose,) = record_doses_for(world, [p], [at(9, 10)])
    row = {"session_id": session.pk, "person_id": p.pk, "client_uuid": new_uuid(), "checked_in_at": at(9),
           "screened_at": at(9, 5), "dose_id": dose.pk, "released_at": at(9, 30)}
    with pytest.raises(VaxopsError) as exc:
        sv.replay_visits([row], acting_user=world.users["site_manager"])
    assert exc.value.code == "observation_not_finished"
    assert not Visit.objects.exists()
    with pytest.raises(VaxopsError) as exc:
        sv.replay_visits([{**row, "released_at": None, "screened_at": None}], acting_user=world.users["site_manager"])
    assert exc.value.code == "visit_not_screened"


def test_replay_at_a_closed_session_is_refused(world, session):
    session.status = "closed"
    session.save()
    (p,) = register_many(world, 1)
    with pytest.raises(VaxopsError) as exc:
        sv.replay_visits([{"session_id": session.pk, "person_id": p.pk, "client_uuid": new_uuid(),
                           "checked_in_at": at(9)}], acting_user=world.users["site_manager"])
    assert exc.value.code == "session_not_open"


def test_what_if_is_deterministic_and_one_more_station_clears_sooner(world, session):
    build_day(world, session, n=80)
    stations = {"screening": 1, "vaccination": 1, "observation": 20}
    first = what_if(session, stations=stations, at=at(9, 30), until=at(11))
    again = what_if(session, stations=stations, at=at(9, 30), until=at(11))
    assert first == again
    more = what_if(session, stations=stations, extra_stations={"vaccination": 1}, at=at(9, 30), until=at(11))
    assert more["stations"]["vaccination"] == 2
    assert more["queue_clears_at"] <= first["queue_clears_at"]
    done = {p["at"]: p["count"] for p in first["done_by"]}
    done_more = {p["at"]: p["count"] for p in more["done_by"]}
    assert done_more[at(11)] >= done[at(11)]
    released = board(session, at(9, 30))["released"]
    assert min(done.values()) >= released


def test_what_if_refuses_an_unknown_stage(world, session):
    with pytest.raises(VaxopsError) as exc:
        what_if(session, stations={"screening": 1, "vaccination": 1, "observation": 1},
                extra_stations={"parking": 2}, at=at(9))
    assert exc.value.code == "invalid_stage"
