"""The outbox: one message per reason, suppressed once its reason has gone, sent once through
the configured sender, failures retried then given up."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from vaxops.core.errors import VaxopsError
from vaxops.core.models import AuditEvent
from vaxops.outbox import services
from vaxops.outbox.models import Message, MessageStatus
from vaxops.outbox.senders import RecordingSender

pytestmark = pytest.mark.django_db
RECORDING = "vaxops.outbox.senders.RecordingSender"


@pytest.fixture(autouse=True)
def recording():
    RecordingSender.calls.clear()
    RecordingSender.failing.clear()
    with override_settings(VAXOPS_MESSAGE_SENDER=RECORDING):
        yield RecordingSender


def make(reason="example-reminder:1", phone="13900000001", text="明天上午9:00请到康定体育馆接种。", **kw):
    return services.enqueue(reason=reason, phone=phone, text=text, kind="booking_reminder", **kw)


def test_a_message_for_the_same_reason_is_made_once():
    first = make()
    again = make(text="another text")
    assert again.pk == first.pk and again.text == first.text
    assert Message.objects.count() == 1 and first.status == MessageStatus.PENDING and first.channel == "sms"


def test_a_message_is_sent_once_however_often_the_sender_runs(recording):
    make()
    assert services.send_pending(10) == {"sent": 1, "failed": 0, "retry": 0, "suppressed": 0}
    assert services.send_pending(10) == {"sent": 0, "failed": 0, "retry": 0, "suppressed": 0}
    make()  # the reason comes again: nothing new is made, nothing sent again
    services.send_pending(10)
    assert recording.calls == [("example-reminder:1", "13900000001", "明天上午9:00请到康定体育馆接种。")]
    m = Message.objects.get()
    assert m.status == MessageStatus.SENT and m.sent_at is not None and m.attempts == 1
    assert AuditEvent.objects.filter(action="outbox.send").count() == 1  # a run that sent nothing: no event


def test_a_reason_its_check_says_has_gone_is_suppressed_at_sending_not_sent(recording):
    from vaxops.outbox import validity

    make("example-reminder:1")
    make("example-reminder:2", phone="13900000002")
    make("other:1", phone="13900000003")  # no check registered for this prefix: it holds
    validity.register("example-reminder", lambda reasons: {r for r in reasons if r.endswith(":2")})
    try:
        assert services.send_pending(10) == {"sent": 2, "failed": 0, "retry": 0, "suppressed": 1}
    finally:
        validity._CHECKS.pop("example-reminder")
    assert sorted(c[0] for c in recording.calls) == ["example-reminder:2", "other:1"]
    assert Message.objects.get(reason="example-reminder:1").status == MessageStatus.SUPPRESSED


def test_a_suppressed_message_is_never_sent(recording):
    make()
    assert services.suppress("example-reminder:1") == 1
    assert services.send_pending(10)["sent"] == 0 and recording.calls == []
    assert Message.objects.get().status == MessageStatus.SUPPRESSED
    assert make().status == MessageStatus.SUPPRESSED  # a suppressed reason is not revived
    assert services.suppress("example-reminder:1") == 0
    assert services.suppress("no-such-reason") == 0


def test_a_sent_message_is_not_suppressed_afterwards(recording):
    make()
    services.send_pending(10)
    assert services.suppress("example-reminder:1") == 0
    assert Message.objects.get().status == MessageStatus.SENT


def test_a_message_waits_for_its_time():
    tomorrow = timezone.now() + dt.timedelta(days=1)
    make(at=tomorrow)
    assert services.send_pending(10)["sent"] == 0
    assert services.send_pending(10, at=tomorrow)["sent"] == 1


def test_a_failing_sender_is_retried_then_given_up(recording):
    recording.failing.add("13900000002")
    make(reason="a", phone="13900000002")
    make(reason="b")
    assert services.send_pending(10) == {"sent": 1, "failed": 0, "retry": 1, "suppressed": 0}
    assert services.send_pending(10) == {"sent": 0, "failed": 0, "retry": 1, "suppressed": 0}
    assert services.send_pending(10) == {"sent": 0, "failed": 1, "retry": 0, "suppressed": 0}
    failed = Message.objects.get(reason="a")
    assert failed.status == MessageStatus.FAILED and failed.attempts == 3 and "gateway" in failed.last_error
    assert services.send_pending(10) == {"sent": 0, "failed": 0, "retry": 0, "suppressed": 0}


def test_sending_is_bounded_oldest_first(recording):
    base = timezone.now() - dt.timedelta(hours=1)
    for i in range(5):
        make(reason=f"r{i}", at=base + dt.timedelta(minutes=5 - i))
    assert services.send_pending(2)["sent"] == 2
    assert [c[0] for c in recording.calls] == ["r4", "r3"]


@pytest.mark.parametrize(("field", "kw"), [
    ("reason", {"reason": ""}), ("reason", {"reason": "x" * 121}), ("phone", {"phone": ""}),
    ("text", {"text": ""}), ("text", {"text": "字" * 501}),
])
def test_a_message_without_its_parts_is_refused(field, kw):
    with pytest.raises(VaxopsError) as exc:
        make(**kw)
    assert exc.value.code == "message_invalid" and exc.value.detail == {"field": field}
    assert Message.objects.count() == 0


@pytest.mark.parametrize("limit", [0, -1, 10_001])
def test_a_limit_out_of_range_is_refused(limit):
    with pytest.raises(VaxopsError):
        services.send_pending(limit)


def test_enqueue_many_is_idempotent_too():
    services.enqueue(reason="a", phone="13900000001", text="一", kind="dose_due")
    made = services.enqueue_many([services.MessageIn("a", "13900000001", "二", "dose_due"),
                                  services.MessageIn("b", "13900000002", "三", "dose_due")])
    assert made["a"].text == "一" and made["b"].text == "三" and Message.objects.count() == 2


def test_the_command_sends_and_prints_the_counts(recording):
    make()
    out = StringIO()
    call_command("send_messages", "--limit", "5", stdout=out)
    assert out.getvalue().strip() == "sent 1, failed 0, to retry 0"


def test_the_default_sender_writes_the_log_and_marks_the_message_sent(caplog):
    make()
    with override_settings(VAXOPS_MESSAGE_SENDER="vaxops.outbox.senders.LogSender"), \
            caplog.at_level("INFO", logger="vaxops.outbox"):
        assert services.send_pending(10)["sent"] == 1
    assert "13900000001" in caplog.text and Message.objects.get().status == MessageStatus.SENT
