"""Member statements: issued per distributed month, corrected only as new versions.

A statement is never edited: a new settlement version or a dispute resolved in the member's
favour issues a new version that carries the old lines (keeping their origin) and adds an
adjustment line, and the old version is kept as superseded.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from cer.billing import notices
from cer.billing.line_text import CORRECTION_TEXT, SHARE_TEXT, month_text
from cer.billing.models import (
    SHARE_KINDS,
    LineKind,
    Statement,
    StatementLine,
    StatementStatus,
)
from cer.core.bulk import insert_rows
from cer.distribution.models import Distribution


class StatementNotCurrent(Exception):
    """Only the current version of a statement can be corrected."""


@dataclass(frozen=True)
class NewLine:
    """A signed line to add to a member's statement of a month [EUR]."""

    kind: str
    description: str
    amount_eur: Decimal


def pdf_file_stem(statement: Statement) -> str:
    """Return the name, without extension, of a statement's PDF (web page and API alike).

    The random file token keeps the name of a document with personal data unguessable.
    """
    return f"statement-{statement.month:%Y-%m}-v{statement.version}-{statement.file_token}"


def issue_statements(*, distribution: Distribution, now: dt.datetime) -> list[int]:
    """Issue each member's statement for the distribution's month (a new version if needed).

    A first statement holds the share line, and a correction line when the 55 %/45 % rule
    changed the share (docs/algorithms/distribution.md, step 6). A later settlement version
    replaces the share and nothing else (docs/algorithms/statements.md): the new version
    carries every earlier line and adds a VERSION line = new share − Σ previous SHARE_KINDS
    lines, so dispute awards, GSE adjustments and the yearly true-up stay. A member with a
    current statement but no share in this distribution (membership dates changed, say)
    gets a VERSION line of −Σ SHARE_KINDS: the month's position stays the sum of its lines
    and no member is left with only superseded statements. Returns the new statements' keys.
    """
    with transaction.atomic():
        ids = _issue(distribution, now)
        notices.statements_issued(ids, now=now)
    return ids


# The fields of a statement and of a line as _issue stores them, with COPY (cer.core.bulk).
_STATEMENT_COLUMNS = (
    "member_id",
    "configuration_id",
    "month",
    "version",
    "status",
    "distribution_id",
    "previous_id",
    "reason",
    "amount_eur",
    "provisional",
    "member_name",
    "file_token",
    "created_at",
)
_LINE_COLUMNS = ("statement_id", "position", "kind", "description", "amount_eur", "origin_id")

# A line of a statement not stored yet: position, kind, description, amount [EUR], origin id.
_Line = tuple[int, str, str, Decimal, int | None]


