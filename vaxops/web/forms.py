"""Forms of the web pages.

Forms only shape the request (types, required fields, the user's own sites and the products
on offer). The rules themselves (a valid ID number, a usable lot, eligibility) are checked by
the services, whose ``VaxopsError`` messages the views attach to the field concerned, so every
refusal reads the same on the page, in the API and on the command line.
"""

from __future__ import annotations

from collections.abc import Iterable

from django import forms
from django.utils.translation import gettext_lazy as _

from vaxops.catalog.models import Product
from vaxops.sites.models import Site


class DeskForm(forms.Form):
    """The site and product the desk works with; every desk form carries them."""

    site = forms.ChoiceField(label=_("Site"))
    product = forms.ChoiceField(label=_("Vaccine"))

    def __init__(self, *args, sites: Iterable[Site], products: Iterable[Product], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["site"].choices = [(s.code, s.name) for s in sites]
        self.fields["product"].choices = [(p.code, p.name) for p in products]


class LookupForm(DeskForm):
    """Type or scan an ID number (Enter submits; a barcode scanner sends Enter itself)."""

    id_number = forms.CharField(
        label=_("ID number"),
        required=False,  # an empty or malformed number is reported by validate_id_number
        max_length=32,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "autocapitalize": "characters",
                "spellcheck": "false",
                "class": "id-input",
                "aria-describedby": "id-help",
            }
        ),
    )


class RegisterForm(DeskForm):
    """Register a person not yet in the registry; birth date and sex come from the ID number."""

    id_number = forms.CharField(widget=forms.HiddenInput, max_length=32)
    name = forms.CharField(
        label=_("Name"), required=False, max_length=64, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )
    phone = forms.CharField(
        label=_("Mobile phone (optional)"),
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )


class DoseForm(DeskForm):
    """Record a dose. ``client_uuid`` is generated when the form is shown, so that submitting
    the same form twice (a double click, a retry after a timeout) records one dose."""

    client_uuid = forms.UUIDField(widget=forms.HiddenInput)
    person_id = forms.IntegerField(widget=forms.HiddenInput)
    # A plain field, not a choice: a lot quarantined after the form was shown must reach the
    # service, which explains the refusal, instead of failing as "not one of the choices".
    lot = forms.CharField(label=_("Lot"), max_length=40)
    override_reason = forms.CharField(
        label=_("Reason for giving the dose despite the rules"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
