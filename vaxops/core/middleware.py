"""Request-wide behaviour that is not tied to one app."""

from __future__ import annotations


class ChineseFirstForPages:
    """Web pages speak zh-Hans unless the user chose English with the language switch.

    Office PCs on government intranets often carry an English browser locale that their users
    never chose, so for pages the browser's Accept-Language is ignored: the language comes from
    the switch's cookie, else the default (zh-Hans). The JSON API keeps honouring
    Accept-Language, which is part of its contract. Must run before LocaleMiddleware.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith("/api/"):
            request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)


class ContentSecurityPolicy:
    """Send ``settings.VAXOPS_CSP`` with every response (unless a view set its own).

    The pages load only the app's own files: no inline script or style, no CDN. Django 5.2 has
    no CSP support of its own; the policy is one setting so a deployment can tighten it.
    """

    def __init__(self, get_response):
        from django.conf import settings

        self.policy = settings.VAXOPS_CSP
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if self.policy and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = self.policy
        return response


class SessionActivity:
    """A web session lives ``SESSION_COOKIE_AGE`` after the last activity, not after the login.

    Saving the session on every request (``SESSION_SAVE_EVERY_REQUEST``) would write a row for
    each HTMX call; instead a logged-in session is saved again once ``SESSION_REFRESH_SECONDS``
    have passed, which moves its expiry (and the cookie's) forward.
    """

    KEY = "_vaxops_active"

    def __init__(self, get_response):
        from django.conf import settings

        self.refresh = settings.SESSION_REFRESH_SECONDS
        self.get_response = get_response

    def __call__(self, request):
        import time

        session = getattr(request, "session", None)
        if session is not None and getattr(request, "user", None) is not None and request.user.is_authenticated:
            now = int(time.time())
            if now - session.get(self.KEY, 0) >= self.refresh:
                session[self.KEY] = now
        return self.get_response(request)
