"""The JSON API (django-ninja) at /api/v1: authentication, error shape, request guards."""

from __future__ import annotations

import json
import time

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.utils import translation
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer, SessionAuth

from vaxops.access.models import ApiToken
from vaxops.access.scope import grants_for
from vaxops.core.errors import VaxopsError

# token hash -> (expiry on the monotonic clock, user with its role grants loaded)
_TOKEN_CACHE: dict[str, tuple[float, object]] = {}
TOKEN_CACHE_SECONDS = 30.0


class BearerToken(HttpBearer):
    """``Authorization: Bearer <token>``; tokens are looked up by their SHA-256.

    A device sends hundreds of doses an hour with one token, so the user and their role
    grants are kept for ``TOKEN_CACHE_SECONDS`` per process: revoking a token or changing a
    role takes effect within that time.
    """

    def authenticate(self, request: HttpRequest, token: str):
        key = ApiToken.hash(token)
        cached = _TOKEN_CACHE.get(key)
        now = time.monotonic()
        if cached is not None and cached[0] > now:
            user = cached[1]
        else:
            row = (
                ApiToken.objects.filter(key_hash=key, revoked=False, user__is_active=True)
                .select_related("user")
                .first()
            )
            if row is None:
                _TOKEN_CACHE.pop(key, None)
                return None
            user = row.user
            grants_for(user)
            if len(_TOKEN_CACHE) > 10_000:
                _TOKEN_CACHE.clear()
            _TOKEN_CACHE[key] = (now + TOKEN_CACHE_SECONDS, user)
        request.user = user
        return user


class WebSession(SessionAuth):
    """The web pages' own session (with CSRF on writes), so HTMX can call the API."""

    def authenticate(self, request: HttpRequest, key):
        user = super().authenticate(request, key)
        return user if user and user.is_authenticated else None


api = NinjaAPI(
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
    return JsonResponse(exc.as_dict(), status=exc.status, json_dumps_params={"ensure_ascii": False})


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


class ApiRequestGuard:
    """Refuse API write requests whose body is too large, not JSON, or not valid JSON.

    Runs before routing, so every endpoint answers these the same way with a stable code and a
    message in the request's language, and nothing is parsed or written.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        if request.path.startswith("/api/") and request.method in ("POST", "PUT", "PATCH"):
            error = self._check(request)
            if error is not None:
                with translation.override(translation.get_language_from_request(request)):
                    return error_response(request, error)
        return self.get_response(request)

    @staticmethod
    def _check(request: HttpRequest) -> VaxopsError | None:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
        if length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
            return VaxopsError("body_too_large", {"limit_bytes": settings.DATA_UPLOAD_MAX_MEMORY_SIZE})
        if length == 0:
            return None
        content_type = request.META.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
        if content_type != "application/json":
            return VaxopsError("unsupported_media_type", {"content_type": content_type})
        try:
            json.loads(request.body)
        except (ValueError, UnicodeDecodeError) as exc:
            return VaxopsError("malformed_json", {"error": str(exc)[:200]})
        return None


def register_routers() -> None:
    from vaxops.campaign.api import router as stats_router
    from vaxops.registry.api import router as people_router
    from vaxops.sites.api import router as sites_router
    from vaxops.supply.api import router as lots_router
    from vaxops.vaccination.api import router as doses_router

    api.add_router("/people", people_router)
    api.add_router("/doses", doses_router)
    api.add_router("/sites", sites_router)
    api.add_router("/lots", lots_router)
    api.add_router("/stats", stats_router)


register_routers()
