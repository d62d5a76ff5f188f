"""Forms of the site desk.

Forms only shape the request (types, required fields, the user's own sites, the products on
offer). The rules themselves (a valid ID number, a usable lot, eligibility, a known division)
are checked by the services, whose ``VaxopsError`` messages the views attach to the field
concerned, so every refusal reads the same on the page, in the API and on the command line.

Every form that shows or acts on a person carries the **ID number**, never a database id: the
view finds the person again by that exact number (``registry.api.search_people``), so a form
cannot be replayed with a run of ids to read other people's cards.
"""

from __future__ import annotations

from collections.abc import Iterable

from django import forms
from django.utils.translation import gettext_lazy as _

from vaxops.catalog.models import Product
from vaxops.registry.models import PriorityGroup
from vaxops.sites.models import Site


class SiteForm(forms.Form):
    """The site the desk works at; every desk form carries it."""

    site = forms.ChoiceField(label=_("Site"))

    def __init__(self, *args, sites: Iterable[Site], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["site"].choices = [(s.code, s.name) for s in sites]


class LookupForm(SiteForm):
    """Type or scan an ID number (Enter submits; a barcode scanner sends Enter itself).

    The vaccine is not chosen here: it is chosen on the person's card, where the dose history
    is visible, so a product left selected for the previous person is never given by mistake.
    """

    id_number = forms.CharField(
        label=_("ID number"),
        required=False,  # an empty or malformed number is reported by validate_id_number
        max_length=40,
    )


class RegisterForm(SiteForm):
    """Register a person not yet in the registry; birth date and sex come from the ID number."""

    id_number = forms.CharField(widget=forms.HiddenInput, max_length=40)
    name = forms.CharField(label=_("Name"), required=False, max_length=64)
    phone = forms.CharField(label=_("Mobile phone (optional)"), required=False, max_length=20)
    division_code = forms.CharField(label=_("Home division"), required=False, max_length=15)
    priority_groups = forms.MultipleChoiceField(label=_("Priority groups"), required=False)

    def __init__(self, *args, sites: Iterable[Site], groups: Iterable[PriorityGroup], **kwargs) -> None:
        super().__init__(*args, sites=sites, **kwargs)
        self.fields["priority_groups"].choices = [(g.code, g.name) for g in groups]


class CardForm(SiteForm):
    """Show the person's card for a product (the product choice on the card)."""

    id_number = forms.CharField(widget=forms.HiddenInput, max_length=40)
    product = forms.ChoiceField(label=_("Vaccine"), required=False)
    client_uuid = forms.UUIDField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, sites: Iterable[Site], products: Iterable[Product], **kwargs) -> None:
        super().__init__(*args, sites=sites, **kwargs)
        self.fields["product"].choices = [("", "")] + [(p.code, p.name) for p in products]


class DoseForm(CardForm):
    """Record a dose. ``client_uuid`` is generated when the card is shown, so that submitting
    the same form twice (a double click, a retry after a timeout) records one dose.

    The product is required: for a first dose it starts empty and must be chosen; a later dose
    starts with the product of the series, which the card names.
    """

    product = forms.ChoiceField(label=_("Vaccine"))
    client_uuid = forms.UUIDField(widget=forms.HiddenInput)
    # A plain field, not a choice: a lot quarantined after the form was shown must reach the
    # service, which explains the refusal, instead of failing as "not one of the choices".
    lot = forms.CharField(label=_("Lot"), max_length=40)
    # A scanned or typed lot code (it wins over the picker): desk.scanned_lot_number reads it.
    lot_code = forms.CharField(label=_("Scan or type the lot number"), max_length=80, required=False)
    override_reason = forms.CharField(label=_("Reason for giving the dose despite the rules"), required=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["product"].choices = self.fields["product"].choices[1:]
        self.fields["product"].error_messages["required"] = _("Choose the vaccine.")
        self.fields["lot"].error_messages["required"] = _("Choose the lot.")


class VoidForm(SiteForm):
    """Undo a record of today at this site: a site manager voids it with a written reason."""

    dose_id = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(label=_("Why is this record wrong?"), required=False, max_length=500)


class LiftForm(SiteForm):
    """Lift one of the person's open deferrals on the card, with the clinician's written reason."""

    id_number = forms.CharField(widget=forms.HiddenInput, max_length=40)
    deferral_id = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(label=_("Why it no longer holds"), required=False, max_length=500)


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
