"""The JSON API (django-ninja) at /api/v1: authentication, error shape, request guards."""

from __future__ import annotations

import copy
import datetime as dt
import logging
from functools import cache
from typing import Any

from django.conf import settings
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone, translation
from django.utils.cache import patch_cache_control
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.renderers import JSONRenderer
from ninja.responses import NinjaJSONEncoder
from ninja.security import HttpBearer, SessionAuth

from vaxops.access.models import ApiToken
from vaxops.access.scope import load_grants
from vaxops.core import jsoncheck
from vaxops.core.errors import VaxopsError

logger = logging.getLogger(__name__)


class BearerToken(HttpBearer):
    """``Authorization: Bearer <token>``; tokens are looked up by their SHA-256.

    Every request costs one indexed query: the token (not revoked) joined to its user (still
    there, still active) and the user's grants version. So a revoked token, a deactivated or a
    deleted user is refused on the very next request in every process. The user's role grants
    are kept in this process under ``(user, grants version)``: a role change bumps the version
    (``access.AccessState``) and the next request loads the new grants.

    A failure (unknown, revoked, inactive) is counted per address and per account (``access.
    throttle``); once the limit is reached failures answer 429 until the lock-out ends. A valid
    token is never refused by a lock-out and never pays for the check: tokens are 256-bit random
    values that cannot be guessed, and one device's stale token must not stop the other devices
    behind the same address.
    """

    def authenticate(self, request: HttpRequest, token: str):
        key = ApiToken.hash(token)
        with connection.cursor() as cursor:
            cursor.execute(_token_sql(), [key])
            row = cursor.fetchone()
        if row is None:
            _token_failed(request, key)
        user_id, version = row[0], row[1] or 0
        user = _cached_user(user_id, version, row[2])
        request.user = user
        return user


@cache
def _token_sql() -> str:
    from django.contrib.auth import get_user_model

    from vaxops.access.models import AccessState

    qn = connection.ops.quote_name
    users, tokens, states = get_user_model()._meta.db_table, ApiToken._meta.db_table, AccessState._meta.db_table
    return (
        f"SELECT u.id, s.grants_version, u.date_joined FROM {qn(tokens)} t JOIN {qn(users)} u ON u.id = t.user_id "
        f"LEFT JOIN {qn(states)} s ON s.user_id = u.id "
        "WHERE t.key_hash = %s AND NOT t.revoked AND u.is_active"
    )


# (user id, grants version, joined at) -> the user row with its grants; bounded, never stale (see
# above). The join time tells apart two users given the same id (a database restored or
# rebuilt under a running server, a sequence moved back): one's grants never serve the other.
_USERS: dict[tuple[int, int, object], object] = {}


def _cached_user(user_id: int, version: int, joined=None):
    entry = _USERS.get((user_id, version, joined))
    if entry is None:
        from django.contrib.auth import get_user_model

        entry = get_user_model().objects.get(pk=user_id)
        entry._vaxops_grants = load_grants(user_id)
        if len(_USERS) > 10_000:
            _USERS.clear()
        _USERS[(user_id, version, joined)] = entry
    # A copy per request: attributes a request sets on its user stay in that request.
    user = copy.copy(entry)
    user._state = copy.copy(entry._state)
    user._state.fields_cache = {}
    return user


def _token_failed(request: HttpRequest, key: str):
    """Count the failure (address, and the account when the token is known) and refuse."""
    from vaxops.access import throttle
    from vaxops.access.models import Attempt
    from vaxops.access.services import record_failed_attempt

    user_id = ApiToken.objects.filter(key_hash=key).values_list("user_id", flat=True).first()
    keys = [throttle.address_key(request)] + ([throttle.user_key(user_id)] if user_id else [])
    throttle.check(Attempt.Kind.TOKEN, keys)
    record_failed_attempt(
        kind=Attempt.Kind.TOKEN, keys=keys, user_id=user_id, address=throttle.client_address(request),
        source="api",
    )
    raise VaxopsError("not_authenticated")


class WebSession(SessionAuth):
    """The web pages' own session (with CSRF on writes), so HTMX can call the API.

    A request that carries an ``Authorization`` header is a token client and is decided by
    its token alone; a request without a logged-in session is simply not authenticated (401),
    never a CSRF refusal (403). Django's session middleware reloads the user on every request
    and drops a deactivated or deleted one.
    """

    def __call__(self, request: HttpRequest):
        if "HTTP_AUTHORIZATION" in request.META:
            return None
        if not getattr(request.user, "is_authenticated", False):
            return None
        return super().__call__(request)

    def authenticate(self, request: HttpRequest, key):
        user = super().authenticate(request, key)
        return user if user and user.is_authenticated else None


