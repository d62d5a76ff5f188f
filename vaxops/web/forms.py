"""Forms of the web pages (the site desk's forms are in ``vaxops.vaccination.forms``).

Forms only shape the request (types, required fields). The rules themselves are checked by
the services, whose ``VaxopsError`` messages the views attach to the field concerned, so every
refusal reads the same on the page, in the API and on the command line.
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

# <input type="datetime-local"> sends "2021-06-01T19:00"; the other forms are for hand-typed URLs.
DATETIME_LOCAL_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"]


class DashboardForm(forms.Form):
    """Which division and which moment the dashboard shows (both optional)."""

    at = forms.DateTimeField(
        label=_("As of"),
        required=False,
        input_formats=DATETIME_LOCAL_FORMATS,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    division = forms.CharField(label=_("Division"), required=False, max_length=15)
