"""The web log-in, rate-limited per account and per address (``access.throttle``)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from vaxops.access import throttle
from vaxops.access.models import Attempt
from vaxops.access.services import clear_failed_logins, record_failed_attempt
from vaxops.core.models import Source


class ThrottledLogin:
    """Mixin for Django's ``LoginView``: failed log-ins count against the account and the address.

    While either is locked the password is not even checked: the page answers 429 and says until
    when. A successful log-in forgets the account's failures, not the address's.
    """

    def _keys(self, request: HttpRequest) -> list[str]:
        return [throttle.account_key(request.POST.get("username", "")), throttle.address_key(request)]

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        until = throttle.locked_until(Attempt.Kind.LOGIN, self._keys(request))
        if until is not None:
            error = throttle.lockout_error(Attempt.Kind.LOGIN, until)
            form = self.get_form_class()(request, initial={"username": request.POST.get("username", "")})
            response = self.render_to_response(self.get_context_data(form=form, lockout=error), status=429)
            response["Retry-After"] = str(error.detail["retry_after_seconds"])
            return response
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form) -> HttpResponse:
        request = self.request
        record_failed_attempt(
            kind=Attempt.Kind.LOGIN, keys=self._keys(request), address=throttle.client_address(request),
            source=Source.WEB,
        )
        return super().form_invalid(form)

    def form_valid(self, form) -> HttpResponse:
        user = form.get_user()
        clear_failed_logins(username=user.get_username(), acting_user=user, source=Source.WEB)
        return super().form_valid(form)
