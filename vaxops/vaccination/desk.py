"""The site desk: look a person up by ID number, register, choose the vaccine, record, undo.

Views are thin: they read through ``vaxops.access.scope`` and the registry's lookup helpers
(``search_people`` is the one exact-ID way to a person, audited and rate-limited there), write
through the services, and turn every ``VaxopsError`` into a message next to its field. A request
sent by HTMX (``HX-Request``) gets only the part of the page that changes; the same URL without
HTMX returns the whole page, so every step also works without JavaScript.

Two rules keep the desk safe to work fast:

* **No vaccine is pre-selected for a first dose.** The vaccine is chosen on the card, after the
  dose history is on screen; a later dose starts with the product of the series. The record
  form requires a product and a lot, so pressing Enter again on a fresh card records nothing.
* **A card is drawn only for the exact ID number typed at this desk.** Every desk form carries
  the ID number, never a person's database id, and the view finds the person again by that
  number; for a person outside the user's area the card masks what the work does not need
  (the phone, the middle of the ID number).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import F, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from vaxops.access.scope import admits, can, restrict
from vaxops.catalog.messages import reason_message
from vaxops.catalog.models import Product
from vaxops.core.errors import VaxopsError
from vaxops.core.models import Source
from vaxops.regions.models import Division, Level
from vaxops.registry.api import search_people
from vaxops.registry.idnumber import ResidentId
from vaxops.registry.models import Person, PriorityGroup, Sex
from vaxops.registry.services import ID_REASON_MESSAGES, register_person, validate_id_number
from vaxops.sites.models import Site
from vaxops.supply.models import Lot, LotStatus
from vaxops.vaccination.forms import CardForm, DoseForm, LookupForm, RegisterForm, VoidForm
from vaxops.vaccination.models import DoseKind, DoseRecord
from vaxops.vaccination.services import assess_person, dose_history, is_overridable, record_dose, void_dose
from vaxops.vaccination.siteday import next_dose, site_day

# Which field a service refusal belongs next to; anything else is shown above the form.
ERROR_FIELDS = {
    "invalid_id_number": "id_number",
    "invalid_name": "name",
    "invalid_phone": "phone",
    "division_not_found": "division_code",
    "lot_not_found": "lot",
    "lot_wrong_product": "lot",
    "lot_expired": "lot",
    "lot_quarantined": "lot",
    "lot_recalled": "lot",
    "lot_not_at_site": "lot",
    "insufficient_stock": "lot",
    "stock_on_hold": "lot",
    "product_not_found": "product",
    "override_reason_required": "override_reason",
    "override_not_permitted": "override_reason",
    "void_reason_required": "reason",
}
# Registration refusals named after their field (codes the registry may add: invalid_division_level …).
FIELD_WORDS = (("division", "division_code"), ("priority", "priority_groups"), ("phone", "phone"), ("name", "name"))
# How many division matches the home-division picker lists.
DIVISION_MATCHES = 12
# Products beyond this many get no number key.
NUMBER_KEYS = 9


def error_field(code: str) -> str | None:
    if code in ERROR_FIELDS:
        return ERROR_FIELDS[code]
    return next((field for word, field in FIELD_WORDS if word in code), None)


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _forbidden(request: HttpRequest) -> HttpResponse:
    template = "web/_forbidden.html" if _is_htmx(request) else "web/forbidden.html"
    return render(request, template, status=403)


def id_warnings(resident: ResidentId) -> list[str]:
    """The warnings of an accepted ID number, in plain words (shown, never blocking)."""
    return [
        _("Check the ID number: %(warning)s")
        % {"warning": str(ID_REASON_MESSAGES[code]).format(division_code=resident.division_code)}
        for code in resident.warnings
    ]


class Desk:
    """What the desk is showing: the lookup form, one stage of the work, and the site's day.

    Stages: ``ready`` (waiting for an ID number), ``register`` (a new person), ``card`` (the
    person, the product choice, the verdict and the dose form), ``done`` (a dose was just
    recorded; the confirmation with the next-dose slip).
    """

    def __init__(self, request: HttpRequest) -> None:
        self.request = request
        self.user = request.user
        self.sites = list(
            restrict(Site.objects.filter(is_active=True).select_related("division"), self.user, "dose.add")
        )
        # Products are catalogue reference data, the same for every user and area.
        self.products = list(Product.objects.filter(is_active=True))
        self.context: dict[str, Any] = {"stage": "ready"}
        self._lots: dict[str, list[Lot]] = {}  # site code -> its usable lots, read once a request
        self.site_code = self.remembered_site()

    @property
    def allowed(self) -> bool:
        return can(self.user, "dose.add") and bool(self.sites)

    def remembered_site(self) -> str:
        code = self.request.session.get("desk_site")
        if any(s.code == code for s in self.sites):
            return code
        return self.sites[0].code if self.sites else ""

    def use_site(self, code: str) -> None:
        self.site_code = code
        self.request.session["desk_site"] = code

    @property
    def site(self) -> Site:
        return next(s for s in self.sites if s.code == self.site_code)

    def usable_lots(self) -> list[Lot]:
        """The lots on hand at the site's store that may be used today: released, not expired,
        not on hold, first-expiring first (the ones to use up first, as the 2017 storage rules
        issue them); each with ``doses_left`` (its balance at the store)."""
        hit = self._lots.get(self.site_code)
        if hit is None:
            hit = self._lots[self.site_code] = list(
                restrict(
                    Lot.objects.filter(
                        status=LotStatus.RELEASED, expiry_date__gte=timezone.localdate(),
                        balances__store__site=self.site, balances__store__on_hold=False,
                        balances__on_hold=False, balances__on_hand__gt=0,
                    ),
                    self.user, "lot.view",
                ).annotate(doses_left=F("balances__on_hand")).order_by("expiry_date", "lot_number")
            )
        return hit

    def product(self, code: str | None) -> Product | None:
        return next((p for p in self.products if p.code == code), None)

    # -- the person ----------------------------------------------------------------------------

    def find(self, id_number: str) -> Person | None:
        """The person with exactly this ID number, if the user may reach them (raises
        ``invalid_id_number`` for a malformed number)."""
        return search_people(self.user, id_number=id_number, source=Source.WEB).select_related("home_division").first()

    def in_area(self, person: Person) -> bool:
        """Whether the person is one the user may see in their area (not only reach by ID)."""
        return admits(
            self.user, "person.view", Person,
            {"home_division__path": person.home_division.path, "county_code": person.county_code},
        )

    def series_product(self, history: list[DoseRecord]) -> Product | None:
        """The product that continues an unfinished primary series: that of its last dose.

        ``None`` for a first dose and for a booster (several products may boost a series; the
        vaccinator chooses), so nothing is ever given because it was left selected.
        """
        by_series: dict[str, list[DoseRecord]] = {}
        for d in history:
            if d.kind == DoseKind.PRIMARY:
                by_series.setdefault(d.series, []).append(d)
        unfinished = [doses[-1] for doses in by_series.values() if len(doses) < doses[0].product.doses_in_series]
        return self.product(unfinished[0].product.code) if len(unfinished) == 1 else None

    def card_products(self, default: Product | None) -> list[dict[str, Any]]:
        """The products offered on the card: those with a usable lot, then the series' product
        if it has none (the card then says so). Each of the first nine gets a number key."""
        stocked = {lot.product_id for lot in self.usable_lots()}
        offered = [p for p in self.products if p.pk in stocked]
        if default is not None and default not in offered:
            offered.append(default)
        return [
            {"product": p, "key": str(i) if i <= NUMBER_KEYS else ""}
            for i, p in enumerate(offered, start=1)
        ]

    def show_card(
        self, person: Person, *, product_code: str | None = None, dose_form: DoseForm | None = None,
        client_uuid: uuid.UUID | None = None, focus: str = "",
    ) -> None:
        """The person's card: identity, dose history, product choice and, once a product is
        chosen (or given by the series), the verdict, usable lots and the dose form.

        ``product_code`` ``None`` means "as the series gives it"; ``""`` means chosen as none.
        """
        today = timezone.localdate()
        # The full history across all sites: eligibility depends on doses given anywhere, and
        # the person was reached through the desk's exact-ID lookup (person.vaccinate).
        history = dose_history(person)
        default = self.series_product(history)
        product = default if product_code is None else self.product(product_code)
        masked = not self.in_area(person)
        resident = validate_id_number(person.id_number)
        self.context.update(
            stage="card", person=person, masked=masked, age=person.age_on(today), history=history,
            id_display=person.id_number_masked if masked else person.id_number,
            id_warnings=id_warnings(resident), site=self.site, product=product, series_product=default,
            choices=self.card_products(default), can_record=False, can_override=False, lots=[],
            deferrals=list(person.deferrals.filter(lifted_at__isnull=True).order_by("since", "pk")),
            can_lift=can(self.user, "person.lift_deferral"),
        )
        if client_uuid is None:
            client_uuid = uuid.uuid4()
        if dose_form is None:
            dose_form = DoseForm(
                initial={"site": self.site_code, "id_number": person.id_number, "client_uuid": client_uuid,
                         "product": product.code if product else ""},
                sites=self.sites, products=self.products,
            )
        self.context["dose_form"] = dose_form
        if product is None:
            self.context["focus"] = "product"
            return
        verdict = assess_person(person, product, today, history)
        # The override box only where every reason may be overridden, and only for a site manager.
        can_override = is_overridable(verdict) and can(self.user, "dose.override")
        lots = [lot for lot in self.usable_lots() if lot.product_id == product.pk]
        if not dose_form.is_bound and lots:
            dose_form.initial["lot"] = lots[0].lot_number
        can_record = bool(lots) and (verdict.status == "eligible" or can_override)
        if not focus:
            focus = "lot" if dose_form.errors.get("lot") else ("override" if can_override else "record")
        if focus == "record" and not can_record:
            focus = "next"
        self.context.update(
            verdict=verdict,
            reasons=[reason_message(r.code, dict(r.params)) for r in verdict.reasons],
            notes=[reason_message(r.code, dict(r.params)) for r in verdict.notes],
            can_override=can_override, can_record=can_record, lots=lots, focus=focus,
        )

    # -- rendering -----------------------------------------------------------------------------

    def lookup_form(self, id_number: str = "") -> LookupForm:
        return LookupForm(initial={"site": self.site_code, "id_number": id_number}, sites=self.sites)

    def render(self, lookup_form: LookupForm | None = None, *, status: int = 200) -> HttpResponse:
        self.context.setdefault("lookup_form", lookup_form or self.lookup_form())
        self.context["day"] = site_day(self.user, self.site, timezone.localdate())
        self.context["can_void"] = can(self.user, "dose.void")
        template = "vaccination/_desk_work.html" if _is_htmx(self.request) else "vaccination/desk.html"
        return render(self.request, template, self.context, status=status)

    def register_stage(self, resident: ResidentId, form: RegisterForm | None = None) -> None:
        """The registration form; the facts read from the ID number stay on it after an error."""
        site = self.site
        if form is None:
            form = RegisterForm(
                initial={"site": site.code, "id_number": resident.number, "division_code": site.division.code},
                sites=self.sites, groups=PriorityGroup.objects.all(),
            )
        chosen = form["division_code"].value() or site.division.code
        self.context.update(
            stage="register", id_number=resident.number, resident=resident, resident_sex=Sex(resident.sex).label,
            id_warnings=id_warnings(resident), register_form=form,
            divisions=division_choices(self.user, site, "", chosen=chosen),
        )


def _labels(divisions: list[Division]) -> dict[str, str]:
    """Each division's name with the names above it up to the county ("炉城街道 · 康定市")."""
    codes = {c for d in divisions for c in d.path.split("/") if c}
    names = {d.code: d for d in Division.objects.filter(code__in=codes, level__gte=Level.COUNTY)}
    labels = {}
    for d in divisions:
        chain = [names[c].name for c in reversed(d.path.split("/")) if c in names]
        labels[d.code] = " · ".join(chain) or d.name
    return labels


