"""Django settings for vaxops.

Configuration comes from the environment so one build runs as the embedded demo (SQLite in
WAL mode under ``var/``) and in production (PostgreSQL through ``VAXOPS_DATABASE_URL``).
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAXOPS_VAR_DIR", BASE_DIR / "var"))

DEBUG = os.environ.get("VAXOPS_DEBUG", "0") == "1"
# The demo (and development) may run on the published demo key; nothing else may.
DEMO = DEBUG or os.environ.get("VAXOPS_DEMO", "0") == "1"
DEMO_SECRET_KEY = "vaxops-demo-key-change-me-in-production-0123456789"
SECRET_KEY = os.environ.get("VAXOPS_SECRET_KEY", "") or (DEMO_SECRET_KEY if DEMO else "")
if not DEMO and SECRET_KEY in ("", DEMO_SECRET_KEY):
    raise ImproperlyConfigured(
        "VAXOPS_SECRET_KEY is not set (or is the published demo key): set it to a long random "
        "secret of your own, e.g. python3 -c 'import secrets; print(secrets.token_urlsafe(50))'. "
        "For the demo or development only, set VAXOPS_DEMO=1 to run on the demo key."
    )
ALLOWED_HOSTS = os.environ.get("VAXOPS_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # Serves the OpenAPI docs page with its own Swagger UI files, not from a CDN.
    "ninja",
    "vaxops.core",
    "vaxops.access",
    "vaxops.regions",
    "vaxops.catalog",
    "vaxops.registry",
    "vaxops.supply",
    "vaxops.sites",
    "vaxops.vaccination",
    "vaxops.staff",
    "vaxops.visits",
    "vaxops.safety",
    "vaxops.outbox",
    "vaxops.standby",
    "vaxops.appointments",
    "vaxops.keygroups",
    "vaxops.targets",
    "vaxops.outreach",
    "vaxops.campaign",
    "vaxops.reports",
    "vaxops.interop",
    "vaxops.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Serves the vendored static files itself: intranet deployments have no CDN and often no proxy.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "vaxops.core.middleware.ChineseFirstForPages",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Outside the API guard, so the guard's own answers carry the policy too.
    "vaxops.core.middleware.ContentSecurityPolicy",
    "vaxops.core.api.ApiRequestGuard",
    "vaxops.core.middleware.SessionActivity",
]

ROOT_URLCONF = "vaxops.urls"
WSGI_APPLICATION = "vaxops.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def _database_config() -> dict:
    url = os.environ.get("VAXOPS_DATABASE_URL")
    if not url:
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{VAR_DIR / 'vaxops.sqlite3'}"
    config = dj_database_url.parse(url, conn_max_age=int(os.environ.get("VAXOPS_CONN_MAX_AGE", "60")))
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # WAL lets readers (dashboards) run while a writer records doses; IMMEDIATE transactions
        # take the write lock at BEGIN so two writers queue on the busy timeout instead of
        # failing with "database is locked" when one upgrades a read lock.
        config["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                "PRAGMA foreign_keys=ON; PRAGMA cache_size=-65536;"
            ),
        }
        # Tests use a file too, so threads (concurrency tests, the live server) share one database.
        config["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}
    return config


DATABASES = {"default": _database_config()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Demo and test users are created in bulk; a fast hasher keeps the demo start short.
if os.environ.get("VAXOPS_FAST_HASHER") == "1":
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "vaxops" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)

LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:dashboard"
LOGOUT_REDIRECT_URL = "web:login"

# Request bodies above this size are refused (oversize_body) before they are parsed.
DATA_UPLOAD_MAX_MEMORY_SIZE = 256 * 1024

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("VAXOPS_LOG_LEVEL", "WARNING")},
}

# Campaign-wide settings (observation minutes is configurable per campaign later).
VAXOPS_OBSERVATION_MINUTES = 30

# Campaign figures: the moment the dashboard opens at when none is chosen (ISO 8601, e.g.
# "2021-06-01T19:00:00+08:00"; empty: now). `vaxops demo` sets it to the demo's report moment.
VAXOPS_CAMPAIGN_MOMENT = os.environ.get("VAXOPS_CAMPAIGN_MOMENT", "")

# Deployment safety: HTTPS, cookies, Content-Security-Policy, session lifetime
# (docs/operations.md "Deployment settings"). Behind a TLS proxy set VAXOPS_HTTPS=1 and, if the
# proxy terminates TLS, VAXOPS_PROXY_SSL_HEADER=1 (it must set X-Forwarded-Proto).
HTTPS = os.environ.get("VAXOPS_HTTPS", "0") == "1"
if HTTPS:
    SECURE_SSL_REDIRECT = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("VAXOPS_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    # The header only allows preloading; nothing is preloaded unless the domain is submitted.
    SECURE_HSTS_PRELOAD = os.environ.get("VAXOPS_HSTS_PRELOAD", "1") == "1"
    if os.environ.get("VAXOPS_PROXY_SSL_HEADER", "0") == "1":
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("VAXOPS_CSRF_TRUSTED_ORIGINS", "").split(",") if o]

# Everything the browser loads is served by the app itself (vendored assets, no CDN): no inline
# script or style, no eval. data: images are for the icons Swagger UI and ECharts embed in CSS.
VAXOPS_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)

# A web session ends after a working day without activity; each request (at most one save in
# SESSION_REFRESH_SECONDS) restarts the clock.
SESSION_COOKIE_AGE = int(float(os.environ.get("VAXOPS_SESSION_HOURS", "10")) * 3600)
SESSION_REFRESH_SECONDS = 300

# Overrides and retrospective entry (issue 6; docs/overrides.md). A dose administered more than
# VAXOPS_RETROSPECTIVE_HOURS before it is recorded is a retrospective entry. No dose is dated
# before VAXOPS_CAMPAIGN_START (an ISO date in the campaign's time zone); the default is the day
# China began vaccinating key groups, 2020-12-15, before every dose of the shipped scenarios.
VAXOPS_RETROSPECTIVE_HOURS = float(os.environ.get("VAXOPS_RETROSPECTIVE_HOURS", "24"))
VAXOPS_CAMPAIGN_START = os.environ.get("VAXOPS_CAMPAIGN_START", "2020-12-15")

# Access and identity: rate limits on failed log-ins and tokens, and on look-ups of people
# outside the user's area (counted in the database, so every server process shares them).
def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


# After this many failed log-ins (or API tokens) within the window, for one account or from one
# address, further attempts are refused with 429 until the lock-out has passed.
VAXOPS_AUTH_FAILURE_LIMIT = _env_int("VAXOPS_AUTH_FAILURE_LIMIT", 10)
VAXOPS_AUTH_FAILURE_WINDOW_MINUTES = _env_int("VAXOPS_AUTH_FAILURE_WINDOW_MINUTES", 15)
VAXOPS_AUTH_LOCKOUT_MINUTES = _env_int("VAXOPS_AUTH_LOCKOUT_MINUTES", 15)
# Look-ups by exact ID number of people outside the user's area, per user.
VAXOPS_LOOKUP_LIMIT = _env_int("VAXOPS_LOOKUP_LIMIT", 30)
VAXOPS_LOOKUP_WINDOW_MINUTES = _env_int("VAXOPS_LOOKUP_WINDOW_MINUTES", 60)
VAXOPS_LOOKUP_LOCKOUT_MINUTES = _env_int("VAXOPS_LOOKUP_LOCKOUT_MINUTES", 15)
# Reverse proxies in front of the servers whose X-Forwarded-For is trusted (0: use REMOTE_ADDR).
VAXOPS_TRUSTED_PROXIES = _env_int("VAXOPS_TRUSTED_PROXIES", 0)

# Words and numbers a person reads: one date format per language, shared by templates and
# vaxops.core.formats (vaxops/formats/<locale>/formats.py).
FORMAT_MODULE_PATH = ["vaxops.formats"]


# Imports (docs/imports.md): files above this size are refused (import_too_large); rows are
# written and their progress committed in chunks of this many rows.
VAXOPS_IMPORT_MAX_BYTES = _env_int("VAXOPS_IMPORT_MAX_BYTES", 20 * 1024 * 1024)
VAXOPS_IMPORT_CHUNK_ROWS = _env_int("VAXOPS_IMPORT_CHUNK_ROWS", 500)

# Standby list for leftover doses (docs/standby.md): offers per leftover dose (2–3) and how long
# an offer stays open; the outbox's sender (a dotted path to a class with ``send(message)``).
VAXOPS_STANDBY_OFFER_FACTOR = float(os.environ.get("VAXOPS_STANDBY_OFFER_FACTOR", "2"))
VAXOPS_STANDBY_OFFER_MINUTES = _env_int("VAXOPS_STANDBY_OFFER_MINUTES", 15)
VAXOPS_MESSAGE_SENDER = os.environ.get("VAXOPS_MESSAGE_SENDER", "vaxops.outbox.senders.LogSender")
