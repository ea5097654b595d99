"""Import what GSE paid or certified, as a ledger, and compare it with our shadow settlement.

REGULATION.md §10: GSE's conguaglio is authoritative; we reconcile and flag any difference
above one cent per line (§14: GSE's own rounding is unknown, ±0.01 EUR is tolerated), never
smoothing it away. The ledger never counts an amount twice: a reference is stored once, and
a row without reference that repeats another file's month, type and amount waits for a
person to confirm it is a second payment. Certified amounts and estimates are kept apart;
only certified ones are distributed, and a distributed month they change is adjusted
(cer.distribution.gse_adjustments). The accepted CSV is described in docs/settlement.md.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections import Counter
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from cer.audit.services import record
from cer.communities.models import Configuration
from cer.distribution.gse_adjustments import AdjustmentRefused, adjust_months
from cer.notifications import links
from cer.settlement import notices
from cer.settlement.models import GseAmount, GseAmountKind, SettlementRun

TOLERANCE_EUR = Decimal("0.01")
CENT = Decimal("0.01")
# An amount field holds 12 digits with 2 decimals.
MAX_AMOUNT_EUR = Decimal("1e10")
# What GSE pays for a month cannot be below zero; a correction comes as a conguaglio.
NEVER_NEGATIVE = frozenset({"TIP", "VALORISATION", "ADVANCE"})
CERTIFIED_YES = ("yes", "si", "sì", "true", "1", "y", "s", "definitivo", "certificato")
CERTIFIED_NO = ("no", "false", "0", "n", "stima", "estimate", "provvisorio", "acconto")

HEADER_ALIASES = {
    "period": ("period", "periodo", "mese", "month", "competenza"),
    "type": ("type", "tipo", "voce", "kind", "causale"),
    "amount": ("amount", "importo", "amount_eur", "importo_eur", "valore"),
    "primary_substation": ("primary_substation", "cabina_primaria", "codice_cp", "cp"),
    "reference": ("reference", "riferimento", "id", "protocollo"),
    "certified": ("certified", "certificato", "definitivo"),
}
TYPE_ALIASES = {
    GseAmountKind.TIP: ("tip", "tariffa premio", "tariffa incentivante", "incentivo"),
    GseAmountKind.VALORISATION: ("valorisation", "valorizzazione", "contributo arera"),
    GseAmountKind.FEES: ("fees", "fee", "corrispettivi", "corrispettivo gse", "oneri"),
    GseAmountKind.CONGUAGLIO: ("conguaglio", "balance", "true-up"),
    GseAmountKind.ADVANCE: ("advance", "acconto", "anticipo"),
}
_PERIOD = re.compile(r"^(\d{4})-(\d{1,2})$|^(\d{1,2})/(\d{4})$")


class GseFileError(ValueError):
    """A GSE file that cannot be read; the message names the line and the column."""


@dataclass(frozen=True)
class ImportOutcome:
    """What an import stored: new rows, rows this file brought before, confirmed second
    payments, and the distributed months it adjusted."""

    created: int
    unchanged: int
    second_payments: int = 0
    adjusted_months: tuple[dt.date, ...] = ()
    months: tuple[dt.date, ...] = ()


def _column(headers: list[str], name: str, mapping: dict[str, str]) -> int | None:
    wanted = [mapping[name]] if name in mapping else list(HEADER_ALIASES[name])
    for index, header in enumerate(headers):
        if header.strip().lower() in wanted:
            return index
    return None


def _kind(text: str) -> str | None:
    value = text.strip().lower()
    for kind, aliases in TYPE_ALIASES.items():
        if value in aliases or value == kind.lower():
            return kind
    return None


def _amount(text: str) -> Decimal:
    value = text.strip().replace("€", "").replace(" ", "")
    if "," in value:
        value = value.replace(".", "").replace(",", ".")
    return Decimal(value)


def _month(text: str) -> dt.date:
    match = _PERIOD.match(text.strip())
    if not match:
        raise ValueError(text)
    year, month = (match.group(1), match.group(2)) if match.group(1) else match.group(4, 3)
    return dt.date(int(year), int(month), 1)


def _certified(text: str) -> bool | None:
    value = text.strip().lower()
    if value in CERTIFIED_YES or not value:
        return True
    if value in CERTIFIED_NO:
        return False
    return None


def parse_gse_csv(content: str, *, mapping: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Read the rows of a GSE CSV (comma or semicolon), naming the line of any error.

    `mapping` maps our column names (period, type, amount, primary_substation, reference,
    certified) to other header names. Amounts have at most two decimals; TIP, valorisation
    and advances cannot be negative; a fee is a charge whatever its sign (stored positive);
    a conguaglio may have either sign. Raises GseFileError.
    """
    mapping = {k: v.strip().lower() for k, v in (mapping or {}).items()}
    sample = content[:2000]
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    reader = csv.reader(io.StringIO(content), delimiter=delimiter)
    try:
        headers = next(reader)
    except StopIteration:
        raise GseFileError(_("the file is empty")) from None
    columns = {name: _column(headers, name, mapping) for name in HEADER_ALIASES}
    for required in ("period", "type", "amount"):
        if columns[required] is None:
            raise GseFileError(
                _("column '%(column)s' not found (headers: %(headers)s)")
                % {"column": required, "headers": ", ".join(headers)}
            )
    rows = []
    for number, values in enumerate(reader, start=2):
        if not any(v.strip() for v in values):
            continue

        def cell(name: str, values: list[str] = values) -> str:
            index = columns[name]
            return values[index] if index is not None and index < len(values) else ""

        def error(column: str, problem: str, number: int = number) -> GseFileError:
            return GseFileError(
                _("line %(line)s, %(column)s: %(problem)s")
                % {"line": number, "column": column, "problem": problem}
            )

        try:
            month = _month(cell("period"))
        except ValueError:
            raise error(
                "period", _("'%(value)s' is not YYYY-MM") % {"value": cell("period")}
            ) from None
        kind = _kind(cell("type"))
        if kind is None:
            raise error("type", _("unknown type '%(value)s'") % {"value": cell("type")})
        try:
            amount = _amount(cell("amount"))
        except InvalidOperation:
            amount = Decimal("NaN")
        if not amount.is_finite():
            raise error("amount", _("'%(value)s' is not a number") % {"value": cell("amount")})
        if amount != amount.quantize(CENT, rounding=ROUND_HALF_UP):
            raise error("amount", _("more than two decimals"))
        if abs(amount) >= MAX_AMOUNT_EUR:
            raise error("amount", _("%(value)s is too large") % {"value": amount})
        if kind in NEVER_NEGATIVE and amount < 0:
            raise error(
                "amount",
                _("%(kind)s cannot be negative (%(value)s); a correction is a CONGUAGLIO row")
                % {"kind": kind, "value": amount},
            )
        certified = _certified(cell("certified"))
        if certified is None:
            raise error(
                "certified",
                _("'%(value)s' is neither yes nor no") % {"value": cell("certified")},
            )
        rows.append(
            {
                "line": number,
                "month": month,
                "kind": kind,
                # A fee is a charge: stored as the positive amount GSE keeps (docs/settlement.md).
                "amount_eur": abs(amount) if kind == GseAmountKind.FEES else amount,
                "primary_substation": cell("primary_substation").strip().upper(),
                "reference": cell("reference").strip()[:100],
                "certified": certified,
            }
        )
    return rows


