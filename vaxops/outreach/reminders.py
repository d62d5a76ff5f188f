"""Due-dose and overdue reminders (SMS through the outbox, docs/outbox.md).

``generate`` makes, for the day ``today``, a ``dose-due:PERSON:DOSE`` message for everyone whose
next primary dose falls due that day and a ``dose-overdue:PERSON:DOSE`` message for everyone
past the due-by day, read from the due table (one indexed range per kind, never a scan of the
residents). Idempotent by reason: run it as often as you like, a reason gets one message.
``still_due`` is the check ``send_pending`` asks (``outbox.validity``): a reason holds while the
person is active, on the lists, and that dose is still the next one due; the person status
services suppress the messages of a person who leaves the lists.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from vaxops.outbox.models import MessageKind
from vaxops.outbox.services import MessageIn, enqueue_many
from vaxops.outreach.models import DueEntry, DueKind

DUE_TEXT = "【疫苗接种提醒】{name}您好，您的新冠病毒疫苗第{dose}剂已到接种时间（{day}起），请尽快到就近接种点接种。"
OVERDUE_TEXT = "【疫苗接种提醒】{name}您好，您的新冠病毒疫苗第{dose}剂已超过建议接种时间，请尽快到就近接种点补种。"


def _day(day: dt.date) -> str:
    return f"{day.month}月{day.day}日"


def generate(today: dt.date, *, path: str = "") -> dict[str, int]:
    """Make today's due and overdue reminders (``path``: only residents under it)."""
    from vaxops.outreach.worklists import subtree_range

    rows = DueEntry.objects.filter(kind=DueKind.NEXT, person__status="active").exclude(person__phone="")
    if path:
        low, high = subtree_range(path)
        rows = rows.filter(home_path__gte=low, home_path__lt=high)
    due = rows.filter(list_date=today, overdue_on__gte=today)
    overdue = rows.filter(overdue_on__lt=today, list_date__lte=today)
    messages = []
    for e in due.select_related("person"):
        messages.append(MessageIn(f"dose-due:{e.person_id}:{e.dose_number}", e.person.phone,
                                  DUE_TEXT.format(name=e.person.name, dose=e.dose_number, day=_day(e.due_date)),
                                  MessageKind.DOSE_DUE))
    for e in overdue.select_related("person"):
        messages.append(MessageIn(f"dose-overdue:{e.person_id}:{e.dose_number}", e.person.phone,
                                  OVERDUE_TEXT.format(name=e.person.name, dose=e.dose_number),
                                  MessageKind.DOSE_OVERDUE))
    with transaction.atomic(durable=True):
        made = enqueue_many(messages) if messages else {}
    return {"due": sum(m.reason.startswith("dose-due:") for m in messages),
            "overdue": sum(m.reason.startswith("dose-overdue:") for m in messages), "messages": len(made)}


def still_due(reasons: list[str]) -> set[str]:
    """The reasons (``dose-due|dose-overdue:PERSON:DOSE``) whose dose is still the next one due."""
    wanted: dict[int, list[tuple[str, int]]] = {}
    for reason in reasons:
        try:
            _kind, person, dose = reason.split(":")
            wanted.setdefault(int(person), []).append((reason, int(dose)))
        except ValueError:
            continue
    current = dict(DueEntry.objects.filter(person_id__in=list(wanted), kind=DueKind.NEXT,
                                           person__status="active").values_list("person_id", "dose_number"))
    return {reason for pk, items in wanted.items() for reason, dose in items if current.get(pk) == dose}
