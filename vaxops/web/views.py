"""Web pages: the command dashboard and the site desk.

Views are thin: they read through ``vaxops.access.scope`` (or the API helpers built on it),
write through the services, and turn every ``VaxopsError`` into a message on the page. A
request sent by HTMX (``HX-Request``) gets only the part of the page that changes; the same
URL without HTMX returns the whole page, so every step also works without JavaScript.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from vaxops.access.login import ThrottledLogin
from vaxops.access.scope import can, restrict
from vaxops.campaign.api import user_division
from vaxops.campaign.models import DoseCounter
from vaxops.campaign.services import TZ, daily_doses, summary
from vaxops.catalog.messages import reason_message
from vaxops.catalog.models import Product
from vaxops.core.errors import VaxopsError
from vaxops.core.models import Source
from vaxops.regions.models import Division
from vaxops.registry.api import reachable_person, search_people
from vaxops.registry.models import Deferral, Person, Sex
from vaxops.registry.services import register_person, validate_id_number
from vaxops.sites.models import Site
from vaxops.supply.models import Lot, LotStatus
from vaxops.vaccination.models import DoseRecord
from vaxops.vaccination.services import assess_person, dose_history, is_overridable, record_dose
from vaxops.web.forms import DashboardForm, DoseForm, LookupForm, RegisterForm
from vaxops.web.report import report_sentence

# How many days the daily-doses chart goes back.
CHART_DAYS = 120


class LoginView(ThrottledLogin, auth_views.LoginView):
    """Django's login view with the vaxops page; sessions and CSRF as Django provides them;
    failed log-ins rate-limited per account and address (``access.login``)."""

    template_name = "web/login.html"
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    """Log out by POST only (a link could be triggered by any page the user visits)."""


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def error_page(request: HttpRequest, exc: VaxopsError) -> HttpResponse:
    """A refusal as a page in plain words, with the status the error catalogue gives it."""
    template = "web/_error.html" if _is_htmx(request) else "web/error.html"
    return render(request, template, {"error": exc}, status=exc.status)


# -- dashboard ---------------------------------------------------------------------------------


def _ancestors_in_area(request: HttpRequest, division: Division) -> list[Division]:
    """The divisions from the top of the user's area down to ``division`` (breadcrumbs)."""
    codes = [code for code in division.path.split("/") if code]
    return list(
        restrict(Division.objects.filter(code__in=codes), request.user, "stats.view").order_by("level")
    )


def _daily_series(request: HttpRequest, division: Division, at: dt.datetime, doses_total: int) -> dict:
    """Doses per day up to ``at``: whole days from the counters, then the day of ``at`` so far.

    The last day is derived from the summary total minus every earlier day, so it stops at
    ``at`` (the counters hold whole days) without scanning dose records.
    """
    day = at.date()
    before = daily_doses(division, day - dt.timedelta(days=1), days=CHART_DAYS - 1)
    earlier = restrict(
        DoseCounter.objects.filter(path__startswith=division.path, day__lt=day), request.user, "stats.view"
    ).aggregate(n=Sum("count"))["n"] or 0
    by_day = {row["day"]: row["doses"] for row in before}
    first = dt.date.fromisoformat(before[0]["day"]) if before else day
    days: list[str] = []
    doses: list[int] = []
    current = first
    while current < day:
        # Days without doses have no counter row; the chart shows them as zero, not as a gap.
        days.append(current.isoformat())
        doses.append(by_day.get(current.isoformat(), 0))
        current += dt.timedelta(days=1)
    days.append(day.isoformat())
    doses.append(max(doses_total - earlier, 0))
    return {"days": days, "doses": doses}


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """Figures for the user's area (or a division within it) as of a chosen moment."""
    form = DashboardForm(request.GET or None)
    at = timezone.now()
    code = None
    if form.is_valid():
        at = form.cleaned_data["at"] or at
        code = form.cleaned_data["division"] or None
    at = at.astimezone(TZ)
    try:
        division = user_division(request.user, code)
    except VaxopsError as exc:
        return error_page(request, exc)
    if not form.is_bound or form.is_valid():
        # Show the moment and division actually used ("now" when the field was left empty).
        form = DashboardForm(initial={"at": at.replace(second=0, microsecond=0), "division": division.code})

    figures = summary(division, at)
    children = figures["children"]
    population = figures["population_18_plus"]
    chart_data = {
        "coverage": {
            "title": _("First-dose coverage of people aged 18 and over"),
            "names": [c["name"] for c in children],
            "percent": [
                None if c["first_dose_coverage_18_plus"] is None else round(c["first_dose_coverage_18_plus"] * 100, 2)
                for c in children
            ],
        },
        "daily": {
            "title": _("Doses per day"),
            "series": _("Doses"),
            "partial": _("so far on the last day"),
            **_daily_series(request, division, at, figures["doses_total"]),
        },
    }
    context = {
        "form": form,
        "division": division,
        "breadcrumbs": _ancestors_in_area(request, division),
        "at": at,
        "figures": figures,
        "coverage": figures["first_dose_people"] / population if population else None,
        "children": children,
        "chart_data": chart_data,
        "sentence": report_sentence(
            division, at, doses=figures["doses_total"],
            first=figures["first_dose_people"], second=figures["second_dose_people"],
        ),
        "at_param": at.strftime("%Y-%m-%dT%H:%M"),
    }
    return render(request, "web/dashboard.html", context)


