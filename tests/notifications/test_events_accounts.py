"""A staff person's login from a new device tells them at once, end to end through the
real two-step login (password, then the authenticator's code); and the notice of a document
to sign, which the signature workflow (still to come) will send."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from cer.accounts.known_devices import COOKIE_NAME, browser_family
from cer.accounts.models import KnownDevice
from cer.notifications.delivery import deliver_due
from cer.notifications.models import Notification
from tests import factories
from tests.accounts.conftest import web_login
from tests.accounts.helpers import authenticator, code
from tests.members.smtp import body_of

pytestmark = pytest.mark.django_db

FIREFOX_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
CHROME_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)


def _log_in(client, user, device):
    web_login(client, user.get_username())
    response = client.post("/login/code/", {"otp": code(device)})
    assert response.status_code == 302 and "_auth_user_id" in client.session
    return response


def test_a_referentes_login_from_a_new_browser_tells_them_but_not_their_first_or_a_known_one(
    referente, smtp_server, django_capture_on_commit_callbacks
):
    referente.email = "ref@example.org"
    referente.save()
    device = authenticator(referente)
    laptop = Client(HTTP_USER_AGENT=FIREFOX_LINUX)

    with django_capture_on_commit_callbacks(execute=True):
        first = _log_in(laptop, referente, device)
    laptop.post("/logout/")
    with django_capture_on_commit_callbacks(execute=True):
        _log_in(laptop, referente, device)

    # The first login ever records the browser; the same browser again is known.
    assert COOKIE_NAME in first.cookies
    assert KnownDevice.objects.filter(user=referente).count() == 1
    assert not Notification.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        _log_in(Client(HTTP_USER_AGENT=CHROME_WINDOWS), referente, device)

    notice = Notification.objects.get(user=referente)
    assert notice.topic == "accounts.security.notice" and notice.urgent
    assert KnownDevice.objects.filter(user=referente).count() == 2
    deliver_due(timezone.now())
    (message,) = smtp_server.messages
    assert message["To"] == "ref@example.org"
    assert (
        "Un accesso da un nuovo dispositivo (Chrome / Windows, indirizzo 127.0.0.1)"
        in message["Subject"]
    )
    assert "Un accesso da un nuovo dispositivo" in body_of(message)


def test_the_same_cookie_in_another_browser_family_is_another_device():
    assert browser_family(FIREFOX_LINUX) == "Firefox / Linux"
    assert browser_family(CHROME_WINDOWS) == "Chrome / Windows"


def test_a_plain_members_logins_are_not_tracked(community, django_capture_on_commit_callbacks):
    plain_member = factories.make_user_with_role(community, role="MEMBER", username="socia")
    plain_member.set_password("prova-password-2025")
    plain_member.save()
    for agent in (FIREFOX_LINUX, CHROME_WINDOWS):
        with django_capture_on_commit_callbacks(execute=True):
            response = web_login(Client(HTTP_USER_AGENT=agent), plain_member.get_username())
        assert response.status_code == 302

    assert not KnownDevice.objects.exists()
    assert not Notification.objects.exists()


def test_a_document_to_sign_tells_each_signer_once(
    community, member_user, smtp_server, django_capture_on_commit_callbacks
):
    from cer.documents.notices import document_to_sign
    from cer.notifications import topics
    from cer.notifications.models import Delivery
    from tests.factories.documents import make_document

    member_user.email = "socio@example.org"
    member_user.save()
    document = make_document(community, kind="CONTRACT")
    now = timezone.now()

    made = document_to_sign(document, [member_user], now)
    again = document_to_sign(document, [member_user], now)

    assert "documents.document.to_sign" in [t.code for t in topics.all_topics()]
    assert len(made) == 1 and again == []
    notice = made[0]
    assert notice.link == f"/documents/communities/{community.pk}/"
    deliver_due(Delivery.objects.get(notification=notice).next_attempt_at)
    (message,) = smtp_server.messages
    assert message["To"] == "socio@example.org"
    assert f"CER Prova: “{document.title}” attende la tua firma" in body_of(message)
    assert "del 30 marzo 2025" in body_of(message)
