"""Forms of the cold-chain pages: a manual reading, a logger file, an excursion's review.

They only shape the request; the rules (−60…+60 °C, not in the future, the file's rows, a
note on the review) are checked by ``vaxops.supply.coldchain``, whose messages the views show.
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

#: the most a logger file may weigh on the page (the API takes the same rows as a body)
MAX_FILE_BYTES = 4 * 1024 * 1024


class ManualReadingForm(forms.Form):
    """One reading taken by hand (the morning and the afternoon one, China 2017 Art. 11)."""

    at = forms.DateTimeField(label=_("Read at"), input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
                             widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"))
    celsius = forms.DecimalField(label=_("Temperature (°C)"), max_digits=6, decimal_places=2,
                                 widget=forms.NumberInput(attrs={"step": "0.1", "inputmode": "decimal"}))


class LoggerFileForm(forms.Form):
    """A data logger's export: the header ``timestamp,celsius``, one reading a row."""

    file = forms.FileField(label=_("Logger file (CSV)"),
                           help_text=_("Header timestamp,celsius; times with their offset or local (Asia/Shanghai)."))


class ReviewForm(forms.Form):
    """A supervisor's decision on an open excursion."""

    DECISIONS = [
        ("release", _("Release")),
        ("release_vvm", _("Release after a VVM check")),
        ("discard", _("Discard all stock (cold-chain failure)")),
    ]
    # Not required here: the service refuses a missing decision or note with its own message.
    decision = forms.ChoiceField(label=_("Decision"), choices=DECISIONS, widget=forms.RadioSelect, required=False)
    note = forms.CharField(label=_("Note: what was checked"), max_length=500, required=False,
                           widget=forms.Textarea(attrs={"rows": 2}))