def division_choices(user: Any, site: Site, query: str, *, chosen: str = "") -> list[dict[str, Any]]:
    """Home divisions the desk may register a person in, matching ``query``, within the user's
    area: township level or below, or exactly the site's own division; the chosen one first."""
    query = query.strip()
    area = restrict(Division.objects.all(), user, "division.view")
    allowed = Q(level__gte=Level.TOWNSHIP) | Q(pk=site.division_id)
    matches = area.filter(allowed)
    if query:
        matches = matches.filter(Q(name_zh__icontains=query) | Q(name_en__icontains=query) | Q(code__startswith=query))
    found = list(matches.order_by("level", "code")[:DIVISION_MATCHES])
    first = area.filter(allowed, code=chosen).first() if chosen else None
    if first is not None:
        found = [first] + [d for d in found if d.pk != first.pk]
    labels = _labels(found)
    return [{"code": d.code, "label": labels[d.code], "checked": d.code == chosen} for d in found]


# -- views -------------------------------------------------------------------------------------


def _stale() -> str:
    return _("The form was incomplete or out of date. Look the person up again.")


def _desk(request: HttpRequest) -> Desk | None:
    work = Desk(request)
    return work if work.allowed else None


@login_required
@require_GET
def desk(request: HttpRequest) -> HttpResponse:
    """The site desk, waiting for the first ID number."""
    work = _desk(request)
    if work is None:
        return _forbidden(request)
    return work.render()


