"""The report page's form: it only shapes the request (which division, day and cut-off)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class ReportForm(forms.Form):
    division = forms.CharField(label=_("Division"), required=False, max_length=16)
    date = forms.DateField(label=_("Date"), required=False, input_formats=["%Y-%m-%d"],
                           widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    cutoff = forms.CharField(label=_("Cut-off hour"), required=False, max_length=8,
                             widget=forms.TextInput(attrs={"inputmode": "numeric", "placeholder": "19:00",
                                                           "size": 6}))
