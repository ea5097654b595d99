"""Identifiers that pass the platform's checks: tax codes, VAT numbers, PODs, an IBAN.

Every builder draws its seeds from one counter, so that two objects built in one test
never share a code that must be unique.
"""

from __future__ import annotations

import itertools

from stdnum import luhn
from stdnum.it import codicefiscale

_sequence = itertools.count(1)

# The municipality every builder places its objects in (loaded by a data migration).
SPINEA = "027038"

# The account a community pays a membership to: the IBAN is the membership's.
IBAN = "IT60X0542811101000000123456"


def next_seed() -> int:
    """Return a number no other builder of this test run has had."""
    return next(_sequence)


def valid_vat_number(seed: int) -> str:
    """Return an 11-digit partita IVA with a correct check digit."""
    body = f"{seed:07d}027"  # company number and Venezia's province office
    return body + luhn.calc_check_digit(body)


def valid_personal_code(seed: int) -> str:
    """Return a 16-character codice fiscale with a correct check character."""
    body = f"RSSMRA{80 + seed % 20:02d}A{1 + seed % 28:02d}I908"
    return body + codicefiscale.calc_check_digit(body)


def valid_pod(seed: int) -> str:
    return f"IT001E{seed:08d}"
