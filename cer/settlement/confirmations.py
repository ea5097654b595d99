"""What finalising or distributing a run will do, in sentences a treasurer reads first.

The settlement pages show these on the confirmation page (cer/core/confirm.py) before an
irreversible step; the figures are those the services will use (the run's members, the
amount and policy of distribute_run), so the page names what really happens.
"""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from cer.core import formatting
from cer.distribution.models import AmountBasis, Distribution
from cer.distribution.services import NoPolicy, amount_for, policy_on
from cer.settlement.models import RunMember, SettlementRun


def month_label(run: SettlementRun) -> str:
    """Return the run's month in words ("giugno 2025", "June 2025")."""
    return formatting.month(run.month)


def eur(amount: Decimal) -> str:
    """Return an amount as people read it ("164,52 €" in Italian), two decimals."""
    return formatting.eur(amount)


def finalise_consequences(run: SettlementRun, *, override_reason: str = "") -> list[str]:
    """Say what making `run` final does: no recomputation, statements, any override."""
    members = RunMember.objects.filter(run=run).count()
    sentences = [
        _(
            "%(month)s, version %(version)s, becomes final: it can no longer be recomputed "
            "or deleted; a later correction will be a new version."
        )
        % {"month": month_label(run), "version": run.version}
    ]
    distribution = Distribution.objects.filter(run=run).first()
    if distribution is not None:
        statements = distribution.statements.values("member_id").distinct().count()
        sentences.append(
            ngettext(
                "%(count)s member's statement stops being provisional.",
                "%(count)s members' statements stop being provisional.",
                statements,
            )
            % {"count": statements}
        )
    else:
        sentences.append(
            ngettext(
                "It is not distributed yet: distributing it will issue %(count)s member's "
                "statement.",
                "It is not distributed yet: distributing it will issue %(count)s members' "
                "statements.",
                members,
            )
            % {"count": members}
        )
    if run.provisional:
        sentences.append(
            _(
                "Data are missing (%(gaps)s point(s) with gaps, %(unpriced)s hour(s) without a "
                "price): the amounts are fixed as they are. Your reason is recorded with your "
                "name: “%(reason)s”."
            )
            % {
                "gaps": len(run.gaps),
                "unpriced": len(run.unpriced_hours),
                "reason": override_reason,
            }
        )
    return sentences


def distribute_consequences(run: SettlementRun) -> list[str]:
    """Say what distributing `run` does: the amount, the members, the policy, the statements.

    Raises NoPolicy when no policy is valid in the run's month (as distribute_run would).
    """
    policy = policy_on(run.configuration.community_id, run.month)
    if policy is None:
        raise NoPolicy(f"no distribution policy for {run.month:%Y-%m}")
    basis, amount = amount_for(run)
    members = RunMember.objects.filter(run=run).count()
    sentences = [
        ngettext(
            "Distribute %(amount)s among %(count)s member by the policy valid from "
            "%(valid_from)s; the statement is issued.",
            "Distribute %(amount)s among %(count)s members by the policy valid from "
            "%(valid_from)s; statements are issued.",
            members,
        )
        % {
            "amount": eur(amount),
            "count": members,
            "valid_from": formatting.day(policy.valid_from),
        },
        _("%(month)s, version %(version)s; the amount is %(basis)s.")
        % {
            "month": month_label(run),
            "version": run.version,
            "basis": _("as certified by GSE")
            if basis == AmountBasis.GSE
            else _("estimated from the readings (no GSE figures yet)"),
        },
    ]
    if not run.is_final:
        sentences.append(
            _("The run is not final: the statements say “provisional” until it is made final.")
        )
    return sentences
