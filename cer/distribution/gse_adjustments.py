"""Adjust a distributed month when GSE amounts arrive afterwards (a conguaglio, certified figures).

A month is distributed once; GSE's figures often come later. When they change what the month
can distribute (cer.distribution.services.month_amount), the month's policy is applied again
to the new amount with the same participants as the month's distribution (cercalc.distribution,
largest remainder to the cent), and each member's difference from what they were given so far
becomes a GSE line on a new version of their statement (cer.billing.statements.add_lines).
The adjustment is a record of its own (GseAdjustment) and is audited. Nothing is overwritten:
the month's total is the distribution's amount plus the adjustments' differences, and each
member's position is the sum of their statement lines (REGULATION.md §10: GSE's figures are
authoritative; docs/settlement.md, GSE section).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext

from cer.audit.services import record
from cer.billing.line_text import GSE_TEXT, month_text
from cer.billing.models import LineKind
from cer.billing.statements import NewLine, add_lines
from cer.communities.models import Configuration
from cer.core import formatting
from cer.distribution.models import Distribution, GseAdjustment
from cer.distribution.services import month_amount, plan_of
from cer.members.models import MemberCategory
from cer.settlement.models import RunMember
from cercalc import distribution as split


class AdjustmentRefused(Exception):
    """The new amount cannot be shared out (negative, or the policy refuses it); says why."""


def current_distribution(configuration_id: int, month: dt.date) -> Distribution | None:
    """Return the distribution of the month's latest distributed settlement version, if any."""
    return (
        Distribution.objects.filter(run__configuration_id=configuration_id, run__month=month)
        .select_related("run", "policy")
        .order_by("-run__version", "-created_at")
        .first()
    )


def adjust_months(
    *,
    configuration: Configuration,
    months: Iterable[dt.date],
    source_name: str,
    actor: Any,
    now: dt.datetime,
) -> list[GseAdjustment]:
    """Adjust each distributed month whose distributable amount the GSE amounts changed.

    Months not distributed yet, and months whose amount is unchanged (the same amounts
    imported again), get nothing. Raises AdjustmentRefused, with nothing stored.
    """
    adjustments = []
    with transaction.atomic():
        for month in sorted(set(months)):
            distribution = current_distribution(configuration.pk, month)
            if distribution is None:
                continue
            adjustment = adjust_distribution(
                distribution=distribution, source_name=source_name, actor=actor, now=now
            )
            if adjustment is not None:
                adjustments.append(adjustment)
    return adjustments


def _before(distribution: Distribution) -> tuple[Decimal, dict[int, Decimal], dict[str, Decimal]]:
    """Return the month's amount, members' shares and pots after the latest adjustment [EUR]."""
    latest = distribution.gse_adjustments.order_by("-created_at", "-pk").first()
    if latest is not None:
        return (
            latest.amount_after_eur,
            {row["member_id"]: Decimal(row["after_eur"]) for row in latest.shares},
            {pot["code"]: Decimal(pot["after_eur"]) for pot in latest.pots},
        )
    return (
        distribution.amount_eur,
        dict(distribution.shares.values_list("member_id", "amount_eur")),
        {pot["code"]: Decimal(pot["amount_eur"]) for pot in distribution.pots},
    )


def _participants(distribution: Distribution, member_ids: Iterable[int]) -> list[split.Participant]:
    """The distribution's participants, with the weights its run and policy gave them."""
    weights = dict(distribution.policy.weights.values_list("member_id", "weight"))
    enterprises = MemberCategory.enterprises()
    rows = {
        row.member_id: row
        for row in RunMember.objects.filter(
            run_id=distribution.run_id, member_id__in=list(member_ids)
        ).defer("series")
    }
    return [
        split.Participant(
            member_id=str(member_id),
            enterprise=row.category in enterprises,
            producer_wh=row.producer_shared_wh,
            consumer_wh=row.consumer_shared_wh,
            active_hours=row.active_hours,
            custom_weight=weights.get(member_id, Decimal(0)),
        )
        for member_id, row in sorted(rows.items())
    ]


def adjust_distribution(
    *, distribution: Distribution, source_name: str, actor: Any, now: dt.datetime
) -> GseAdjustment | None:
    """Share out the change of a distributed month's amount and add it to the statements.

    Returns None when the month's amount did not change. The 55 %/45 % handling follows the
    month's distribution: the run's excess is applied again only if the distribution
    corrected enterprises' shares. Raises AdjustmentRefused.
    """
    run = distribution.run
    amount = month_amount(run)
    before_eur, before_shares, before_pots = _before(distribution)
    if amount.total_eur == before_eur:
        return None
    if amount.total_eur < 0:
        raise AdjustmentRefused(
            gettext("the amount of %(month)s would become negative (%(amount)s EUR)")
            % {
                "month": formatting.month(run.month),
                "amount": formatting.number(amount.total_eur, 2),
            }
        )
    corrected = bool(distribution.moved_to_social_eur or distribution.moved_to_members_eur)
    try:
        outcome = split.distribute(
            amount_eur=amount.total_eur,
            excess_eur=run.excess_eur if corrected else Decimal(0),
            participants=_participants(distribution, before_shares),
            plan=plan_of(distribution.policy),
        )
    except (split.InvalidPlan, split.ExcessCeilingExceeded) as error:
        raise AdjustmentRefused(
            gettext("the new amount of %(month)s cannot be shared out: %(error)s")
            % {"month": formatting.month(run.month), "error": error}
        ) from error
    after_shares = {
        member_id: outcome.shares.get(str(member_id), Decimal(0)) for member_id in before_shares
    }
    differences = {
        member_id: after_shares[member_id] - before for member_id, before in before_shares.items()
    }
    shares = [
        {
            "member_id": member_id,
            "before_eur": str(before_shares[member_id]),
            "after_eur": str(after_shares[member_id]),
            "difference_eur": str(differences[member_id]),
        }
        for member_id in sorted(before_shares)
    ]
    labels = {pot["code"]: (pot["label"], pot.get("social", False)) for pot in distribution.pots}
    pots = [
        {
            "code": code,
            "label": labels.get(code, (code, False))[0],
            "social": labels.get(code, (code, False))[1],
            "before_eur": str(before_pots.get(code, Decimal(0))),
            "after_eur": str(value),
        }
        for code, value in outcome.pots.items()
    ]
    description = month_text(GSE_TEXT, run.month)
    lines = {
        member_id: [NewLine(LineKind.GSE, description, difference)]
        for member_id, difference in differences.items()
        if difference
    }
    with transaction.atomic():
        adjustment = GseAdjustment.objects.create(
            distribution=distribution,
            amount_before_eur=before_eur,
            amount_after_eur=amount.total_eur,
            amount_parts=amount.as_json(),
            pots=pots,
            shares=shares,
            source_name=source_name[:200],
            created_at=now,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        add_lines(distribution=distribution, lines=lines, reason=description, now=now)
        record(
            actor=actor,
            code="distribution.gse_adjustment.created",
            now=now,
            target=adjustment,
            community=run.configuration.community,
            changes={
                "month": run.month.isoformat(),
                "amount_eur": [str(before_eur), str(amount.total_eur)],
                "members": len(lines),
                "file": source_name,
            },
        )
    return adjustment
