"""Importing the distributor's list of primary substations a community lies under.

The list is a CSV file with a header line: `code` and `name` are required, `municipalities`
is optional (ISTAT codes or names, "Bari" or "Bari (BA)", separated by "|", read as
the forms read a municipality). Semicolons or
commas separate the columns. Once imported, a configuration's or a plant's substation code
must be in the list, and a substation whose municipalities are given makes its area known
to the eligibility checks (cer.communities.area). An import replaces the whole list, in one
transaction: one bad line refuses the file, with every problem named by its line number.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from cer.audit.services import record
from cer.communities.models import Community, Configuration, PrimarySubstation
from cer.communities.substation_codes import normalise_substation_code, validate_substation_code
from cer.core.form_fields import MunicipalityField
from cer.core.models import Municipality
from cer.plants.services import check_community_plants

MUNICIPALITY_SEPARATOR = "|"
MAX_LINES = 5000


@dataclass(frozen=True)
class LineProblem:
    """What is wrong with one line of the file (line 1 is the header)."""

    line: int
    message: str

    def __str__(self) -> str:
        return _("Line %(line)d: %(message)s") % {"line": self.line, "message": self.message}


class SubstationListInvalid(Exception):
    """Raised when the file cannot be imported; `problems` names each bad line."""

    def __init__(self, problems: list[LineProblem]) -> None:
        super().__init__("; ".join(str(problem) for problem in problems))
        self.problems = problems


@dataclass
class ParsedSubstation:
    line: int
    code: str
    name: str
    municipalities: list[Municipality] = field(default_factory=list)


@dataclass(frozen=True)
class ImportOutcome:
    """What the import stored, and which configurations now use a code outside the list."""

    substations: list[PrimarySubstation]
    unlisted_configurations: list[Configuration]


def parse_substation_list(text: str) -> list[ParsedSubstation]:
    """Read the CSV text into substations; raise SubstationListInvalid naming each bad line."""
    text = text.lstrip("\ufeff")
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise SubstationListInvalid([LineProblem(1, _("the file is empty."))])
    delimiter = ";" if lines[0].count(";") >= lines[0].count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    header = [name.strip().casefold() for name in (reader.fieldnames or [])]
    missing = [name for name in ("code", "name") if name not in header]
    if missing:
        raise SubstationListInvalid(
            [
                LineProblem(
                    1,
                    _("the header must name the columns code and name (missing: %s).")
                    % ", ".join(missing),
                )
            ]
        )
    municipality_field = MunicipalityField(required=False)
    problems: list[LineProblem] = []
    parsed: list[ParsedSubstation] = []
    seen: dict[str, int] = {}
    for number, raw in enumerate(reader, start=2):
        row = {(key or "").strip().casefold(): (value or "") for key, value in raw.items()}
        if not any(str(value).strip() for value in row.values()):
            continue
        if number > MAX_LINES:
            problems.append(LineProblem(number, _("the file has too many lines.")))
            break
        problems.extend(_parse_row(number, row, seen, municipality_field, parsed))
    if not parsed and not problems:
        problems.append(LineProblem(2, _("the file lists no substation.")))
    if problems:
        raise SubstationListInvalid(problems)
    return parsed


def _parse_row(
    number: int,
    row: dict[str, Any],
    seen: dict[str, int],
    municipality_field: MunicipalityField,
    parsed: list[ParsedSubstation],
) -> list[LineProblem]:
    problems = []
    code = normalise_substation_code(str(row.get("code", "")))
    name = str(row.get("name", "")).strip()
    if not code:
        problems.append(LineProblem(number, _("the code is missing.")))
    else:
        try:
            validate_substation_code(code)
        except ValidationError as error:
            problems.append(LineProblem(number, " ".join(error.messages)))
        if code in seen:
            problems.append(
                LineProblem(
                    number,
                    _("code %(code)s is already on line %(line)d.")
                    % {
                        "code": code,
                        "line": seen[code],
                    },
                )
            )
        seen.setdefault(code, number)
    if not name:
        problems.append(LineProblem(number, _("the name is missing.")))
    elif len(name) > 200:
        problems.append(LineProblem(number, _("the name is longer than 200 characters.")))
    municipalities = []
    text = str(row.get("municipalities") or "")
    for token in (part.strip() for part in text.split(MUNICIPALITY_SEPARATOR)):
        if not token:
            continue
        try:
            found = municipality_field.clean(token)
        except ValidationError as error:
            problems.append(LineProblem(number, " ".join(error.messages)))
        else:
            if found is not None:
                municipalities.append(found)
    if not problems:
        parsed.append(ParsedSubstation(number, code, name, municipalities))
    return problems


def import_substation_list(
    *, community: Community, text: str, actor: Any, now: dt.datetime
) -> ImportOutcome:
    """Replace the community's list of primary substations with the file's, all or nothing.

    Raises SubstationListInvalid, storing nothing, when any line is wrong. The community's
    plants are checked again: their area may be known now.
    """
    parsed = parse_substation_list(text)
    with transaction.atomic():
        before = list(
            PrimarySubstation.objects.filter(community=community).values_list("code", flat=True)
        )
        PrimarySubstation.objects.filter(community=community).delete()
        stored = []
        for item in parsed:
            substation = PrimarySubstation.objects.create(
                community=community, code=item.code, name=item.name, imported_at=now
            )
            substation.municipalities.set(item.municipalities)
            stored.append(substation)
        record(
            actor=actor,
            code="communities.substation_list.imported",
            now=now,
            target=community,
            community=community,
            changes={"codes": [sorted(before), [item.code for item in parsed]]},
        )
        check_community_plants(community=community, actor=actor, now=now)
    codes = {item.code for item in parsed}
    unlisted = [
        configuration
        for configuration in Configuration.objects.filter(community=community)
        if configuration.primary_substation not in codes
    ]
    return ImportOutcome(substations=stored, unlisted_configurations=unlisted)