# -- site desk ---------------------------------------------------------------------------------

# Which field a service refusal belongs next to; anything else is shown above the form.
ERROR_FIELDS = {
    "invalid_id_number": "id_number",
    "invalid_name": "name",
    "invalid_phone": "phone",
    "lot_not_found": "lot",
    "lot_wrong_product": "lot",
    "lot_expired": "lot",
    "lot_quarantined": "lot",
    "lot_recalled": "lot",
    "override_reason_required": "override_reason",
    "override_not_permitted": "override_reason",
}


ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def reason_text(reason: Any) -> str:
    """A verdict reason in plain words: dates in the reader's format, deferral codes named.

    The rules give their parameters as codes and ISO dates so the API can pass them on
    unchanged; a person at the desk reads "acute illness … until 25/11/2026" instead.
    """
    params: dict[str, Any] = {}
    for key, value in dict(reason.params).items():
        if isinstance(value, str) and ISO_DATE.match(value):
            value = date_format(dt.date.fromisoformat(value), "SHORT_DATE_FORMAT")
        elif key == "deferral_code" and value in Deferral.Reason.values:
            value = Deferral.Reason(value).label
        params[key] = value
    return reason_message(reason.code, params)


def _desk_sites(request: HttpRequest) -> list[Site]:
    return list(
        restrict(Site.objects.filter(is_active=True).select_related("division"), request.user, "dose.add")
    )


def _products() -> list[Product]:
    # Products are catalogue reference data, the same for every user and area.
    return list(Product.objects.filter(is_active=True))


def _forbidden(request: HttpRequest) -> HttpResponse:
    template = "web/_forbidden.html" if _is_htmx(request) else "web/forbidden.html"
    return render(request, template, status=403)


