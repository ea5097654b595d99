"""The fields a message may hold in braces, and how they are filled for one member.

A field is written `{nome}` (or its English twin `{name}`); the set is small and fixed so
that a referente's typo is caught when the message is saved, never when a member reads
it. Only facts of the nouns' floor are offered (who, which community and configuration,
what data are missing): amounts belong to the money floor above and reach members with
the statements' own notices.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cer.core import formatting
from cer.members.changes import mask_iban

# `{word}`: a field. Anything else in braces is left as written.
FIELD = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class RecipientFacts:
    """What a message may say about one member (gathered by recipients.facts_of)."""

    name: str
    community: str
    configurations: list[str]
    iban: str
    missing: list[Any]
    due_date: Any = None


def _missing(facts: RecipientFacts) -> str:
    # The labels were gathered untranslated; they are translated in the reader's language.
    return ", ".join(str(label) for label in facts.missing) or _("nothing")


def _due(facts: RecipientFacts) -> str:
    return formatting.day(facts.due_date) if facts.due_date else _("no due date")


# Italian name, English name, what it holds (for the form's help and the docs), its value.
FIELDS: list[tuple[str, str, Any, Callable[[RecipientFacts], str]]] = [
    ("nome", "name", gettext_lazy("the member's name"), lambda f: f.name),
    ("comunita", "community", gettext_lazy("the community's name"), lambda f: f.community),
    (
        "configurazione",
        "configuration",
        gettext_lazy("the configurations of the member's connection points"),
        lambda f: ", ".join(f.configurations) or _("none"),
    ),
    (
        "iban",
        "iban",
        gettext_lazy("the member's IBAN, masked (or 'none')"),
        lambda f: mask_iban(f.iban) or _("none"),
    ),
    ("dati_mancanti", "missing_data", gettext_lazy("the member's missing data"), _missing),
    ("scadenza", "due_date", gettext_lazy("the reply's due date"), _due),
]
VALUES: dict[str, Callable[[RecipientFacts], str]] = {}
for _it, _en, _label, _value in FIELDS:
    VALUES[_it] = VALUES[_en] = _value


def field_names() -> str:
    """The fields one may use, as a person reads them: `{nome}/{name}, …`."""
    return ", ".join(f"{{{it}}}/{{{en}}}" for it, en, _label, _value in FIELDS)


def unknown_fields(text: str) -> list[str]:
    """Return the fields of `text` that are not in the set, in order of appearance."""
    found = []
    for name in FIELD.findall(text or ""):
        if name not in VALUES and name not in found:
            found.append(name)
    return found


def check_fields(texts: Mapping[str, str]) -> None:
    """Refuse texts holding an unknown field, naming the field and the form field it is in.

    `texts` maps a form field name (subject_it, body_en, …) to its text.
    Raises ValidationError keyed by form field.
    """
    errors: dict[str, list[str]] = {}
    for key, text in texts.items():
        for name in unknown_fields(text):
            errors.setdefault(key, []).append(
                _("Unknown field {%(field)s}: the fields you can use are %(fields)s.")
                % {"field": name, "fields": field_names()}
            )
    if errors:
        raise ValidationError(errors)


def render(text: str, facts: RecipientFacts) -> str:
    """Fill the fields of `text` for one member, in the active language."""
    return FIELD.sub(
        lambda match: VALUES[match.group(1)](facts) if match.group(1) in VALUES else match.group(0),
        text,
    )
