"""Deployment safety: production settings pass Django's deploy check, the demo key stays in the
demo, every response carries the Content-Security-Policy, sessions end after a working day idle."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.utils import timezone

ROOT = Path(settings.BASE_DIR)
STRONG_KEY = "k7Qz-9vN_2xLp4sR8tW1yB6cD3fG5hJ0mK_aE7uI9oP2qS4vX6zC8nB1"


def run(args: list[str], **env: str) -> subprocess.CompletedProcess:
    """``args`` in a fresh process with only ``env`` set (no VAXOPS_* from the test run)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("VAXOPS_", "DJANGO_"))}
    clean.setdefault("VAXOPS_DATABASE_URL", f"sqlite:///{ROOT / 'var' / 'deploy-check.sqlite3'}")
    return subprocess.run(args, cwd=ROOT, env={**clean, **env}, capture_output=True, text=True, timeout=120)


VAXOPS = [sys.executable, "-m", "vaxops.cli"]
PRODUCTION = {"VAXOPS_SECRET_KEY": STRONG_KEY, "VAXOPS_ALLOWED_HOSTS": "vaxops.example.gov.cn", "VAXOPS_HTTPS": "1"}


def test_production_settings_pass_the_deploy_check_without_warnings():
    r = run([*VAXOPS, "check", "--deploy", "--fail-level", "WARNING"], **PRODUCTION)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "no issues (0 silenced)" in r.stdout + r.stderr


def test_https_settings_are_on_only_with_vaxops_https():
    code = ("from django.conf import settings as s; print(s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, "
            "s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS > 0)")
    on = run([sys.executable, "-c", f"import django, os; os.environ['DJANGO_SETTINGS_MODULE']='vaxops.settings'; "
              f"django.setup(); {code}"], **PRODUCTION)
    assert on.stdout.split() == ["True"] * 4, on.stderr
    plain = run([sys.executable, "-c", f"import django, os; os.environ['DJANGO_SETTINGS_MODULE']='vaxops.settings'; "
                 f"django.setup(); {code}"], VAXOPS_DEMO="1")
    assert plain.stdout.split() == ["False"] * 4, plain.stderr


@pytest.mark.parametrize("key", [None, settings.DEMO_SECRET_KEY])
def test_the_demo_key_is_refused_outside_the_demo(key):
    env = {"VAXOPS_ALLOWED_HOSTS": "vaxops.example.gov.cn"} | ({"VAXOPS_SECRET_KEY": key} if key else {})
    r = run([*VAXOPS, "check"], **env)
    assert r.returncode != 0
    assert "VAXOPS_SECRET_KEY" in r.stderr and "VAXOPS_DEMO=1" in r.stderr
    served = run([sys.executable, "-c", "import vaxops.wsgi"], **env)
    assert served.returncode != 0 and "VAXOPS_SECRET_KEY is not set" in served.stderr


@pytest.mark.parametrize("flag", ["VAXOPS_DEMO", "VAXOPS_DEBUG"])
def test_the_demo_and_development_run_on_the_demo_key(flag):
    r = run([*VAXOPS, "check"], **{flag: "1"})
    assert r.returncode == 0, r.stderr


def test_session_lifetime_is_configurable():
    code = "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='vaxops.settings'; django.setup(); " \
           "from django.conf import settings as s; print(s.SESSION_COOKIE_AGE)"
    assert run([sys.executable, "-c", code], VAXOPS_DEMO="1").stdout.strip() == str(10 * 3600)
    assert run([sys.executable, "-c", code], VAXOPS_DEMO="1", VAXOPS_SESSION_HOURS="2").stdout.strip() == "7200"


# Content-Security-Policy

@pytest.mark.parametrize("path", ["/login/", "/api/v1/docs", "/api/v1/openapi.json", "/api/v1/nothing"])
def test_every_response_carries_the_content_security_policy(client, db, path):
    policy = client.get(path)["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy and "style-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy


def inline_code(html: str) -> list[str]:
    """Inline scripts, event handler attributes and style attributes the policy would block."""
    found = [m for m in re.findall(r"<script\b([^>]*)>(.*?)</script>", html, re.S)
             if "src=" not in m[0] and "application/json" not in m[0] and m[1].strip()]
    found += re.findall(r"\son[a-z]+\s*=", html)
    found += re.findall(r"\sstyle\s*=", html)
    return [str(f) for f in found]


def test_pages_have_no_inline_code(client, world):
    assert inline_code(client.get("/login/").content.decode()) == []
    assert inline_code(client.get("/api/v1/docs").content.decode()) == []
    client.force_login(world.users["vaccinator"])
    for path in ["/", "/desk/"]:
        r = client.get(path, follow=True)
        assert inline_code(r.content.decode()) == [], path


# sessions

def test_a_web_session_expires_after_ten_idle_hours_and_activity_extends_it(client, world):
    assert settings.SESSION_COOKIE_AGE == 10 * 3600 and not settings.SESSION_EXPIRE_AT_BROWSER_CLOSE
    client.force_login(world.users["county_command"])
    client.get("/")
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    left = (Session.objects.get(session_key=key).expire_date - timezone.now()).total_seconds()
    assert 10 * 3600 - 60 < left <= 10 * 3600
    # An hour before the end, with the last refresh long past, one request moves the end forward.
    session = client.session
    session["_vaxops_active"] = int(time.time()) - settings.SESSION_REFRESH_SECONDS - 1
    session.save()
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() + timezone.timedelta(hours=1))
    client.get("/")
    left = (Session.objects.get(session_key=key).expire_date - timezone.now()).total_seconds()
    assert left > 9 * 3600


def test_an_expired_session_must_log_in_again(client, world):
    client.force_login(world.users["county_command"])
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - timezone.timedelta(seconds=1))
    r = client.get("/")
    assert r.status_code == 302 and "/login/" in r["Location"]
    r = client.get("/api/v1/sites")
    assert r.status_code == 401 and r.json()["code"] == "not_authenticated"


def test_requests_without_a_session_write_no_session(client, world):
    client.get("/api/v1/sites", HTTP_AUTHORIZATION=f"Bearer {world.tokens['admin']}")
    assert not Session.objects.exists()