@dataclass(frozen=True)
class Duplicate:
    """A row without reference that repeats the month, type and amount of another file's row."""

    line: int
    month: dt.date
    kind: str
    amount_eur: Decimal
    certified: bool
    other_file: str


class DuplicatesToConfirm(Exception):
    """Rows look like amounts imported before from another file; nothing was stored.

    Import the file again with `second_payments=True` once a person has confirmed that
    they are second payments, not the same payment counted twice.
    """

    def __init__(self, duplicates: list[Duplicate]) -> None:
        super().__init__(
            "; ".join(
                f"line {d.line}: {d.month:%Y-%m} {d.kind} {d.amount_eur} (also in {d.other_file})"
                for d in duplicates
            )
        )
        self.duplicates = duplicates


def _check_against_runs(configuration: Configuration, rows: list[dict[str, Any]]) -> None:
    """Refuse rows of another primary substation and months that have no settlement run."""
    code_here = configuration.primary_substation.upper()
    settled = set(
        SettlementRun.objects.filter(
            configuration=configuration, month__in={row["month"] for row in rows}
        ).values_list("month", flat=True)
    )
    for row in rows:
        code = row["primary_substation"]
        if code and code != code_here:
            raise GseFileError(
                _("line %(line)s, primary_substation: %(code)s is not this configuration's")
                % {"line": row["line"], "code": code}
            )
        if row["month"] not in settled:
            raise GseFileError(
                _("line %(line)s, period: %(month)s has no settlement run for this configuration")
                % {"line": row["line"], "month": f"{row['month']:%Y-%m}"}
            )