@login_required
@require_POST
def desk_lookup(request: HttpRequest) -> HttpResponse:
    """Find the person by exact ID number: their card, or the registration form if new."""
    work = _desk(request)
    if work is None:
        return _forbidden(request)
    form = LookupForm(request.POST, sites=work.sites)
    if not form.is_valid():
        return work.render(form)
    work.use_site(form.cleaned_data["site"])
    raw = form.cleaned_data["id_number"].strip()
    if not raw and request.headers.get("HX-Trigger-Name") == "site":
        # Changing the site before any ID was typed only updates the choice (and the day shown).
        return work.render(form)
    try:
        resident = validate_id_number(raw)
        person = work.find(resident.number)
    except VaxopsError as exc:
        form.add_error("id_number", exc.message)
        return work.render(form, status=exc.status if exc.status == 429 else 200)
    lookup = work.lookup_form(resident.number)
    if person is None:
        work.register_stage(resident)
    else:
        work.show_card(person)
    return work.render(lookup)


@login_required
@require_POST
def desk_card(request: HttpRequest) -> HttpResponse:
    """The card again for the product chosen on it (the verdict and lots of that product)."""
    work = _desk(request)
    if work is None:
        return _forbidden(request)
    form = CardForm(request.POST, sites=work.sites, products=work.products)
    person = card_person(work, form)
    if isinstance(person, HttpResponse):
        return person
    data = form.cleaned_data
    work.show_card(person, product_code=data["product"], client_uuid=data["client_uuid"], focus="product")
    return work.render(work.lookup_form(person.id_number))


