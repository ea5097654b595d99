"""A member form with a bad identifier names the field, says why in Italian, saves nothing."""

from __future__ import annotations

import pytest
from django.forms import modelform_factory
from django.utils import translation

from cer.members.models import Member, Membership
from tests import factories

MemberForm = modelform_factory(Member, exclude=["user"])
# The IBAN is the membership's: the account one community pays to.
MembershipForm = modelform_factory(
    Membership, fields=["member", "community", "role", "kind", "valid_from", "iban"]
)

GOOD = {
    "kind": "NATURAL",
    "category": "HOUSEHOLD",
    "first_name": "Manuela",
    "last_name": "Ricci",
    "fiscal_code": "RCCMNL83S18D969H",
    "email": "manuela@example.org",
    "address": "Via Roma 3",
    "municipality": "027038",
}


def errors_for(**changes: str) -> dict[str, list[str]]:
    with translation.override("it"):
        form = MemberForm(data={**GOOD, **changes})
        form.is_valid()
        return {field: list(messages) for field, messages in form.errors.items()}


@pytest.mark.django_db
def test_a_valid_member_is_saved_with_codes_normalised():
    form = MemberForm(data={**GOOD, "fiscal_code": "rccmnl83s18d969h"})

    assert form.is_valid(), form.errors
    member = form.save()
    assert member.fiscal_code == "RCCMNL83S18D969H"


def _membership_form(iban: str) -> MembershipForm:
    member = factories.make_member()
    community = factories.make_community()
    return MembershipForm(
        data={
            "member": member.pk,
            "community": community.pk,
            "role": "MEMBER",
            "kind": "CONSUMER",
            "valid_from": "2025-01-01",
            "iban": iban,
        }
    )


@pytest.mark.django_db
def test_a_membership_iban_is_saved_normalised():
    form = _membership_form("IT60 X054 2811 1010 0000 0123 456")

    assert form.is_valid(), form.errors
    assert form.save().iban == "IT60X0542811101000000123456"


@pytest.mark.django_db
def test_an_invalid_membership_iban_is_reported_on_its_field_in_italian():
    with translation.override("it"):
        form = _membership_form("IT60X0542811101000000123457")
        form.is_valid()
        errors = {field: list(messages) for field, messages in form.errors.items()}

    assert list(errors) == ["iban"]
    assert "IBAN non è valido" in " ".join(errors["iban"])
    assert Membership.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("fiscal_code", "RCCMNL83S18D969A", "carattere di controllo"),
        ("vat_number", "00743110158", "cifra di controllo"),
        ("email", "non-una-email", "email"),
    ],
)
def test_an_invalid_identifier_is_reported_on_its_field_and_nothing_is_saved(field, value, words):
    errors = errors_for(**{field: value})

    assert list(errors) == [field]
    assert words in " ".join(errors[field])
    assert Member.objects.count() == 0


@pytest.mark.django_db
def test_a_natural_person_needs_a_sixteen_character_tax_code():
    errors = errors_for(fiscal_code="00743110157")

    assert "16 caratteri" in " ".join(errors["fiscal_code"])


@pytest.mark.django_db
def test_a_legal_person_cannot_be_a_household_and_needs_a_company_name():
    errors = errors_for(kind="LEGAL", fiscal_code="00743110157")

    assert set(errors) == {"company_name", "category"}
