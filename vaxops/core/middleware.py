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
