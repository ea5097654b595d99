"""One person, two communities: each community changes and sees only what is its own.

Replays the findings: A's referente redirected B's payouts by changing the shared
person's IBAN through the API, changed their e-mail, and read B's amounts on the
yearly statement; the change was logged with no community.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient
from schwifty import IBAN

from cer.audit.models import AuditEntry
from cer.members.changes import SHARED_REFUSAL
from cer.members.models import Member, Membership
from tests import factories
from tests.factories.billing import make_statement
from tests.factories.settlement import make_settlement_run

pytestmark = pytest.mark.django_db

IBAN_A = factories.IBAN
IBAN_B = str(
    IBAN.generate("IT", bank_code="03069", branch_code="09606", account_code="100000007000")
)
NEW_IBAN = str(
    IBAN.generate("IT", bank_code="02008", branch_code="01600", account_code="000100123456")
)


def masked(iban: str) -> str:
    return f"{iban[:4]}…{iban[-4:]}"


def sign_in(client, user: User):
    """Log the client in with a session that has passed the second factor."""
    device = TOTPDevice.objects.filter(user=user).first() or TOTPDevice.objects.create(
        user=user, name="app", confirmed=True
    )
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def api_as(user: User) -> APIClient:
    return sign_in(APIClient(), user)


class Shared:
    """Communities A and B, their referenti, and one person member of both."""

    def __init__(self, community) -> None:
        self.a = community
        self.b = factories.make_community(name="CER Bosco")
        self.referente_a = factories.make_user_with_role(
            self.a, role="REFERENTE", username="referente-a"
        )
        self.referente_b = factories.make_user_with_role(
            self.b, role="REFERENTE", username="referente-b"
        )
        self.user = User.objects.create_user("condiviso", password="prova-password-2025")
        self.person = factories.make_member(user=self.user, email="condiviso@example.org")
        self.in_a = Membership.objects.create(
            member=self.person, community=self.a, valid_from=dt.date(2024, 9, 12), iban=IBAN_A
        )
        self.in_b = Membership.objects.create(
            member=self.person, community=self.b, valid_from=dt.date(2024, 9, 12), iban=IBAN_B
        )

    def refresh(self) -> None:
        self.person.refresh_from_db()
        self.in_a.refresh_from_db()
        self.in_b.refresh_from_db()


@pytest.fixture
def shared(community) -> Shared:
    return Shared(community)


def _patch_member(user: User, member: Member, body: dict):
    return api_as(user).patch(f"/api/v1/members/{member.pk}", body, format="json")


# The IBAN -------------------------------------------------------------------------------


def test_a_referente_changes_the_iban_of_their_own_communitys_membership_only(
    shared, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = _patch_member(shared.referente_a, shared.person, {"iban": NEW_IBAN})

    assert response.status_code == 200, response.content
    shared.refresh()
    assert shared.in_a.iban == NEW_IBAN
    assert shared.in_b.iban == IBAN_B


def test_the_other_communitys_payout_file_still_pays_the_iban_it_was_given(
    shared, client, django_capture_on_commit_callbacks
):
    configuration_b = shared.b.configurations.get()
    make_statement(
        make_settlement_run(configuration_b, status="FINAL"), shared.person, amount="41.50"
    )
    with django_capture_on_commit_callbacks(execute=True):
        _patch_member(shared.referente_a, shared.person, {"iban": NEW_IBAN})

    sign_in(client, shared.referente_b)
    created = client.post(
        reverse("billing:payouts", args=[configuration_b.pk]),
        {
            "period_start": "2025-03",
            "period_end": "2025-03",
            "debtor_name": "CER Bosco ETS",
            "debtor_iban": IBAN_A,
            "debtor_bic": "BPPIITRRXXX",
            "execution_date": "",
            "confirmed": "yes",
        },
    )
    assert created.status_code == 302, created.content
    pain001 = client.get(created["Location"] + "pain001.xml").content.decode()

    assert f"<IBAN>{IBAN_B}</IBAN>" in pain001
    assert NEW_IBAN not in pain001
    assert '<InstdAmt Ccy="EUR">41.50</InstdAmt>' in pain001


def test_a_referente_cannot_set_the_iban_of_a_membership_of_another_community(shared):
    response = api_as(shared.referente_a).patch(
        f"/api/v1/memberships/{shared.in_b.pk}", {"iban": NEW_IBAN}, format="json"
    )

    assert response.status_code == 404
    shared.refresh()
    assert shared.in_b.iban == IBAN_B


def test_a_manager_reads_only_the_iban_their_community_was_given(shared):
    body = api_as(shared.referente_a).get(f"/api/v1/members/{shared.person.pk}").json()

    assert "iban" not in body
    assert [(m["community"], m["iban"]) for m in body["memberships"]] == [(shared.a.pk, IBAN_A)]
    assert IBAN_B not in json.dumps(body)


# The shared personal data -------------------------------------------------------------


def test_a_referente_cannot_change_the_shared_email_through_the_api(shared):
    response = _patch_member(
        shared.referente_a,
        shared.person,
        {"email": "attaccante@example.org", "phone": "041 5550001"},
    )

    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert set(fields) == {"email", "phone"}
    assert fields["email"] == [str(SHARED_REFUSAL)]
    shared.refresh()
    assert shared.person.email == "condiviso@example.org"
    assert not AuditEntry.objects.filter(code="members.member.changed").exists()


def test_a_refused_shared_change_leaves_the_iban_in_the_same_request_unchanged(shared):
    response = _patch_member(
        shared.referente_a, shared.person, {"email": "attaccante@example.org", "iban": NEW_IBAN}
    )

    assert response.status_code == 400
    shared.refresh()
    assert shared.in_a.iban == IBAN_A


def test_a_referente_cannot_change_the_shared_email_on_the_web_page(shared, client):
    sign_in(client, shared.referente_a)
    url = reverse("members:membership_edit", args=[shared.in_a.pk])
    page = client.get(url)
    data = {
        "m-iban": IBAN_A,
        "p-first_name": shared.person.first_name,
        "p-last_name": shared.person.last_name,
        "p-company_name": "",
        "p-email": "attaccante@example.org",
        "p-pec": "",
        "p-phone": "",
        "p-address": shared.person.address,
        "p-municipality": "027038",
    }

    response = client.post(url, data)

    assert page.status_code == 200
    assert response.status_code == 400
    assert "email" in response.context["form"].errors
    shared.refresh()
    assert shared.person.email == "condiviso@example.org"


def test_a_referente_changes_the_data_of_a_person_who_belongs_only_to_their_community(
    shared,
):
    only_a = factories.make_membership(shared.a)

    response = _patch_member(shared.referente_a, only_a.member, {"phone": "041 5550000"})

    assert response.status_code == 200, response.content
    only_a.member.refresh_from_db()
    assert only_a.member.phone == "+390415550000"  # stored in E.164
    entry = AuditEntry.objects.get(code="members.member.changed")
    assert entry.community == shared.a
    assert entry.changes == {"phone": ["[old]", "[new]"]}


def test_the_person_changes_their_email_and_each_iban_on_their_profile(
    shared, client, django_capture_on_commit_callbacks, mailoutbox
):
    sign_in(client, shared.user)
    data = {
        "p-first_name": shared.person.first_name,
        "p-last_name": shared.person.last_name,
        "p-company_name": "",
        "p-email": "nuovo@example.org",
        "p-pec": "",
        "p-phone": "",
        "p-address": shared.person.address,
        "p-municipality": "027038",
        f"m{shared.in_a.pk}-iban": IBAN_A,
        f"m{shared.in_b.pk}-iban": NEW_IBAN,
    }

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("members:profile"), data)

    assert response.status_code == 302, getattr(response, "context", None) and [
        f.errors for f in [response.context["form"], *response.context["iban_forms"]]
    ]
    shared.refresh()
    assert shared.person.email == "nuovo@example.org"
    assert (shared.in_a.iban, shared.in_b.iban) == (IBAN_A, NEW_IBAN)
    changed = AuditEntry.objects.filter(code="members.member.changed")
    assert {e.community_id for e in changed} == {shared.a.pk, shared.b.pk}
    iban_entries = AuditEntry.objects.filter(code="members.membership.iban_changed")
    assert [e.community_id for e in iban_entries] == [shared.b.pk]
    assert len(mailoutbox) == 1


def test_the_person_changes_their_own_email_through_the_api(shared):
    response = _patch_member(shared.user, shared.person, {"email": "mio@example.org"})

    assert response.status_code == 200, response.content
    shared.refresh()
    assert shared.person.email == "mio@example.org"


# The audit entries and the e-mail -----------------------------------------------------


def test_an_iban_change_is_logged_masked_for_the_community_it_affects(
    shared, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _patch_member(shared.referente_a, shared.person, {"iban": NEW_IBAN})

    entry = AuditEntry.objects.get(code="members.membership.iban_changed")
    assert entry.community == shared.a
    assert entry.actor == shared.referente_a
    assert entry.changes == {"iban": [masked(IBAN_A), masked(NEW_IBAN)]}
    assert NEW_IBAN not in json.dumps(AuditEntry.objects.values_list("changes", flat=True)[::1])


def test_the_iban_change_is_visible_to_as_managers_and_not_to_bs(
    shared, client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _patch_member(shared.referente_a, shared.person, {"iban": NEW_IBAN})
    shown = masked(NEW_IBAN)

    seen_by_a = api_as(shared.referente_a).get(
        "/api/v1/audit-entries", {"code": "members.membership.iban_changed"}
    )
    seen_by_b = api_as(shared.referente_b).get(
        "/api/v1/audit-entries", {"code": "members.membership.iban_changed"}
    )
    page_a = sign_in(client, shared.referente_a).get(
        reverse("audit:community_log", args=[shared.a.pk])
    )
    page_b = sign_in(client, shared.referente_b).get(
        reverse("audit:community_log", args=[shared.b.pk])
    )

    assert seen_by_a.json()["count"] == 1
    assert seen_by_b.json()["count"] == 0
    assert shown in page_a.content.decode()
    assert shown not in page_b.content.decode()
    assert NEW_IBAN not in page_a.content.decode()


def test_bs_managers_see_the_change_of_the_iban_b_pays_to(
    shared, client, django_capture_on_commit_callbacks
):
    sign_in(client, shared.user)
    data = {
        "p-first_name": shared.person.first_name,
        "p-last_name": shared.person.last_name,
        "p-company_name": "",
        "p-email": shared.person.email,
        "p-pec": "",
        "p-phone": "",
        "p-address": shared.person.address,
        "p-municipality": "027038",
        f"m{shared.in_a.pk}-iban": IBAN_A,
        f"m{shared.in_b.pk}-iban": NEW_IBAN,
    }
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("members:profile"), data)

    seen_by_b = api_as(shared.referente_b).get(
        "/api/v1/audit-entries", {"code": "members.membership.iban_changed"}
    )
    seen_by_a = api_as(shared.referente_a).get(
        "/api/v1/audit-entries", {"code": "members.membership.iban_changed"}
    )

    assert [e["community"] for e in seen_by_b.json()["results"]] == [shared.b.pk]
    assert seen_by_a.json()["count"] == 0


def test_the_person_is_told_by_email_in_italian_without_the_full_iban(
    shared, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _patch_member(shared.referente_a, shared.person, {"iban": NEW_IBAN})

    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["condiviso@example.org"]
    assert f"Il tuo IBAN per la comunità {shared.a.name} è stato modificato da referente-a il" in (
        message.body
    )
    assert NEW_IBAN not in message.body and IBAN_A not in message.body
    assert masked(NEW_IBAN) in message.body


def test_no_email_is_sent_when_the_iban_does_not_change(
    shared, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = _patch_member(shared.referente_a, shared.person, {"iban": IBAN_A})

    assert response.status_code == 200
    assert mailoutbox == []
    assert not AuditEntry.objects.filter(code="members.membership.iban_changed").exists()


# The yearly statement -----------------------------------------------------------------


@pytest.fixture
def paid_by_both(shared):
    make_statement(make_settlement_run(shared.a.configurations.get()), shared.person, "11.11")
    make_statement(make_settlement_run(shared.b.configurations.get()), shared.person, "77.77")
    return shared


def _yearly(client, user, member, fmt=None):
    sign_in(client, user)
    url = reverse("billing:year_statement", args=[member.pk, 2025])
    return client.get(url, {"format": fmt} if fmt else {})


def test_the_yearly_statement_csv_shows_a_manager_only_their_communitys_amounts(
    paid_by_both, client
):
    response = _yearly(client, paid_by_both.referente_a, paid_by_both.person, "csv")

    text = response.content.decode()
    assert response.status_code == 200
    # The Italian Excel dialect: decimal comma.
    assert "11,11" in text and paid_by_both.a.name in text
    assert "77,77" not in text and paid_by_both.b.name not in text


def test_the_yearly_statement_page_shows_a_manager_only_their_communitys_amounts(
    paid_by_both, client
):
    response = _yearly(client, paid_by_both.referente_b, paid_by_both.person)

    statements = response.context["statements"]
    assert [(s.configuration.community, str(s.amount_eur)) for s in statements] == [
        (paid_by_both.b, "77.77")
    ]
    assert str(response.context["total_eur"]) == "77.77"
    # The page is in Italian: look for the amount in either form.
    assert "11,11" not in response.content.decode()
    assert "11.11" not in response.content.decode()


def test_the_person_sees_both_communities_on_their_yearly_statement(paid_by_both, client):
    response = _yearly(client, paid_by_both.user, paid_by_both.person, "csv")

    text = response.content.decode()
    assert "11,11" in text and "77,77" in text
    assert "88,88" in text


# A new membership ----------------------------------------------------------------------


def test_an_applicants_iban_becomes_the_iban_of_their_new_membership_only(shared, client):
    third = factories.make_community(name="CER Collina")
    referente_c = factories.make_user_with_role(third, role="REFERENTE", username="referente-c")
    application = factories.make_application(third, member=shared.person, iban=NEW_IBAN)
    sign_in(client, referente_c)

    response = client.post(
        reverse("members:application", args=[application.pk]),
        {"action": "approve", "valid_from": "2025-04-01"},
    )

    assert response.status_code == 302
    joined = Membership.objects.get(member=shared.person, community=third)
    assert joined.iban == NEW_IBAN
    shared.refresh()
    assert (shared.in_a.iban, shared.in_b.iban) == (IBAN_A, IBAN_B)
    entry = AuditEntry.objects.get(code="members.application.approved")
    assert entry.changes["iban"] == ["", masked(NEW_IBAN)]