def card_person(work: Desk, form: Any) -> Person | HttpResponse:
    """The person of a form posted from the card (found again by the exact ID number it
    carries) with the form's site in use, or the desk's answer when the form is stale or the
    look-up is refused."""
    if not form.is_valid():
        work.context.update(desk_error=_stale())
        return work.render()
    work.use_site(form.cleaned_data["site"])
    try:
        person = work.find(form.cleaned_data["id_number"])
    except VaxopsError as exc:
        work.context.update(desk_error=exc.message)
        return work.render(status=exc.status if exc.status == 429 else 200)
    if person is None:
        work.context.update(desk_error=_stale())
        return work.render()
    return person


@login_required
@require_GET
def desk_divisions(request: HttpRequest) -> HttpResponse:
    """The home-division picker's matches for what was typed (HTMX), within the user's area."""
    work = _desk(request)
    if work is None:
        return _forbidden(request)
    site = next((s for s in work.sites if s.code == request.GET.get("site")), work.site)
    chosen = request.GET.get("division_code", "")
    choices = division_choices(request.user, site, request.GET.get("division_q", "")[:64], chosen=chosen)
    return render(request, "vaccination/_desk_divisions.html", {"divisions": choices})


@login_required
@require_POST
def desk_register(request: HttpRequest) -> HttpResponse:
    """Register the new person, then show their card."""
    work = _desk(request)
    if work is None:
        return _forbidden(request)
    groups = list(PriorityGroup.objects.all())
    form = RegisterForm(request.POST, sites=work.sites, groups=groups)
    try:
        resident = validate_id_number(request.POST.get("id_number", ""))
    except VaxopsError as exc:
        lookup = work.lookup_form()
        lookup.add_error("id_number", exc.message)
        return work.render(lookup)
    lookup = work.lookup_form(resident.number)
    if not form.is_valid():
        work.register_stage(resident, form)
        return work.render(lookup)
    data = form.cleaned_data
    work.use_site(data["site"])
    division_code = data["division_code"] or work.site.division.code
    if not any(d["checked"] for d in division_choices(request.user, work.site, "", chosen=division_code)):
        # The picker offers the user's own area only; a code typed or posted from elsewhere is
        # refused the same way (the registry checks the level itself).
        form.add_error("division_code", VaxopsError("division_not_found", {"division_code": division_code}).message)
        work.register_stage(resident, form)
        return work.render(lookup)
    try:
        person = register_person(
            id_number=resident.number, name=data["name"], phone=data["phone"],
            division_code=division_code,
            priority_groups=list(data["priority_groups"]), acting_user=request.user, source=Source.WEB,
        )
    except VaxopsError as exc:
        if exc.code in {"person_exists", "person_registered_elsewhere"}:
            # Registered meanwhile (at another desk, a double submit, or elsewhere): carry on
            # with them, reached by the exact ID number like any lookup.
            person = work.find(resident.number)
            if person is not None:
                work.show_card(person)
                return work.render(lookup)
        form.add_error(error_field(exc.code), exc.message)
        work.register_stage(resident, form)
        return work.render(lookup)
    person = Person.objects.select_related("home_division").get(pk=person.pk)
    work.show_card(person)
    return work.render(lookup)