def _sort_rows(
    configuration: Configuration, rows: list[dict[str, Any]], source_name: str
) -> tuple[list[dict[str, Any]], int, list[Duplicate]]:
    """Split the rows into new ones, ones already imported from this file, and duplicates.

    Raises GseFileError for a reference seen twice in the file or imported before with other
    figures or from another file.
    """
    stored = list(
        GseAmount.objects.filter(
            configuration=configuration, month__in={row["month"] for row in rows}
        ).values("month", "kind", "amount_eur", "certified", "reference", "source_name")
    )
    by_reference = {(s["month"], s["kind"], s["reference"]): s for s in stored if s["reference"]}
    # Rows without reference this file brought before: a re-upload of it adds nothing.
    same_file = Counter(
        (s["month"], s["kind"], s["amount_eur"], s["certified"])
        for s in stored
        if not s["reference"] and s["source_name"] == source_name
    )
    other_files = {
        (s["month"], s["kind"], s["amount_eur"]): s["source_name"]
        for s in stored
        if not s["reference"] and s["source_name"] != source_name
    }
    new, duplicates, seen_references = [], [], set()
    unchanged = 0
    for row in rows:
        figures = (row["month"], row["kind"], row["amount_eur"], row["certified"])
        reference = row["reference"]
        if reference:
            key = (row["month"], row["kind"], reference)
            if key in seen_references:
                raise GseFileError(
                    _("line %(line)s, reference: %(reference)s appears twice in the file")
                    % {"line": row["line"], "reference": reference}
                )
            seen_references.add(key)
            before = by_reference.get(key)
            if before is None:
                new.append(row)
            elif (
                before["source_name"] == source_name
                and (before["month"], before["kind"], before["amount_eur"], before["certified"])
                == figures
            ):
                unchanged += 1
            else:
                raise GseFileError(
                    _(
                        "line %(line)s, reference: %(reference)s was imported already "
                        "(%(amount)s EUR from %(file)s)"
                    )
                    % {
                        "line": row["line"],
                        "reference": reference,
                        "amount": before["amount_eur"],
                        "file": before["source_name"],
                    }
                )
        elif same_file[figures] > 0:
            same_file[figures] -= 1
            unchanged += 1
        elif (row["month"], row["kind"], row["amount_eur"]) in other_files:
            duplicates.append(
                Duplicate(
                    line=row["line"],
                    month=row["month"],
                    kind=row["kind"],
                    amount_eur=row["amount_eur"],
                    certified=row["certified"],
                    other_file=other_files[(row["month"], row["kind"], row["amount_eur"])],
                )
            )
            new.append({**row, "second_payment": True})
        else:
            new.append(row)
    return new, unchanged, duplicates


def import_gse_amounts(
    *,
    configuration: Configuration,
    content: str,
    source_name: str,
    actor: Any,
    now: dt.datetime,
    mapping: dict[str, str] | None = None,
    second_payments: bool = False,
) -> ImportOutcome:
    """Store the GSE amounts of a CSV for the configuration, as a ledger, and adjust months.

    The whole file is refused (GseFileError naming the line and the reason, nothing stored)
    for a bad row (parse_gse_csv), another primary substation, a month without a settlement
    run, or a reference already imported. A row without reference that repeats the month,
    type and amount of another file's row is a duplicate: without `second_payments` (a
    person's confirmation that they are second payments) DuplicatesToConfirm is raised and
    nothing is stored. Rows this file brought before are not stored again. A distributed
    month whose amount changes gets an adjustment (cer.distribution.gse_adjustments), in
    the same transaction.
    """
    rows = parse_gse_csv(content, mapping=mapping)
    _check_against_runs(configuration, rows)
    new, unchanged, duplicates = _sort_rows(configuration, rows, source_name)
    if duplicates and not second_payments:
        raise DuplicatesToConfirm(duplicates)
    importer = actor if getattr(actor, "is_authenticated", False) else None
    try:
        with transaction.atomic():
            GseAmount.objects.bulk_create(
                GseAmount(
                    configuration=configuration,
                    month=row["month"],
                    kind=row["kind"],
                    amount_eur=row["amount_eur"],
                    certified=row["certified"],
                    reference=row["reference"],
                    source_name=source_name[:200],
                    second_payment=row.get("second_payment", False),
                    imported_at=now,
                    imported_by=importer,
                )
                for row in new
            )
            record(
                actor=actor,
                code="settlement.gse.imported",
                now=now,
                target=configuration,
                community=configuration.community,
                changes={
                    "file": source_name,
                    "created": len(new),
                    "unchanged": unchanged,
                    "second_payments": [d.line for d in duplicates],
                },
            )
            adjustments = adjust_months(
                configuration=configuration,
                months={row["month"] for row in new},
                source_name=source_name,
                actor=actor,
                now=now,
            )
            _tell_differences(configuration, new, source_name, now)
    except AdjustmentRefused as error:
        raise GseFileError(_("nothing was imported: %(reason)s") % {"reason": error}) from error
    return ImportOutcome(
        created=len(new),
        unchanged=unchanged,
        second_payments=len(duplicates),
        adjusted_months=tuple(a.distribution.run.month for a in adjustments),
        months=tuple(sorted({row["month"] for row in rows})),
    )


