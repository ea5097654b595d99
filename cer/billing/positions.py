"""A member's position for a month: the signed lines of a statement, what was paid, what is left.

The position of a month is the sum of the lines of its current statement (share, 55 %/45 %
correction, changes after a new settlement version, dispute awards, GSE adjustments, the
yearly true-up: docs/algorithms/statements.md). A line is paid when a payout item paid its
first issue (PaidLine points at the root line; copies in later versions share it). Then

    to pay      = position − paid, when positive
    owed back   = paid − position, when positive

The statement page, the yearly statement (page, CSV, PDF) and the PDF read these figures
from here, so they always agree. Netting what is owed against later payouts is the payout
workflow's business; this module only shows the position.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from cer.billing.models import PaidLine, Statement, StatementLine

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class LedgerRow:
    """One line of a statement with the member's running position after it [EUR]."""

    line: StatementLine
    kind_label: str
    running_eur: Decimal
    paid: bool
    # First issued in the version it is shown in (a change from the previous version).
    new: bool


@dataclass(frozen=True)
class Position:
    """A month's (or a year's) position, what was paid of it and the balance [EUR]."""

    position_eur: Decimal
    paid_eur: Decimal

    @property
    def to_pay_eur(self) -> Decimal:
        return max(self.position_eur - self.paid_eur, ZERO)

    @property
    def owed_eur(self) -> Decimal:
        """What the member owes back: more was paid than the lines now add up to."""
        return max(self.paid_eur - self.position_eur, ZERO)

    def __add__(self, other: Position) -> Position:
        return Position(self.position_eur + other.position_eur, self.paid_eur + other.paid_eur)


@dataclass(frozen=True)
class StatementLedger:
    """A statement's lines as a ledger, its position and what changed from the last version."""

    statement: Statement
    rows: list[LedgerRow]
    position: Position
    latest_version: int
    current: Statement | None
    previous_amount_eur: Decimal | None

    @property
    def changes(self) -> list[LedgerRow]:
        """The lines this version added to the previous one (none for a first version)."""
        return [row for row in self.rows if row.new] if self.statement.version > 1 else []

    @property
    def change_eur(self) -> Decimal | None:
        if self.previous_amount_eur is None:
            return None
        return self.statement.amount_eur - self.previous_amount_eur


def statement_ledger(statement: Statement) -> StatementLedger:
    """Return a statement's lines with the running position, what was paid and the changes."""
    lines = list(statement.lines.order_by("position"))
    paid = _paid_roots(line.root_id for line in lines)
    rows = _rows(lines, paid)
    versions = Statement.objects.filter(
        member_id=statement.member_id,
        configuration_id=statement.configuration_id,
        month=statement.month,
    )
    latest = versions.order_by("-version").first()
    previous = (
        Statement.objects.filter(pk=statement.previous_id).values_list("amount_eur", flat=True)
        if statement.previous_id
        else None
    )
    return StatementLedger(
        statement=statement,
        rows=rows,
        position=_position(rows),
        latest_version=latest.version if latest else statement.version,
        current=versions.filter(status="CURRENT").first(),
        previous_amount_eur=previous.first() if previous is not None else None,
    )


def ledgers(statements: Sequence[Statement]) -> dict[int, tuple[list[LedgerRow], Position]]:
    """Return each statement's ledger rows and position, by statement id (one paid query)."""
    lines = {s.pk: sorted(s.lines.all(), key=lambda line: line.position) for s in statements}
    paid = _paid_roots(line.root_id for rows in lines.values() for line in rows)
    result = {}
    for pk, statement_lines in lines.items():
        rows = _rows(statement_lines, paid)
        result[pk] = (rows, _position(rows))
    return result


def _rows(lines: Sequence[StatementLine], paid: set[int]) -> list[LedgerRow]:
    running = ZERO
    rows = []
    for line in lines:
        running += line.amount_eur
        rows.append(
            LedgerRow(
                line=line,
                kind_label=str(line.get_kind_display()),
                running_eur=running,
                paid=line.root_id in paid,
                new=line.origin_id is None,
            )
        )
    return rows


def _position(rows: Sequence[LedgerRow]) -> Position:
    return Position(
        position_eur=sum((row.line.amount_eur for row in rows), ZERO),
        paid_eur=sum((row.line.amount_eur for row in rows if row.paid), ZERO),
    )


def _paid_roots(root_ids: Iterable[int]) -> set[int]:
    """The first-issue lines a payout holds (a voided batch or a rejected transfer releases
    its lines, which are to pay again: cer/billing/payouts.py)."""
    wanted = set(root_ids)
    if not wanted:
        return set()
    return set(
        PaidLine.objects.filter(line_id__in=wanted, released_at__isnull=True).values_list(
            "line_id", flat=True
        )
    )