class CampaignTimeEncoder(NinjaJSONEncoder):
    """Every datetime leaves the API in the campaign time zone (``TIME_ZONE``, +08:00).

    Done here, once, at serialisation: an endpoint returns aware datetimes as the database gives
    them (UTC) and never formats them itself, so create, void and every later endpoint agree.
    """

    def default(self, o: Any) -> Any:
        if isinstance(o, dt.datetime) and timezone.is_aware(o):
            o = timezone.localtime(o)
        return super().default(o)


class CampaignJSONRenderer(JSONRenderer):
    encoder_class = CampaignTimeEncoder
    json_dumps_params = {"ensure_ascii": False}


class VaxopsAPI(NinjaAPI):
    """NinjaAPI with the campaign-time renderer and an OpenAPI document that lists every error."""

    def __init__(self, **kwargs: Any):
        super().__init__(renderer=CampaignJSONRenderer(), **kwargs)

    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        from vaxops.core.openapi import complete_schema

        return complete_schema(super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params))


api = VaxopsAPI(
    title="vaxops API",
    version="1",
    description="Register residents, record doses and read campaign figures. "
    "Errors are {code, message, detail}; messages follow Accept-Language (zh-Hans, en).",
    urls_namespace="api-v1",
    auth=[BearerToken(), WebSession()],
    docs_url="/docs",
    openapi_url="/openapi.json",
)


def error_response(request: HttpRequest, exc: VaxopsError) -> JsonResponse:
    response = JsonResponse(exc.as_dict(), status=exc.status, json_dumps_params={"ensure_ascii": False})
    if exc.status == 429 and "retry_after_seconds" in exc.detail:
        response["Retry-After"] = str(exc.detail["retry_after_seconds"])
    return response


@api.exception_handler(VaxopsError)
def _vaxops_error(request, exc: VaxopsError):
    return error_response(request, exc)


@api.exception_handler(AuthenticationError)
def _auth_error(request, exc):
    return error_response(request, VaxopsError("not_authenticated"))


@api.exception_handler(ValidationError)
def _validation_error(request, exc: ValidationError):
    fields = [
        {"loc": [str(p) for p in e.get("loc", ())], "type": e.get("type"), "msg": e.get("msg")}
        for e in exc.errors
    ]
    return error_response(request, VaxopsError("invalid_request", {"errors": fields}))


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    code = {401: "not_authenticated", 403: "permission_denied", 404: "not_found"}.get(
        exc.status_code, "invalid_request"
    )
    return error_response(request, VaxopsError(code, status=exc.status_code))


@api.exception_handler(Http404)
def _not_found(request, exc):
    return error_response(request, VaxopsError("not_found"))


@api.exception_handler(OverflowError)
def _overflow(request, exc):
    # A value inside the schema's types whose date arithmetic leaves Python's range (a day
    # near year 1 or 9999 plus an interval): a property of the input, so a 422, never a 500.
    return error_response(request, VaxopsError("invalid_request", {"reason": "value out of range"}))


def _json_not_found(request: HttpRequest) -> JsonResponse:
    return error_response(request, VaxopsError("not_found", {"path": jsoncheck.printable(request.path, 200)}))


# Bodies besides JSON, accepted only on paths ending in ".csv" (a logger's temperature file,
# POST /api/v1/stores/{code}/temperatures.csv): checked as UTF-8 text like any JSON string.
RAW_TEXT_BODIES = frozenset({"text/csv", "text/plain"})


