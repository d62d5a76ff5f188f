"""The ``doses`` import kind: one dose per row, through ``vaccination.batch.record_doses``.

Imported doses are retrospective entries made by the importer with the job's reason. A dose
file may carry the registration columns of a people file (``name``, ``phone``,
``division_code``, ``priority_groups``): a row with a name registers its person first (through
``registry.batch.register_people``, with the importer's rights) when not yet registered.
"""

from __future__ import annotations

import datetime as dt
import uuid
from functools import cache
from typing import Any

from django.utils.translation import gettext_lazy as _

from vaxops.interop import people
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
from vaxops.registry.batch import register_people
from vaxops.vaccination.batch import DoseItem, record_doses
from vaxops.vaccination.models import DoseRecord

# Derived submission IDs: the same dose row gives the same ID in every file and every run.
DOSE_NAMESPACE = uuid.UUID("6f1d3c2e-8a4b-5c6d-9e0f-1a2b3c4d5e6f")

COLUMNS = (
    Column("id_number", "身份证号", True, _("Resident ID number of the vaccinated person."), "513301198005170123"),
    Column("product", "疫苗产品", True, _("Vaccine product code, as in the catalogue (e.g. BIBP)."), "BIBP"),
    Column("lot_number", "批号", True, _("Lot number on the vial."), "B2021001"),
    Column("site_code", "接种点编码", True, _("Code of the vaccination site."), "KD-MASS"),
    Column("administered_at", "接种时间", True,
           _("When the dose was given, with its UTC offset: 2021-05-10T10:00:00+08:00."),
           "2021-05-10T10:00:00+08:00"),
    Column("dose_number", "剂次", False, _("Dose number in the series (optional; checked against the rules)."), "1"),
    Column("client_uuid", "提交编号", False,
           _("A UUID identifying this dose (optional; derived from the row's content when empty)."), ""),
    Column("name", "姓名", False, _("Optional: name, to register a person not yet registered."), ""),
    Column("phone", "手机号", False, _("Optional: phone, when registering."), ""),
    Column("division_code", "居住地区划代码", False, _("Optional: home division code, when registering."), ""),
    Column("priority_groups", "重点人群", False, _("Optional: priority groups separated by ;, when registering."), ""),
)

ERROR_COLUMNS = {
    "person_not_found": "id_number", "person_inactive": "id_number", "not_eligible": "id_number",
    "product_not_found": "product", "product_not_yet_approved": "product",
    "lot_not_found": "lot_number", "lot_wrong_product": "lot_number", "lot_expired": "lot_number",
    "lot_quarantined": "lot_number", "lot_recalled": "lot_number",
    "site_not_found": "site_code", "invalid_datetime": "administered_at",
    "administered_in_future": "administered_at", "administered_before_campaign": "administered_at",
    "dose_too_early": "administered_at", "dose_number_mismatch": "dose_number",
    "dose_already_recorded": "dose_number", "idempotency_conflict": "client_uuid",
    "retrospective_reason_required": "", **people.ERROR_COLUMNS,
}
# A person who exists already (here or elsewhere) is no reason to refuse the dose row.
PERSON_PRESENT = {"person_exists", "person_registered_elsewhere"}


def parse_moment(text: str) -> dt.datetime | None:
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None and moment.utcoffset() is not None else None


def derived_uuid(id_number: str, product: str, lot: str, site: str, at: dt.datetime, dose_number: int | None) -> uuid.UUID:
    utc = at.astimezone(dt.UTC).isoformat()
    return uuid.uuid5(DOSE_NAMESPACE, "|".join([id_number, product, lot, site, utc, str(dose_number or "")]))