def _issue(distribution: Distribution, now: dt.datetime) -> list[int]:
    # Statements and lines are built as plain rows: a month issues a thousand of each, and
    # a model instance per row cost more than storing it.
    run = distribution.run
    current = {
        s.member_id: s
        for s in Statement.objects.select_for_update()
        .filter(
            configuration_id=run.configuration_id, month=run.month, status=StatementStatus.CURRENT
        )
        .prefetch_related("lines")
    }
    # Only the two amounts a statement reads: a share's arithmetic (JSON) stays unread.
    shares = {
        member_id: _Share(amount_eur, correction_eur)
        for member_id, amount_eur, correction_eur in distribution.shares.values_list(
            "member_id", "amount_eur", "correction_eur"
        )
    }
    dropped = [
        member_id
        for member_id, statement in current.items()
        if member_id not in shares and _share_sum(statement)
    ]
    member_ids = sorted(set(shares) | set(dropped))
    names = _display_names([m for m in member_ids if m not in current])
    Statement.objects.filter(pk__among=[current[m].pk for m in member_ids if m in current]).update(
        status=StatementStatus.SUPERSEDED
    )
    version_reason = _("Settlement version %(version)s") % {"version": run.version}
    texts = _FirstLineTexts(
        share=month_text(SHARE_TEXT, run.month),
        correction=month_text(CORRECTION_TEXT, run.month),
    )
    new_token = Statement._meta.get_field("file_token").get_default
    statements: list[tuple[object, ...]] = []
    lines_of: list[list[_Line]] = []
    for member_id in member_ids:
        previous = current.get(member_id)
        share = shares.get(member_id)
        new_share = share.amount_eur if share is not None else Decimal(0)
        if previous is None:
            assert share is not None
            amount, name, reason = new_share, names.get(member_id, ""), ""
            lines = _first_lines(share, texts)
        else:
            carried_total = sum((line.amount_eur for line in previous.lines.all()), Decimal(0))
            delta = new_share - _share_sum(previous)
            reason = version_reason
            if share is None:
                reason = _("%(reason)s: you are not part of the month's calculation any more") % {
                    "reason": version_reason
                }
            amount, name = carried_total + delta, previous.member_name
            lines = _carried_rows(previous)
            position = max((line[0] for line in lines), default=0)
            if share is not None and not any(line[1] in SHARE_KINDS for line in lines):
                # Only other lines so far (a GSE adjustment, say): the share is a first share.
                lines += [
                    (position + offset, *line[1:])
                    for offset, line in enumerate(_first_lines(share, texts), start=1)
                ]
            elif delta:
                description = _version_description(run.version, share is None)
                lines.append((position + 1, LineKind.VERSION, description, delta, None))
        statements.append(
            (
                member_id,
                run.configuration_id,
                run.month,
                previous.version + 1 if previous else 1,
                StatementStatus.CURRENT,
                distribution.pk,
                previous.pk if previous else None,
                reason,
                amount,
                run.provisional,
                name,
                new_token(),
                now,
            )
        )
        lines_of.append(lines)
    ids = insert_rows(Statement, _STATEMENT_COLUMNS, statements)
    insert_rows(
        StatementLine,
        _LINE_COLUMNS,
        [
            (statement_id, *line)
            for statement_id, lines in zip(ids, lines_of, strict=True)
            for line in lines
        ],
        batch_size=2000,
    )
    return ids


def _share_sum(statement: Statement) -> Decimal:
    """Σ of the lines a new settlement version replaces (SHARE_KINDS) [EUR]."""
    return sum(
        (line.amount_eur for line in statement.lines.all() if line.kind in SHARE_KINDS),
        Decimal(0),
    )


def _version_description(version: int, dropped: bool) -> str:
    if dropped:
        return _("Settlement version %(version)s: your share of the month is withdrawn") % {
            "version": version
        }
    return _("Change after settlement version %(version)s") % {"version": version}


@dataclass(frozen=True)
class _Share:
    """What a statement takes from a member's share of a distribution [EUR]."""

    amount_eur: Decimal
    correction_eur: Decimal


@dataclass(frozen=True)
class _FirstLineTexts:
    """The descriptions of a first share line and of its 55 %/45 % correction (translated)."""

    share: str
    correction: str


def _first_lines(share: _Share, texts: _FirstLineTexts) -> list[_Line]:
    lines: list[_Line] = [
        (1, LineKind.SHARE, texts.share, share.amount_eur - share.correction_eur, None)
    ]
    if share.correction_eur:
        lines.append((2, LineKind.CORRECTION, texts.correction, share.correction_eur, None))
    return lines


def _display_names(member_ids: list[int]) -> dict[int, str]:
    """Return the members' display names without reading (and decrypting) other fields."""
    from cer.members.models import Member, display_name_of

    rows = Member.objects.filter(pk__among=member_ids).values_list(
        "pk", "kind", "first_name", "last_name", "company_name"
    )
    return {pk: display_name_of(*fields) for pk, *fields in rows}


def _carried(previous: Statement, statement: Statement) -> list[StatementLine]:
    return [
        StatementLine(
            statement=statement,
            position=line.position,
            kind=line.kind,
            description=line.description,
            amount_eur=line.amount_eur,
            origin_id=line.origin_id or line.pk,
        )
        for line in previous.lines.all()
    ]


