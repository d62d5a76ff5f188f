"""Due-dose and overdue reminders: made once per reason, suppressed once the dose is given
(by the outbox's validity check) or the person leaves the lists."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command

from conftest import make_person
from vaxops.outbox.models import Message
from vaxops.outbox.senders import RecordingSender
from vaxops.outbox.services import send_pending
from vaxops.outreach.reminders import generate
from vaxops.outreach.tests.helpers import contact, give_dose

pytestmark = pytest.mark.django_db


@pytest.fixture
def recording(settings):
    settings.VAXOPS_MESSAGE_SENDER = "vaxops.outbox.senders.RecordingSender"
    RecordingSender.calls.clear()
    return RecordingSender.calls


def test_a_due_reminder_on_the_due_day_and_an_overdue_one_later_each_made_once(world):
    p = make_person(world, seq=91, phone="13900000091", name="卓玛")
    give_dose(world, p, dt.date(2021, 5, 1))
    assert generate(dt.date(2021, 5, 22))["due"] == 1
    generate(dt.date(2021, 5, 22))
    message = Message.objects.get(reason=f"dose-due:{p.pk}:2")
    assert "卓玛" in message.text and "第2剂" in message.text and "5月22日" in message.text
    assert generate(dt.date(2021, 6, 27))["overdue"] == 1
    assert Message.objects.filter(reason=f"dose-overdue:{p.pk}:2").count() == 1
    assert Message.objects.count() == 2


def test_a_reminder_is_suppressed_after_the_dose(world, recording):
    p = make_person(world, seq=93, phone="13900000093")
    give_dose(world, p, dt.date(2021, 5, 1))
    generate(dt.date(2021, 5, 22))
    give_dose(world, p, dt.date(2021, 5, 22))
    done = send_pending()
    assert done["suppressed"] == 1 and done["sent"] == 0 and recording == []
    assert Message.objects.get(reason=f"dose-due:{p.pk}:2").status == "suppressed"


def test_a_reminder_still_due_is_sent(world, recording):
    p = make_person(world, seq=95, phone="13900000095")
    give_dose(world, p, dt.date(2021, 5, 1))
    call_command("outreach_reminders", "--date", "2021-05-22")
    assert send_pending()["sent"] == 1 and len(recording) == 1


def test_moving_out_stops_the_reminders(world):
    p = make_person(world, seq=97, phone="13900000097")
    give_dose(world, p, dt.date(2021, 5, 1))
    generate(dt.date(2021, 5, 22))
    contact(world, p, "moved_out")
    assert Message.objects.get(reason=f"dose-due:{p.pk}:2").status == "suppressed"


def test_the_rebuild_command_restores_a_damaged_table(world):
    from vaxops.outreach.models import DueEntry

    p = make_person(world, seq=99)
    DueEntry.objects.filter(person=p).update(kind="none", list_date=None)
    call_command("rebuild_worklists", "--division", "513301")
    assert DueEntry.objects.get(person=p).kind == "first"
