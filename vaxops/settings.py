"""Django settings for vaxops.

Configuration comes from the environment so one build runs as the embedded demo (SQLite in
WAL mode under ``var/``) and in production (PostgreSQL through ``VAXOPS_DATABASE_URL``).
"""

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAXOPS_VAR_DIR", BASE_DIR / "var"))

SECRET_KEY = os.environ.get("VAXOPS_SECRET_KEY", "vaxops-demo-key-change-me-in-production-0123456789")
DEBUG = os.environ.get("VAXOPS_DEBUG", "0") == "1"
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
    "vaxops.campaign",
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
    "vaxops.core.api.ApiRequestGuard",
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
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
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

# Words and numbers a person reads: one date format per language, shared by templates and
# vaxops.core.formats (vaxops/formats/<locale>/formats.py).
FORMAT_MODULE_PATH = ["vaxops.formats"]