def parse(row_number: int, row: dict[str, str]) -> Prepared | RowResult:
    for c in COLUMNS:
        if c.required and not row.get(c.key):
            return rejected(row_number, c.key, "import_missing_value", column=c.key)
    id_number = row["id_number"].upper()
    at = parse_moment(row["administered_at"])
    if at is None:
        return rejected(row_number, "administered_at", "invalid_datetime", field="administered_at")
    dose_number = None
    if row.get("dose_number"):
        text = row["dose_number"]
        if not (text.isascii() and text.isdigit() and 1 <= int(text) <= 9):
            return rejected(row_number, "dose_number", "import_invalid_value", column="dose_number", value=text[:20])
        dose_number = int(text)
    given = row.get("client_uuid", "")
    if given:
        try:
            client_uuid = uuid.UUID(given)
        except ValueError:
            return rejected(row_number, "client_uuid", "import_invalid_value", column="client_uuid", value=given[:40])
    else:
        client_uuid = derived_uuid(id_number, row["product"], row["lot_number"], row["site_code"], at, dose_number)
    extra: dict[str, Any] = {}
    if row.get("name"):
        person = people.person_item(row_number, {**row, "id_number": id_number})
        if isinstance(person, RowResult):
            return person
        extra["person"] = person
    item = DoseItem(
        client_uuid=client_uuid, product_code=row["product"], lot_number=row["lot_number"],
        site_code=row["site_code"], administered_at=at, id_number=id_number, dose_number=dose_number,
    )
    key = (id_number, row["product"], row["lot_number"], row["site_code"], at.astimezone(dt.UTC), dose_number,
           given.lower(), extra.get("person"))
    return Prepared(row_number, item, key, extra)


@cache
def can_atomic() -> bool:
    return probe(lambda: record_doses([], acting_user=None, source="import", atomic=True)) and people.can_atomic()


def _register(prepared: list[Prepared], job: Any, atomic: bool) -> dict[int, RowResult]:
    """Register the people the rows name and may register; the rows refused on the way."""
    first: dict[str, Prepared] = {}
    for p in prepared:
        if "person" in p.extra:
            first.setdefault(p.extra["person"].id_number, p)
    if not first:
        return {}
    kwargs = {"atomic": True} if atomic else {}
    outcomes = register_people([p.extra["person"] for p in first.values()], acting_user=job.user,
                               source="import", **kwargs)
    refused: dict[str, RowResult] = {}
    for (id_number, p), o in zip(first.items(), outcomes, strict=True):
        if o.status == "rejected" and o.code not in PERSON_PRESENT:
            refused[id_number] = from_error(p.row_number, o.error, ERROR_COLUMNS)
    out: dict[int, RowResult] = {}
    for p in prepared:
        r = refused.get(p.item.id_number)
        if r is not None and "person" in p.extra:
            out[p.row_number] = RowResult(p.row_number, "rejected", r.column, r.code, r.params)
    return out


def write(prepared: list[Prepared], *, job: Any, atomic: bool) -> list[RowResult]:
    refused = _register(prepared, job, atomic)
    todo = [p for p in prepared if p.row_number not in refused]
    items = [DoseItem(**{**{f: getattr(p.item, f) for f in p.item.__slots__}, "retrospective_reason": job.reason})
             for p in todo]
    kwargs = {"atomic": True} if atomic else {}
    outcomes = record_doses(items, acting_user=job.user, source="import", **kwargs) if items else []
    results = dict(refused)
    for p, o in zip(todo, outcomes, strict=True):
        if o.status == "rejected":
            results[p.row_number] = from_error(p.row_number, o.error, ERROR_COLUMNS)
        else:
            status = "created" if o.status == "created" else "already_present"
            results[p.row_number] = RowResult(p.row_number, status, object_id=getattr(o.record, "pk", None))
    return [results[p.row_number] for p in prepared]


DOSES = register(ImportKind(
    name="doses", title=_("Doses"), columns=COLUMNS, parse=parse, write=write,
    created_since=lambda ids, since, job: set(DoseRecord.objects.filter(
        pk__in=ids, recorded_at__gte=since, vaccinator_id=job.user_id).values_list("pk", flat=True)),
    updated_actions=frozenset(), object_type="vaccination.doserecord",
    needs_reason=True, supports_all=can_atomic,
))
