"""Validators for Italian identifiers: codice fiscale, partita IVA, IBAN, POD, ISTAT code.

Each raises a ValidationError whose message names the problem in the user's language
(Italian by default); the form or model field it is attached to names the field.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from schwifty import IBAN
from schwifty.exceptions import SchwiftyException
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.it import codicefiscale, iva

# POD: "IT", three digits for the distributor, "E", eight digits (ARERA 2006 coding;
# e-distribuzione is 001). Some distributors use a ninth digit in the last block.
POD_PATTERN = re.compile(r"^IT\d{3}E\d{8,9}$")
ISTAT_PATTERN = re.compile(r"^\d{6}$")


def normalise_code(value: str) -> str:
    """Return an identifier without spaces and in upper case, as registries print it."""
    return re.sub(r"\s+", "", value or "").upper()


def validate_personal_fiscal_code(value: str) -> None:
    """Accept a 16-character codice fiscale of a natural person with a correct check character."""
    code = normalise_code(value)
    if len(code) != 16:
        raise ValidationError(
            _("A personal tax code has 16 characters; this one has %(count)d."),
            code="length",
            params={"count": len(code)},
        )
    try:
        codicefiscale.validate(code)
    except StdnumError as error:
        raise _fiscal_code_error(error) from error


def validate_fiscal_code(value: str) -> None:
    """Accept a personal codice fiscale (16 characters) or a numeric one (11 digits)."""
    code = normalise_code(value)
    if len(code) == 11:
        validate_vat_number(code)
        return
    validate_personal_fiscal_code(code)


def _fiscal_code_error(error: StdnumError) -> ValidationError:
    name = type(error).__name__
    if name == "InvalidChecksum":
        return ValidationError(
            _("The check character of the tax code is wrong: check for a typo."),
            code="checksum",
        )
    if name == "InvalidComponent":
        return ValidationError(
            _("The tax code contains an impossible date of birth or place code."),
            code="component",
        )
    return ValidationError(_("This is not a valid Italian tax code."), code="invalid")


def validate_vat_number(value: str) -> None:
    """Accept an 11-digit partita IVA (or numeric codice fiscale) with a correct checksum."""
    code = normalise_code(value).removeprefix("IT")
    if not re.fullmatch(r"\d{11}", code):
        raise ValidationError(_("A VAT number has exactly 11 digits."), code="format")
    try:
        iva.validate(code)
    except StdnumError as error:
        raise ValidationError(
            _("The check digit of the VAT number is wrong: check for a typo."),
            code="checksum",
        ) from error


def validate_iban(value: str) -> None:
    """Accept an IBAN whose checksum and national format (Italian CIN included) are right."""
    try:
        IBAN(normalise_code(value))
    except SchwiftyException as error:
        raise ValidationError(
            _("This IBAN is not valid (%(reason)s)."),
            code="iban",
            params={"reason": str(error)},
        ) from error


def validate_pod(value: str) -> None:
    """Accept an Italian POD code such as IT001E12345678."""
    if not POD_PATTERN.fullmatch(normalise_code(value)):
        raise ValidationError(
            _(
                "A POD code is IT, three digits of the distributor, E and eight digits "
                "(e.g. IT001E12345678)."
            ),
            code="pod",
        )


def validate_istat_code(value: str) -> None:
    """Accept the six-digit ISTAT code of an Italian municipality in the reference list."""
    from cer.core.models import Municipality

    if not ISTAT_PATTERN.fullmatch(value or ""):
        raise ValidationError(_("An ISTAT municipality code has six digits."), code="format")
    if not Municipality.objects.filter(istat_code=value).exists():
        raise ValidationError(
            _("No Italian municipality has ISTAT code %(code)s."),
            code="unknown",
            params={"code": value},
        )


def validate_not_negative(value: Decimal | int | None) -> None:
    """Refuse a negative power, energy or amount."""
    if value is not None and value < 0:
        raise ValidationError(_("The value cannot be negative."), code="negative")


def validate_percentage(value: Decimal | None) -> None:
    """Accept a percentage between 0 and 100."""
    if value is not None and not (0 <= value <= 100):
        raise ValidationError(_("A percentage lies between 0 and 100."), code="percentage")


def validate_not_in_future(value: dt.date | None, *, today: dt.date) -> None:
    """Refuse a date after today (the caller reads the clock and passes `today`)."""
    if value is not None and value > today:
        raise ValidationError(
            _("The date %(date)s is in the future."),
            code="future",
            params={"date": value.isoformat()},
        )
