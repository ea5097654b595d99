"""The SMS channel against a local server speaking Skebby's REST API: text, number, failures."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from cer.notifications import hooks, topics
from cer.notifications.channels.sms import fits, sms_text
from cer.notifications.delivery import MAX_ATTEMPTS, backoff, deliver_due
from cer.notifications.models import (
    Delivery,
    DeliveryAttempt,
    DeliveryState,
    Notification,
    Preference,
)
from cer.notifications.services import notify
from tests.notifications.conftest import MONEY, NOW, PLAIN
from tests.notifications.fake_sms import FakeSkebby

pytestmark = pytest.mark.django_db

CONTEXT = {"name": "Lucia", "amount": Decimal("12.5"), "day": dt.date(2026, 12, 6)}


@pytest.fixture
def fake_sms(settings):
    fake = FakeSkebby().start()
    settings.SMS_PROVIDER = "skebby"
    settings.SMS_API_URL = fake.url
    settings.SMS_USERNAME, settings.SMS_PASSWORD = fake.username, fake.password
    settings.SMS_SENDER = "CERProva"
    yield fake
    fake.stop()


@pytest.fixture
def texting_member(member_user):
    member_user.email = "socio@example.org"
    member_user.save()
    member = member_user.member
    member.phone = "333 123 4567"
    member.save()
    Preference.objects.create(user=member_user, topic=PLAIN.code, channel="sms", enabled=True)
    return member_user


def test_a_notification_reaches_the_provider_with_the_number_in_e164_and_a_short_text(
    fake_sms, texting_member, community
):
    (made,) = notify(
        [texting_member], PLAIN.code, CONTEXT, urgent=True, now=NOW, community=community
    )

    report = deliver_due(NOW)

    assert report.sent == 2  # the e-mail and the SMS
    (message,) = fake_sms.messages
    assert message["recipient"] == ["+393331234567"]
    assert message["sender"] == "CERProva"
    assert message["message_type"] == "GP"
    assert message["message"] == f"Hello Lucia http://127.0.0.1:8000/notifications/{made.pk}/open/"
    sms = Delivery.objects.get(channel="sms")
    assert sms.state == DeliveryState.SENT


def test_the_text_is_written_in_the_users_language(fake_sms, texting_member, community):
    from cer.notifications.models import RecipientSettings

    RecipientSettings.objects.create(user=texting_member, language="en")
    (made,) = notify([texting_member], PLAIN.code, CONTEXT, urgent=True, now=NOW)

    deliver_due(NOW)

    assert fake_sms.messages[0]["message"].endswith(f"/en/notifications/{made.pk}/open/")


def test_an_ordinary_sms_never_waits_for_the_digest_but_for_the_end_of_quiet_hours(
    fake_sms, texting_member
):
    notify([texting_member], PLAIN.code, CONTEXT, now=NOW)

    email = Delivery.objects.get(channel="email")
    sms = Delivery.objects.get(channel="sms")
    assert email.digest is True
    assert (sms.digest, sms.next_attempt_at) == (False, NOW)
    deliver_due(NOW)
    assert len(fake_sms.messages) == 1


def test_a_provider_5xx_is_retried_with_backoff_then_shown_failed_to_the_managers(
    fake_sms, texting_member, referente, community
):
    fake_sms.fail_next(503, {"result": "KO", "error": "service unavailable"}, times=MAX_ATTEMPTS)
    notify([texting_member], PLAIN.code, CONTEXT, urgent=True, now=NOW, community=community)
    sms = Delivery.objects.get(channel="sms")

    moment = NOW
    for attempt in range(1, MAX_ATTEMPTS + 1):
        deliver_due(moment)
        sms.refresh_from_db()
        assert sms.attempts == attempt
        moment = moment + backoff(attempt)

    assert sms.state == DeliveryState.PERMANENT_FAILURE
    outcomes = list(DeliveryAttempt.objects.filter(delivery=sms).values_list("outcome", "error"))
    assert len(outcomes) == MAX_ATTEMPTS
    assert all("skebby sms 503" in error for _outcome, error in outcomes)
    assert [outcome for outcome, _error in outcomes[:-1]] == [DeliveryState.FAILED] * (
        MAX_ATTEMPTS - 1
    )
    warning = Notification.objects.get(user=referente, topic=topics.DELIVERY_FAILED.code)
    assert "skebby sms 503" in warning.body
    assert fake_sms.messages == []


def test_a_provider_5xx_then_success_sends_once(fake_sms, texting_member):
    fake_sms.fail_next(502, "bad gateway")
    notify([texting_member], PLAIN.code, CONTEXT, urgent=True, now=NOW)

    deliver_due(NOW)
    sms = Delivery.objects.get(channel="sms")
    assert (sms.state, sms.next_attempt_at) == (DeliveryState.FAILED, NOW + backoff(1))
    deliver_due(NOW + backoff(1))

    sms.refresh_from_db()
    assert sms.state == DeliveryState.SENT
    assert len(fake_sms.messages) == 1


def test_refused_credentials_fail_for_good_at_once_with_the_providers_code(
    fake_sms, texting_member, settings
):
    settings.SMS_PASSWORD = "sbagliata"
    notify([texting_member], PLAIN.code, CONTEXT, urgent=True, now=NOW)

    deliver_due(NOW)

    sms = Delivery.objects.get(channel="sms")
    assert (sms.state, sms.attempts) == (DeliveryState.PERMANENT_FAILURE, 1)
    assert sms.last_error.startswith("skebby login 404")
    assert DeliveryAttempt.objects.get(delivery=sms).error.startswith("skebby login 404")


def test_a_number_the_provider_refuses_fails_for_good(fake_sms, texting_member):
    fake_sms.fail_next(400, {"result": "KO", "error": "invalid recipient"})
    notify([texting_member], PLAIN.code, CONTEXT, urgent=True, now=NOW)

    deliver_due(NOW)

    sms = Delivery.objects.get(channel="sms")
    assert sms.state == DeliveryState.PERMANENT_FAILURE
    assert "skebby sms 400" in sms.last_error and "invalid recipient" in sms.last_error


def test_without_a_provider_the_sms_fails_for_good_saying_why(texting_member, settings):
    settings.SMS_PROVIDER = ""
    notify([texting_member], PLAIN.code, CONTEXT, urgent=True, now=NOW)

    deliver_due(NOW)

    sms = Delivery.objects.get(channel="sms")
    assert sms.state == DeliveryState.PERMANENT_FAILURE
    assert "no SMS provider is configured" in sms.last_error


def test_a_user_without_a_mobile_number_gets_no_sms(fake_sms, texting_member):
    member = texting_member.member
    member.phone = "041 5550000"  # a landline: valid, but no text reaches it
    member.save()
    assert hooks.phone_of(texting_member) is None
    notify([texting_member], PLAIN.code, CONTEXT, urgent=True, now=NOW)

    deliver_due(NOW)

    sms = Delivery.objects.get(channel="sms")
    assert sms.state == DeliveryState.PERMANENT_FAILURE
    assert sms.last_error == "the user has no valid mobile number"
    assert fake_sms.messages == []


def test_mandatory_topics_keep_their_default_channels_only(fake_sms, texting_member):
    notify([texting_member], MONEY.code, {"amount": Decimal("3")}, now=NOW)

    assert list(Delivery.objects.values_list("channel", flat=True)) == ["email"]


def test_a_long_subject_is_shortened_to_two_segments_and_keeps_the_link_whole():
    link = "https://cer.example.org/notifications/123/open/"

    text = sms_text("Avviso " * 80, link)

    assert fits(text) and len(text) == 306
    assert text.endswith("... " + link)


def test_a_text_needing_unicode_is_held_to_two_ucs2_segments():
    link = "https://cer.example.org/n/1/"

    text = sms_text("Ciao 😀 " * 40, link)

    assert fits(text) and text.endswith(link)
    assert len(text.encode("utf-16-le")) // 2 <= 134
    assert sms_text("Breve", link) == f"Breve {link}"


def test_a_user_with_a_mobile_number_turns_sms_on_from_the_preferences_page(client, member_user):
    from cer.audit.models import AuditEntry

    member = member_user.member
    member.phone = "+39 347 000 0000"
    member.save()
    client.force_login(member_user)
    page = client.get("/notifications/preferences/")
    assert not page.context["form"].fields[f"{PLAIN.code}:sms"].disabled
    assert "Add a mobile number" not in page.content.decode()

    response = client.post(
        "/notifications/preferences/",
        {"language": "it", f"{PLAIN.code}:email": "on", f"{PLAIN.code}:sms": "on"},
    )

    assert response.status_code == 302
    assert Preference.objects.get(user=member_user, topic=PLAIN.code, channel="sms").enabled
    entry = AuditEntry.objects.get(code="notifications.preferences.saved")
    assert entry.changes[f"{PLAIN.code}:sms"] == [False, True]
