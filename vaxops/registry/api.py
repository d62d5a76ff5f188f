"""People: register, look up, eligibility."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status

from vaxops.access.scope import can, get_scoped, require, restrict
from vaxops.access.services import reach_person
from vaxops.catalog.models import Product
from vaxops.core.errors import VaxopsError
from vaxops.core.models import Source
from vaxops.core.schema import Day
from vaxops.registry.models import Deferral, Person
from vaxops.registry.services import register_person, validate_id_number
from vaxops.vaccination.services import assess_person

router = Router(tags=["people"])


class PersonIn(Schema):
    id_number: str
    name: str
    phone: str | None = None
    division_code: str | None = None
    priority_groups: list[str] | None = None


class PersonOut(Schema):
    id: int
    id_number_masked: str
    name: str
    birth_date: dt.date
    sex: str
    division_code: str
    priority_groups: list[str]
    status: str


class PersonList(Schema):
    items: list[PersonOut]
    count: int


class ErrorOut(Schema):
    code: str
    message: str
    detail: dict


class ReasonOut(Schema):
    code: str
    message: str
    params: dict


class EligibilityOut(Schema):
    status: str
    dose_number: int | None
    kind: str | None
    earliest_date: dt.date | None
    due_by: dt.date | None
    overdue: bool
    reasons: list[ReasonOut]


def person_out(p: Person) -> dict:
    return {
        "id": p.pk, "id_number_masked": p.id_number_masked, "name": p.name, "birth_date": p.birth_date,
        "sex": p.sex, "division_code": p.home_division.code, "priority_groups": p.priority_groups,
        "status": p.status,
    }


@router.post("", response={201: PersonOut, 400: ErrorOut, 404: ErrorOut, 409: ErrorOut, 429: ErrorOut})
def create_person(request, payload: PersonIn):
    person = register_person(
        id_number=payload.id_number, name=payload.name, phone=payload.phone or "",
        division_code=payload.division_code, priority_groups=payload.priority_groups,
        acting_user=request.user, source=Source.API,
    )
    return Status(201, person_out(person))


def search_people(
    user, *, id_number: str | None = None, phone: str | None = None, name: str | None = None, source: str = Source.API
):
    """People matching the search, within the user's reach.

    Site staff find anyone by the exact ID number (the card in hand): a person outside their
    area found this way is audited, counted against the user's look-up limit (429
    ``too_many_requests`` beyond it, and then nothing is shown) and reachable by id for the rest
    of the working day (``access.services.reach_person``). Other searches stay in the area.
    """
    require(user, "person.view")
    if id_number:
        number = validate_id_number(id_number).number
        # In the area (for site staff: their site's county) without a reach; anyone else only
        # through reach_person, so every such look-up is audited, also of someone reached today.
        people = restrict(Person.objects.all(), user, "person.view").filter(id_number=number)
        if not can(user, "person.lookup") or people.exists():
            return people
        found = restrict(Person.objects.all(), user, "person.lookup").filter(id_number=number).first()
        if found is None:
            return people
        reach_person(person=found, acting_user=user, source=source)
        return Person.objects.filter(pk=found.pk)
    people = restrict(Person.objects.all(), user, "person.view")
    if phone:
        return people.filter(phone=phone.strip())
    if name:
        return people.filter(name=name.strip())
    return people.order_by("-pk")


@router.get("", response={200: PersonList, 400: ErrorOut, 429: ErrorOut})
def list_people(
    request,
    id_number: str | None = None,
    phone: str | None = None,
    name: str | None = None,
    limit: int = Query(50, ge=1, le=200),
):
    people = search_people(request.user, id_number=id_number, phone=phone, name=name)
    items = list(people.select_related("home_division")[:limit])
    return {"items": [person_out(p) for p in items], "count": people.count()}


def reachable_person(user, person_id: int) -> Person:
    """The person by numeric id, if the user may reach them: in their area, or (site staff)
    reached today by the exact ID number; otherwise ``person_not_found`` (404)."""
    action = "person.vaccinate" if can(user, "person.vaccinate") else "person.view"
    return get_scoped(
        Person.objects.select_related("home_division"), user, action,
        not_found="person_not_found", detail={"person_id": person_id}, pk=person_id,
    )


@router.get("/{person_id}", response={200: PersonOut, 404: ErrorOut})
def get_person(request, person_id: int):
    return person_out(reachable_person(request.user, person_id))


@router.get("/{person_id}/eligibility", response={200: EligibilityOut, 404: ErrorOut})
def eligibility(request, person_id: int, product: str, on: Day | None = None):
    from vaxops.catalog.messages import verdict_reasons

    person = reachable_person(request.user, person_id)
    prod = Product.objects.filter(code=product).first()
    if prod is None:
        raise VaxopsError("product_not_found", {"product": product})
    verdict = assess_person(person, prod, on or timezone.localdate())
    return {
        "status": verdict.status, "dose_number": verdict.dose_number, "kind": verdict.kind,
        "earliest_date": verdict.earliest_date, "due_by": verdict.due_by, "overdue": verdict.overdue,
        "reasons": verdict_reasons(verdict),
    }


class DeferralOut(Schema):
    id: int
    person_id: int
    code: str
    reason: str
    since: dt.date
    until: dt.date | None
    note: str
    lifted_at: dt.datetime | None
    lift_reason: str


class LiftIn(Schema):
    reason: str = Field(..., max_length=500, description="Why the deferral no longer holds (the clinician's decision).")


def deferral_out(d: Deferral) -> dict:
    return {"id": d.pk, "person_id": d.person_id, "code": d.code, "reason": str(d.get_code_display()),
            "since": d.since, "until": d.until, "note": d.note, "lifted_at": d.lifted_at,
            "lift_reason": d.lift_reason}


@router.get("/{person_id}/deferrals", response={200: list[DeferralOut], 404: ErrorOut})
def list_deferrals(request, person_id: int):
    """The person's deferrals, open and lifted, newest first."""
    person = reachable_person(request.user, person_id)
    return [deferral_out(d) for d in person.deferrals.order_by("-since", "-pk")]


@router.post("/{person_id}/deferrals/{deferral_id}/lift",
             response={200: DeferralOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut})
def lift(request, person_id: int, deferral_id: int, payload: LiftIn):
    """Lift an open deferral (site manager or county command), with the written reason: the
    person is eligible again as far as the deferral goes, and back on the work lists."""
    from vaxops.registry.status import lift_deferral

    return deferral_out(lift_deferral(deferral_id=deferral_id, person_id=person_id, reason=payload.reason,
                                      acting_user=request.user, source=Source.API))
