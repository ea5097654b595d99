"""Every validator with real valid and invalid codes; messages come in Italian by default."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from cer.core.validators import (
    validate_fiscal_code,
    validate_iban,
    validate_istat_code,
    validate_not_in_future,
    validate_not_negative,
    validate_percentage,
    validate_pod,
    validate_vat_number,
)


def message_of(validator, value, **kwargs) -> str:
    with translation.override("it"):
        with pytest.raises(ValidationError) as caught:
            validator(value, **kwargs)
        # Messages are lazy: render them while Italian is active.
        return " ".join(caught.value.messages)


@pytest.mark.parametrize(
    "code",
    ["RCCMNL83S18D969H", "rccmnl83s18d969h", "RSSMRA80A01I908W", "00743110157"],
)
def test_valid_fiscal_codes_are_accepted(code):
    validate_fiscal_code(code)


def test_fiscal_code_with_wrong_check_character_is_refused_in_italian():
    assert "carattere di controllo" in message_of(validate_fiscal_code, "RCCMNL83S18D969A")


def test_fiscal_code_of_wrong_length_says_how_long_it_is():
    assert "15" in message_of(validate_fiscal_code, "RCCMNL83S18D969")


def test_fiscal_code_with_impossible_birth_date_is_refused():
    # Day 72 does not exist (women add 40 to the day: 41..71).
    body = "RCCMNL83S72D969"
    from stdnum.it import codicefiscale

    with pytest.raises(ValidationError):
        validate_fiscal_code(body + codicefiscale.calc_check_digit(body))


@pytest.mark.parametrize("number", ["00743110157", "IT00743110157", "01114601006"])
def test_valid_vat_numbers_are_accepted(number):
    validate_vat_number(number)


def test_vat_number_with_wrong_check_digit_is_refused_in_italian():
    assert "cifra di controllo" in message_of(validate_vat_number, "00743110158")


def test_vat_number_with_letters_is_refused():
    assert "11 cifre" in message_of(validate_vat_number, "0074311015A")


@pytest.mark.parametrize(
    "iban", ["IT60X0542811101000000123456", "it60 x054 2811 1010 0000 0123 456"]
)
def test_valid_iban_is_accepted(iban):
    validate_iban(iban)


def test_iban_with_wrong_checksum_is_refused_in_italian():
    assert "IBAN non è valido" in message_of(validate_iban, "IT60X0542811101000000123457")


def test_iban_with_wrong_italian_cin_is_refused():
    # Same ABI/CAB/account, national check character changed from X to Y, IBAN digits fixed.
    from schwifty import IBAN

    bad = "IT" + "00" + "Y0542811101000000123456"
    with pytest.raises(ValueError):
        IBAN(bad)
    with pytest.raises(ValidationError):
        validate_iban(bad)


@pytest.mark.parametrize("pod", ["IT001E12345678", "it001e12345678", "IT012E123456789"])
def test_valid_pod_codes_are_accepted(pod):
    validate_pod(pod)


@pytest.mark.parametrize(
    "pod", ["IT001X12345678", "FR001E12345678", "IT001E1234567", "IT01E12345678"]
)
def test_malformed_pod_codes_are_refused_in_italian(pod):
    assert "codice POD" in message_of(validate_pod, pod)


@pytest.mark.django_db
def test_known_istat_code_is_accepted_and_unknown_refused():
    validate_istat_code("027038")

    assert "Nessun comune" in message_of(validate_istat_code, "999999")
    assert "sei cifre" in message_of(validate_istat_code, "27038")


def test_negative_values_and_bad_percentages_are_refused():
    validate_not_negative(Decimal("0"))

    assert "negativo" in message_of(validate_not_negative, Decimal("-0.001"))
    assert "tra 0 e 100" in message_of(validate_percentage, Decimal("100.01"))


def test_future_date_is_refused_against_the_given_today():
    today = dt.date(2025, 3, 30)

    validate_not_in_future(today, today=today)
    assert "2025-03-31" in message_of(validate_not_in_future, dt.date(2025, 3, 31), today=today)
