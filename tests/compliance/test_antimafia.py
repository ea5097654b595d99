"""The anti-mafia file: when it is needed (threshold and dates), who is checked, the
declarations with their family members, signature, expiry, reminders and the BDNA export."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from cer.audit.models import AuditEntry
from cer.compliance import antimafia
from cer.compliance.antimafia import DeclarationState
from cer.compliance.errors import ComplianceError
from cer.compliance.models import AntimafiaDeclaration, OfficeHolder
from cer.compliance.notices import remind_declarations
from cer.grants import services as grant_services
from cer.notifications.delivery import deliver_due
from tests.compliance.conftest import NOW, holder, pdf_upload, relative
from tests.documents import pki as test_pki
from tests.factories.identifiers import valid_personal_code
from tests.grants.helpers import granted_application
from tests.members.smtp import body_of

pytestmark = pytest.mark.django_db


def _other_grant(small, amount: str, day: dt.date):
    return grant_services.add_other_grant(
        plant=small.plant,
        source="Regione Veneto",
        amount_eur=amount,
        grant_date=day,
        actor=None,
        now=NOW,
    )


def _required_community(small):
    """20,000 EUR PNRR grant (1 Aug 2025) + 135,000 EUR regional grant (1 Sep 2025)."""
    granted_application(small)
    _other_grant(small, "135000.00", dt.date(2025, 9, 1))
    return small.community


# -- When the file is needed -------------------------------------------------------------------


def test_the_file_is_needed_only_from_the_day_the_grants_pass_the_threshold(small):
    community = _required_community(small)

    before = antimafia.file_need(community, day=dt.date(2025, 8, 31))
    on = antimafia.file_need(community, day=dt.date(2025, 9, 1))

    assert (before.required, before.total_eur) == (False, Decimal("20000.00"))
    assert (on.required, on.total_eur) == (True, Decimal("155000.00"))
    assert on.threshold is not None and on.threshold.amount_eur == Decimal("150000.00")
    assert "art. 91" in on.threshold.source


def test_grants_adding_up_to_exactly_the_threshold_do_not_need_the_file(small):
    granted_application(small)
    _other_grant(small, "130000.00", dt.date(2025, 9, 1))

    need = antimafia.file_need(small.community, day=dt.date(2025, 9, 2))

    assert need.total_eur == Decimal("150000.00")
    assert need.required is False  # art. 91: "superiore a 150.000 euro"


def test_a_pnrr_file_counts_from_its_decision_not_before(small):
    granted_application(small, granted="20000.00")  # decided on 1 Aug 2025

    assert antimafia.grants_on_record(small.community, day=dt.date(2025, 7, 31)) == []
    (grant,) = antimafia.grants_on_record(small.community, day=dt.date(2025, 8, 1))
    assert (grant.amount_eur, grant.on_date) == (Decimal("20000.00"), dt.date(2025, 8, 1))


# -- Who is checked ----------------------------------------------------------------------------


def test_the_subjects_are_the_checked_roles_in_office_on_the_day(small):
    community = small.community
    representative = holder(community, role="LEGAL_REP", seed=1)
    board = holder(community, role="BOARD", seed=2, name="Anna Verdi")
    auditor = holder(community, role="AUDITOR", seed=3, name="Carlo Neri")
    holder(community, role="OTHER", seed=4, name="Segretaria")
    holder(
        community,
        role="BOARD",
        seed=5,
        name="Ex consigliere",
        valid_to=dt.date(2025, 9, 1),
    )
    holder(community, role="BOARD", seed=6, name="Futuro", valid_from=dt.date(2025, 10, 1))

    subjects = antimafia.subjects(community, day=dt.date(2025, 9, 15))

    assert set(subjects) == {representative, board, auditor}


def test_a_bad_tax_code_is_refused_naming_the_field_and_nothing_is_stored(small):
    with pytest.raises(ComplianceError) as refused:
        antimafia.add_office_holder(
            community=small.community,
            full_name="Mario Rossi",
            tax_code="RSSMRA80A01H501X",
            role="LEGAL_REP",
            valid_from=dt.date(2024, 9, 12),
            actor=None,
            now=NOW,
        )

    assert list(refused.value.errors) == ["tax_code"]
    assert not OfficeHolder.objects.exists()


def test_the_same_person_cannot_hold_the_same_office_twice_at_once(small):
    holder(small.community, seed=1)

    with pytest.raises(ComplianceError) as refused:
        holder(small.community, seed=1, valid_from=dt.date(2025, 1, 1))

    assert "tax_code" in refused.value.errors


# -- Declarations ------------------------------------------------------------------------------


def test_a_minor_family_member_is_refused_naming_the_row_and_nothing_is_stored(small, pdf):
    person = holder(small.community)

    with pytest.raises(ComplianceError) as refused:
        antimafia.record_declaration(
            holder=person,
            signed_date=dt.date(2025, 9, 10),
            relatives=[relative(), relative(51, birth="2010-01-01", relation="figlio")],
            upload=pdf_upload(pdf),
            actor=None,
            now=NOW,
        )

    assert list(refused.value.errors) == ["relatives[1].birth_date"]
    assert not AntimafiaDeclaration.objects.exists()
    assert not small.community.documents.exists()


def test_a_declaration_is_valid_six_months_then_to_renew_then_expired(small, pdf):
    person = holder(small.community)
    declaration = antimafia.record_declaration(
        holder=person,
        signed_date=dt.date(2025, 9, 10),
        relatives=[relative()],
        upload=pdf_upload(pdf),
        actor=None,
        now=NOW,
    )

    def state_on(day):
        return antimafia.declaration_state(antimafia.latest_declaration(person, day=day), day=day)

    assert declaration.valid_until == dt.date(2026, 3, 10)
    assert state_on(dt.date(2025, 9, 9)) == DeclarationState.MISSING
    assert state_on(dt.date(2026, 2, 7)) == DeclarationState.VALID
    assert state_on(dt.date(2026, 2, 8)) == DeclarationState.EXPIRING
    assert state_on(dt.date(2026, 3, 10)) == DeclarationState.EXPIRED
    assert declaration.relatives[0]["tax_code"] == valid_personal_code(50)


def test_an_unsigned_declaration_is_stored_with_its_check_never_as_valid(small, pdf):
    person = holder(small.community)
    antimafia.record_declaration(
        holder=person,
        signed_date=dt.date(2025, 9, 10),
        relatives=[],
        upload=pdf_upload(pdf),
        actor=None,
        now=NOW,
    )

    (row,) = antimafia.subject_rows(small.community, day=dt.date(2025, 9, 15))

    assert row.signature is not None
    assert row.signature.status == "INVALID"


def test_a_signed_declaration_uploaded_through_the_page_shows_its_signature(
    client_of, small, pki, pdf
):
    person = holder(small.community, name="Mario Rossi")
    signed = test_pki.sign_pdf(pki, pki.signer, pdf)
    today = timezone.localdate()

    response = client_of.post(
        reverse("compliance:declaration_add", kwargs={"pk": small.community.pk}),
        {
            "holder": person.pk,
            "signed_date": (today - dt.timedelta(days=3)).isoformat(),
            "relatives": f"Lucia Bianchi; {valid_personal_code(50)}; 1980-05-02; coniuge",
            "file": pdf_upload(signed, "dichiarazione-firmata.pdf"),
        },
    )
    page = client_of.get(reverse("compliance:antimafia", kwargs={"pk": small.community.pk}))

    assert response.status_code == 302
    declaration = AntimafiaDeclaration.objects.get()
    assert declaration.relatives[0]["full_name"] == "Lucia Bianchi"
    html = page.content.decode()
    assert "subject-VALID" in html
    assert "Mario Rossi" in html and "RSSMRA" in html  # the signer, from the certificate
    assert AuditEntry.objects.filter(code="compliance.declaration.recorded").count() == 1


def test_a_bad_family_member_line_comes_back_on_the_page_naming_it(client_of, small, pdf):
    person = holder(small.community)

    response = client_of.post(
        reverse("compliance:declaration_add", kwargs={"pk": small.community.pk}),
        {
            "holder": person.pk,
            "signed_date": "2025-09-10",
            "relatives": "Lucia Bianchi; RSSMRA80A01H501X; 1980-05-02; coniuge",
            "file": pdf_upload(pdf),
        },
    )

    assert response.status_code == 400
    assert "Family member 1, tax_code" in response.content.decode()
    assert not AntimafiaDeclaration.objects.exists()


# -- Pages -------------------------------------------------------------------------------------


def test_adding_an_office_holder_through_the_page_with_a_bad_date_names_the_field(client_of, small):
    url = reverse("compliance:holder_add", kwargs={"pk": small.community.pk})

    response = client_of.post(
        url,
        {
            "full_name": "Mario Rossi",
            "tax_code": valid_personal_code(1),
            "role": "LEGAL_REP",
            "valid_from": "2025-09-10",
            "valid_to": "2025-09-01",
        },
    )

    assert response.status_code == 400
    assert "The office must end after it begins." in response.content.decode()
    assert not OfficeHolder.objects.exists()


def test_ending_an_office_asks_for_confirmation_then_is_audited(client_of, small):
    person = holder(small.community)
    url = reverse("compliance:holder_end", kwargs={"pk": small.community.pk})
    data = {"holder": person.pk, "valid_to": "2025-10-01"}

    asked = client_of.post(url, data)
    person.refresh_from_db()
    assert asked.status_code == 200 and person.valid_to is None
    assert "art. 86 c. 3" in asked.content.decode()

    done = client_of.post(url, {**data, "confirmed": "yes"})

    person.refresh_from_db()
    assert done.status_code == 302
    assert person.valid_to == dt.date(2025, 10, 1)
    assert AuditEntry.objects.filter(code="compliance.office_holder.ended").count() == 1


def test_a_plain_member_cannot_open_the_anti_mafia_file(client, small):
    from tests import factories

    member = factories.make_user_with_role(small.community, role="MEMBER", username="socio-cmp")
    client.force_login(member)

    response = client.get(reverse("compliance:antimafia", kwargs={"pk": small.community.pk}))

    assert response.status_code == 403


# -- Reminders ---------------------------------------------------------------------------------


def test_a_declaration_about_to_lapse_is_e_mailed_to_the_referente_once(
    small, referente_of, pdf, smtp_server
):
    community = _required_community(small)
    person = holder(community, name="Mario Rossi")
    antimafia.record_declaration(
        holder=person,
        signed_date=dt.date(2025, 9, 10),
        relatives=[relative()],
        upload=pdf_upload(pdf),
        actor=None,
        now=NOW,
    )
    board = holder(community, role="BOARD", seed=2, name="Anna Verdi")
    early = dt.datetime(2026, 1, 15, 9, 0, tzinfo=dt.UTC)
    soon = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)

    quiet = remind_declarations(early)  # Anna's is missing; Mario's is still valid
    told = remind_declarations(soon)
    again = remind_declarations(soon + dt.timedelta(hours=12))
    deliver_due(soon + dt.timedelta(days=1))

    assert (quiet, told, again) == (1, 1, 0)
    # Not urgent: both reach the referente in the daily digest, once.
    (message,) = smtp_server.messages
    assert message["To"] == "referente@example.org"
    text = body_of(message)
    assert f"{board.full_name} has not given" in text or f"{board.full_name} non" in text
    assert "Mario Rossi" in text and "10 marzo 2026" in text


def test_no_reminder_when_the_grants_stay_below_the_threshold(small, referente_of):
    granted_application(small)
    holder(small.community)

    assert remind_declarations(dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)) == 0


# -- Export ------------------------------------------------------------------------------------


def test_the_export_holds_the_index_the_family_members_and_the_declarations(client_of, small, pdf):
    person = holder(small.community, name="Mario Rossi")
    holder(small.community, role="AUDITOR", seed=3, name="Carlo Neri")
    today = timezone.localdate()
    antimafia.record_declaration(
        holder=person,
        signed_date=today - dt.timedelta(days=3),
        relatives=[relative(), relative(51, name="Paolo Rossi", relation="figlio")],
        upload=pdf_upload(pdf),
        actor=None,
        now=timezone.now(),
    )

    with translation.override("it"):  # the file for the prefecture, in Italian by default
        url = reverse("compliance:export", kwargs={"pk": small.community.pk})
    response = client_of.get(url)

    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    index = list(
        csv.reader(io.StringIO(archive.read("soggetti.csv").decode("utf-8-sig")), delimiter=";")
    )
    relatives = list(
        csv.reader(io.StringIO(archive.read("familiari.csv").decode("utf-8-sig")), delimiter=";")
    )
    by_code = {row[0]: row for row in index[1:]}
    mario = by_code[person.tax_code]
    assert mario[1] == "Mario Rossi" and mario[8] == "2"
    assert by_code[valid_personal_code(3)][7] == "mancante"  # Italian by default
    assert [row[1] for row in relatives[1:]] == ["Lucia Bianchi", "Paolo Rossi"]
    (stored,) = [name for name in archive.namelist() if name.startswith("documenti/")]
    assert mario[10] == stored
    assert archive.read(stored) == pdf
    assert AuditEntry.objects.filter(code="compliance.antimafia.exported").count() == 1
