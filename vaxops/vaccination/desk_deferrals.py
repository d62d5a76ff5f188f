"""The desk's deferral box: the person's deferrals in force on the card, and lifting one with
the clinician's written reason (``registry.status.lift_deferral``; site manager or county
command). After a lift the card is shown again, its verdict read afresh."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from vaxops.core.errors import VaxopsError
from vaxops.core.models import Source
from vaxops.registry.status import lift_deferral
from vaxops.vaccination.desk import _desk, _forbidden, card_person
from vaxops.vaccination.forms import LiftForm


@login_required
@require_POST
def desk_lift(request: HttpRequest) -> HttpResponse:
    work = _desk(request)
    if work is None:
        return _forbidden(request)
    form = LiftForm(request.POST, sites=work.sites)
    person = card_person(work, form)
    if isinstance(person, HttpResponse):
        return person
    data = form.cleaned_data
    try:
        deferral = lift_deferral(deferral_id=data["deferral_id"], person_id=person.pk, reason=data["reason"],
                                 acting_user=request.user, source=Source.WEB)
    except VaxopsError as exc:
        work.show_card(person, focus="product")
        work.context.update(lift_error=exc.message)
        return work.render(work.lookup_form(person.id_number), status=exc.status)
    work.show_card(person, focus="product")
    work.context.update(card_message=_("The deferral (%(reason)s) is lifted; the reason is kept with it.") % {
        "reason": deferral.get_code_display()})
    return work.render(work.lookup_form(person.id_number))
