"""The OpenAPI document says everything an outside tool needs: each operation's purpose, every
status it can answer and, for each error status, the stable codes behind it.

The generated document (django-ninja) knows the success schemas; :func:`complete_schema` adds
what the request guard and the services decide: statuses every operation shares (401, 403,
422, 429; 400, 413, 415 for operations with a body; 404 for those with a path parameter) and
the codes listed per operation below, all with the error schema ``{code, message, detail}``.
The table of all codes is built from ``core.errors.ERRORS``, so it cannot go stale; a code
listed here but not (yet) registered is left out.
"""

from __future__ import annotations

from typing import Any

from django.utils import translation

from vaxops.core.errors import ERRORS

ERROR_SCHEMA = "ErrorOut"
GUARD_CODES = ("invalid_request", "invalid_characters", "number_out_of_range")
AUTH_CODES = ("not_authenticated", "permission_denied", "too_many_requests")
BODY_CODES = ("malformed_json", "json_too_deep", "body_too_large", "unsupported_media_type")

# operationId -> (description, error codes its service may raise beyond the shared ones)
OPERATIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    # sessions (docs/sessions.md)
    "vaxops_sites_api_sessions_create_session": (
        "Plan a session of a site: its day, kind, hours, planned doses, the organisation a "
        "point-to-point session serves and an outreach session's stops (village, arrival time). "
        "Sessions of one site may not overlap.",
        ("site_not_found", "invalid_date", "invalid_session_kind", "session_hours_invalid", "session_overlap",
         "division_not_found", "stop_outside_hours", "product_not_found"),
    ),
    "vaxops_sites_api_sessions_list_sessions": (
        "The sessions of your area, by site and day.", ("site_not_found", "invalid_date"),
    ),
    "vaxops_sites_api_sessions_get_session": ("One session with its stops and figures.", ("session_not_found",)),
    "vaxops_sites_api_sessions_open_session": (
        "Open a planned session: only when its readiness checklist is complete (or the county "
        "command granted an exception).",
        ("session_not_found", "session_already_open", "session_closed", "readiness_incomplete"),
    ),
    "vaxops_sites_api_sessions_close_session": (
        "Close an open session: the day's open vials are written off and the final figures written.",
        ("session_not_found", "session_not_yet_open", "session_closed"),
    ),
    "vaxops_registry_api_create_person": (
        "Register a resident. Birth date and sex come from the ID number, which is never returned "
        "unmasked. The home division must be a township, village, community or grid (site staff "
        "may give their own site's division); priority groups are known codes.",
        ("invalid_id_number", "invalid_name", "invalid_phone", "unknown_priority_group",
         "home_division_too_coarse", "division_not_found", "person_exists", "person_registered_elsewhere"),
    ),
    "vaxops_registry_api_list_people": (
        "Find residents within your area by exact ID number, phone or name (newest first without a "
        "filter). Site staff find anyone by the full ID number of the card in hand.",
        ("invalid_id_number",),
    ),
    "vaxops_registry_api_get_person": ("One resident within your reach.", ("person_not_found",)),
    "vaxops_registry_api_eligibility": (
        "Whether the person may have a dose of the product on a day (default today): which dose, "
        "from when, due by when, and the reasons in the request's language.",
        ("person_not_found", "product_not_found"),
    ),
    "vaxops_vaccination_api_create_dose": (
        "Record a dose at your site. Idempotent by client_uuid: a retry with the same content "
        "returns the first record (200), other content is a conflict. administered_at carries its "
        "UTC offset; answers give times in the campaign time zone (+08:00).",
        ("site_not_found", "person_not_found", "product_not_found", "lot_not_found", "lot_wrong_product",
         "lot_expired", "lot_quarantined", "lot_recalled", "dose_too_early", "not_eligible",
         "override_reason_required", "override_not_permitted", "override_not_allowed",
         "dose_already_recorded", "idempotency_conflict", "administered_in_future", "person_inactive",
         "invalid_datetime", "retrospective_not_allowed", "retrospective_reason_required",
         "dose_number_mismatch", "session_not_open"),
    ),
    "vaxops_vaccination_api_void": (
        "Void a dose record with a written reason (records are never deleted). Site managers void "
        "at their site, county command and admins in their area.",
        ("dose_not_found", "dose_already_voided", "void_reason_required"),
    ),
    "vaxops_vaccination_api_batch": (
        "Device sync: 1 to 500 dose submissions (each the body of POST /api/v1/doses), each decided on "
        "its own and answered in the order sent: created, replayed or rejected with the code, message "
        "and detail a single submission would get. Sending the batch again writes nothing new. A dose "
        "another user already recorded is stored as a conflict for a person to resolve.",
        ("batch_too_large", "batch_empty"),
    ),
    "vaxops_vaccination_api_conflicts": (
        "Sync conflicts within your area (placed at the incoming submission's site), newest first, "
        "with both records side by side; filter open or closed, or by site.",
        (),
    ),
    "vaxops_vaccination_api_resolve": (
        "Resolve a sync conflict with a written reason: keep the existing record (the incoming one is "
        "never recorded) or keep the incoming one (the existing dose is voided, the incoming recorded by "
        "you). A refused step leaves the conflict open.",
        ("conflict_not_found", "conflict_closed", "conflict_busy", "conflict_reason_required",
         "invalid_resolution", "dose_not_found", "dose_already_voided", "site_not_found", "person_not_found",
         "product_not_found", "lot_not_found", "lot_wrong_product", "lot_expired", "lot_quarantined",
         "lot_recalled", "dose_too_early", "not_eligible", "override_not_permitted", "dose_already_recorded",
         "idempotency_conflict", "retrospective_not_allowed", "dose_number_mismatch", "invalid_datetime",
         "administered_before_campaign", "administered_in_future", "person_inactive"),
    ),
    "vaxops_sites_api_list_sites": ("Vaccination sites within your area, optionally below a division.",
                                    ("division_not_found",)),
    "vaxops_supply_api_list_lots": ("Vaccine lots, optionally of one product.", ("product_not_found",)),
    # allocation and dispatch (docs/supply.md)
    "vaxops_supply_api_allocations_create_allocation": (
        "Propose a split of a store's supply among its child stores from live figures.",
        ("store_not_found", "store_has_no_children", "product_not_found", "invalid_quantity", "stock_on_hold",
         "nothing_to_allocate", "insufficient_stock", "allocation_invalid_horizon", "allocation_engine_refused"),
    ),
    "vaxops_supply_api_allocations_get_allocation": ("One allocation of your area.", ("allocation_not_found",)),
    "vaxops_supply_api_allocations_approve": (
        "Approve a proposed allocation: its transfers are dispatched in one transaction.",
        ("allocation_not_found", "allocation_not_proposed", "stock_on_hold", "insufficient_stock", "invalid_route",
         "lot_quarantined", "lot_recalled", "lot_expired"),
    ),
    "vaxops_campaign_api_stats_summary": (
        "Campaign figures for a division (default: your own top division) at a moment (default: now): "
        "doses given there and people vaccinated, for it and for each child division.",
        ("division_not_found",),
    ),
}