class ApiRequestGuard:
    """Every response under /api/ is JSON with a stable code, and no request can crash a view.

    Before routing it refuses, the same way for every endpoint and without writing anything:
    a body that is too large, not JSON or not valid JSON; any value no field may carry
    (``core.jsoncheck``: deep nesting, NUL bytes, lone surrogates, integers beyond 64 bits) in
    the body, a query parameter or the path. After the view it turns Django's HTML 404 and
    405 answers into the API's error shape and marks every answer ``Cache-Control: no-store``
    (API answers carry personal data: no browser or proxy may keep them).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        if not request.path.startswith("/api/"):
            return self.get_response(request)
        with translation.override(translation.get_language_from_request(request)):
            error = self._check(request)
            if error is not None:
                response = error_response(request, error)
            else:
                response = self.get_response(request)
                response = self._as_api_error(request, response)
        patch_cache_control(response, no_store=True, private=True)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception):
        """A crash under /api/ still answers in the API's shape (logged; the fuzz test keeps it rare)."""
        if not request.path.startswith("/api/") or isinstance(exception, Http404):
            return None
        logger.exception("unhandled error on %s %s", request.method, request.path)
        with translation.override(translation.get_language_from_request(request)):
            return error_response(request, VaxopsError("server_error"))

    @staticmethod
    def _as_api_error(request: HttpRequest, response: HttpResponse) -> HttpResponse:
        is_json = response.get("Content-Type", "").startswith("application/json")
        if response.status_code == 404 and not is_json:
            return _json_not_found(request)
        if response.status_code == 405 and not is_json:
            allowed = response.get("Allow", "")
            error = error_response(request, VaxopsError("method_not_allowed", {
                "method": request.method, "allowed": [m.strip() for m in allowed.split(",") if m.strip()],
            }))
            if allowed:
                error["Allow"] = allowed
            return error
        return response

    @classmethod
    def _check(cls, request: HttpRequest) -> VaxopsError | None:
        refusal = cls._check_address(request)
        if refusal is None and request.method in ("POST", "PUT", "PATCH"):
            return cls._check_body(request)
        return refusal

    @staticmethod
    def _check_address(request: HttpRequest) -> VaxopsError | None:
        # Path segments: an id no bigint can hold names nothing that exists.
        for segment in request.path.split("/"):
            if jsoncheck.check_text(segment, "path") or jsoncheck.check_integer_text(segment, "path"):
                return VaxopsError("not_found", {"path": jsoncheck.printable(request.path, 200)})
        for name, values in request.GET.lists():
            for value in (name, *values):
                refusal = jsoncheck.check_text(value, name) or jsoncheck.check_integer_text(value, name)
                if refusal is not None:
                    return VaxopsError(refusal.code, {**refusal.detail, "field": jsoncheck.printable(name)})
        return None

    @staticmethod
    def _check_text_body(request: HttpRequest) -> VaxopsError | None:
        """A CSV upload (a path ending in ``.csv``): UTF-8 text without refused characters."""
        try:
            text = request.body.decode("utf-8-sig")
        except UnicodeDecodeError:
            return VaxopsError("invalid_characters", {"field": "body"})
        refusal = jsoncheck.check_text(text, "body")
        return VaxopsError(refusal.code, refusal.detail) if refusal is not None else None

    @classmethod
    def _check_body(cls, request: HttpRequest) -> VaxopsError | None:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
        if length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
            return VaxopsError("body_too_large", {"limit_bytes": settings.DATA_UPLOAD_MAX_MEMORY_SIZE})
        if length == 0:
            return None
        content_type = request.META.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
        if content_type in RAW_TEXT_BODIES and request.path.endswith(".csv"):
            return cls._check_text_body(request)
        if content_type != "application/json":
            return VaxopsError("unsupported_media_type", {"content_type": content_type[:100]})
        try:
            body = jsoncheck.parse_json(request.body)
        except jsoncheck.NotJson as exc:
            if exc.too_deep:
                return VaxopsError("json_too_deep", {"limit": jsoncheck.MAX_DEPTH})
            return VaxopsError("malformed_json", {"error": str(exc)[:200]})
        refusal = jsoncheck.check_json(body)
        if refusal is not None:
            return VaxopsError(refusal.code, refusal.detail)
        return None


def register_routers() -> None:
    from vaxops.campaign.api import router as stats_router
    from vaxops.registry.api import router as people_router
    from vaxops.sites.api import router as sites_router
    from vaxops.supply import api_allocations, api_coldchain, api_stock
    from vaxops.supply.api import router as lots_router
    from vaxops.vaccination.api import router as doses_router

    api.add_router("/people", people_router)
    api.add_router("/doses", doses_router)
    api.add_router("/sites", sites_router)
    api.add_router("/lots", lots_router)
    api.add_router("/stores", api_stock.stores_router)
    api.add_router("/stores", api_coldchain.stores_router)
    api.add_router("/receipts", api_stock.receipts_router)
    api.add_router("/transfers", api_stock.transfers_router)
    api.add_router("/adjustments", api_stock.adjustments_router)
    api.add_router("/excursions", api_coldchain.excursions_router)
    api.add_router("/allocations", api_allocations.router)
    api.add_router("/stats", stats_router)
    from vaxops.outreach import api as outreach_api
    from vaxops.safety import api as safety_api
    from vaxops.sites import api_sessions
    from vaxops.staff import api as staff_api
    from vaxops.standby import api as standby_api
    from vaxops.visits import api as visits_api

    api.add_router("/sessions", api_sessions.router)
    api.add_router("/sessions", staff_api.sessions_router)
    api.add_router("/sessions", visits_api.sessions_router)
    api.add_router("/sessions", standby_api.sessions_router)
    api.add_router("/staff", staff_api.router)
    api.add_router("/deployments", staff_api.deployments_router)
    api.add_router("/visits", visits_api.router)
    api.add_router("/aefi", safety_api.router)
    api.add_router("/standby", standby_api.router)
    from vaxops.appointments import api as appointments_api

    api.add_router("/sessions", appointments_api.sessions_router)
    api.add_router("/appointments", appointments_api.router)
    from vaxops.keygroups import api as keygroups_api
    from vaxops.targets import api as targets_api

    api.add_router("/stats", keygroups_api.stats_router)
    api.add_router("/key-groups", keygroups_api.router)
    api.add_router("/targets", targets_api.router)
    from vaxops.reports import api as reports_api

    api.add_router("/reports", reports_api.router)
    api.add_router("/worklists", outreach_api.worklists_router)
    api.add_router("/outreach", outreach_api.router)


register_routers()