def _tell_differences(
    configuration: Configuration, new: list[dict[str, Any]], source_name: str, now: dt.datetime
) -> None:
    """Tell the managers of each certified amount the file brought that differs from ours
    by more than a cent (REGULATION.md §10, §14), once per month, type and file."""
    touched = {(row["month"], row["kind"]) for row in new if row["certified"]}
    for year in sorted({month.year for month, _kind in touched}):
        for line in reconcile(configuration=configuration, year=year):
            if (line.month, line.kind) not in touched or not line.flagged:
                continue
            assert line.certified_eur is not None and line.ours_eur is not None
            notices.gse_amount_differs(
                configuration=configuration,
                month=line.month,
                what=GseAmountKind(line.kind).label,
                certified_eur=line.certified_eur,
                calculated_eur=line.ours_eur,
                source=source_name,
                link=links.site_path("settlement:year", configuration.pk, year),
                now=now,
            )


@dataclass(frozen=True)
class ReconciliationLine:
    """Our figure and GSE's for one month and type; certified and estimates kept apart."""

    month: dt.date
    kind: str
    ours_eur: Decimal | None
    certified_eur: Decimal | None
    estimate_eur: Decimal | None = None

    @property
    def gse_eur(self) -> Decimal | None:
        """GSE's certified figure: the only one compared with ours and ever distributed."""
        return self.certified_eur

    @property
    def difference_eur(self) -> Decimal | None:
        if self.ours_eur is None or self.certified_eur is None:
            return None
        return self.certified_eur - self.ours_eur

    @property
    def flagged(self) -> bool:
        """True when GSE and we differ by more than one cent (REGULATION.md §14)."""
        difference = self.difference_eur
        return difference is not None and abs(difference) > TOLERANCE_EUR


def reconcile(*, configuration: Configuration, year: int) -> list[ReconciliationLine]:
    """Compare, per month and type, the latest shadow run with GSE's certified amounts.

    Uncertified rows (estimates) are shown in a column of their own, never added to the
    certified ones (REGULATION.md §10).
    """
    lines: list[ReconciliationLine] = []
    certified: dict[tuple[dt.date, str], Decimal] = {}
    estimates: dict[tuple[dt.date, str], Decimal] = {}
    for month, kind, amount, is_certified in GseAmount.objects.filter(
        configuration=configuration, month__year=year
    ).values_list("month", "kind", "amount_eur", "certified"):
        into = certified if is_certified else estimates
        value = abs(amount) if kind == GseAmountKind.FEES else amount
        into[(month, kind)] = into.get((month, kind), Decimal(0)) + value
    latest: dict[dt.date, SettlementRun] = {
        run.month: run
        for run in SettlementRun.objects.filter(
            configuration=configuration, month__year=year
        ).order_by("month", "version")
    }
    for number in range(1, 13):
        month = dt.date(year, number, 1)
        run = latest.get(month)
        ours: dict[str, Decimal] = (
            {
                GseAmountKind.TIP: run.incentive_eur,
                GseAmountKind.VALORISATION: run.valorisation_eur,
                GseAmountKind.FEES: run.gse_fees_eur,
            }
            if run
            else {}
        )
        for kind in GseAmountKind.values:
            theirs = certified.get((month, kind))
            estimate = estimates.get((month, kind))
            mine = ours.get(kind)
            if theirs is None and estimate is None and mine is None:
                continue
            lines.append(
                ReconciliationLine(
                    month=month,
                    kind=kind,
                    ours_eur=mine,
                    certified_eur=theirs,
                    estimate_eur=estimate,
                )
            )
    return lines
