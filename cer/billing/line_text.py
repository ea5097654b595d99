"""The words of the statement lines the platform writes itself, in the reader's language.

A line's description is stored as it was written, in the language of whoever issued the
statement, and stays as stored (a statement is never edited). The lines the platform
writes from a month alone (the month's share, the 55 %/45 % correction, a GSE adjustment)
are recognised here and shown again in the reader's language with the month in words:
"La tua quota di giugno 2025" for an Italian reader, "Your share of June 2025" for an
English one, whether the stored text reads "06/2025" (lines written before months were put
in words) or "giugno 2025". Any other description (a dispute award, a manager's text) is
shown as stored.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from django.utils import translation
from django.utils.translation import gettext, gettext_noop

from cer.core import formatting

SHARE_TEXT = gettext_noop("Your share of %(month)s")
CORRECTION_TEXT = gettext_noop("Correction for the 55 %/45 % rule")
GSE_TEXT = gettext_noop("Adjustment from GSE amounts of %(month)s")

# The kinds (LineKind codes) whose platform-written text is recognised, with that text.
_PLATFORM_TEXTS = (("SHARE", SHARE_TEXT), ("CORRECTION", CORRECTION_TEXT), ("GSE", GSE_TEXT))
_LANGUAGES = ("it", "en")


class _Line(Protocol):
    kind: str
    description: str

    @property
    def statement(self) -> _Statement: ...


class _Statement(Protocol):
    month: dt.date


def month_text(text: str, month: dt.date, *, lang: str | None = None) -> str:
    """Return the platform text `text` (a msgid) for `month`, month in words, translated."""
    if lang is not None:
        with translation.override(lang):
            return month_text(text, month)
    translated = gettext(text)
    if "%(month)s" not in text:
        return translated
    return translated % {"month": formatting.month(month)}


def _stored_forms(text: str, month: dt.date) -> set[str]:
    """Every form `text` was stored in: either language, the month as 06/2025 or in words."""
    forms = set()
    for lang in _LANGUAGES:
        with translation.override(lang):
            translated = gettext(text)
            if "%(month)s" not in translated:
                forms.add(translated)
                continue
            for label in (f"{month:%m/%Y}", formatting.month(month, lang=lang)):
                forms.add(translated % {"month": label})
    return forms


def shown_description(line: _Line) -> str:
    """Return the line's description as the reader should see it, in the active language."""
    for kind, text in _PLATFORM_TEXTS:
        if line.kind != kind:
            continue
        month = line.statement.month
        if line.description in _stored_forms(text, month):
            return month_text(text, month)
    return line.description
