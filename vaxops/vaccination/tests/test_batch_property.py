"""One write path: a batch ends exactly where the same items sent one by one through
``record_dose`` end — the same answer for every item, the same dose rows, the same counters.

Each example builds two twin sets of residents (same birth dates, homes and statuses) in the
test's database; the batch goes to the first set, the same items one by one to the second (with
their own twin client UUIDs), from the same moment of recording. Audit events differ on
purpose: one ``dose.batch`` event for the batch, one ``dose.record`` per dose one by one.
"""

from __future__ import annotations

import datetime as dt
import itertools
import uuid

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from conftest import make_person
from vaxops.campaign.services import counter_snapshot, residence_snapshot
from vaxops.core.errors import VaxopsError
from vaxops.core.models import AuditEvent
from vaxops.registry.models import Person, PersonStatus
from vaxops.vaccination.batch import DoseItem, record_doses
from vaxops.vaccination.models import DoseRecord
from vaxops.vaccination.services import record_dose

TZ8 = dt.timezone(dt.timedelta(hours=8))
NOW = dt.datetime(2021, 7, 1, 20, 0, tzinfo=TZ8)
PRODUCTS = ["BIBP", "CORONAVAC", "NOPE"]
LOTS = ["B2021001", "C2021001", "B2020999", "B2021Q01", "B2021R01", "NOLOT"]
SITES = ["KD-MASS"] * 6 + ["KD-THC", "LD-MASS"]
_serial = itertools.count(1)

item_st = st.fixed_dictionaries({
    "who": st.integers(0, 4),  # 0-2 residents of Kangding, 3 of Luding (outside the area), 4 nobody
    "by_number": st.booleans(),
    "key": st.integers(0, 5),
    "product": st.sampled_from(PRODUCTS[:2] * 4 + PRODUCTS[2:]),
    "lot": st.sampled_from(["ok"] * 8 + LOTS),  # "ok": the product's usable lot
    "site": st.sampled_from(SITES),
    # Days before NOW; beyond a day back it is a retrospective entry.
    "day": st.sampled_from([0] * 6 + [1, 3, 20, 22, 30, 45, 60]),
    "hour": st.integers(8, 17),
    "dose_number": st.sampled_from([None, None, 1, 2, 3]),
    "override": st.sampled_from([None, None, "clinic advice", " "]),
    "retro_reason": st.sampled_from([None, "paper form", "paper form"]),
    "naive": st.sampled_from([False] * 19 + [True]),
})


@pytest.fixture
def window(settings):
    settings.VAXOPS_RETROSPECTIVE_HOURS = 24
    return settings


def _residents(world, inactive: bool, n: int, seq: int) -> list[Person]:
    """Three residents of Kangding and one of Luding; twins share ``n`` and differ by ``seq``."""
    born = [dt.date(1950, 1, 1) + dt.timedelta(days=n * 7 + i) for i in range(3)]
    people = [make_person(world, seq=seq + i, born=born[i]) for i in range(3)]
    people.append(make_person(world, seq=seq + 3, born=born[0], county="513322"))
    if inactive:
        Person.objects.filter(pk=people[2].pk).update(status=PersonStatus.DECEASED)
    return people


def _items(specs, people, keys) -> list[DoseItem]:
    out = []
    for s in specs:
        at = (NOW - dt.timedelta(days=s["day"])).replace(hour=s["hour"], minute=0)
        if s["naive"]:
            at = at.replace(tzinfo=None)
        person = people[s["who"]] if s["who"] < len(people) else None
        named = {"person_id": person.pk if person else 10**9}
        if s["by_number"]:
            named = {"id_number": person.id_number if person else "513301199001011234"}
        out.append(DoseItem(
            client_uuid=keys[s["key"]], product_code=s["product"],
            lot_number={"BIBP": "B2021001", "CORONAVAC": "C2021001"}.get(s["product"], "B2021001")
            if s["lot"] == "ok" else s["lot"], site_code=s["site"],
            administered_at=at, dose_number=s["dose_number"], override_reason=s["override"],
            retrospective_reason=s["retro_reason"], **named,
        ))
    return out


