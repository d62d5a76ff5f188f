"""Forms of the vaccination pages: they shape the request; the scope rules are the service's."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class ReviewForm(forms.Form):
    """Filters of the overrides and retrospective-entries lists (all optional)."""

    division = forms.CharField(label=_("Area"), required=False, max_length=15)
    date_from = forms.DateField(label=_("Recorded from"), required=False,
                                widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    date_to = forms.DateField(label=_("Recorded to"), required=False,
                              widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    page = forms.IntegerField(required=False, min_value=1, max_value=100_000)

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The last day comes before the first."))
        return data
