"""A member turns on notifications on their browser, and a notice reaches it encrypted.

What is replaced, and why: headless Chromium cannot reach Google's push service (FCM),
so `PushManager.prototype.subscribe` is replaced, through `page.add_init_script`, by a
function that returns a subscription whose endpoint is the local push endpoint of
tests/notifications/push_endpoint.py and whose keys are a real P-256 key pair and a
random 16-byte auth secret made with WebCrypto in the page (the private key is kept in
sessionStorage so the test can hand it to the endpoint, as a push service's browser
would hold it). Everything else is real: the permission prompt (granted through the
browser context), the service worker registered at /sw.js, push.js posting the
subscription with the CSRF token, the server checking and storing it, the preferences
page listing it, and the push channel encrypting and signing the notice that the
endpoint verifies and decrypts.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from decimal import Decimal

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from cer.notifications import webpush
from cer.notifications.delivery import deliver_due
from cer.notifications.models import Preference, PushSubscription
from cer.notifications.services import notify
from tests.e2e.login import log_in
from tests.notifications.conftest import PLAIN
from tests.notifications.push_endpoint import PushEndpoint

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

FAKE_SUBSCRIBE = """
(() => {
  const endpoint = %(endpoint)s;
  const b64url = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replace(/\\+/g, "-").replace(/\\//g, "_").replace(/=+$/, "");
  PushManager.prototype.subscribe = async function (options) {
    if (!options || !options.applicationServerKey) { throw new Error("no VAPID key"); }
    const pair = await crypto.subtle.generateKey(
      { name: "ECDH", namedCurve: "P-256" }, true, ["deriveBits"]);
    const p256dh = b64url(await crypto.subtle.exportKey("raw", pair.publicKey));
    const auth = b64url(crypto.getRandomValues(new Uint8Array(16)));
    const jwk = await crypto.subtle.exportKey("jwk", pair.privateKey);
    sessionStorage.setItem("test-push", JSON.stringify({ d: jwk.d, auth: auth }));
    const json = { endpoint: endpoint, expirationTime: null, keys: { p256dh: p256dh, auth: auth } };
    return { endpoint: endpoint, options: options, toJSON: () => json };
  };
})();
"""


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@pytest.fixture
def push_endpoint(settings, tmp_path):
    settings.WEBPUSH_VAPID_PRIVATE_KEY_FILE = tmp_path / "vapid.pem"
    settings.WEBPUSH_LOCAL_HTTP = True
    endpoint = PushEndpoint().start()
    endpoint.vapid_key = webpush.public_key()
    yield endpoint
    endpoint.stop()


def test_a_member_enables_notifications_on_this_device_and_receives_one(
    browser, live_server, member_user, push_endpoint
):
    Preference.objects.create(user=member_user, topic=PLAIN.code, channel="push", enabled=True)
    endpoint_url = f"{push_endpoint.origin}/push/e2e"
    context = browser.new_context(viewport={"width": 1200, "height": 900}, locale="it-IT")
    context.grant_permissions(["notifications"], origin=live_server.url)
    context.add_init_script(FAKE_SUBSCRIBE % {"endpoint": json.dumps(endpoint_url)})
    page = context.new_page()
    try:
        log_in(page, live_server, "socio")
        page.goto(f"{live_server.url}/notifications/preferences/")
        page.get_by_role("button", name="Attiva le notifiche su questo dispositivo").click()
        page.wait_for_selector("tr[data-subscription]")
        listed = page.locator("#push-devices").inner_text()
        secret = json.loads(page.evaluate("sessionStorage.getItem('test-push')"))
        worker = page.evaluate(
            "navigator.serviceWorker.getRegistration('/').then(r => r && r.active.scriptURL)"
        )
    finally:
        context.close()

    stored = PushSubscription.objects.get(user=member_user)
    assert stored.endpoint == endpoint_url
    assert "Chrome" in stored.user_agent and "Chrome, Linux" in listed
    assert worker == f"{live_server.url}/sw.js"
    private_key = ec.derive_private_key(
        int.from_bytes(_unb64url(secret["d"]), "big"), ec.SECP256R1()
    )
    push_endpoint.add_browser("e2e", private_key, _unb64url(secret["auth"]))
    now = dt.datetime.now(dt.UTC)
    (made,) = notify(
        [member_user],
        PLAIN.code,
        {"name": "Lucia", "amount": Decimal("3"), "day": dt.date(2026, 12, 6)},
        urgent=True,
        now=now,
    )

    deliver_due(now)

    assert push_endpoint.refused == []
    (received,) = push_endpoint.received
    assert received["title"] == "Hello Lucia"
    assert received["body"] == made.body
    assert received["url"].endswith(f"/notifications/{made.pk}/open/")
