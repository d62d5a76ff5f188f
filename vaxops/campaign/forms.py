"""Forms of the campaign pages: they only shape the request (types, choices)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

# <input type="datetime-local"> sends "2021-06-01T19:00"; the other forms are for hand-typed URLs.
DATETIME_LOCAL_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"]


class DashboardForm(forms.Form):
    """Which division, which moment and which clock the dashboard shows (all optional)."""

    at = forms.DateTimeField(
        label=_("As of"),
        required=False,
        input_formats=DATETIME_LOCAL_FORMATS,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    division = forms.CharField(label=_("Division"), required=False, max_length=15)
    view = forms.ChoiceField(
        label=_("Count doses"),
        required=False,
        choices=[
            ("administered", _("given by then (as administered)")),
            ("recorded", _("entered by then (as recorded)")),
        ],
    )
