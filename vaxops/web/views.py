"""Web pages: the shell (login, logout, error pages).

The command dashboard lives in ``vaxops.campaign.views`` and the site desk in
``vaxops.vaccination.desk``. Views are thin: they read through ``vaxops.access.scope`` (or the
API helpers built on it), write through the services, and turn every ``VaxopsError`` into a
message on the page. A request sent by HTMX (``HX-Request``) gets only the part of the page
that changes; the same URL without HTMX returns the whole page.
"""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from vaxops.access.login import ThrottledLogin
from vaxops.core.errors import VaxopsError


class LoginView(ThrottledLogin, auth_views.LoginView):
    """Django's login view with the vaxops page; sessions and CSRF as Django provides them;
    failed log-ins rate-limited per account and address (``access.login``)."""

    template_name = "web/login.html"
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    """Log out by POST only (a link could be triggered by any page the user visits)."""


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def error_page(request: HttpRequest, exc: VaxopsError) -> HttpResponse:
    """A refusal as a page in plain words, with the status the error catalogue gives it."""
    template = "web/_error.html" if _is_htmx(request) else "web/error.html"
    return render(request, template, {"error": exc}, status=exc.status)
