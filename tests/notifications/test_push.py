"""Web push against a local endpoint that checks VAPID and decrypts what it receives."""

from __future__ import annotations

import datetime as dt
import json
import stat
from decimal import Decimal

import pytest
from django.urls import reverse

from cer.notifications import webpush
from cer.notifications.delivery import deliver_due
from cer.notifications.models import (
    Delivery,
    DeliveryState,
    Preference,
    PushSubscription,
    RecipientSettings,
)
from cer.notifications.services import notify
from tests.notifications.conftest import NOW, PLAIN, make_user
from tests.notifications.push_endpoint import PushEndpoint

pytestmark = pytest.mark.django_db

CONTEXT = {"name": "Lucia", "amount": Decimal("12.5"), "day": dt.date(2026, 12, 6)}
SUBSCRIBE = "/notifications/push/subscribe/"


@pytest.fixture
def push_endpoint(settings, tmp_path):
    settings.WEBPUSH_VAPID_PRIVATE_KEY_FILE = tmp_path / "vapid.pem"
    settings.WEBPUSH_LOCAL_HTTP = True
    endpoint = PushEndpoint().start()
    endpoint.vapid_key = webpush.public_key()
    yield endpoint
    endpoint.stop()


@pytest.fixture
def pushing_user(db):
    user = make_user()
    Preference.objects.create(user=user, topic=PLAIN.code, channel="push", enabled=True)
    return user


def _subscribe(client, subscription):
    return client.post(SUBSCRIBE, json.dumps(subscription), content_type="application/json")


def test_a_browser_subscribes_through_the_page_and_receives_the_notice_decrypted(
    client, push_endpoint, pushing_user, community
):
    client.force_login(pushing_user)
    response = _subscribe(client, push_endpoint.new_browser("laptop"))
    assert response.status_code == 201
    stored = PushSubscription.objects.get(user=pushing_user)
    (made,) = notify([pushing_user], PLAIN.code, CONTEXT, urgent=True, now=NOW, community=community)

    report = deliver_due(NOW)

    assert report.sent == 2  # e-mail and push
    assert push_endpoint.refused == []
    (received,) = push_endpoint.received
    assert received == {
        "browser": "laptop",
        "urgency": "high",
        "title": "Hello Lucia",
        "body": "Amount 12,50\u00a0€ on 6 dicembre 2026.",
        "url": f"http://127.0.0.1:8000/notifications/{made.pk}/open/",
    }
    stored.refresh_from_db()
    assert stored.last_success_at is not None and stored.failures == 0
    assert Delivery.objects.get(channel="push").state == DeliveryState.SENT


def test_the_payload_is_in_the_users_language(push_endpoint, pushing_user):
    RecipientSettings.objects.create(user=pushing_user, language="en")
    subscription = push_endpoint.new_browser()
    webpush.subscribe(
        user=pushing_user,
        endpoint=subscription["endpoint"],
        user_agent="Firefox",
        now=NOW,
        **subscription["keys"],
    )
    (made,) = notify([pushing_user], PLAIN.code, CONTEXT, now=NOW)

    deliver_due(NOW)

    (received,) = push_endpoint.received
    assert received["urgency"] == "normal"
    assert received["body"] == made.body
    assert "December" in received["body"] and "dicembre" not in received["body"]
    assert received["url"].endswith(f"/en/notifications/{made.pk}/open/")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"endpoint": "http://push.example.org/x"}, "endpoint"),
        ({"endpoint": "ftp://127.0.0.1/x"}, "endpoint"),
        ({"endpoint": ""}, "endpoint"),
        ({"p256dh": "AAAA"}, "p256dh"),
        # 65 bytes starting with 4, but not a point on the curve.
        ({"p256dh": webpush.b64url_encode(b"\x04" + b"\x01" * 64)}, "p256dh"),
        ({"p256dh": "***"}, "p256dh"),
        ({"auth": webpush.b64url_encode(b"x" * 15)}, "auth"),
        ({"auth": ""}, "auth"),
    ],
)
def test_an_invalid_subscription_is_refused_naming_the_field(
    client, push_endpoint, pushing_user, change, field
):
    client.force_login(pushing_user)
    subscription = push_endpoint.new_browser()
    keys = {**subscription["keys"], **{k: v for k, v in change.items() if k != "endpoint"}}
    body = {"endpoint": change.get("endpoint", subscription["endpoint"]), "keys": keys}

    response = _subscribe(client, body)

    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]
    assert not PushSubscription.objects.exists()


def test_plain_http_is_refused_outside_debug_and_tests(settings, push_endpoint, pushing_user):
    settings.WEBPUSH_LOCAL_HTTP = False
    subscription = push_endpoint.new_browser()

    with pytest.raises(webpush.BadSubscription) as refused:
        webpush.subscribe(
            user=pushing_user,
            endpoint=subscription["endpoint"],
            user_agent="",
            now=NOW,
            **subscription["keys"],
        )

    assert refused.value.field == "endpoint"