# What a scanner may send in front of the lot number: a GS1 application identifier "(10)".
_GS1_LOT = "(10)"
_SEPARATORS = " -:/_|"


def scanned_lot_number(code: str, product: Product | None, lots: list[Lot]) -> str:
    """The lot number in a code scanned or typed into the lot field.

    Accepted: the number itself, in any case ("b2021001"); with the product's code in front
    ("BIBP B2021001", "BIBP-B2021001", "BIBP:B2021001", "BIBPB2021001"); with the GS1 lot
    identifier "(10)"; or a longer barcode text that ends with the number of a lot on hand.
    A code matching none of the site's lots on hand is passed on as read (without those
    prefixes), so the dose service explains why it cannot be used.
    """
    raw = code.strip()
    up = raw.upper()
    candidates = [up]
    if up.startswith(_GS1_LOT):
        candidates.append(up[len(_GS1_LOT):])
    if product is not None and up.startswith(product.code.upper()):
        candidates.append(up[len(product.code):].lstrip(_SEPARATORS))
    on_hand = {lot.lot_number.upper(): lot.lot_number for lot in lots
               if product is None or lot.product_id == product.pk}
    for candidate in candidates:
        if candidate in on_hand:
            return on_hand[candidate]
    ending = sorted((n for n in on_hand if up.endswith(n)), key=len, reverse=True)
    if ending:
        return on_hand[ending[0]]
    return candidates[-1] if len(candidates) > 1 else raw


def _submission_time(request: HttpRequest, client_uuid: uuid.UUID) -> dt.datetime:
    """When the dose was given: now, or the time already stored for this submission.

    A resubmitted form must send the same content as the first submission for the service to
    treat it as a replay, and the time is part of that content.
    """
    stored = (
        restrict(DoseRecord.objects.filter(client_uuid=client_uuid), request.user, "dose.view")
        .values_list("administered_at", flat=True)
        .first()
    )
    return stored or timezone.now()