STATUS_NAMES = {
    400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
    409: "Conflict", 413: "Content Too Large", 415: "Unsupported Media Type", 422: "Unprocessable Content",
    429: "Too Many Requests", 500: "Internal Server Error",
}

ABOUT = """

## Errors

Every refusal is JSON `{"code", "message", "detail"}` with the status below: `code` is stable
(match on it), `message` is translated by `Accept-Language` (zh-Hans, en), `detail` names the
fields and values involved. Unknown paths under /api/ answer 404 `not_found` and a wrong method
405 `method_not_allowed`, in the same shape. A refused request records nothing.

## Times

Send datetimes in ISO 8601 with their UTC offset. Every datetime in an answer is in the
campaign time zone, Asia/Shanghai (`+08:00`). Days and times before 1901 or after 2199 are
refused (422 `invalid_request`).

## Caching

Every answer carries `Cache-Control: no-store`: answers hold personal data.

## Error codes

| status | code | message |
|---|---|---|
"""


def _registered(codes: tuple[str, ...] | list[str]) -> list[str]:
    return [c for c in codes if c in ERRORS]


def error_table() -> str:
    """The Markdown table of every registered error code, in English."""
    with translation.override("en"):
        rows = [f"| {status} | `{code}` | {message} |" for code, (status, message) in
                sorted(ERRORS.items(), key=lambda item: (item[1][0], item[0]))]
    return "\n".join(rows) + "\n"


def _operation_codes(op: dict[str, Any]) -> list[str]:
    codes = list(GUARD_CODES)
    if op.get("security"):
        codes += AUTH_CODES
    if "requestBody" in op:
        codes += BODY_CODES
    if any(p.get("in") == "path" for p in op.get("parameters", [])):
        codes.append("not_found")
    codes += OPERATIONS.get(op.get("operationId", ""), ("", ()))[1]
    return list(dict.fromkeys(_registered(codes)))


def complete_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """Add descriptions, every error status with its codes, and the error table to ``schema``."""
    schema["info"]["description"] = schema["info"].get("description", "") + ABOUT + error_table()
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.setdefault(ERROR_SCHEMA, {
        "title": ERROR_SCHEMA, "type": "object", "required": ["code", "message", "detail"],
        "properties": {"code": {"type": "string"}, "message": {"type": "string"}, "detail": {"type": "object"}},
    })
    components[ERROR_SCHEMA]["properties"]["code"] = {
        "title": "Code", "type": "string", "enum": sorted(ERRORS), "description": "A stable error code.",
    }
    # An array whose items are decided one by one (``list[Any]`` in the schema, so one bad item
    # rejects only itself) names the schema its items should follow: ``x-items-schema``.
    for component in components.values():
        for prop in component.get("properties", {}).values():
            name = prop.pop("x-items-schema", None) if isinstance(prop, dict) else None
            if name in components:
                prop["items"] = {"$ref": f"#/components/schemas/{name}"}
    ref = {"$ref": f"#/components/schemas/{ERROR_SCHEMA}"}
    for operations in schema.get("paths", {}).values():
        for op in operations.values():
            description, _codes = OPERATIONS.get(op.get("operationId", ""), ("", ()))
            if description and not op.get("description"):
                op["description"] = description
            by_status: dict[int, list[str]] = {}
            for code in _operation_codes(op):
                by_status.setdefault(ERRORS[code][0], []).append(code)
            responses = op.setdefault("responses", {})
            for status in list(responses):
                if int(status) >= 400 and int(status) not in by_status:
                    by_status[int(status)] = []
            for status, codes in sorted(by_status.items()):
                key = next((k for k in responses if int(k) == status), status)
                names = ", ".join(f"`{c}`" for c in codes)
                entry = responses.setdefault(key, {})
                entry["description"] = f"{STATUS_NAMES.get(status, 'Error')}" + (f": {names}" if names else "")
                entry["content"] = {"application/json": {"schema": ref}}
                entry["x-error-codes"] = codes
    return schema
