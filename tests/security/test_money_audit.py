"""Everything that moves money or access leaves an audit entry its community's managers see.

Bank details (memberships, invoicing profile, payout debtor), roles, device accounts,
finalisations, payout files and parameter overrides, through the pages, the admin and
the API; personal data and bank details masked in every entry.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from cer.audit.models import AuditEntry, AuditEntryIsAppendOnly
from cer.incentives.models import RegulatoryParameter
from cer.members.changes import mask_iban
from cer.members.models import Membership
from cer.metering import broker
from cer.metering.models import Device
from tests import factories
from tests.factories.billing import make_statement
from tests.factories.settlement import make_settlement_run
from tests.security.test_shared_member import IBAN_B, NEW_IBAN, api_as, masked, sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser(db) -> User:
    return User.objects.create_superuser("radice", "radice@example.org", "prova-password-2025")


def _entries(code: str):
    return list(AuditEntry.objects.filter(code=code).order_by("pk"))


def _no_full_iban_in_the_log(*ibans: str) -> None:
    logged = json.dumps(list(AuditEntry.objects.values_list("changes", flat=True)))
    for iban in ibans:
        assert iban not in logged


def test_an_iban_is_masked_to_country_check_digits_and_last_four():
    assert mask_iban("it60 x054 2811 1010 0000 0123 456") == "IT60…3456"
    assert mask_iban("") == ""


# The admin ---------------------------------------------------------------------------


def _membership_form(membership: Membership, **changes: str) -> dict[str, str]:
    data = {
        "member": str(membership.member_id),
        "community": str(membership.community_id),
        "role": membership.role,
        "kind": membership.kind,
        "valid_from": membership.valid_from.isoformat(),
        "valid_to": "",
        "iban": membership.iban,
        "_save": "Save",
    }
    data.update(changes)
    return data


def test_an_iban_changed_in_the_admin_is_logged_for_its_community_and_announced(
    community, superuser, client, mailoutbox, django_capture_on_commit_callbacks
):
    membership = factories.make_membership(community)
    sign_in(client, superuser)
    url = reverse("admin:members_membership_change", args=[membership.pk])

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, _membership_form(membership, iban=NEW_IBAN))

    assert response.status_code == 302, response.content.decode()[:2000]
    membership.refresh_from_db()
    assert membership.iban == NEW_IBAN
    [entry] = _entries("members.membership.iban_changed")
    assert (entry.community, entry.actor) == (community, superuser)
    assert entry.changes == {"iban": [masked(factories.IBAN), masked(NEW_IBAN)]}
    assert [m.to for m in mailoutbox] == [[membership.member.email]]
    _no_full_iban_in_the_log(NEW_IBAN)


def test_a_role_changed_in_the_admin_is_logged_for_its_community(community, superuser, client):
    membership = factories.make_membership(community)
    sign_in(client, superuser)
    url = reverse("admin:members_membership_change", args=[membership.pk])

    client.post(url, _membership_form(membership, role="ADMINISTRATOR"))

    [entry] = _entries("members.membership.changed")
    assert entry.community == community
    assert entry.changes == {"role": ["MEMBER", "ADMINISTRATOR"]}
    assert _entries("members.membership.iban_changed") == []


def test_an_iban_changed_in_the_members_inline_is_logged_for_each_community(
    community, superuser, client, mailoutbox, django_capture_on_commit_callbacks
):
    other = factories.make_community(name="CER Bosco")
    in_a = factories.make_membership(community)
    person = in_a.member
    in_b = Membership.objects.create(
        member=person, community=other, valid_from=dt.date(2024, 9, 12), iban=IBAN_B
    )
    sign_in(client, superuser)
    data = {
        "kind": person.kind,
        "category": person.category,
        "first_name": person.first_name,
        "last_name": person.last_name,
        "company_name": "",
        "fiscal_code": person.fiscal_code,
        "vat_number": "",
        "email": person.email,
        "pec": "",
        "phone": "",
        "address": person.address,
        "municipality": person.municipality_id,
        "user": "",
        "memberships-TOTAL_FORMS": "2",
        "memberships-INITIAL_FORMS": "2",
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
        "_save": "Save",
    }
    for index, (membership, iban) in enumerate(((in_a, NEW_IBAN), (in_b, NEW_IBAN))):
        data.update(
            {
                f"memberships-{index}-id": str(membership.pk),
                f"memberships-{index}-member": str(person.pk),
                f"memberships-{index}-community": str(membership.community_id),
                f"memberships-{index}-role": membership.role,
                f"memberships-{index}-kind": membership.kind,
                f"memberships-{index}-valid_from": membership.valid_from.isoformat(),
                f"memberships-{index}-valid_to": "",
                f"memberships-{index}-iban": iban,
            }
        )

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:members_member_change", args=[person.pk]), data)

    assert response.status_code == 302, response.content.decode()[:3000]
    entries = _entries("members.membership.iban_changed")
    assert sorted(e.community_id for e in entries) == sorted([community.pk, other.pk])
    assert len(mailoutbox) == 2
    _no_full_iban_in_the_log(NEW_IBAN, IBAN_B)


def test_a_parameter_override_changed_in_the_admin_is_logged(superuser, client):
    parameter = RegulatoryParameter.objects.create(
        code="valorisation_eur_per_mwh", value="8.480000", valid_from=dt.date(2025, 1, 1)
    )
    sign_in(client, superuser)
    url = reverse("admin:incentives_regulatoryparameter_change", args=[parameter.pk])

    client.post(
        url,
        {
            "code": parameter.code,
            "value": "9.000000",
            "unit": "",
            "valid_from": "2025-01-01",
            "valid_to": "",
            "source": "",
            "confidence": parameter.confidence,
            "_save": "Save",
        },
    )

    [entry] = _entries("incentives.parameter.changed")
    assert entry.actor == superuser
    assert entry.changes == {"value": ["8.480000", "9.000000"]}


# Roles through the API ---------------------------------------------------------------


def test_a_role_changed_through_the_api_is_logged_and_shown_to_the_communitys_managers(
    community, referente, client
):
    membership = factories.make_membership(community)

    response = api_as(referente).patch(
        f"/api/v1/memberships/{membership.pk}", {"role": "ADMINISTRATOR"}, format="json"
    )
    page = sign_in(client, referente).get(reverse("audit:community_log", args=[community.pk]))

    assert response.status_code == 200, response.content
    [entry] = _entries("members.membership.changed")
    assert entry.community == community
    assert entry.changes == {"role": ["MEMBER", "ADMINISTRATOR"]}
    assert "role: MEMBER → ADMINISTRATOR" in page.content.decode()
    # The action reads in words, in the page's language.
    assert "Adesione modificata" in page.content.decode()


def test_a_membership_iban_changed_through_the_api_is_logged_masked(
    community, referente, mailoutbox, django_capture_on_commit_callbacks
):
    membership = factories.make_membership(community)

    with django_capture_on_commit_callbacks(execute=True):
        response = api_as(referente).patch(
            f"/api/v1/memberships/{membership.pk}", {"iban": NEW_IBAN}, format="json"
        )

    assert response.status_code == 200, response.content
    assert response.json()["iban"] == NEW_IBAN
    [entry] = _entries("members.membership.iban_changed")
    assert entry.community == community
    assert len(mailoutbox) == 1
    _no_full_iban_in_the_log(NEW_IBAN)


# The invoicing profile ---------------------------------------------------------------


def test_the_invoicing_profile_iban_change_is_logged_masked(community, referente, client):
    sign_in(client, referente)
    url = reverse("billing:invoicing_settings", args=[community.pk])
    form = {"regime_fiscale": "RF01", "seat_postal_code": "30038", "iban": factories.IBAN}
    client.post(url, form)

    response = client.post(url, {**form, "iban": NEW_IBAN})

    assert response.status_code == 302
    first, second = _entries("billing.invoicing_profile.changed")
    assert (second.community, second.actor) == (community, referente)
    assert second.changes == {"iban": [masked(factories.IBAN), masked(NEW_IBAN)]}
    assert first.changes["iban"] == ["", masked(factories.IBAN)]
    _no_full_iban_in_the_log(NEW_IBAN, factories.IBAN)


# Device accounts on the web ----------------------------------------------------------


@pytest.fixture
def fake_broker(monkeypatch):
    calls: list[str] = []

    @contextlib.contextmanager
    def session(_session):
        yield object()

    from cer.metering import devices

    monkeypatch.setattr(devices, "_session", session)
    for name in (
        "create_device_account",
        "set_device_password",
        "delete_device_account",
        "disable_device",
        "enable_device",
    ):
        monkeypatch.setattr(broker, name, lambda name=name, **kw: calls.append(name))
    return calls


def test_device_accounts_created_rotated_disabled_enabled_deleted_on_the_web_are_logged(
    community, referente, client, fake_broker
):
    point = factories.make_connection_point(community, referente.member)
    sign_in(client, referente)
    created = client.post(
        reverse("metering:device_list", kwargs={"community_id": community.pk}),
        {"point": point.pk, "name": "contatore", "kind": "OWN_JSON", "meter_channel": 0},
    )
    device = Device.objects.get(connection_point=point)
    action_url = reverse("metering:device_action", kwargs={"community_id": community.pk})

    for action in ("rotate", "disable", "enable", "delete"):
        client.post(action_url, {"device": device.pk, "action": action})

    assert created.status_code == 200
    entries = list(AuditEntry.objects.filter(code__startswith="metering.device.").order_by("pk"))
    assert [e.code for e in entries] == [
        "metering.device.created",
        "metering.device.rotated",
        "metering.device.disabled",
        "metering.device.enabled",
        "metering.device.deleted",
    ]
    assert {(e.community_id, e.actor_id, e.target_id) for e in entries} == {
        (community.pk, referente.pk, str(device.pk))
    }
    assert entries[2].changes == {"status": ["ACTIVE", "DISABLED"]}
    assert entries[1].changes == {"secret": ["[old]", "[new]"]}


# Payouts and finalisations -----------------------------------------------------------


def test_a_payout_logs_the_masked_debtor_and_each_download_of_its_file(
    community, referente, client
):
    configuration = community.configurations.get()
    make_statement(
        make_settlement_run(configuration, status="FINAL"), referente.member, amount="25.00"
    )
    sign_in(client, referente)

    created = client.post(
        reverse("billing:payouts", args=[configuration.pk]),
        {
            "period_start": "2025-03",
            "period_end": "2025-03",
            "debtor_name": "CER Prova ETS",
            "debtor_iban": NEW_IBAN,
            "debtor_bic": "BPPIITRRXXX",
            "execution_date": "",
            "confirmed": "yes",
        },
    )
    client.get(created["Location"] + "pain001.xml")

    [made] = _entries("billing.payout.created")
    [downloaded] = _entries("billing.payout.downloaded")
    assert made.community == downloaded.community == community
    assert made.changes["debtor_iban"] == masked(NEW_IBAN)
    assert downloaded.actor == referente
    _no_full_iban_in_the_log(NEW_IBAN, factories.IBAN)


def test_a_payout_batch_cannot_be_deleted_in_the_admin(community, superuser, client):
    from tests.factories.billing import make_payout_batch

    batch = make_payout_batch(community.configurations.get())
    sign_in(client, superuser)

    response = client.post(
        reverse("admin:billing_payoutbatch_delete", args=[batch.pk]), {"post": "yes"}
    )

    assert response.status_code == 403
    assert type(batch).objects.filter(pk=batch.pk).exists()


def test_a_finalised_run_is_logged_for_its_community(community, referente, client):
    run = make_settlement_run(community.configurations.get())
    sign_in(client, referente)

    client.post(reverse("settlement:run_finalise", args=[run.pk]), {"confirmed": "yes"})

    [entry] = _entries("settlement.run.finalised")
    assert (entry.community, entry.actor) == (community, referente)


# The community's audit page ----------------------------------------------------------


def test_the_audit_page_is_for_the_communitys_managers_only(
    community, referente, member_user, outsider, client
):
    url = reverse("audit:community_log", args=[community.pk])

    answers = {
        name: sign_in(client, user).get(url).status_code
        for name, user in (
            ("referente", referente),
            ("member", member_user),
            ("outsider", outsider),
        )
    }
    client.logout()

    assert answers == {"referente": 200, "member": 403, "outsider": 403}
    assert client.get(url).status_code == 302


def test_the_audit_page_is_paginated_newest_first_and_shows_only_its_community(
    community, referente, outsider, client
):
    from cer.audit.services import record

    other = Membership.objects.get(member__user=outsider).community
    start = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
    for minute in range(60):
        record(
            actor=None,
            code="test.entry.made",
            now=start + dt.timedelta(minutes=minute),
            community=community,
            changes={"n": minute},
        )
    record(actor=None, code="test.elsewhere", now=start, community=other)
    sign_in(client, referente)
    url = reverse("audit:community_log", args=[community.pk])

    first = client.get(url)
    second = client.get(url, {"page": 2})

    assert [row["entry"].changes["n"] for row in first.context["rows"]][:2] == [59, 58]
    assert len(first.context["rows"]) == 50
    assert len(second.context["rows"]) == 10
    assert "test.elsewhere" not in first.content.decode() + second.content.decode()


def test_the_audit_page_changes_nothing(community, referente, client):
    sign_in(client, referente)

    response = client.post(reverse("audit:community_log", args=[community.pk]))

    assert response.status_code == 405


def test_the_audit_log_stays_append_only(community):
    from cer.audit.services import record

    entry = record(actor=None, code="test.entry", now=dt.datetime(2025, 3, 1, tzinfo=dt.UTC))

    with pytest.raises(AuditEntryIsAppendOnly):
        entry.save()
    with pytest.raises(AuditEntryIsAppendOnly):
        entry.delete()