class Desk:
    """What the desk is showing: the lookup form and, below it, one stage of the work.

    Stages: ``ready`` (waiting for an ID number), ``register`` (a new person), ``card`` (the
    person, the verdict and the dose form), ``done`` (a dose was just recorded).
    """

    def __init__(self, request: HttpRequest) -> None:
        self.request = request
        self.user = request.user
        self.sites = _desk_sites(request)
        self.products = _products()
        self.context: dict[str, Any] = {"stage": "ready"}

    @property
    def allowed(self) -> bool:
        return can(self.user, "dose.add") and bool(self.sites)

    def remembered(self) -> dict[str, str]:
        """The site and product chosen last, so a reload or the next person keeps them.

        Before any choice, the first product that has a usable lot: a product with no stock
        cannot be given, so offering it first would only cost the desk a step.
        """
        session = self.request.session
        site = session.get("desk_site")
        product = session.get("desk_product")
        if not any(p.code == product for p in self.products):
            stocked = set(
                self.usable_lots().values_list("product__code", flat=True).distinct().order_by()
            )
            product = next((p.code for p in self.products if p.code in stocked), None) or (
                self.products[0].code if self.products else ""
            )
        return {
            "site": site if any(s.code == site for s in self.sites) else self.sites[0].code,
            "product": product,
        }

    def usable_lots(self) -> QuerySet[Lot]:
        """Released lots not yet expired, first-expiring first (the ones to use up first)."""
        return restrict(
            Lot.objects.filter(status=LotStatus.RELEASED, expiry_date__gte=timezone.localdate()),
            self.user, "lot.view",
        ).order_by("expiry_date", "lot_number")

    def remember(self, site: str, product: str) -> None:
        self.request.session["desk_site"] = site
        self.request.session["desk_product"] = product

    def form_kwargs(self) -> dict[str, Any]:
        return {"sites": self.sites, "products": self.products}

    def lookup_form(self, data: Any = None, *, id_number: str = "") -> LookupForm:
        if data is not None:
            return LookupForm(data, **self.form_kwargs())
        return LookupForm(initial={**self.remembered(), "id_number": id_number}, **self.form_kwargs())

    def product(self, code: str) -> Product:
        return next(p for p in self.products if p.code == code)

    def site(self, code: str) -> Site:
        return next(s for s in self.sites if s.code == code)

    def show_card(self, person: Person, site: str, product_code: str, dose_form: DoseForm | None = None) -> None:
        """The person's card: identity, dose history, verdict, usable lots and the dose form."""
        product = self.product(product_code)
        today = timezone.localdate()
        # The full history across all sites: eligibility depends on doses given anywhere, and
        # the person was reached through the desk's exact-ID lookup (person.vaccinate).
        history = dose_history(person)
        verdict = assess_person(person, product, today, history)
        overridable = is_overridable(verdict)
        can_override = overridable and can(self.user, "dose.override")
        lots = list(self.usable_lots().filter(product=product))
        if dose_form is None:
            dose_form = DoseForm(
                initial={
                    "site": site, "product": product.code, "person_id": person.pk,
                    "client_uuid": uuid.uuid4(), "lot": lots[0].lot_number if lots else "",
                },
                **self.form_kwargs(),
            )
        self.context.update(
            stage="card",
            person=person,
            age=person.age_on(today),
            history=history,
            product=product,
            site=self.site(site),
            verdict=verdict,
            reasons=[reason_text(r) for r in verdict.reasons],
            notes=[reason_text(r) for r in verdict.notes],
            can_override=can_override,
            # Without a usable lot nothing can be recorded; the card says so instead.
            can_record=bool(lots) and (verdict.status == "eligible" or can_override),
            lots=lots,
            dose_form=dose_form,
        )

    def render(self, lookup_form: LookupForm | None = None) -> HttpResponse:
        self.context.setdefault("lookup_form", lookup_form or self.lookup_form())
        template = "web/_desk_work.html" if _is_htmx(self.request) else "web/desk.html"
        return render(self.request, template, self.context)


@login_required
@require_GET
def desk(request: HttpRequest) -> HttpResponse:
    """The site desk, waiting for the first ID number."""
    work = Desk(request)
    if not work.allowed:
        return _forbidden(request)
    return work.render()


