"""The sender: real SMTP, the state machine with back-off, once only, digest, escalation."""

from __future__ import annotations

import datetime as dt
import re
import socket
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command

from cer.notifications import channels, delivery
from cer.notifications.channels.base import Channel, Envelope
from cer.notifications.delivery import MAX_ATTEMPTS, backoff, deliver_due
from cer.notifications.models import (
    Delivery,
    DeliveryAttempt,
    DeliveryState,
    Notification,
    Preference,
    RecipientSettings,
)
from cer.notifications.services import notify
from tests.notifications.conftest import MONEY, NOW, PLAIN, make_user

pytestmark = pytest.mark.django_db

CONTEXT = {"name": "Lucia", "amount": Decimal("12.5"), "day": dt.date(2026, 12, 6)}


def _point_smtp_at_a_closed_port(settings) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 2


def _text(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def _html(message) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


def test_an_urgent_email_reaches_the_smtp_server_with_both_parts_and_the_community_as_sender(
    smtp_server, user, community
):
    notify(
        [user],
        PLAIN.code,
        CONTEXT,
        link="/members/profile/",
        urgent=True,
        now=NOW,
        community=community,
    )

    report = deliver_due(NOW)

    assert report.sent == 1
    (message,) = smtp_server.messages
    assert message["To"] == user.email
    assert message["From"] == "CER Prova <noreply@localhost>"
    assert message["Subject"] == "Hello Lucia"
    assert "Amount 12,50\u00a0€ on 6 dicembre 2026." in _text(message)
    assert "http://127.0.0.1:8000/members/profile/" in _text(message)
    assert 'href="http://127.0.0.1:8000/members/profile/"' in _html(message)
    assert (
        message["List-Unsubscribe"]
        .strip()
        .startswith("<http://127.0.0.1:8000/notifications/unsubscribe/")
    )
    stored = Delivery.objects.get()
    assert (stored.state, stored.attempts, stored.sent_at) == (DeliveryState.SENT, 1, NOW)
    assert DeliveryAttempt.objects.get().outcome == DeliveryState.SENT


def test_an_english_reader_gets_english_text_and_english_links(smtp_server, user):
    RecipientSettings.objects.create(user=user, language="en")
    notify([user], PLAIN.code, CONTEXT, link="/members/profile/", urgent=True, now=NOW)

    deliver_due(NOW)

    text = _text(smtp_server.messages[0])
    assert "Amount €12.50 on 6 December 2026." in text
    assert "http://127.0.0.1:8000/en/members/profile/" in text
    assert "Stop e-mails about “A test topic”" in text


def test_the_unsubscribe_link_works_without_login_and_turns_that_topics_email_off(
    smtp_server, user, client
):
    notify([user], PLAIN.code, CONTEXT, urgent=True, now=NOW)
    deliver_due(NOW)
    url = re.search(r"(http://\S+/notifications/unsubscribe/\S+/)", _text(smtp_server.messages[0]))
    path = urlsplit(url.group(1)).path

    shown = client.get(path)
    done = client.post(path)

    assert shown.status_code == 200
    assert Preference.objects.get(user=user, topic=PLAIN.code, channel="email").enabled is False
    assert done.status_code == 200
    notify([user], PLAIN.code, CONTEXT, urgent=True, now=NOW)
    assert Delivery.objects.count() == 1
    assert Notification.objects.filter(user=user).count() == 2


def test_an_altered_unsubscribe_link_changes_nothing(client, user):
    response = client.post("/notifications/unsubscribe/not-a-token/")

    assert response.status_code == 400
    assert not Preference.objects.exists()


def test_a_mandatory_email_has_no_unsubscribe_link(smtp_server, user):
    notify([user], MONEY.code, {"amount": Decimal("3")}, now=NOW)

    deliver_due(NOW)

    (message,) = smtp_server.messages
    assert message["List-Unsubscribe"] is None
    assert "unsubscribe" not in _text(message)


def test_the_digest_groups_a_days_notices_in_one_email_at_the_digest_hour(smtp_server, user):
    for name in ("Anna", "Bruno", "Carla"):
        notify([user], PLAIN.code, {**CONTEXT, "name": name}, now=NOW)
    digest_hour = dt.datetime(2026, 12, 7, 7, 0, tzinfo=dt.UTC)

    before = deliver_due(digest_hour - dt.timedelta(minutes=1))
    at = deliver_due(digest_hour)

    assert before.sent == 0
    assert at.sent == 3
    (message,) = smtp_server.messages
    assert message["Subject"] == "CerCollettiva: 3 nuove notifiche"  # Italian by default
    text = _text(message)
    assert all(f"Hello {name}" in text for name in ("Anna", "Bruno", "Carla"))
    # One unsubscribe link for the one topic, however many notices carry it.
    assert text.count("/notifications/unsubscribe/") == 1


def test_running_the_sender_twice_sends_each_message_once(smtp_server, user):
    notify([user], PLAIN.code, CONTEXT, urgent=True, now=NOW)

    first = deliver_due(NOW)
    second = deliver_due(NOW)

    assert (first.sent, second.sent) == (1, 0)
    assert len(smtp_server.messages) == 1


def test_a_sender_running_while_another_is_sending_leaves_the_claimed_delivery_alone(user):
    """The second round starts while the first holds its claim (as a second process would)."""
    notify([user], PLAIN.code, CONTEXT, urgent=True, now=NOW)
    sends: list[Envelope] = []
    inner_reports = []

    class Recording(Channel):
        code = "email"
        label = "E-mail"

        def send(self, envelope: Envelope) -> None:
            sends.append(envelope)
            if len(sends) == 1:
                inner_reports.append(deliver_due(NOW))

    original = channels.get("email")
    channels.register(Recording())
    try:
        outer = deliver_due(NOW)
    finally:
        channels.register(original)

    assert len(sends) == 1
    assert inner_reports[0].sent == 0
    assert outer.sent == 1


def test_a_temporary_failure_is_retried_with_doubling_back_off_then_given_up(settings, user):
    _point_smtp_at_a_closed_port(settings)
    notify([user], PLAIN.code, CONTEXT, urgent=True, now=NOW)
    moment = NOW

    for attempt in range(1, MAX_ATTEMPTS):
        report = deliver_due(moment)
        stored = Delivery.objects.get()
        assert report.failed == 1
        assert (stored.state, stored.attempts) == (DeliveryState.FAILED, attempt)
        assert stored.next_attempt_at == moment + backoff(attempt)
        assert "Connection" in stored.last_error or "refused" in stored.last_error.lower()
        # Nothing is tried again before its time.
        assert deliver_due(stored.next_attempt_at - dt.timedelta(seconds=1)).failed == 0
        moment = stored.next_attempt_at

    last = deliver_due(moment)

    stored = Delivery.objects.get()
    assert last.permanent == 1
    assert (stored.state, stored.attempts) == (DeliveryState.PERMANENT_FAILURE, MAX_ATTEMPTS)
    assert DeliveryAttempt.objects.count() == MAX_ATTEMPTS
    assert backoff(1) == dt.timedelta(minutes=1)
    assert backoff(3) == dt.timedelta(minutes=4)
    assert backoff(20) == delivery.BACKOFF_CAP


def test_a_permanent_failure_is_shown_to_the_referente_in_the_inbox(community, referente):
    member = make_user(email="", first_name="Mario", last_name="Bianchi")
    notify([member], MONEY.code, {"amount": Decimal("40")}, now=NOW, community=community)

    report = deliver_due(NOW)

    assert report.permanent == 1
    assert Delivery.objects.get(notification__user=member).state == DeliveryState.PERMANENT_FAILURE
    warning = Notification.objects.get(user=referente)
    assert warning.topic == "notifications.delivery.failed"
    assert "Mario Bianchi" in warning.subject
    assert "no e-mail address" in warning.body
    # Told once, however often the sender runs.
    deliver_due(NOW + dt.timedelta(hours=1))
    assert Notification.objects.filter(user=referente).count() == 1


def test_a_delivery_left_sending_by_a_crashed_sender_is_retried_after_the_claim_timeout(
    smtp_server, user
):
    notify([user], PLAIN.code, CONTEXT, urgent=True, now=NOW)
    Delivery.objects.update(state=DeliveryState.SENDING, claimed_at=NOW)

    soon = deliver_due(NOW + dt.timedelta(minutes=5))
    later = deliver_due(NOW + delivery.CLAIM_TIMEOUT + dt.timedelta(seconds=1))

    assert (soon.sent, later.recovered, later.sent) == (0, 1, 1)
    assert len(smtp_server.messages) == 1


def test_the_command_runs_one_round_and_sends_what_is_due(smtp_server, user):
    notify([user], PLAIN.code, CONTEXT, urgent=True, now=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))

    call_command("deliver_notifications", "--once")

    assert len(smtp_server.messages) == 1
    assert Delivery.objects.get().state == DeliveryState.SENT


class _Refusing:
    """An SMTP server that refuses every recipient for good (550), or for now (451)."""

    def __init__(self, code: int) -> None:
        self.code = code

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        return f"{self.code} Mailbox unavailable"


@pytest.mark.parametrize(
    ("code", "state"), [(550, DeliveryState.PERMANENT_FAILURE), (451, DeliveryState.FAILED)]
)
def test_the_smtp_servers_answer_decides_whether_a_refusal_is_retried(settings, user, code, state):
    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(_Refusing(code), hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", port, False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    try:
        notify([user], PLAIN.code, CONTEXT, urgent=True, now=NOW)
        deliver_due(NOW)
    finally:
        controller.stop()

    stored = Delivery.objects.get()
    assert stored.state == state
    assert str(code) in stored.last_error or "refused" in stored.last_error
