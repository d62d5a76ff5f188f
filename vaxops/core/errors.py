"""Errors that reach users: a stable machine code, a translated message and details.

Every rejection in vaxops is a ``VaxopsError``. The code never changes once published (outside
tools match on it); the message is looked up in the catalogue below and translated into the
request's language when it is rendered, so a service can raise in any thread or command.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

# code -> (HTTP status, message). Messages may use ``{name}`` fields filled from ``detail``.
ERRORS: dict[str, tuple[int, Any]] = {
    # request shape
    "malformed_json": (400, _("The request body is not valid JSON.")),
    "invalid_request": (422, _("Some fields are missing or have the wrong type.")),
    "unsupported_media_type": (415, _("Send the request body as application/json.")),
    "body_too_large": (413, _("The request body is too large.")),
    "not_authenticated": (401, _("Log in or send a valid access token.")),
    "permission_denied": (403, _("Your role does not allow this action.")),
    "not_found": (404, _("Not found.")),
    # people
    "invalid_id_number": (400, _("The ID number is not valid: {reason_message}")),
    "person_exists": (409, _("A person with this ID number is already registered.")),
    "person_not_found": (404, _("No such person in your area.")),
    "invalid_phone": (400, _("The phone number must be 11 digits starting with 1.")),
    "invalid_name": (
        400,
        _("{reason_message} Write the name as on the ID card: letters, spaces and the marks · - ' only, "
          "at most 64 characters."),
    ),
    # places
    "division_not_found": (404, _("No such division in your area.")),
    "site_not_found": (404, _("No such vaccination site in your area.")),
    # products and lots
    "product_not_found": (404, _("Unknown vaccine product: {product}.")),
    "lot_not_found": (422, _("Lot {lot_number} is not known.")),
    "lot_wrong_product": (422, _("Lot {lot_number} is {lot_product}, not {product}.")),
    "lot_expired": (422, _("Lot {lot_number} expired on {expiry_date}.")),
    "lot_quarantined": (422, _("Lot {lot_number} is quarantined and must not be used.")),
    "lot_recalled": (422, _("Lot {lot_number} has been recalled and must not be used.")),
    # doses
    "dose_too_early": (422, _("Too early for this dose: it can be given from {earliest_date}.")),
    "not_eligible": (422, _("The person is not eligible for this vaccine now.")),
    "override_reason_required": (422, _("Write the reason for giving a dose the rules refuse.")),
    "override_not_permitted": (403, _("Only a site manager may give a dose the rules refuse.")),
    "override_not_allowed": (422, _("This rule cannot be overridden.")),
    "dose_already_recorded": (409, _("This dose has already been recorded for this person.")),
    "idempotency_conflict": (
        409,
        _("This submission ID was already used for a different dose."),
    ),
    "administered_in_future": (422, _("The time of the dose is in the future.")),
    "dose_not_found": (404, _("No such dose record in your area.")),
    "dose_already_voided": (409, _("This dose record is already voided.")),
    "void_reason_required": (422, _("Write why the record is being voided.")),
    "person_inactive": (422, _("The person is recorded as {status}.")),
    # API hardening: request shape, values no field may carry, unknown routes
    "method_not_allowed": (405, _("This address does not accept {method} requests.")),
    "json_too_deep": (400, _("The request body is nested too deeply (at most {limit} levels).")),
    "invalid_characters": (
        422,
        _("The field {field} contains characters that cannot be stored (a NUL byte or a broken character)."),
    ),
    "number_out_of_range": (422, _("The number in {field} is out of range.")),
    "server_error": (500, _("The server could not complete the request; nothing was recorded.")),
    # registry input checks
    "unknown_priority_group": (422, _("Unknown priority group: {priority_group}.")),
    "home_division_too_coarse": (
        422,
        _("Give the person's home township, village, community or grid: a county or larger area is too coarse."),
    ),
    # doses: times, retrospective entry, dose numbers (issue 6)
    "invalid_datetime": (
        422, _("Give the time with its UTC offset, for example 2021-06-01T10:00:00+08:00."),
    ),
    "administered_before_campaign": (422, _("The time of the dose is before the start of the campaign.")),
    "product_not_yet_approved": (422, _("{product_name} was not yet approved for use on the day of the dose.")),
    "retrospective_not_allowed": (
        403, _("A dose given more than {hours:g} hours ago may be recorded only by a site manager or the county command."),
    ),
    "retrospective_reason_required": (422, _("Write why the dose is recorded this late.")),
    "dose_number_mismatch": (422, _("By the rules this is dose {expected}, not dose {sent}.")),
    # device sync and conflicts (issue 7)
    "batch_too_large": (413, _("A batch holds at most {limit} items; this one has {count}. Nothing was recorded.")),
    "batch_empty": (422, _("The batch has no items.")),
    "conflict_not_found": (404, _("No such sync conflict in your area.")),
    "conflict_closed": (409, _("This conflict has already been resolved.")),
    "conflict_busy": (409, _("Someone else is resolving this conflict right now. Try again in a minute.")),
    "conflict_reason_required": (422, _("Write the reason for this decision.")),
    "invalid_resolution": (422, _("Choose which record to keep: the existing one or the incoming one.")),
    # access and identity
    "too_many_requests": (
        429, _("Too many look-ups of people outside your area. Try again after {retry_time} (in {retry_minutes} min)."),
    ),
    "too_many_failed_logins": (
        429,
        _("Too many failed attempts for this account or from this address: locked until {retry_time} "
          "(in {retry_minutes} min)."),
    ),
    "person_registered_elsewhere": (
        409, _("This person is already registered in another area. Look them up by the exact ID number."),
    ),
    "user_exists": (409, _("A user named {username} already exists.")),
    "user_not_found": (404, _("No such user in your area.")),
    "token_not_found": (404, _("No such access token in your area.")),
    "invalid_username": (422, _("Enter a user name of at most 150 characters.")),
    "invalid_password": (422, _("The password is not accepted: {reasons}")),
    "invalid_role": (422, _("Unknown role: {role}.")),
    "scope_required": (422, _("Choose the division or site this role covers (only an administrator covers everything).")),
    "role_not_grantable": (403, _("You may not give this role, or not over this area.")),
    "last_role": (409, _("This is the user's last role: deactivate the user instead.")),
    "cannot_deactivate_self": (409, _("You cannot deactivate your own account.")),
    # imports (docs/imports.md): the file, then its rows
    "import_empty_file": (422, _("The file is empty: it has no header row.")),
    "import_too_large": (413, _("The file is larger than the limit of {limit_bytes} bytes.")),
    "import_bad_encoding": (
        422,
        _("The file cannot be read as {encoding} text. Save it as UTF-8 (or choose GB18030 if it is in that encoding)."),
    ),
    "import_bad_format": (422, _("The file is not a readable {format} file.")),
    "import_unknown_column": (
        422, _("Unknown column {column} (column {position}): remove it or use the template's headers."),
    ),
    "import_duplicate_column": (422, _("The column {column} appears twice.")),
    "import_missing_column": (422, _("The required column {column} ({label_zh}) is missing.")),
    "import_reason_required": (422, _("Write why these doses are entered now (the reason for a late entry).")),
    "import_mode_unavailable": (422, _("The all-or-nothing mode is not available for this kind of import yet.")),
    "import_unknown_kind": (422, _("Unknown kind of import: {kind}.")),
    "import_job_not_found": (404, _("No such import job in your area.")),
    "import_job_not_resumable": (409, _("This import job is {state}: only an interrupted job can be resumed.")),
    "import_file_missing": (422, _("The stored file of this import job is missing.")),
    "import_missing_value": (422, _("The column {column} needs a value.")),
    "import_invalid_value": (422, _("The value {value} is not valid in column {column}.")),
    "import_duplicate_row": (422, _("Same as row {first_row}: not written twice.")),
    "import_extra_cells": (422, _("The row has {found} cells but the header only {expected} columns.")),
    "import_batch_refused": (
        422, _("Not written: other rows were rejected and this import is all or nothing."),
    ),
    # supply: stores, the ledger, transfers (docs/supply.md)
    "store_not_found": (404, _("No such store in your area: {store}.")),
    "invalid_quantity": (422, _("Give a whole number of doses greater than zero.")),
    "occurred_in_future": (422, _("The time of the stock movement is in the future.")),
    "duplicate_lot_in_event": (422, _("Lot {lot_number} appears twice: give each lot once.")),
    "insufficient_stock": (409, _("Not enough stock: {on_hand} doses on hand, {requested} requested.")),
    "stock_on_hold": (
        409, _("The stock is on hold (a cold-chain excursion or a missing temperature record) until it is reviewed."),
    ),
    "lot_not_at_site": (409, _("Lot {lot_number} is not in stock at this site.")),
    "invalid_route": (422, _("Stock cannot go from {from_store} to {to_store}: send to a child store, a sibling or the parent.")),
    "unknown_reason": (422, _("Unknown reason: {reason}.")),
    "reason_not_allowed": (422, _("The reason {reason} cannot be used here.")),
    "transfer_not_found": (404, _("No such transfer in your area.")),
    "transfer_not_in_transit": (409, _("This transfer is {status}: only a transfer in transit can be received.")),
    "delivery_does_not_add_up": (
        422, _("For lot {lot_number}, accepted ({accepted}) and rejected ({rejected}) must add up to the {shipped} doses shipped."),
    ),
    "rejection_reason_required": (422, _("Give the reason for rejecting doses of lot {lot_number}.")),
    "lot_not_in_transfer": (422, _("Lot {lot_number} is not in this transfer.")),
    "lot_expired_on_receipt": (422, _("Lot {lot_number} expired on {expiry_date}: it cannot be received.")),
    "arrival_temperature_out_of_range": (
        422, _("The arrival temperature {celsius} °C is outside 2–8 °C: the stock is refused."),
    ),
    "event_not_found": (404, _("No such stock event in your area.")),
    "event_already_reversed": (409, _("This stock event has already been reversed.")),
    # cold chain
    "temperature_out_of_range": (422, _("A temperature of {celsius} °C cannot be right: give a value from −60 to +60 °C.")),
    "excursion_not_found": (404, _("No such cold-chain excursion in your area.")),
    "excursion_closed": (409, _("This excursion has already been reviewed.")),
    "invalid_decision": (422, _("Choose release or discard.")),
    "review_note_required": (422, _("Write a note on what was checked.")),
    # lots and allocations
    "lot_status_reason_required": (422, _("Write the reason for this change of the lot's status.")),
    "lot_status_unchanged": (409, _("Lot {lot_number} is already {status}.")),
    "allocation_not_found": (404, _("No such allocation in your area.")),
    "allocation_not_proposed": (409, _("This allocation is {status}: only a proposed allocation can be approved.")),
    "nothing_to_allocate": (422, _("There is no stock of {product} to allocate.")),
    # ledger: receipts, transfers, adjustments, counts, reversals
    "nothing_on_hold": (409, _("Nothing here is on hold waiting for its arrival temperature record.")),
    "reversal_note_required": (422, _("Write why this stock movement is being reversed.")),
    "store_exists": (409, _("A store with the code {store} already exists.")),
    # coldchain task: logger files
    "temperature_file_invalid": (
        422, _("The logger file has {count} rows with errors: nothing was written. Correct them and send it again."),
    ),
    "temperature_file_header": (422, _("The logger file must start with the header line timestamp,celsius.")),
    "too_many_readings": (422, _("At most {limit} readings at once: split the file.")),
    # lots: quarantine, recall and trace
    "lot_product_required": (
        422, _("Lot number {lot_number} is used by more than one product ({shared_products}): choose the product."),
    ),
    "lot_not_in_area": (404, _("Lot {lot_number} has not reached your area.")),
    "lot_status_reason_too_long": (422, _("The reason may be at most {limit} characters long.")),
    # allocation and dispatch (issue 8 §2, the allocation engine drives dispatch)
    "store_has_no_children": (422, _("Store {store} has no child stores to allocate to.")),
    "allocation_invalid_horizon": (422, _("The planning horizon must be from 1 to {max} days.")),
    "allocation_engine_refused": (422, _("The allocation could not be computed from these figures ({engine_code}).")),
    # staff: units, staff, qualifications, rosters, deployments and the readiness gate (issue 9, docs/staff.md)
    "unit_not_found": (404, _("No such unit in your area: {unit}.")),
    "unit_exists": (409, _("A unit with the code {unit} already exists.")),
    "unknown_unit_kind": (422, _("Unknown kind of unit: {kind}.")),
    "invalid_hospital_level": (422, _("A hospital's level is 1, 2 or 3; other units have none.")),
    "unit_name_required": (422, _("Give the unit's code and its Chinese name (at most 120 characters).")),
    "staff_not_found": (404, _("No such staff member in your area.")),
    "unknown_staff": (422, _("Unknown staff member(s) in your area: {staff}.")),
    "unknown_staff_role": (422, _("Unknown staff role: {role}.")),
    "invalid_staff_name": (422, _("Give the staff member's name (at most 64 characters).")),
    "unknown_qualification_kind": (422, _("Unknown kind of qualification: {kind}.")),
    "qualification_product_required": (422, _("Name the vaccine this training is for.")),
    "qualification_product_not_applicable": (422, _("This kind of qualification is not held for one vaccine.")),
    "staff_not_deployed": (
        422, _("Not from this county and not deployed to it on {date}: {names}. Deploy them first."),
    ),
    "roster_session_closed": (409, _("The session is closed: its roster can no longer change.")),
    "invalid_planned_staff": (422, _("Give the planned number of staff as a whole number from 0 to {limit}.")),
    "deployment_staff_required": (422, _("Choose the staff to deploy.")),
    "deployment_target_too_coarse": (422, _("Deploy staff to a county or a place within one.")),
    "deployment_dates_invalid": (422, _("The deployment must end on or after its first day, within {limit} days.")),
    "deployment_reason_required": (422, _("Write the reason for the deployment (at most 500 characters).")),
    "deployment_site_outside": (422, _("The site is not in the division the staff are deployed to.")),
    "unknown_readiness_item": (422, _("Unknown readiness item: {item}.")),
    "readiness_item_computed": (422, _("“{item_name}” is worked out from the roster: it cannot be entered.")),
    "invalid_readiness_value": (422, _("The value for “{item_name}” cannot be read: {hint}")),
    "readiness_session_closed": (409, _("The session is closed: its checklist can no longer change.")),
    "exception_reason_required": (422, _("Write the reason for opening without a complete checklist.")),
    "exception_reason_too_long": (422, _("The reason may be at most {limit} characters long.")),
    "readiness_exception_exists": (409, _("An exception has already been granted for this session.")),
    "readiness_already_complete": (409, _("The checklist is complete: no exception is needed.")),
    "exception_session_not_planned": (409, _("Only a session that has not opened yet can be given an exception.")),
    # sessions: the state machine, the plans, the dose rule (issue 9, sessions)
    "session_not_found": (404, _("No such session in your area.")),
    "session_not_open": (
        409, _("No session of {site_name} is open today: open the session before recording doses."),
    ),
    "session_already_open": (409, _("This session is already open.")),
    "session_not_yet_open": (409, _("This session has not been opened: open it before closing it.")),
    "session_closed": (409, _("This session is closed: its figures are final.")),
    "readiness_incomplete": (
        409, _("The session cannot open: the readiness checklist is incomplete ({missing_count} items missing)."),
    ),
    "session_hours_invalid": (422, _("The session must close after it opens.")),
    "session_overlap": (
        422, _("{site_name} already has a session on {day} from {opens_at} to {closes_at}: sessions of one team may not overlap."),
    ),
    "invalid_date": (422, _("Give the date as YYYY-MM-DD.")),
    "stop_outside_hours": (
        422, _("Stop {position} at {at} is outside the session's hours ({opens_at}–{closes_at})."),
    ),
    "invalid_session_kind": (422, _("Unknown kind of session: {kind}.")),
    "circuit_invalid": (422, _("A circuit needs at least one village and a cycle of 1 to 60 days.")),
    # visits (issue 9 §4: check-in, screening, vaccination, observation, release; docs/visits.md)
    "visit_not_found": (404, _("No such visit in your area.")),
    "whatif_outside_session_day": (
        422, _("The what-if starts from a moment of the session's day ({date}): give a time on that day."),
    ),
    "visit_exists": (409, _("This person already has ticket {ticket} at this session.")),
    "visit_not_screened": (409, _("The visit has not passed screening yet.")),
    "visit_already_vaccinated": (409, _("This visit has already been vaccinated.")),
    "visit_finished": (409, _("This visit has ended ({status}).")),
    "visit_wrong_step": (409, _("This step does not follow from where the visit stands ({status}).")),
    "visit_wrong_site": (409, _("The visit belongs to another site ({site_code}).")),
    "visit_person_mismatch": (409, _("The dose is for another person than the visit's.")),
    "observation_not_finished": (409, _("Observation is not over: release from {observation_until}.")),
    "contraindication_required": (422, _("Choose the contraindication the person is deferred for.")),
    "invalid_contraindication": (422, _("Unknown contraindication: {contraindication}.")),
    "invalid_screening_answer": (422, _("Unknown screening question: {question}.")),
    "deferral_until_past": (422, _("The deferral must end after the day of the visit.")),
    "invalid_stage": (422, _("Unknown stage: {stage}; use screening, vaccination or observation.")),
    "invalid_station_count": (422, _("A station count must be a whole number from 0 to {max}.")),
    "screen_token_invalid": (404, _("This screen link is not valid.")),
    # safety: AEFI reports, their steps and clusters (docs/aefi.md)
    "aefi_not_found": (404, _("No such AEFI report in your area.")),
    "aefi_cluster_not_found": (404, _("No such AEFI cluster in your area.")),
    "aefi_events_required": (422, _("Choose at least one event.")),
    "aefi_unknown_event": (422, _("Unknown event code: {event}.")),
    "aefi_unknown_sign": (422, _("Unknown sign of anaphylaxis: {sign}.")),
    "aefi_unknown_criterion": (422, _("Unknown criterion of seriousness: {criterion}.")),
    "aefi_unknown_outcome": (422, _("Unknown outcome: {outcome}.")),
    "aefi_criteria_required": (422, _("A serious case needs at least one criterion (death, life-threatening, "
                                      "hospitalisation, disability, congenital anomaly).")),
    "aefi_criteria_not_serious": (422, _("Criteria of seriousness were given for a case marked not serious.")),
    "aefi_fatal_without_death": (422, _("The outcome is fatal: mark the case serious with the criterion death.")),
    "aefi_onset_before_dose": (422, _("The onset ({onset_at}) is before the dose was given ({vaccinated_at}).")),
    "aefi_detected_before_onset": (422, _("The detection ({detected_at}) is before the onset ({onset_at}).")),
    "aefi_in_future": (422, _("The time in {field} is in the future.")),
    "aefi_dose_of_another_person": (422, _("This dose record belongs to another person.")),
    "aefi_wrong_step": (
        409, _("This step is not possible now: the report is at another step of its investigation (reported, "
               "triaged, investigated, classified, closed, in that order)."),
    ),
    "aefi_unknown_category": (422, _("Unknown category {category} in {field}.")),
    "aefi_invalid_brighton_level": (422, _("The Brighton level is 1, 2, 3, 4 (not enough evidence) or 5 (not a case).")),
    "aefi_cluster_acted": (409, _("The lots of this cluster have already been quarantined.")),
    "aefi_cluster_no_lots": (409, _("This cluster has no lots to quarantine.")),
    "aefi_text_too_long": (422, _("The text in {field} may be at most {limit} characters long.")),
    # outreach: work lists and contact attempts (issue 10, outreach; docs/outreach.md)
    "unknown_outcome": (422, _("{outcome} is not an outcome code; use one of: {allowed}.")),
    "unknown_worklist_kind": (422, _("{kind} is not a work list; use one of: {allowed}.")),
    "outreach_value_invalid": (422, _("{value} is not a valid {field}; use one of: {allowed}.")),
    "outreach_field_required": (422, _("The outcome {outcome} needs {field}.")),
    "until_in_past": (422, _("The date {until} is in the past: give a date from today ({today}) on.")),
    "contact_in_future": (422, _("The time of the contact is in the future.")),
    "contact_conflict": (409, _("This submission ID was already used for a different contact attempt.")),
    "merge_same_person": (422, _("A record cannot be merged into itself.")),
    "deferral_not_found": (404, _("No such deferral in your area.")),
    "deferral_lifted": (409, _("This deferral was already lifted on {lifted_at}.")),
    "lift_reason_required": (422, _("Write why the deferral no longer holds (the clinician's decision).")),
    # standby list for leftover doses and the outbox (issue 9 §6, part standby)
    "standby_duplicate": (409, _("This person is already on the standby list of this session.")),
    "standby_session_closed": (409, _("The session is closed: its standby list takes nobody more.")),
    "standby_session_not_open": (409, _("Leftover doses are offered only while the session is open.")),
    "standby_no_product": (409, _("This session has no vaccine whose leftover doses could be offered.")),
    "standby_phone_required": (422, _("The person has no phone number: give one so they can be called.")),
    "standby_entry_not_found": (404, _("No such standby entry in your area.")),
    "standby_full": (409, _("Every leftover dose on offer has already been taken.")),
    "offer_not_found": (404, _("No such standby offer in your area.")),
    "offer_expired": (409, _("The offer expired at {expires_at}.")),
    "offer_not_open": (409, _("The offer has already been answered ({status}).")),
    "message_invalid": (422, _("The message cannot be made: {field} is missing or too long.")),
    # appointments: slots, bookings, reminders (issue 10, appointments; docs/appointments.md)
    "slot_full": (409, _("The slot at {time} has no place left for dose {dose_number}.")),
    "slot_not_found": (404, _("The session has no slot starting at {time}.")),
    "slot_minutes_invalid": (422, _("A slot lasts one of {allowed} minutes.")),
    "slot_capacity_invalid": (422, _("Give the capacity per dose number (1 to 5) as a number of people: {field}.")),
    "slot_capacity_below_booked": (
        409, _("The slot at {time} already has {booked} people booked for dose {dose_number}: the capacity "
               "cannot go below that.")),
    "slot_outside_hours": (422, _("Slots must lie within the session's hours, {opens_at} to {closes_at}.")),
    "slot_overlap": (409, _("A slot at {time} would overlap a slot the session already has.")),
    "booking_session_closed": (409, _("This session is closed or over: it takes no more bookings.")),
    "booking_not_eligible": (
        422, _("Dose {dose_number} cannot be booked for {session_date}: the person is not eligible that day.")),
    "already_booked": (409, _("The person is already booked for dose {dose_number}: move that booking instead.")),
    "appointment_not_found": (404, _("No such appointment in your area.")),
    "appointment_not_open": (409, _("The appointment has already ended ({status}).")),
    "household_invalid": (422, _("A household booking names 1 to {max} different people.")),
    # key groups and targets (issue 10, targets)
    "keygroup_not_found": (404, _("No such key group: {group}.")),
    "member_since_in_future": (422, _("A member cannot belong to a group from {since}, a day still to come.")),
    "target_not_above": (
        403, _("The target of {division_code} is set by the level above it: choose a division below your own.")
    ),
    "target_metric_unknown": (422, _("Unknown target metric {metric}.")),
    "target_base_unknown": (422, _("Unknown population base {base}: 18+, 60+, all or a key group's code.")),
    "target_base_invalid": (422, _("The metric {metric} cannot be counted over the base {base}.")),
    "target_value_invalid": (
        422, _("The target must be a whole number of people or doses above zero, or a coverage percentage up to 100.")
    ),
    "target_due_invalid": (422, _("The due date ({due}) must come after the start ({starts}).")),
    "target_ramp_invalid": (
        422, _("A ramp is a list of [date, fraction] points between the start and the due date, both rising, "
               "fractions below 1.")
    ),
    # the daily report 日报 (issue 10, reports; docs/reports.md)
    "report_invalid_cutoff": (422, _("Give the cut-off hour as HH:MM (for example 19:00; 24:00 for the end of the day), not {cutoff}.")),
    "report_cutoff_in_future": (422, _("The cut-off {cutoff} has not come yet: a report covers a moment that has passed.")),
    "report_before_campaign": (
        422, _("No report for {date}: the campaign started on {campaign_start}."),
    ),
    "report_already_issued": (
        409, _("The report of {division_code} for {date} has already been issued; later corrections go into the next report."),
    ),
}

# Shared with the sessions part; registered here only if that part has not (merges by union).
ERRORS.setdefault("session_not_found", (404, _("No such session in your area.")))


class VaxopsError(Exception):
    """A rejection with a stable ``code``; the status and message come from ``ERRORS``."""

    def __init__(self, code: str, detail: dict[str, Any] | None = None, *, status: int | None = None):
        if code not in ERRORS:
            raise KeyError(f"unregistered error code {code!r}")
        self.code = code
        self.detail = detail or {}
        self.status = status or ERRORS[code][0]
        super().__init__(code)

    @property
    def message(self) -> str:
        """The message in the active language, with ``detail`` fields filled in as words:
        product codes as names, ISO dates in the language's one format, by the parameter
        naming convention of ``vaxops.catalog.messages`` (``detail`` itself stays as raised)."""
        from vaxops.catalog.messages import fill

        return fill(ERRORS[self.code][1], self.detail, skip_none=True)

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "detail": self.detail}
