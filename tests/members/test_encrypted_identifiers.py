"""Tax codes and VAT numbers are encrypted at rest and found through their blind indexes."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from cryptography.fernet import Fernet
from django.contrib.admin.sites import site
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.test import RequestFactory
from stdnum.it import codicefiscale

from cer.constitution.forms import FoundingMemberForm
from cer.distribution.forms import PolicyForm
from cer.members.forms import ProfileForm
from cer.members.models import Member
from cer.privacy.gdpr import erase_member
from tests import factories
from tests.api.conftest import assert_error, client_for

pytestmark = pytest.mark.django_db

CODE = factories.valid_personal_code(5)
VAT = factories.valid_vat_number(1_234_567)


def _raw_row(member: Member) -> tuple[str, str, str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT fiscal_code, vat_number, fiscal_code_index, vat_number_index "
            "FROM members_member WHERE id = %s",
            [member.pk],
        )
        return cursor.fetchone()


def _spaced_lower(code: str) -> str:
    return f" {code[:6].lower()} {code[6:]} "


def test_the_table_holds_no_plaintext_code_only_ciphertext_and_digests():
    member = factories.make_member(fiscal_code=CODE, vat_number=VAT)

    fiscal_code, vat_number, fiscal_code_index, vat_number_index = _raw_row(member)

    assert fiscal_code.startswith("fernet:") and CODE not in fiscal_code
    assert vat_number.startswith("fernet:") and VAT not in vat_number
    assert len(fiscal_code_index) == 64 and CODE not in fiscal_code_index
    assert len(vat_number_index) == 64 and fiscal_code_index != vat_number_index
    reread = Member.objects.get(pk=member.pk)
    assert (reread.fiscal_code, reread.vat_number) == (CODE, VAT)


def test_a_member_without_vat_number_has_a_blank_vat_index_that_finds_nobody():
    member = factories.make_member(fiscal_code=CODE)

    _fiscal_code, vat_number, _fiscal_code_index, vat_number_index = _raw_row(member)

    assert (vat_number, vat_number_index) == ("", "")
    assert not Member.objects.with_vat_number("").exists()


def _code_of(body: str) -> str:
    return body + codicefiscale.calc_check_digit(body)


def test_lookups_normalise_case_and_spaces():
    member = factories.make_member(fiscal_code=CODE, vat_number=VAT)
    factories.make_member()

    assert list(Member.objects.with_fiscal_code(_spaced_lower(CODE))) == [member]
    assert list(Member.objects.with_vat_number(f"{VAT[:5]} {VAT[5:]}")) == [member]
    # A code no factory makes (theirs all start RSSMRA), so no other member can hold it.
    assert not Member.objects.with_fiscal_code(_code_of("BNCGNN85C41H501")).exists()


def test_changing_the_code_with_update_fields_moves_the_index_too():
    member = factories.make_member(fiscal_code=CODE)
    other_code = factories.valid_personal_code(7)

    member.fiscal_code = other_code
    member.save(update_fields=["fiscal_code"])

    assert list(Member.objects.with_fiscal_code(other_code)) == [member]
    assert not Member.objects.with_fiscal_code(CODE).exists()


def test_the_database_refuses_a_second_member_with_the_same_code():
    factories.make_member(fiscal_code=CODE)

    with pytest.raises(IntegrityError), transaction.atomic():
        factories.make_member(fiscal_code=CODE.lower())


def test_full_clean_names_the_tax_code_field_for_a_duplicate():
    factories.make_member(fiscal_code=CODE)
    twin = Member(**{**_model_fields(), "fiscal_code": CODE.lower()})

    with pytest.raises(ValidationError) as caught:
        twin.full_clean()

    assert "fiscal_code" in caught.value.message_dict
    assert "fiscal_code_index" not in caught.value.message_dict


def _model_fields() -> dict[str, object]:
    from cer.core.models import Municipality

    return {
        "kind": "NATURAL",
        "category": "HOUSEHOLD",
        "first_name": "Lucia",
        "last_name": "Neri",
        "email": "lucia@example.org",
        "address": "Via Venezia 5",
        "municipality": Municipality.objects.get(pk=factories.SPINEA),
    }


def _form_data(code: str) -> dict[str, str]:
    return {
        "kind": "NATURAL",
        "category": "HOUSEHOLD",
        "first_name": "Lucia",
        "last_name": "Neri",
        "company_name": "",
        "fiscal_code": code,
        "vat_number": "",
        "email": "lucia@example.org",
        "pec": "",
        "phone": "",
        "address": "Via Venezia 5",
        "municipality": factories.SPINEA,
        "iban": "",
    }


@pytest.mark.parametrize("form_class", [FoundingMemberForm, ProfileForm])
def test_the_forms_refuse_a_registered_code_with_their_own_message(form_class):
    factories.make_member(fiscal_code=CODE)

    form = form_class(_form_data(f" {CODE.lower()} "))

    assert not form.is_valid()
    assert form.errors.as_data()["fiscal_code"][0].code == "registered"


def test_the_forms_accept_a_new_code_and_show_it_on_one_line():
    form = ProfileForm(_form_data(CODE))

    assert form.is_valid(), form.errors
    assert 'type="text"' in str(form["fiscal_code"])


def test_the_api_refuses_a_registered_code(community, referente):
    factories.make_member(fiscal_code=CODE)
    body = {
        "kind": "NATURAL",
        "category": "HOUSEHOLD",
        "first_name": "Giulia",
        "last_name": "Bianchi",
        "fiscal_code": CODE.lower(),
        "email": "giulia@example.org",
        "address": "Via Verdi 3",
        "municipality": factories.SPINEA,
        "community": community.pk,
        "valid_from": "2025-01-01",
    }

    response = client_for(referente).post("/api/v1/members", body, format="json")

    error = assert_error(response, 400, "invalid")
    assert list(error["fields"]) == ["fiscal_code"]
    assert Member.objects.with_fiscal_code(CODE).count() == 1


def test_the_api_lets_a_member_save_their_own_unchanged_code(member_user):
    member = member_user.member

    response = client_for(member_user).patch(
        f"/api/v1/members/{member.pk}", {"fiscal_code": member.fiscal_code}, format="json"
    )

    assert response.status_code == 200, response.json()


def test_the_admin_finds_a_member_by_an_exact_code_only():
    member = factories.make_member(fiscal_code=CODE, vat_number=VAT)
    factories.make_member()
    admin = site._registry[Member]
    request = RequestFactory().get("/")

    def search(term: str) -> list[Member]:
        found, _duplicates = admin.get_search_results(request, Member.objects.all(), term)
        return list(found)

    assert search(_spaced_lower(CODE)) == [member]
    assert search(VAT) == [member]
    assert search(CODE[:8]) == []


def test_rotation_keeps_codes_readable_and_lookups_working(settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [old]
    member = factories.make_member(fiscal_code=CODE, vat_number=VAT)
    before = _raw_row(member)
    settings.FIELD_ENCRYPTION_KEYS = [new, old]

    call_command("rotate_encryption_keys", stdout=io.StringIO())
    settings.FIELD_ENCRYPTION_KEYS = [new]

    after = _raw_row(member)
    assert after[0] != before[0] and after[1] != before[1]
    assert after[2:] == before[2:]
    reread = Member.objects.get(pk=member.pk)
    assert (reread.fiscal_code, reread.vat_number) == (CODE, VAT)
    assert list(Member.objects.with_fiscal_code(CODE)) == [member]


def test_reindex_after_a_new_secret_key_makes_lookups_work_again(settings):
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    member = factories.make_member(fiscal_code=CODE, vat_number=VAT)
    settings.SECRET_KEY = "another-secret-key-for-the-blind-indexes-0123456789"
    assert not Member.objects.with_fiscal_code(CODE).exists()

    call_command("rotate_encryption_keys", reindex=True, stdout=io.StringIO())

    assert list(Member.objects.with_fiscal_code(CODE)) == [member]
    assert list(Member.objects.with_vat_number(VAT)) == [member]


def test_erasure_replaces_the_code_and_its_index():
    member = factories.make_member(fiscal_code=CODE, vat_number=VAT)
    before = _raw_row(member)

    erase_member(
        member=member,
        actor=None,
        reason="richiesta dell'interessato",
        now=dt.datetime(2025, 6, 1, 10, tzinfo=dt.UTC),
    )

    after = _raw_row(member)
    assert after[2] != before[2] and after[3] == ""
    assert not Member.objects.with_fiscal_code(CODE).exists()
    assert not Member.objects.with_vat_number(VAT).exists()
    assert list(Member.objects.with_fiscal_code(Member.objects.get(pk=member.pk).fiscal_code)) == [
        member
    ]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_migration_encrypts_existing_rows_and_going_back_restores_them():
    from django.db.migrations.executor import MigrationExecutor

    def migrate_members_to(name: str) -> None:
        executor = MigrationExecutor(connection)
        executor.migrate([("members", name)])

    def migrate_everything_forward() -> None:
        # Going back also unapplied the migrations of other apps that depend on this one.
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())

    migrate_members_to("0003_encrypt_iban")
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO members_member (kind, category, first_name, last_name, "
                "company_name, fiscal_code, vat_number, email, pec, phone, address, "
                "municipality_id, iban, created_at) VALUES ('LEGAL', 'SME', '', '', 'Ditta', "
                "%s, %s, 'ditta@example.org', '', '', 'Via Roma 1', %s, '', %s)",
                [VAT, VAT, factories.SPINEA, dt.datetime(2025, 1, 1, tzinfo=dt.UTC)],
            )
        migrate_members_to("0004_encrypt_tax_codes")
        member = Member.objects.with_fiscal_code(VAT).get()
        encrypted = _raw_row(member)
        migrate_members_to("0003_encrypt_iban")
        with connection.cursor() as cursor:
            cursor.execute("SELECT fiscal_code, vat_number FROM members_member")
            restored = cursor.fetchall()
    finally:
        migrate_everything_forward()

    assert encrypted[0].startswith("fernet:") and encrypted[1].startswith("fernet:")
    assert list(Member.objects.with_vat_number(VAT)) == [member]
    assert restored == [(VAT, VAT)]


def test_settlement_weights_find_members_by_tax_code_in_any_case(community):
    member = factories.make_membership(
        community, member=factories.make_member(fiscal_code=CODE)
    ).member
    form = PolicyForm(community=community)
    form.cleaned_data = {"custom_weights": f"{CODE.lower()} = 2\n"}

    assert form.clean_custom_weights() == {member.pk: Decimal("2")}
