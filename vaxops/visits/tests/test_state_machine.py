"""The visit state machine under random sequences of steps (Hypothesis): whatever the desks
press and whenever, a visit never gets two doses, is never released before its observation
ends, keeps the step it left at, and only moves forward."""

from __future__ import annotations

import datetime as dt
import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import make_person
from vaxops.core.errors import VaxopsError
from vaxops.vaccination.models import DoseRecord
from vaxops.visits import services as sv
from vaxops.visits.models import Visit, VisitStatus

from .conftest import DAY, TZ8, new_uuid, open_session

_serial = itertools.count(1)
ORDER = {VisitStatus.WAITING: 0, VisitStatus.SCREENED: 1, VisitStatus.IN_OBSERVATION: 2, VisitStatus.RELEASED: 3,
         VisitStatus.DEFERRED: 3, VisitStatus.LEFT: 3}

step_st = st.tuples(
    st.sampled_from(["pass", "defer", "vaccinate", "release", "leave", "check_in_again"]),
    st.integers(0, 50),  # minutes after the previous step
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(step_st, min_size=1, max_size=8))
def test_random_steps_keep_the_rules(world, steps):
    n = next(_serial)
    user = world.users["vaccinator"]
    session = open_session(world.sites["KD-MASS"], day=DAY + dt.timedelta(days=n))
    person = make_person(world, seq=(n % 900) + 1, born=dt.date(1960, 1, 1) + dt.timedelta(days=n))
    clock = dt.datetime.combine(session.date, dt.time(8), TZ8)
    visit = sv.check_in(session, person, client_uuid=new_uuid(), acting_user=user, at=clock)
    rank = 0
    for action, gap in steps:
        clock += dt.timedelta(minutes=gap)
        before = Visit.objects.get(pk=visit.pk)
        try:
            if action in ("pass", "defer"):
                sv.screen(visit, outcome=action, contraindication="acute_illness", acting_user=user, at=clock)
            elif action == "vaccinate":
                sv.vaccinate(visit, product_code="BIBP", lot_number="B2021001", acting_user=user, at=clock)
            elif action == "release":
                sv.release(visit, acting_user=user, at=clock)
            elif action == "leave":
                sv.leave(visit, acting_user=user, at=clock)
            else:
                sv.check_in(session, person, client_uuid=new_uuid(), acting_user=user, at=clock)
        except VaxopsError as exc:
            after = Visit.objects.get(pk=visit.pk)
            assert after.status == before.status, "a refused step wrote something"
            if action == "release" and before.status == VisitStatus.IN_OBSERVATION:
                assert exc.code == "observation_not_finished" and clock < before.observation_until
            continue
        after = Visit.objects.get(pk=visit.pk)
        assert ORDER[after.status] >= rank, f"{before.status} -> {after.status}"
        rank = ORDER[after.status]
        if after.status == VisitStatus.RELEASED:
            assert after.released_at >= after.observation_until
        if after.status == VisitStatus.LEFT:
            assert after.left_step in (VisitStatus.WAITING, VisitStatus.SCREENED, VisitStatus.IN_OBSERVATION)
    final = Visit.objects.get(pk=visit.pk)
    doses = DoseRecord.objects.filter(person=person)
    assert doses.count() <= 1
    if final.dose_id is not None:
        assert doses.get().pk == final.dose_id
        assert final.observation_until == final.vaccinated_at + dt.timedelta(minutes=30)
    if final.status in (VisitStatus.IN_OBSERVATION, VisitStatus.RELEASED):
        assert final.dose_id is not None
    # A new ticket only once the visit before it has ended (deferred, left or released).
    under_way = Visit.objects.filter(session=session, status__in=[VisitStatus.WAITING, VisitStatus.SCREENED,
                                                                  VisitStatus.IN_OBSERVATION])
    assert under_way.count() <= 1