def _replayed_dose(request: HttpRequest, person: Person, data: dict[str, Any]) -> DoseRecord | None:
    """The dose an ``idempotency_conflict`` refers to, if it is this very submission.

    Two copies of one form posted at the same instant get two different "now"s; the second
    loses the race and is refused as a conflict, although it asked for the same dose.
    """
    return (
        restrict(DoseRecord.objects.filter(client_uuid=data["client_uuid"]), request.user, "dose.view")
        .filter(person_id=person.pk, product__code=data["product"], lot__lot_number=data["lot"].strip(),
                site__code=data["site"])
        .select_related("product", "lot")
        .first()
    )


@login_required
@require_POST
def desk_record(request: HttpRequest) -> HttpResponse:
    """Record the dose; on success show the confirmation with the next-dose slip."""
    work = _desk(request)
    if work is None:
        return _forbidden(request)
    form = DoseForm(request.POST, sites=work.sites, products=work.products)
    # The person is found again by the exact ID number the form carries, never by an id: a
    # failed or refused request shows at most the card this number's lookup would show.
    id_number = request.POST.get("id_number", "")
    site_ok = any(s.code == request.POST.get("site") for s in work.sites)
    try:
        person = work.find(id_number) if id_number and site_ok else None
    except VaxopsError as exc:
        work.context.update(desk_error=exc.message if exc.code != "invalid_id_number" else _stale())
        return work.render(status=exc.status if exc.status == 429 else 200)
    if person is None:
        work.context.update(desk_error=_stale())
        return work.render()
    work.use_site(request.POST["site"])
    lookup = work.lookup_form(person.id_number)
    if not form.is_valid():
        # A product or lot not chosen: the same card again, with the field to fill in.
        chosen = request.POST.get("product", "")
        known = work.product(chosen) is not None
        work.show_card(person, product_code=chosen if known else "", dose_form=form, focus="" if known else "product")
        return work.render(lookup)
    data = form.cleaned_data
    if data.get("lot_code", "").strip():
        # A scanned (or typed) lot code wins over the picker.
        product = work.product(data["product"])
        data["lot"] = scanned_lot_number(data["lot_code"], product, work.usable_lots())
    # Only a site manager's form has the override box; without it no override is attempted.
    override = data["override_reason"] if "override_reason" in request.POST else None
    try:
        dose, created = record_dose(
            client_uuid=data["client_uuid"], person_id=person.pk, product_code=data["product"],
            lot_number=data["lot"].strip(), site_code=data["site"],
            administered_at=_submission_time(request, data["client_uuid"]),
            acting_user=request.user, source=Source.WEB, override_reason=override,
        )
    except VaxopsError as exc:
        dose = _replayed_dose(request, person, data) if exc.code == "idempotency_conflict" else None
        if dose is None:
            form.add_error(error_field(exc.code), exc.message)
            work.show_card(person, product_code=data["product"], dose_form=form)
            return work.render(lookup)
        created = False
    product = work.product(data["product"]) or dose.product
    given_on = timezone.localtime(dose.administered_at).date()
    work.context.update(
        stage="done",
        done={"person": person, "masked": not work.in_area(person), "dose": dose, "created": created,
              "product": product, "site": work.site, "next": next_dose(person, product, given_on)},
    )
    return work.render(work.lookup_form())


@login_required
@require_POST
def desk_void(request: HttpRequest) -> HttpResponse:
    """Undo one of the site's records of today: void it with the written reason (site manager)."""
    work = _desk(request)
    if work is None:
        return _forbidden(request)
    form = VoidForm(request.POST, sites=work.sites)
    if not form.is_valid():
        work.context.update(day_error=_stale())
        return work.render()
    work.use_site(form.cleaned_data["site"])
    try:
        dose = void_dose(
            dose_id=form.cleaned_data["dose_id"], reason=form.cleaned_data["reason"],
            acting_user=request.user, source=Source.WEB,
        )
    except VaxopsError as exc:
        work.context.update(day_error=exc.message, void_id=form.cleaned_data["dose_id"])
        return work.render(status=exc.status)
    work.context.update(day_message=_("The record of dose %(number)s at %(time)s is voided.") % {
        "number": dose.dose_number, "time": timezone.localtime(dose.administered_at).strftime("%H:%M"),
    })
    return work.render()