def test_a_410_from_the_push_service_removes_the_subscription_for_good(
    client, push_endpoint, pushing_user
):
    client.force_login(pushing_user)
    _subscribe(client, push_endpoint.new_browser())
    push_endpoint.answer_next(410)
    notify([pushing_user], PLAIN.code, CONTEXT, urgent=True, now=NOW)

    deliver_due(NOW)

    assert not PushSubscription.objects.exists()
    push = Delivery.objects.get(channel="push")
    assert push.state == DeliveryState.PERMANENT_FAILURE
    assert "410" in push.last_error


def test_a_5xx_is_retried_and_one_browser_that_takes_it_is_enough(
    client, push_endpoint, pushing_user
):
    client.force_login(pushing_user)
    _subscribe(client, push_endpoint.new_browser("one"))
    push_endpoint.answer_next(503)
    notify([pushing_user], PLAIN.code, CONTEXT, urgent=True, now=NOW)

    deliver_due(NOW)
    push = Delivery.objects.get(channel="push")
    assert push.state == DeliveryState.FAILED and "503" in push.last_error
    assert PushSubscription.objects.get().failures == 1
    _subscribe(client, push_endpoint.new_browser("two"))
    push_endpoint.answer_next(503)
    deliver_due(push.next_attempt_at)

    push.refresh_from_db()
    assert push.state == DeliveryState.SENT
    assert [item["browser"] for item in push_endpoint.received] == ["two"]


def test_the_vapid_key_is_made_once_readable_only_by_its_owner(push_endpoint, settings):
    path = settings.WEBPUSH_VAPID_PRIVATE_KEY_FILE
    first = webpush.public_key()

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert webpush.public_key() == first
    assert len(webpush.b64url_decode(first)) == 65


def test_the_service_worker_is_served_at_the_root_with_a_root_scope(client):
    response = client.get("/sw.js")

    assert response.status_code == 200
    assert response["Service-Worker-Allowed"] == "/"
    assert response["Content-Type"].startswith("text/javascript")
    assert b"showNotification" in b"".join(response.streaming_content)


def test_the_preferences_page_locks_push_and_sms_until_the_user_can_receive_them(
    client, push_endpoint, pushing_user
):
    client.force_login(pushing_user)
    page = client.get(reverse("notifications:preferences"))
    form = page.context["form"]
    assert form.fields[f"{PLAIN.code}:push"].disabled
    assert form.fields[f"{PLAIN.code}:sms"].disabled
    assert "Aggiungi un numero di cellulare al tuo profilo" in page.content.decode()
    assert push_endpoint.vapid_key in page.content.decode()

    _subscribe(client, push_endpoint.new_browser())
    page = client.get(reverse("notifications:preferences"))

    assert not page.context["form"].fields[f"{PLAIN.code}:push"].disabled
    assert "Nessun dispositivo riceve ancora notifiche." not in page.content.decode()


def test_the_page_removes_a_device(client, push_endpoint, pushing_user):
    client.force_login(pushing_user)
    _subscribe(client, push_endpoint.new_browser())
    other = make_user()
    theirs = push_endpoint.new_browser()
    webpush.subscribe(
        user=other, endpoint=theirs["endpoint"], user_agent="", now=NOW, **theirs["keys"]
    )
    mine = PushSubscription.objects.get(user=pushing_user)
    not_mine = PushSubscription.objects.get(user=other)

    client.post(reverse("notifications:push_unsubscribe"), {"subscription": not_mine.pk})
    response = client.post(reverse("notifications:push_unsubscribe"), {"subscription": mine.pk})

    assert response.status_code == 302
    assert list(PushSubscription.objects.all()) == [not_mine]


@pytest.mark.parametrize(
    ("agent", "device"),
    [
        (
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "HeadlessChrome/156.0.0.0 Safari/537.36",
            "Chrome, Linux",
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/120.0 Safari/537.36 Edg/120.0",
            "Edge, Windows",
        ),
        (
            "Mozilla/5.0 (Android 14; Mobile; rv:125.0) Gecko/125.0 Firefox/125.0",
            "Firefox, Android",
        ),
        ("", ""),
    ],
)
def test_the_page_names_a_device_by_its_browser_and_system(agent, device):
    assert PushSubscription(user_agent=agent).device == device


def test_the_keys_command_makes_the_key_once_and_prints_the_public_key(settings, tmp_path):
    from io import StringIO

    from django.core.management import call_command

    settings.WEBPUSH_VAPID_PRIVATE_KEY_FILE = tmp_path / "keys" / "vapid.pem"
    first, second = StringIO(), StringIO()

    call_command("webpush_keys", stdout=first)
    call_command("webpush_keys", stdout=second)

    assert first.getvalue().startswith("created ")
    assert second.getvalue().startswith("kept ")
    assert f"public key: {webpush.public_key()}" in second.getvalue()


def test_the_script_removes_this_browser_by_its_endpoint(client, push_endpoint, pushing_user):
    client.force_login(pushing_user)
    subscription = push_endpoint.new_browser()
    _subscribe(client, subscription)

    response = client.post(
        reverse("notifications:push_unsubscribe"),
        json.dumps({"endpoint": subscription["endpoint"]}),
        content_type="application/json",
    )

    assert response.json() == {"removed": 1}
    assert not PushSubscription.objects.exists()