@login_required
@require_POST
def desk_lookup(request: HttpRequest) -> HttpResponse:
    """Find the person by exact ID number: their card, or the registration form if new."""
    work = Desk(request)
    if not work.allowed:
        return _forbidden(request)
    form = work.lookup_form(request.POST)
    if not form.is_valid():
        return work.render(form)
    site, product = form.cleaned_data["site"], form.cleaned_data["product"]
    work.remember(site, product)
    raw = form.cleaned_data["id_number"].strip()
    if not raw and request.headers.get("HX-Trigger-Name") in {"site", "product"}:
        # Changing the site or product before any ID was typed only updates the choice.
        return work.render(form)
    try:
        resident = validate_id_number(raw)
        person = search_people(request.user, id_number=resident.number).first()
    except VaxopsError as exc:
        form.add_error("id_number", exc.message)
        return work.render(form)
    if person is None:
        work.context.update(
            stage="register",
            id_number=resident.number,
            resident=resident,
            resident_sex=Sex(resident.sex).label,
            register_form=RegisterForm(
                initial={"site": site, "product": product, "id_number": resident.number}, **work.form_kwargs()
            ),
        )
    else:
        work.show_card(person, site, product)
    return work.render(form)


@login_required
@require_POST
def desk_register(request: HttpRequest) -> HttpResponse:
    """Register the new person, then show their card."""
    work = Desk(request)
    if not work.allowed:
        return _forbidden(request)
    form = RegisterForm(request.POST, **work.form_kwargs())
    lookup = work.lookup_form()
    if not form.is_valid():
        work.context.update(stage="register", register_form=form, id_number=request.POST.get("id_number", ""))
        return work.render(lookup)
    data = form.cleaned_data
    lookup = LookupForm(
        initial={"site": data["site"], "product": data["product"], "id_number": data["id_number"]},
        **work.form_kwargs(),
    )
    try:
        person = register_person(
            id_number=data["id_number"], name=data["name"], phone=data["phone"],
            acting_user=request.user, source=Source.WEB,
        )
    except VaxopsError as exc:
        if exc.code == "person_exists":
            # Registered meanwhile (at another desk, or a double submit): carry on with them.
            person = search_people(request.user, id_number=data["id_number"]).first()
            if person is not None:
                work.show_card(person, data["site"], data["product"])
                return work.render(lookup)
        form.add_error(ERROR_FIELDS.get(exc.code), exc.message)
        work.context.update(stage="register", register_form=form, id_number=data["id_number"])
        return work.render(lookup)
    work.show_card(person, data["site"], data["product"])
    return work.render(lookup)


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


def _replayed_dose(request: HttpRequest, data: dict[str, Any]) -> DoseRecord | None:
    """The dose an ``idempotency_conflict`` refers to, if it is this very submission.

    Two copies of one form posted at the same instant get two different "now"s; the second
    loses the race and is refused as a conflict, although it asked for the same dose.
    """
    return (
        restrict(DoseRecord.objects.filter(client_uuid=data["client_uuid"]), request.user, "dose.view")
        .filter(
            person_id=data["person_id"], product__code=data["product"], lot__lot_number=data["lot"].strip(),
            site__code=data["site"],
        )
        .select_related("product", "lot")
        .first()
    )


@login_required
@require_POST
def desk_record(request: HttpRequest) -> HttpResponse:
    """Record the dose; on success show the confirmation and wait for the next ID number."""
    work = Desk(request)
    if not work.allowed:
        return _forbidden(request)
    form = DoseForm(request.POST, **work.form_kwargs())
    if not form.is_valid():
        # Only a tampered or stale page gets here (every field is hidden or pre-filled).
        work.context.update(desk_error=_("The form was incomplete or out of date. Look the person up again."))
        return work.render()
    data = form.cleaned_data
    try:
        person = reachable_person(request.user, data["person_id"])
    except VaxopsError as exc:
        work.context.update(desk_error=exc.message)
        return work.render()
    lookup = LookupForm(
        initial={"site": data["site"], "product": data["product"], "id_number": person.id_number},
        **work.form_kwargs(),
    )
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
        dose = _replayed_dose(request, data) if exc.code == "idempotency_conflict" else None
        if dose is None:
            form.add_error(ERROR_FIELDS.get(exc.code), exc.message)
            work.show_card(person, data["site"], data["product"], dose_form=form)
            return work.render(lookup)
        created = False
    work.context.update(
        stage="done",
        done={"person": person, "dose": dose, "created": created, "product": work.product(data["product"])},
    )
    return work.render(work.lookup_form())
