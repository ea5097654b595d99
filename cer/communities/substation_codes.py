"""Primary-substation codes: their format, and the distributor's list a community imports.

The GSE map of primary substations (published September 2023 under the TIAD, ARERA
727/2022) names each conventional area by an 11-character alphanumeric code, e.g.
"AC001E00934" (GSE map instructions, reported by transizioneelettrica.it and
ediltecnico.it, 2023). The pattern below, two letters, three digits, one letter, five
digits, is read from those published examples, not from a GSE specification: see
docs/checks.md. A community may also import the distributor's list of its substations
(code, name, municipalities served); once imported, a code must be one of them.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

SUBSTATION_CODE = re.compile(r"^[A-Z]{2}\d{3}[A-Z]\d{5}$")


def normalise_substation_code(code: str) -> str:
    """Return the code without spaces, in upper case (codes are typed in many ways)."""
    return "".join(code.split()).upper()


def validate_substation_code(value: str) -> None:
    """Refuse a code that does not have the GSE map's format (e.g. AC001E00934)."""
    if value and not SUBSTATION_CODE.match(normalise_substation_code(value)):
        raise ValidationError(
            _(
                "“%(code)s” is not a primary substation code: the GSE map writes it as 11 "
                "letters and digits, e.g. AC001E00934."
            ),
            code="substation_format",
            params={"code": value},
        )
