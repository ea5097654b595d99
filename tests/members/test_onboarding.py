"""Inviting a member by email, the invitee's onboarding, approval and leaving."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone

from cer.audit.models import AuditEntry
from cer.members.models import Membership, MembershipApplication
from cer.plants.models import ConnectionPoint
from cer.privacy.models import Consent
from tests import factories
from tests.members.smtp import body_of

pytestmark = pytest.mark.django_db

LINK = re.compile(r"https?://\S+/members/join/(\S+)/")


def invite(client, community, django_capture_on_commit_callbacks, email="nuova@example.org"):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(reverse("members:invite", args=[community.pk]), {"email": email})


def profile_data(**overrides):
    data = {
        "p-kind": "NATURAL",
        "p-category": "HOUSEHOLD",
        "p-first_name": "Lucia",
        "p-last_name": "Neri",
        "p-company_name": "",
        "p-fiscal_code": "NRELCU90A41L736K",
        "p-vat_number": "",
        "p-email": "nuova@example.org",
        "p-pec": "",
        "p-phone": "",
        "p-address": "Via Venezia 5",
        "p-municipality": "Spinea (VE)",
        "p-iban": "IT60X0542811101000000123456",
    }
    data.update({f"p-{key}": value for key, value in overrides.items()})
    return data


def points_data(community, pod="IT001E55500001"):
    return {
        "pt-TOTAL_FORMS": "1",
        "pt-INITIAL_FORMS": "0",
        "pt-0-pod": pod,
        "pt-0-configuration": str(community.configurations.get().pk),
        "pt-0-contracted_power_kw": "3",
        "pt-0-has_withdrawal": "on",
        "pt-0-address": "Via Venezia 5",
    }


def register(client, token):
    return client.post(
        reverse("members:join", args=[token]),
        {
            "username": "lucia",
            "email": "nuova@example.org",
            "password1": "Girasole-sul-tetto-42",
            "password2": "Girasole-sul-tetto-42",
        },
    )


@pytest.fixture
def fiscal_code_of_lucia():
    from stdnum.it import codicefiscale

    body = "NRELCU90A41L736"
    return body + codicefiscale.calc_check_digit(body)


def test_the_referente_invites_by_email_through_a_real_smtp_server(
    client,
    referente,
    community,
    smtp_server,
    django_capture_on_commit_callbacks,
):
    client.force_login(referente)

    response = invite(client, community, django_capture_on_commit_callbacks)

    assert response.status_code == 302
    (message,) = smtp_server.messages
    assert message["To"] == "nuova@example.org"
    assert community.name in message["Subject"]
    token = LINK.search(body_of(message)).group(1)
    assert client.get(reverse("members:join", args=[token])).status_code == 200
    assert AuditEntry.objects.filter(code="members.invitation.sent").exists()


def test_only_a_hash_of_the_token_is_stored(
    client,
    referente,
    community,
    smtp_server,
    django_capture_on_commit_callbacks,
):
    client.force_login(referente)
    invite(client, community, django_capture_on_commit_callbacks)

    token = LINK.search(body_of(smtp_server.messages[0])).group(1)

    assert community.invitations.get().token_hash != token
    assert token not in community.invitations.get().token_hash


def test_a_member_cannot_invite(client, member_user, community):
    client.force_login(member_user)

    response = client.post(reverse("members:invite", args=[community.pk]), {"email": "x@y.it"})

    assert response.status_code == 403


def test_an_expired_or_unknown_link_is_gone(client, community):
    _invitation, token = factories.make_invitation(
        community, expires_at=timezone.now() - dt.timedelta(seconds=1)
    )

    assert client.get(reverse("members:join", args=[token])).status_code == 410
    assert client.get(reverse("members:join", args=["nonexistent"])).status_code == 410


def test_a_link_works_only_once(client, community):
    _invitation, token = factories.make_invitation(community)
    register(client, token)
    client.logout()

    response = client.get(reverse("members:join", args=[token]))

    assert response.status_code == 410


def test_the_invitee_registers_gives_data_accepts_privacy_and_declares_points(
    client, community, fiscal_code_of_lucia
):
    _invitation, token = factories.make_invitation(community)

    response = register(client, token)

    assert response.status_code == 302
    user = User.objects.get(username="lucia")
    application = MembershipApplication.objects.get(user=user)
    assert application.step == "PROFILE"

    response = client.post(
        reverse("members:onboarding"), profile_data(fiscal_code=fiscal_code_of_lucia)
    )
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.member.fiscal_code == fiscal_code_of_lucia
    assert application.step == "PRIVACY"

    response = client.post(
        reverse("members:onboarding"),
        {"c-membership": "on", "c-gse_reporting": "on", "c-newsletter": "on"},
    )
    assert response.status_code == 302
    consents = Consent.objects.filter(user=user)
    assert sorted(consents.values_list("purpose", flat=True)) == [
        "GSE_REPORTING",
        "MEMBERSHIP",
        "NEWSLETTER",
    ]
    assert {c.notice.version for c in consents} == {"1.0"}

    response = client.post(reverse("members:onboarding"), points_data(community))
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == "SUBMITTED"
    assert application.declared_points[0]["pod"] == "IT001E55500001"
    assert not ConnectionPoint.objects.filter(pod="IT001E55500001").exists()
    assert not Membership.objects.filter(member=application.member).exists()


def test_wrong_identifiers_are_refused_field_by_field_and_kept(client, community):
    _invitation, token = factories.make_invitation(community)
    register(client, token)

    response = client.post(
        reverse("members:onboarding"),
        profile_data(fiscal_code="NRELCU90A41L736X", iban="IT00X0000", pec="non-una-pec"),
    )

    assert response.status_code == 400
    errors = response.context["form"].errors
    assert {"fiscal_code", "iban", "pec"} <= set(errors)
    assert 'value="NRELCU90A41L736X"' in response.content.decode()


def test_privacy_cannot_be_skipped(client, community, fiscal_code_of_lucia):
    _invitation, token = factories.make_invitation(community)
    register(client, token)
    client.post(reverse("members:onboarding"), profile_data(fiscal_code=fiscal_code_of_lucia))

    response = client.post(reverse("members:onboarding"), {"c-newsletter": "on"})

    assert response.status_code == 400
    assert not Consent.objects.exists()


def test_a_wrong_pod_is_refused(client, community):
    application = factories.make_application(community, status="IN_PROGRESS", step="POINTS")
    client.force_login(application.user)

    response = client.post(
        reverse("members:onboarding"), points_data(community, pod="IT001X12345678")
    )

    assert response.status_code == 400
    assert "pod" in response.context["formset"].forms[0].errors


def test_the_live_check_answers_with_the_server_validators(client, member_user):
    client.force_login(member_user)

    wrong = client.get(reverse("members:check_field"), {"field": "pod", "value": "IT001"}).json()
    right = client.get(
        reverse("members:check_field"), {"field": "pod", "value": "IT001E12345678"}
    ).json()

    assert wrong["valid"] is False
    assert "IT001E12345678" in wrong["message"]
    assert right["valid"] is True


def test_the_referente_approves_and_the_points_and_membership_are_created(
    client, referente, community
):
    application = factories.make_application(community)
    client.force_login(referente)

    response = client.post(
        reverse("members:application", args=[application.pk]),
        {"action": "approve", "valid_from": "2025-04-01"},
    )

    assert response.status_code == 302
    membership = Membership.objects.get(member=application.member, community=community)
    assert membership.valid_from == dt.date(2025, 4, 1)
    assert membership.role == "MEMBER"
    point = ConnectionPoint.objects.get(pod=application.declared_points[0]["pod"])
    assert point.holder == application.member
    application.refresh_from_db()
    assert application.status == "APPROVED"
    assert application.decided_by == referente
    assert AuditEntry.objects.filter(code="members.application.approved").exists()


def test_an_application_is_decided_only_once(client, referente, community):
    application = factories.make_application(community)
    client.force_login(referente)
    url = reverse("members:application", args=[application.pk])
    client.post(url, {"action": "approve", "valid_from": "2025-04-01"})

    response = client.post(url, {"action": "reject"})

    assert response.status_code == 400
    assert Membership.objects.filter(member=application.member).count() == 1


def test_a_referente_of_another_community_cannot_approve(client, outsider, community):
    application = factories.make_application(community)
    client.force_login(outsider)

    response = client.post(
        reverse("members:application", args=[application.pk]),
        {"action": "approve", "valid_from": "2025-04-01"},
    )

    assert response.status_code == 403
    assert not Membership.objects.filter(member=application.member).exists()


def test_a_member_leaves_and_the_history_keeps_both_dates(client, referente, community):
    membership = factories.make_membership(community)
    client.force_login(referente)

    response = client.post(
        reverse("members:end_membership", args=[membership.pk]), {"valid_to": "2025-06-30"}
    )

    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.valid_from == dt.date(2024, 9, 12)
    assert membership.valid_to == dt.date(2025, 6, 30)
    assert not Membership.objects.active_on(dt.date(2025, 7, 1)).filter(pk=membership.pk)
    history = client.get(reverse("members:history", args=[community.pk]))
    assert membership in history.context["memberships"]
    assert AuditEntry.objects.filter(code="members.membership.ended").exists()


def test_a_membership_cannot_end_before_it_starts(client, referente, community):
    membership = factories.make_membership(community)
    client.force_login(referente)

    response = client.post(
        reverse("members:end_membership", args=[membership.pk]), {"valid_to": "2024-09-12"}
    )

    assert response.status_code == 400
    membership.refresh_from_db()
    assert membership.valid_to is None
