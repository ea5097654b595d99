"""The privacy notice and a user's consents, each recorded with the notice version and time."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cer.audit.models import AuditEntry
from cer.privacy.models import Consent, PrivacyNotice

pytestmark = pytest.mark.django_db


def test_version_one_of_the_notice_is_published_in_italian(client):
    notice = PrivacyNotice.objects.get(version="1.0")

    response = client.get(reverse("privacy:notice"))

    assert response.status_code == 200
    assert "Regolamento UE 2016/679" in notice.text
    assert "Titolare del trattamento" in response.content.decode()


def test_a_user_gives_consents_with_the_notice_version_and_time(client, member_user):
    client.force_login(member_user)

    response = client.post(
        reverse("privacy:consents"),
        {"action": "give", "membership": "on", "gse_reporting": "on", "metering_detail": "on"},
    )

    assert response.status_code == 302
    consents = Consent.objects.filter(user=member_user, withdrawn_at__isnull=True)
    assert consents.count() == 3
    assert {consent.notice.version for consent in consents} == {"1.0"}
    assert all(consent.given_at is not None for consent in consents)
    assert AuditEntry.objects.filter(code="privacy.consent.given").count() == 3


def test_the_required_consents_cannot_be_left_out(client, member_user):
    client.force_login(member_user)

    response = client.post(reverse("privacy:consents"), {"action": "give", "newsletter": "on"})

    assert response.status_code == 400
    assert {"membership", "gse_reporting"} <= set(response.context["form"].errors)


def test_withdrawing_a_consent_keeps_the_row_with_its_end(client, member_user):
    client.force_login(member_user)
    client.post(
        reverse("privacy:consents"),
        {"action": "give", "membership": "on", "gse_reporting": "on", "newsletter": "on"},
    )

    client.post(reverse("privacy:consents"), {"action": "withdraw", "purpose": "NEWSLETTER"})

    newsletter = Consent.objects.get(user=member_user, purpose="NEWSLETTER")
    assert newsletter.withdrawn_at is not None


def test_giving_the_same_consent_twice_keeps_one_active_row(client, member_user):
    client.force_login(member_user)
    data = {"action": "give", "membership": "on", "gse_reporting": "on"}

    client.post(reverse("privacy:consents"), data)
    client.post(reverse("privacy:consents"), data)

    assert Consent.objects.filter(user=member_user).count() == 2