def _carried_rows(previous: Statement) -> list[_Line]:
    """The lines of `previous` as rows of a new version, each keeping its first origin."""
    return [
        (line.position, line.kind, line.description, line.amount_eur, line.origin_id or line.pk)
        for line in previous.lines.all()
    ]


def correct_statement(
    *, statement: Statement, amount_eur: Decimal, description: str, now: dt.datetime
) -> Statement:
    """Issue a new version of a current statement with one ADJUSTMENT line [EUR].

    The award is a line of its own, outside SHARE_KINDS, so a later settlement version
    carries it untouched (docs/algorithms/statements.md).
    Raises StatementNotCurrent when `statement` was superseded already.
    """
    with transaction.atomic():
        locked = (
            Statement.objects.select_for_update()
            .select_related("distribution__run")
            .get(pk=statement.pk)
        )
        if locked.status != StatementStatus.CURRENT:
            raise StatementNotCurrent("only the current version of a statement can be corrected")
        [new] = add_lines(
            distribution=locked.distribution,
            lines={locked.member_id: [NewLine(LineKind.ADJUSTMENT, description, amount_eur)]},
            reason=description,
            now=now,
        )
    return new


def add_lines(
    *,
    distribution: Distribution,
    lines: Mapping[int, Sequence[NewLine]],
    reason: str,
    now: dt.datetime,
) -> list[Statement]:
    """Add signed lines to members' statements of the distribution's month, as new versions.

    `lines` maps member ids to the lines to add. A member's current statement of that
    configuration and month is superseded by a new version carrying its lines (with their
    origin, so what was paid stays paid) plus the new ones; a member without one gets a
    first version holding only the new lines. Nothing is overwritten: the member's position
    for the month is the sum of the lines (money never disappears). Returns the new
    statements, in member id order.
    """
    run = distribution.run
    wanted = {member_id: list(new) for member_id, new in lines.items() if new}
    if not wanted:
        return []
    with transaction.atomic():
        current = {
            s.member_id: s
            for s in Statement.objects.select_for_update()
            .filter(
                configuration_id=run.configuration_id,
                month=run.month,
                status=StatementStatus.CURRENT,
                member_id__among=list(wanted),
            )
            .prefetch_related("lines")
        }
        Statement.objects.filter(pk__among=[s.pk for s in current.values()]).update(
            status=StatementStatus.SUPERSEDED
        )
        names = _display_names([m for m in wanted if m not in current])
        statements = []
        for member_id in sorted(wanted):
            previous = current.get(member_id)
            added = sum((line.amount_eur for line in wanted[member_id]), Decimal(0))
            statements.append(
                Statement(
                    member_id=member_id,
                    configuration_id=run.configuration_id,
                    month=run.month,
                    version=previous.version + 1 if previous else 1,
                    distribution=previous.distribution if previous else distribution,
                    previous=previous,
                    reason=reason,
                    amount_eur=(previous.amount_eur if previous else Decimal(0)) + added,
                    provisional=previous.provisional if previous else run.provisional,
                    member_name=previous.member_name if previous else names.get(member_id, ""),
                    created_at=now,
                )
            )
        Statement.objects.bulk_create(statements, batch_size=1000)
        new_lines: list[StatementLine] = []
        for statement in statements:
            previous = current.get(statement.member_id)
            carried = _carried(previous, statement) if previous else []
            position = max((line.position for line in carried), default=0)
            new_lines += carried
            for offset, line in enumerate(wanted[statement.member_id], start=1):
                new_lines.append(
                    StatementLine(
                        statement=statement,
                        position=position + offset,
                        kind=line.kind,
                        description=line.description,
                        amount_eur=line.amount_eur,
                    )
                )
        StatementLine.objects.bulk_create(new_lines, batch_size=2000)
        notices.statements_issued([s.pk for s in statements], now=now)
    return statements