def _norm(value, people, keys):
    """A value with the world's own ids replaced by what they stand for (resident index, key index)."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if k == "id" and v is not None:
                v = ("dose", keys.index(DoseRecord.objects.get(pk=v).client_uuid))
            elif k == "person_id":
                v = next((i for i, p in enumerate(people) if p.pk == v), v)
            elif k == "client_uuid":
                v = keys.index(uuid.UUID(str(v)))
            out[k] = _norm(v, people, keys)
        return out
    if isinstance(value, list):
        return [_norm(v, people, keys) for v in value]
    return value


def _row(d: DoseRecord, people, keys) -> tuple:
    skip = {"id", "created_at", "fingerprint", "session", "person", "client_uuid"}
    return (
        next(i for i, p in enumerate(people) if p.pk == d.person_id), keys.index(d.client_uuid),
        (d.session.site_id, d.session.date) if d.session_id else None,
        *(getattr(d, f.attname) for f in DoseRecord._meta.concrete_fields if f.name not in skip),
    )


def _rows(people, keys) -> list[tuple]:
    return sorted(_row(d, people, keys) for d in DoseRecord.objects.filter(client_uuid__in=keys)
                  .select_related("session"))


def _delta(before: dict, after: dict) -> dict:
    return {k: after.get(k, 0) - before.get(k, 0) for k in set(before) | set(after) if after.get(k, 0) != before.get(k, 0)}


def _answer(status, error, record, people, keys):
    if error is not None:
        return (status, error.code, _norm(error.detail, people, keys))
    return (status, None, _row(record, people, keys))


# No shrinking phase: each example costs a second or so of database work, and shrinking one can
# take minutes; the failing example is printed as generated.
@settings(max_examples=25, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(specs=st.lists(item_st, min_size=2, max_size=10), manager=st.booleans(), inactive=st.booleans())
def test_a_batch_ends_where_the_same_doses_one_by_one_end(world, window, specs, manager, inactive):
    user = world.users["site_manager" if manager else "vaccinator"]
    n = next(_serial)
    people_a, people_b = _residents(world, inactive, n, 100), _residents(world, inactive, n, 200)
    keys_a, keys_b = [uuid.uuid4() for _ in range(6)], [uuid.uuid4() for _ in range(6)]

    sites0, homes0 = counter_snapshot(), residence_snapshot()
    events0 = AuditEvent.objects.filter(action__in=["dose.record", "dose.batch"]).count()
    outcomes = record_doses(_items(specs, people_a, keys_a), acting_user=user, source="api", now=NOW)
    sites1, homes1 = counter_snapshot(), residence_snapshot()
    events1 = AuditEvent.objects.filter(action__in=["dose.record", "dose.batch"]).count()
    batch = [_answer(o.status, o.error, o.record, people_a, keys_a) for o in outcomes]
    assert [o.index for o in outcomes] == list(range(len(specs)))
    assert all(o.written for o in outcomes if o.status == "created")

    single = []
    for item in _items(specs, people_b, keys_b):
        kwargs = {"person_id": item.person_id} if item.person_id is not None else {}
        if item.person_id is None:  # record_dose names the person by id: resolve the number as the batch does
            kwargs["person_id"] = Person.objects.filter(id_number=item.id_number).values_list("pk", flat=True).first() or 10**9
        try:
            record, created = record_dose(
                client_uuid=item.client_uuid, product_code=item.product_code, lot_number=item.lot_number,
                site_code=item.site_code, administered_at=item.administered_at, dose_number=item.dose_number,
                override_reason=item.override_reason, retrospective_reason=item.retrospective_reason,
                acting_user=user, source="api", now=NOW, **kwargs,
            )
            single.append(_answer("created" if created else "replayed", None, record, people_b, keys_b))
        except VaxopsError as exc:
            single.append(_answer("rejected", exc, None, people_b, keys_b))

    def unnamed(answers):  # a person named by an unknown ID number is reported by that number
        return [(s, c, {k: v for k, v in d.items() if k not in ("person_id", "id_number")})
                if c == "person_not_found" else (s, c, d) for s, c, d in answers]

    assert unnamed(batch) == unnamed(single)
    assert _rows(people_a, keys_a) == _rows(people_b, keys_b)
    assert _delta(sites0, sites1) == _delta(sites1, counter_snapshot())
    assert _delta(homes0, homes1) == _delta(homes1, residence_snapshot())
    created = sum(1 for o in outcomes if o.status == "created")
    events2 = AuditEvent.objects.filter(action__in=["dose.record", "dose.batch"]).count()
    # One event per batch that wrote anything (one dose.record for a batch of one); one per dose one by one.
    assert events1 - events0 == (1 if created else 0)
    assert events2 - events1 == created
