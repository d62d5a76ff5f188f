"""Forms of the stock pages.

Forms only shape the request (types, the user's own stores, the routes and lots on offer); the
rules (doses above zero, a lot of the right product, proof of delivery that adds up, enough
stock) are the services', whose ``VaxopsError`` messages the views put beside the field
concerned. Each form that creates stock events carries a ``client_uuid`` drawn when the form is
shown, so a double submit replays the first instead of moving stock twice.
"""

from __future__ import annotations

from collections.abc import Iterable

from django import forms
from django.utils.translation import gettext_lazy as _

from vaxops.catalog.models import Product
from vaxops.supply.models import StockReason, Store


def _store_choices(stores: Iterable[Store]) -> list[tuple[str, str]]:
    return [(s.code, f"{s.name} ({s.code})") for s in stores]


def _temperature(label, required: bool = False) -> forms.FloatField:
    # A plain number: the range (2–8 °C accepted, −60…+60 plausible) is the service's rule.
    return forms.FloatField(label=label, required=required,
                            widget=forms.NumberInput(attrs={"step": "0.1", "inputmode": "decimal"}))


def _doses(label) -> forms.IntegerField:
    # No minimum here: the service refuses zero or negative doses with its own message.
    return forms.IntegerField(label=label, widget=forms.NumberInput(attrs={"inputmode": "numeric"}))


class ReceiptForm(forms.Form):
    """A manufacturer's delivery into one store (China 2017 rules, Art. 16: what is checked)."""

    client_uuid = forms.UUIDField(widget=forms.HiddenInput)
    store = forms.ChoiceField(label=_("Receiving store"))
    product = forms.ChoiceField(label=_("Vaccine"))
    lot_number = forms.CharField(label=_("Lot number"), max_length=40)
    # Typed as printed on the box (2029-06-30 or 20290630): a browser's date control orders its
    # parts by the system's locale, which a keyboard user cannot predict.
    expiry_date = forms.DateField(label=_("Expiry date"), input_formats=["%Y-%m-%d", "%Y%m%d", "%Y/%m/%d", "%Y.%m.%d"],
                                  widget=forms.DateInput(attrs={"placeholder": "2029-06-30", "inputmode": "numeric",
                                                                "autocomplete": "off"}, format="%Y-%m-%d"))
    manufacturer = forms.CharField(label=_("Manufacturer"), max_length=120, required=False)
    release_certificate = forms.CharField(label=_("Batch-release certificate number (批签发)"), max_length=64,
                                          required=False)
    doses = _doses(_("Doses received"))
    arrival_temperature_c = _temperature(_("Arrival temperature (°C)"))

    def __init__(self, *args, stores: Iterable[Store], products: Iterable[Product], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["store"].choices = _store_choices(stores)
        self.fields["product"].choices = [("", "")] + [(p.code, p.name) for p in products]


class DispatchForm(forms.Form):
    """A transfer out of one store; the lines (lot → doses) are read beside the form."""

    client_uuid = forms.UUIDField(widget=forms.HiddenInput)
    to_store = forms.ChoiceField(label=_("Send to"))

    def __init__(self, *args, destinations: Iterable[tuple[str, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["to_store"].choices = [("", "")] + list(destinations)


class ReceiveForm(forms.Form):
    """Proof of delivery of one transfer; the lines (accepted, rejected, reason) beside it."""

    arrival_temperature_c = _temperature(_("Arrival temperature (°C)"))
    delivered_by = forms.CharField(label=_("Delivered by"), max_length=120, required=False)


class TemperatureForm(forms.Form):
    """The missing arrival temperature of a transfer received on hold."""

    arrival_temperature_c = _temperature(_("Arrival temperature (°C)"), required=True)


class AdjustForm(forms.Form):
    """An adjustment of one lot for a manual reason (the reason gives the sign)."""

    client_uuid = forms.UUIDField(widget=forms.HiddenInput)
    lot_number = forms.ChoiceField(label=_("Lot"))
    reason = forms.ChoiceField(label=_("Reason"))
    doses = _doses(_("Doses to add or take off"))
    note = forms.CharField(label=_("Note (what happened)"), max_length=500, required=False)

    def __init__(self, *args, lots: Iterable[tuple[str, str]], reasons: Iterable[StockReason], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["lot_number"].choices = [("", "")] + list(lots)
        self.fields["reason"].choices = [("", "")] + [(r.code, r.name) for r in reasons]
