"""The ``people`` import kind: one resident per row, through ``registry.batch.register_people``."""

from __future__ import annotations

from functools import cache
from typing import Any

from django.utils.translation import gettext_lazy as _

from vaxops.interop.kinds import (
    Column,
    ImportKind,
    Prepared,
    RowResult,
    from_error,
    probe,
    register,
    rejected,
)
from vaxops.registry.batch import PersonItem, register_people
from vaxops.registry.models import Person

COLUMNS = (
    Column("id_number", "身份证号", True, _("Resident ID number, 18 characters (or the old 15 digits)."),
           "513301198005170123"),
    Column("name", "姓名", True, _("Name as on the ID card."), "张三"),
    Column("phone", "手机号", False, _("Mobile number, 11 digits starting with 1; may be empty."), "13800000000"),
    Column("division_code", "居住地区划代码", True,
           _("Code of the home township, village, community or grid (9 digits or more)."), "513301001"),
    Column("priority_groups", "重点人群", False,
           _("Priority group codes separated by ; (may be empty)."), ""),
)

# Where a batch service's rejection points in the file.
ERROR_COLUMNS = {
    "invalid_id_number": "id_number", "person_exists": "id_number", "person_registered_elsewhere": "id_number",
    "person_not_found": "id_number", "invalid_name": "name", "invalid_phone": "phone",
    "division_not_found": "division_code", "home_division_too_coarse": "division_code",
    "unknown_priority_group": "priority_groups",
}


def split_groups(text: str) -> tuple[str, ...]:
    parts = text.replace("；", ";").split(";")
    return tuple(dict.fromkeys(p.strip() for p in parts if p.strip()))


def person_item(row_number: int, row: dict[str, str]) -> PersonItem | RowResult:
    """The person a row describes (people files and the registration columns of dose files)."""
    for key in ("id_number", "name"):
        if not row.get(key):
            return rejected(row_number, key, "import_missing_value", column=key)
    return PersonItem(
        id_number=row["id_number"].upper(), name=row["name"], phone=row.get("phone", ""),
        division_code=row.get("division_code") or None, priority_groups=split_groups(row.get("priority_groups", "")),
    )


def parse(row_number: int, row: dict[str, str]) -> Prepared | RowResult:
    if not row.get("division_code"):
        return rejected(row_number, "division_code", "import_missing_value", column="division_code")
    item = person_item(row_number, row)
    if isinstance(item, RowResult):
        return item
    return Prepared(row_number, item, (item.id_number, item.name, item.phone, item.division_code,
                                       item.priority_groups))


@cache
def can_update() -> bool:
    return probe(lambda: register_people([], acting_user=None, source="import", update=True))


@cache
def can_atomic() -> bool:
    return probe(lambda: register_people([], acting_user=None, source="import", atomic=True))


def outcome_result(row_number: int, outcome: Any) -> RowResult:
    if outcome.status == "rejected":
        return from_error(row_number, outcome.error, ERROR_COLUMNS)
    return RowResult(row_number, outcome.status, object_id=getattr(outcome.person, "pk", None))


def write(prepared: list[Prepared], *, job: Any, atomic: bool) -> list[RowResult]:
    kwargs: dict[str, Any] = {"update": True} if can_update() else {}
    if atomic:
        kwargs["atomic"] = True
    outcomes = register_people([p.item for p in prepared], acting_user=job.user, source="import", **kwargs)
    return [outcome_result(p.row_number, o) for p, o in zip(prepared, outcomes, strict=True)]


PEOPLE = register(ImportKind(
    name="people", title=_("People"), columns=COLUMNS, parse=parse, write=write,
    created_since=lambda ids, since, job: set(
        Person.objects.filter(pk__in=ids, created_at__gte=since).values_list("pk", flat=True)),
    updated_actions=frozenset({"person.update"}), object_type="registry.person",
    supports_all=can_atomic,
))
