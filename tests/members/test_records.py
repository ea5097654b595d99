"""The managers' member records, through the web: list, export, member page, IBAN, invitations."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from cer.audit.models import AuditEntry
from cer.members.models import Invitation, Membership
from tests import factories

NEW_IBAN = "IT53O0200801600000100123456"


@pytest.fixture
def people(community):
    """Three members: a household in Spinea, an enterprise that left, a future producer."""
    anna = factories.make_membership(
        community,
        member=factories.make_member(first_name="Anna", last_name="Bianchi", phone="041 5551234"),
    )
    bar = factories.make_membership(
        community,
        member=factories.make_member(
            kind="LEGAL",
            category="SME",
            first_name="",
            last_name="",
            company_name="Bar Centrale Srl",
            vat_number=factories.valid_vat_number(4321),
            fiscal_code=factories.valid_vat_number(4321),
        ),
        valid_to=dt.date(2025, 1, 1),
    )
    carlo = factories.make_membership(
        community,
        member=factories.make_member(first_name="Carlo", last_name="Verdi"),
        role="ADMINISTRATOR",
        valid_from=dt.date(2099, 1, 1),
    )
    return {"anna": anna, "bar": bar, "carlo": carlo}


def _names(response) -> list[str]:
    return [row.member.display_name for row in response.context["page"]]


def test_a_referente_searches_members_by_name_and_by_exact_tax_code(
    client, referente, community, people
):
    client.force_login(referente)
    url = reverse("members:member_list", args=[community.pk])

    by_name = client.get(url, {"q": "bianc"})
    code = people["anna"].member.fiscal_code.lower()
    by_code = client.get(url, {"q": f" {code} "})
    by_mail = client.get(url, {"q": people["anna"].member.email})

    assert by_name.status_code == 200
    assert _names(by_name) == ["Anna Bianchi"]
    assert _names(by_code) == ["Anna Bianchi"]
    assert _names(by_mail) == ["Anna Bianchi"]
    page = by_name.content.decode()
    assert reverse("member_record", args=[people["anna"].pk]) in page


def test_filters_on_status_category_role_and_configuration(client, referente, community, people):
    client.force_login(referente)
    url = reverse("members:member_list", args=[community.pk])
    factories.make_connection_point(community, people["anna"].member)

    today = _names(client.get(url))
    left = _names(client.get(url, {"status": "ended"}))
    later = _names(client.get(url, {"status": "future", "role": "ADMINISTRATOR"}))
    smes = _names(client.get(url, {"status": "all", "category": "SME"}))
    configuration = community.configurations.get()
    with_point = _names(client.get(url, {"configuration": configuration.pk}))

    assert "Anna Bianchi" in today and "Bar Centrale Srl" not in today
    assert "Carlo Verdi" not in today
    assert left == ["Bar Centrale Srl"]
    assert later == ["Carlo Verdi"]
    assert smes == ["Bar Centrale Srl"]
    assert with_point == ["Anna Bianchi"]


def test_sorting_and_pagination(client, referente, community, people):
    client.force_login(referente)
    url = reverse("members:member_list", args=[community.pk])
    for number in range(30):
        factories.make_membership(
            community, member=factories.make_member(last_name=f"Zeta {number:02d}")
        )

    first = client.get(url, {"status": "all"})
    backwards = client.get(url, {"status": "all", "sort": "-name"})
    second = client.get(url, {"status": "all", "page": 2})

    assert first.context["page"].paginator.count == 34
    assert len(first.context["page"]) == 25
    # A company by its name, a person by surname: "Bar…" before "Bianchi", then "Rossi…".
    assert _names(first)[:2] == ["Bar Centrale Srl", "Anna Bianchi"]
    assert _names(backwards)[0] == "Mario Zeta 29"
    assert len(second.context["page"]) == 9
    assert "page=2" in first.content.decode()


def test_the_csv_export_is_for_italian_excel(client, referente, community, people):
    client.force_login(referente)
    point = factories.make_connection_point(community, people["anna"].member)

    response = client.get(
        reverse("members:member_list", args=[community.pk]), {"q": "Bianchi", "export": "csv"}
    )

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    raw = response.content
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert len(rows) == 2
    header, anna = rows
    assert header[0] == "Socio"  # Italian by default
    assert anna[0] == "Anna Bianchi"
    assert anna[1] == people["anna"].member.fiscal_code
    assert anna[8] == "12 settembre 2024"
    assert anna[11] == point.pod


def test_the_xlsx_export_keeps_dates_as_dates(client, referente, community, people):
    client.force_login(referente)

    response = client.get(
        reverse("members:member_list", args=[community.pk]), {"status": "all", "export": "xlsx"}
    )

    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    names = [row[0] for row in rows[1:]]
    assert "Bar Centrale Srl" in names and "Anna Bianchi" in names
    bar = rows[1 + names.index("Bar Centrale Srl")]
    assert bar[9].date() == dt.date(2025, 1, 1)


def test_the_member_page_shows_the_record_and_links_each_statement(client, db):
    from cer.billing.models import Statement
    from tests.factories.billing import distributed_small

    _small, distribution = distributed_small()
    statement = Statement.objects.filter(distribution=distribution).order_by("pk").first()
    manager = factories.make_user_with_role(
        statement.configuration.community, role="REFERENTE", username="ref-small"
    )
    membership = Membership.objects.filter(
        member=statement.member, community=statement.configuration.community
    ).first()
    client.force_login(manager)

    response = client.get(reverse("member_record", args=[membership.pk]))

    page = response.content.decode()
    assert response.status_code == 200
    assert reverse("billing:statement", args=[statement.pk]) in page
    assert statement.member.fiscal_code in page


def test_a_plain_member_and_another_communitys_referente_cannot_open_records(
    client, member_user, community, people
):
    other = factories.make_community(name="CER Lontana")
    foreign_referente = factories.make_user_with_role(other, role="REFERENTE", username="lontano")
    anna = people["anna"]

    for user in (member_user, foreign_referente):
        client.force_login(user)
        assert client.get(reverse("member_record", args=[anna.pk])).status_code == 403
        listing = client.get(reverse("members:member_list", args=[community.pk]))
        assert listing.status_code == 403
        export = client.get(reverse("members:member_list", args=[community.pk]), {"export": "csv"})
        assert export.status_code == 403


def _edit_data(membership, iban):
    member = membership.member
    return {
        "m-iban": iban,
        "p-first_name": member.first_name,
        "p-last_name": member.last_name,
        "p-company_name": member.company_name,
        "p-email": member.email,
        "p-pec": "",
        "p-phone": member.phone,
        "p-address": member.address,
        "p-municipality": "027038",
    }


def test_an_iban_change_asks_for_confirmation_then_saves_audits_and_tells_the_member(
    client, referente, community, people, django_capture_on_commit_callbacks, mailoutbox
):
    anna = people["anna"]
    client.force_login(referente)
    url = reverse("members:membership_edit", args=[anna.pk])
    data = _edit_data(anna, NEW_IBAN)

    asked = client.post(url, data)
    anna.refresh_from_db()
    unchanged = anna.iban
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(url, {**data, "confirmed": "yes"})

    assert asked.status_code == 200
    assert "IT53…3456" in asked.content.decode()
    assert unchanged == factories.IBAN
    assert done.status_code == 302
    assert done["Location"] == reverse("member_record", args=[anna.pk])
    anna.refresh_from_db()
    assert anna.iban == NEW_IBAN
    entry = AuditEntry.objects.get(code="members.membership.iban_changed")
    assert entry.changes["iban"] == ["IT60…3456", "IT53…3456"]
    assert [message.to for message in mailoutbox] == [[anna.member.email]]


def test_a_contact_change_without_a_new_iban_needs_no_confirmation(
    client, referente, community, people
):
    anna = people["anna"]
    client.force_login(referente)

    response = client.post(
        reverse("members:membership_edit", args=[anna.pk]),
        {**_edit_data(anna, anna.iban), "p-phone": "041 5550000"},
    )

    assert response.status_code == 302
    anna.member.refresh_from_db()
    assert anna.member.phone == "+390415550000"


def _invite(client, community, email):
    return client.post(reverse("members:invite", args=[community.pk]), {"email": email})


def test_inviting_the_same_address_twice_offers_a_resend_instead(
    client, referente, community, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(referente)

    with django_capture_on_commit_callbacks(execute=True):
        first = _invite(client, community, "nuova@example.org")
        second = _invite(client, community, "NUOVA@example.org")

    assert first.status_code == 302
    assert second.status_code == 400
    assert "email" in second.context["form"].errors
    assert second.context["duplicate"].email == "nuova@example.org"
    assert Invitation.objects.filter(community=community).count() == 1
    assert len(mailoutbox) == 1


def _link_in(message) -> str:
    return re.search(r"https?://\S+/join/(\S+)/", message.body).group(1)


def test_a_resent_invitation_has_a_new_link_and_the_old_one_stops_working(
    client, referente, community, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(referente)
    with django_capture_on_commit_callbacks(execute=True):
        _invite(client, community, "nuova@example.org")
    invitation = Invitation.objects.get(community=community)
    old_token = _link_in(mailoutbox[0])

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("members:invitation_resend", args=[invitation.pk]))

    assert response.status_code == 302
    new_token = _link_in(mailoutbox[1])
    assert new_token != old_token
    client.logout()
    assert client.get(reverse("members:join", args=[old_token])).status_code == 410
    assert client.get(reverse("members:join", args=[new_token])).status_code == 200
    assert AuditEntry.objects.filter(code="members.invitation.resent").count() == 1


def test_a_revoked_invitation_link_no_longer_works_and_the_address_can_be_invited_again(
    client, referente, community
):
    invitation, token = factories.make_invitation(community, email="nuova@example.org")
    client.force_login(referente)

    response = client.post(reverse("members:invitation_revoke", args=[invitation.pk]))
    again = client.post(reverse("members:invitation_revoke", args=[invitation.pk]), follow=True)
    invited = _invite(client, community, "nuova@example.org")

    assert response.status_code == 302
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    assert "already used or revoked" in again.content.decode() or "revocato" in (
        again.content.decode()
    )
    assert invited.status_code == 302
    client.logout()
    assert client.get(reverse("members:join", args=[token])).status_code == 410
    assert AuditEntry.objects.filter(code="members.invitation.revoked").count() == 1


def test_a_plain_member_cannot_resend_or_revoke(client, member_user, community):
    invitation, _token = factories.make_invitation(community)
    client.force_login(member_user)

    resend = client.post(reverse("members:invitation_resend", args=[invitation.pk]))
    revoke = client.post(reverse("members:invitation_revoke", args=[invitation.pk]))

    assert resend.status_code == 403
    assert revoke.status_code == 403
    invitation.refresh_from_db()
    assert invitation.revoked_at is None


def test_the_member_list_links_the_applications_waiting_for_approval(client, referente, community):
    application = factories.make_application(community)
    client.force_login(referente)

    page = client.get(reverse("members:member_list", args=[community.pk])).content.decode()

    assert reverse("members:application", args=[application.pk]) in page


def test_the_application_page_warns_of_a_declared_pod_already_registered(
    client, referente, community
):
    application = factories.make_application(community, iban=factories.IBAN)
    declared = application.declared_points[0]["pod"]
    factories.make_connection_point(community, factories.make_member(), pod=declared)
    client.force_login(referente)

    response = client.get(reverse("members:application", args=[application.pk]))

    page = response.content.decode()
    assert response.status_code == 200
    assert "IT60…3456" in page
    assert response.context["points"][0]["problem"]
