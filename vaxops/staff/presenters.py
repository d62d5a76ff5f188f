"""What the API and the pages show of staff facts: the checklist of a session item by item in
words, a staff member with their qualifications, a deployment (one reader for both)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from vaxops.core.formats import format_date, format_datetime
from vaxops.sites.models import Session
from vaxops.staff import reference
from vaxops.staff.models import Deployment, Staff
from vaxops.staff.readiness import exception_for, states_for, submitted


def reason_text(state: dict | None) -> str:
    """The reason an item is missing, as a sentence in the active language."""
    if state is None:
        return _("Done.")
    reason = state.get("reason")
    if reason == "not_recorded":
        return _("Not recorded yet.")
    if reason == "no_level2_doctor":
        return _("No doctor from a level-2 or higher hospital on the roster.")
    if reason == "no_vaccinator":
        return _("No vaccinator on the roster.")
    if reason == "vaccinators_untrained":
        names = "、".join(Staff.objects.filter(pk__in=state.get("staff", [])).values_list("name", flat=True))
        return _("Not trained for this vaccine on the day: %(names)s.") % {"names": names}
    if reason == "ambulance_on_site_required":
        return _("This site needs an ambulance standing by on site (plate and crew).")
    if reason == "ambulance_too_far":
        return _("The ambulance is %(minutes)s minutes away; at most %(max)s are allowed.") % {
            "minutes": state["minutes"], "max": state["max_minutes"]}
    if reason == "kit_not_checked":
        return _("The emergency kit has not been checked.")
    if reason == "kit_incomplete":
        parts = []
        if state.get("absent"):
            parts.append(_("missing: %(drugs)s") % {"drugs": "、".join(reference.drug_name(d) for d in state["absent"])})
        if state.get("expired"):
            parts.append(_("expired by the session day: %(drugs)s") % {
                "drugs": "、".join(reference.drug_name(d) for d in state["expired"])})
        return _("The emergency kit is not complete (%(what)s).") % {"what": "; ".join(parts)}
    if reason == "too_few_seats":
        return _("%(seats)s observation seats; the planned doses need %(needed)s.") % {
            "seats": state["seats"], "needed": state["needed"]}
    if reason == "reading_out_of_range":
        return _("%(celsius)s °C is outside %(low)s–%(high)s °C.") % {
            "celsius": state["celsius"], "low": state["low"], "high": state["high"]}
    return str(reason)


def checklist_of(session: Session) -> dict[str, Any]:
    """The session's checklist in words: each item with its state, value and reason, the
    submitter, and the county command's exception."""
    states = states_for([session.pk]).get(session.pk, {})
    row = submitted(session)
    values = row.items if row else {}
    items = []
    for item in reference.checklist().items:
        state = states.get(item.code)
        items.append({"code": item.code, "name": reference.name_of(item), "computed": item.computed,
                      "ok": state is None, "reason": state.get("reason") if state else None,
                      "reason_text": reason_text(state), "detail": state or {}, "value": values.get(item.code)})
    missing = [i["code"] for i in items if not i["ok"]]
    exc = exception_for(session)
    return {
        "session": session.pk, "complete": not missing, "missing": missing, "items": items,
        "recorded_at": row.recorded_at if row else None,
        "recorded_by": row.recorded_by.get_username() if row and row.recorded_by_id else None,
        "exception": exception_out(exc) if exc else None,
    }


def exception_out(exc) -> dict[str, Any]:
    return {"session": exc.session_id, "reason": exc.reason, "missing": exc.missing,
            "missing_names": [reference.item_name(c) for c in exc.missing],
            "granted_by": exc.granted_by.get_username(), "granted_at": exc.granted_at,
            "granted_at_text": format_datetime(exc.granted_at)}


def staff_out(s: Staff) -> dict[str, Any]:
    """A staff member with their unit and qualifications (prefetch ``qualifications__product``)."""
    unit = s.unit
    return {
        "id": s.pk, "name": s.name, "role": s.role, "role_name": reference.role_name(s.role),
        "unit": unit.code, "unit_name": unit.name, "unit_kind": unit.kind,
        "hospital_level": unit.hospital_level, "county_code": unit.county_code, "phone": s.phone,
        "qualifications": [
            {"kind": q.kind, "kind_name": reference.qualification_name(q.kind),
             "product": q.product.code if q.product_id else None,
             "product_name": q.product.name if q.product_id else None,
             "valid_until": q.valid_until, "valid_until_text": format_date(q.valid_until)}
            for q in s.qualifications.all()
        ],
    }


def deployment_out(d: Deployment) -> dict[str, Any]:
    """A deployment (prefetch ``staff__unit``; select ``to_division``, ``to_site``)."""
    members = list(d.staff.all())
    units = sorted({m.unit.name for m in members})
    return {
        "id": d.pk, "to_division": d.to_division.code, "to_division_name": d.to_division.name,
        "to_site": d.to_site.code if d.to_site_id else None, "to_site_name": d.to_site.name if d.to_site_id else None,
        "starts_on": d.starts_on, "ends_on": d.ends_on, "starts_on_text": format_date(d.starts_on),
        "ends_on_text": format_date(d.ends_on), "reason": d.reason,
        "staff": [{"id": m.pk, "name": m.name, "role": m.role, "role_name": reference.role_name(m.role),
                   "unit": m.unit.code, "unit_name": m.unit.name} for m in members],
        "from_units": units, "count": len(members),
    }
