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

from cer.billing.models import LineKind, Statement, StatementLine, StatementStatus
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


def issue_statements(*, distribution: Distribution, now: dt.datetime) -> list[Statement]:
    """Issue each member's statement for the distribution's month (a new version if needed).

    The share line is the share before the 55 %/45 % correction; a correction line follows
    when there was one (docs/algorithms/distribution.md, step 6).
    """
    run = distribution.run
    current = {
        s.member_id: s
        for s in Statement.objects.filter(
            configuration_id=run.configuration_id, month=run.month, status=StatementStatus.CURRENT
        ).prefetch_related("lines")
    }
    shares = list(distribution.shares.all())
    names = _display_names([share.member_id for share in shares])
    Statement.objects.filter(pk__in=[s.pk for s in current.values()]).update(
        status=StatementStatus.SUPERSEDED
    )
    statements = []
    for share in shares:
        previous = current.get(share.member_id)
        statements.append(
            Statement(
                member_id=share.member_id,
                configuration_id=run.configuration_id,
                month=run.month,
                version=previous.version + 1 if previous else 1,
                distribution=distribution,
                previous=previous,
                reason=_("Settlement version %(version)s") % {"version": run.version}
                if previous
                else "",
                amount_eur=share.amount_eur,
                provisional=run.provisional,
                member_name=names.get(share.member_id, ""),
                created_at=now,
            )
        )
    Statement.objects.bulk_create(statements, batch_size=1000)
    lines: list[StatementLine] = []
    for statement, share in zip(statements, shares, strict=True):
        previous = current.get(share.member_id)
        if previous is not None:
            carried = _carried(previous, statement)
            lines += carried
            delta = share.amount_eur - previous.amount_eur
            if delta:
                lines.append(
                    StatementLine(
                        statement=statement,
                        position=max((line.position for line in carried), default=0) + 1,
                        kind=LineKind.ADJUSTMENT,
                        description=_("Change after settlement version %(version)s")
                        % {"version": run.version},
                        amount_eur=delta,
                    )
                )
            continue
        base = share.amount_eur - share.correction_eur
        lines.append(
            StatementLine(
                statement=statement,
                position=1,
                kind=LineKind.SHARE,
                description=_("Your share of %(month)s") % {"month": f"{run.month:%m/%Y}"},
                amount_eur=base,
            )
        )
        if share.correction_eur:
            lines.append(
                StatementLine(
                    statement=statement,
                    position=2,
                    kind=LineKind.CORRECTION,
                    description=_("Correction for the 55 %/45 % rule"),
                    amount_eur=share.correction_eur,
                )
            )
    StatementLine.objects.bulk_create(lines, batch_size=2000)
    return statements


def _display_names(member_ids: list[int]) -> dict[int, str]:
    """Return the members' display names without reading (and decrypting) other fields."""
    from cer.members.models import Member

    fields = ("kind", "first_name", "last_name", "company_name")
    return {
        member.pk: member.display_name
        for member in Member.objects.filter(pk__in=member_ids).only(*fields)
    }


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


def correct_statement(
    *, statement: Statement, amount_eur: Decimal, description: str, now: dt.datetime
) -> Statement:
    """Issue a new version of a current statement with one adjustment line [EUR].

    Raises StatementNotCurrent when `statement` was superseded already.
    """
    with transaction.atomic():
        locked = Statement.objects.select_for_update().get(pk=statement.pk)
        if locked.status != StatementStatus.CURRENT:
            raise StatementNotCurrent("only the current version of a statement can be corrected")
        locked.status = StatementStatus.SUPERSEDED
        locked.save(update_fields=["status"])
        new = Statement.objects.create(
            member_id=locked.member_id,
            configuration_id=locked.configuration_id,
            month=locked.month,
            version=locked.version + 1,
            distribution_id=locked.distribution_id,
            previous=locked,
            reason=description,
            amount_eur=locked.amount_eur + amount_eur,
            provisional=locked.provisional,
            member_name=locked.member_name,
            created_at=now,
        )
        lines = _carried(locked, new)
        lines.append(
            StatementLine(
                statement=new,
                position=max((line.position for line in lines), default=0) + 1,
                kind=LineKind.ADJUSTMENT,
                description=description,
                amount_eur=amount_eur,
            )
        )
        StatementLine.objects.bulk_create(lines)
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
                member_id__in=list(wanted),
            )
            .prefetch_related("lines")
        }
        Statement.objects.filter(pk__in=[s.pk for s in current.values()]).update(
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
    return statements
