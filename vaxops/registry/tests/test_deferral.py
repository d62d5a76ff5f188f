"""A recorded contraindication holds the dose back until its end date."""

import datetime as dt

from conftest import dose_body
from vaxops.core.models import AuditEvent
from vaxops.registry.services import defer_person


def test_deferred_person_is_not_yet_eligible_until_the_day_after(api, world, person):
    defer_person(person_id=person.pk, code="acute_illness", since=dt.date(2021, 5, 1), until=dt.date(2021, 5, 12),
                 note="fever 38.5", acting_user=world.users["vaccinator"], source="web")
    vaccinator = api(world.tokens["vaccinator"])
    during = vaccinator.get(f"/people/{person.pk}/eligibility", product="BIBP", on="2021-05-10").json()
    assert during["status"] == "not_yet" and during["earliest_date"] == "2021-05-13"
    assert "deferred" in [r["code"] for r in during["reasons"]]
    refused = vaccinator.post("/doses", dose_body(person.pk, at="2021-05-10T10:00:00+08:00"))
    assert refused.status_code == 422 and refused.json()["code"] == "not_eligible"
    after = vaccinator.post("/doses", dose_body(person.pk, at="2021-05-13T10:00:00+08:00"))
    assert after.status_code == 201
    assert AuditEvent.objects.filter(action="person.defer").count() == 1
