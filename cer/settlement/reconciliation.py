"""Import what GSE paid or certified, and compare it with our shadow settlement month by month.

REGULATION.md §10: GSE's conguaglio is authoritative; we reconcile and flag any difference
above one cent per line (§14: GSE's own rounding is unknown, ±0.01 EUR is tolerated), never
smoothing it away. The accepted CSV is described in docs/settlement.md.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction

from cer.audit.services import record
from cer.communities.models import Configuration
from cer.settlement.models import GseAmount, GseAmountKind, SettlementRun

TOLERANCE_EUR = Decimal("0.01")

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
    created: int
    unchanged: int


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


def parse_gse_csv(content: str, *, mapping: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Read the rows of a GSE CSV (comma or semicolon), naming the line of any error.

    `mapping` maps our column names (period, type, amount, primary_substation, reference,
    certified) to other header names. Raises GseFileError.
    """
    mapping = {k: v.strip().lower() for k, v in (mapping or {}).items()}
    sample = content[:2000]
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    reader = csv.reader(io.StringIO(content), delimiter=delimiter)
    try:
        headers = next(reader)
    except StopIteration:
        raise GseFileError("the file is empty") from None
    columns = {name: _column(headers, name, mapping) for name in HEADER_ALIASES}
    for required in ("period", "type", "amount"):
        if columns[required] is None:
            raise GseFileError(f"column '{required}' not found (headers: {', '.join(headers)})")
    rows = []
    for number, values in enumerate(reader, start=2):
        if not any(v.strip() for v in values):
            continue

        def cell(name: str, values: list[str] = values) -> str:
            index = columns[name]
            return values[index] if index is not None and index < len(values) else ""

        try:
            month = _month(cell("period"))
        except ValueError:
            raise GseFileError(
                f"line {number}, period: '{cell('period')}' is not YYYY-MM"
            ) from None
        kind = _kind(cell("type"))
        if kind is None:
            raise GseFileError(f"line {number}, type: unknown type '{cell('type')}'")
        try:
            amount = _amount(cell("amount"))
        except InvalidOperation:
            raise GseFileError(
                f"line {number}, amount: '{cell('amount')}' is not a number"
            ) from None
        if amount != amount.quantize(Decimal("0.01")):
            raise GseFileError(f"line {number}, amount: more than two decimals")
        rows.append(
            {
                "line": number,
                "month": month,
                "kind": kind,
                "amount_eur": amount,
                "primary_substation": cell("primary_substation").strip().upper(),
                "reference": cell("reference").strip()[:100],
                "certified": cell("certified").strip().lower() not in ("no", "false", "0", "n"),
            }
        )
    return rows


def import_gse_amounts(
    *,
    configuration: Configuration,
    content: str,
    source_name: str,
    actor: Any,
    now: dt.datetime,
    mapping: dict[str, str] | None = None,
) -> ImportOutcome:
    """Store the GSE amounts of a CSV for the configuration; a row seen before is kept once.

    Rows naming another primary substation are refused. Raises GseFileError before storing
    anything when a line is wrong.
    """
    rows = parse_gse_csv(content, mapping=mapping)
    for row in rows:
        code = row["primary_substation"]
        if code and code != configuration.primary_substation.upper():
            raise GseFileError(
                f"line {row['line']}, primary_substation: {code} is not this configuration's"
            )
    created = unchanged = 0
    with transaction.atomic():
        for row in rows:
            _, was_created = GseAmount.objects.get_or_create(
                configuration=configuration,
                month=row["month"],
                kind=row["kind"],
                reference=row["reference"] or f"{source_name}:{row['line']}",
                defaults={
                    "amount_eur": row["amount_eur"],
                    "certified": row["certified"],
                    "source_name": source_name[:200],
                    "imported_at": now,
                    "imported_by": actor if getattr(actor, "is_authenticated", False) else None,
                },
            )
            created += int(was_created)
            unchanged += int(not was_created)
        record(
            actor=actor,
            code="settlement.gse.imported",
            now=now,
            target=configuration,
            community=configuration.community,
            changes={"file": source_name, "created": created, "unchanged": unchanged},
        )
    return ImportOutcome(created=created, unchanged=unchanged)


@dataclass(frozen=True)
class ReconciliationLine:
    month: dt.date
    kind: str
    ours_eur: Decimal | None
    gse_eur: Decimal | None

    @property
    def difference_eur(self) -> Decimal | None:
        if self.ours_eur is None or self.gse_eur is None:
            return None
        return self.gse_eur - self.ours_eur

    @property
    def flagged(self) -> bool:
        """True when GSE and we differ by more than one cent (REGULATION.md §14)."""
        difference = self.difference_eur
        return difference is not None and abs(difference) > TOLERANCE_EUR


def reconcile(*, configuration: Configuration, year: int) -> list[ReconciliationLine]:
    """Compare, per month and type, the latest shadow run with GSE's amounts."""
    lines: list[ReconciliationLine] = []
    gse: dict[tuple[dt.date, str], Decimal] = {}
    for amount in GseAmount.objects.filter(configuration=configuration, month__year=year).order_by(
        "month"
    ):
        key = (amount.month, amount.kind)
        value = abs(amount.amount_eur) if amount.kind == GseAmountKind.FEES else amount.amount_eur
        gse[key] = gse.get(key, Decimal(0)) + value
    for number in range(1, 13):
        month = dt.date(year, number, 1)
        run = (
            SettlementRun.objects.filter(configuration=configuration, month=month)
            .order_by("-version")
            .first()
        )
        ours: dict[str, Decimal | None] = {
            GseAmountKind.TIP: run.incentive_eur if run else None,
            GseAmountKind.VALORISATION: run.valorisation_eur if run else None,
            GseAmountKind.FEES: run.gse_fees_eur if run else None,
        }
        for kind in GseAmountKind.values:
            theirs = gse.get((month, kind))
            mine = ours.get(kind)
            if theirs is None and (mine is None or kind not in ours):
                continue
            lines.append(ReconciliationLine(month=month, kind=kind, ours_eur=mine, gse_eur=theirs))
    return lines
