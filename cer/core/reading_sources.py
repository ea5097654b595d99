"""The order in which reading sources win, as a community stores it: a pure rule.

Each community chooses the order of the four sources; the default puts the grid operator
first, because its measurements are the ones GSE settles on, then the community's own
devices, then manual entries, then estimates. The order is stored as codes separated by
commas ("DSO,DEV,MAN,EST") in `Community.reading_source_order`.

The rule lives here, below both communities (whose field validator needs it) and metering
(which applies it to readings), so that neither has to import the other. The codes are
those of `cer.metering.models.ReadingSource` (stable: codes never change).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

SourceOrder = tuple[str, ...]

# Grid operator, device, manual entry, estimate (ReadingSource codes).
DEFAULT_ORDER: SourceOrder = ("DSO", "DEV", "MAN", "EST")
DEFAULT_ORDER_TEXT = ",".join(DEFAULT_ORDER)


def parse_order(text: str) -> SourceOrder:
    """Return the order stored as text; raises ValidationError naming the problem."""
    codes = tuple(code.strip().upper() for code in text.split(",") if code.strip())
    known = set(DEFAULT_ORDER)
    unknown = [code for code in codes if code not in known]
    if unknown:
        raise ValidationError(
            _("Unknown reading source %(codes)s: use %(known)s."),
            params={"codes": ", ".join(unknown), "known": ", ".join(DEFAULT_ORDER)},
            code="unknown_source",
        )
    if len(set(codes)) != len(codes) or len(codes) != len(DEFAULT_ORDER):
        raise ValidationError(
            _("List each of the four reading sources exactly once."), code="not_a_permutation"
        )
    return codes


def validate_order_text(text: str) -> None:
    """Model field validator for `Community.reading_source_order`."""
    parse_order(text)
