"""Statements, disputes and payout batches, and a settled and distributed month of the
small configuration, for the billing tests."""

from __future__ import annotations

import datetime as dt
import secrets
from decimal import Decimal

from cer.communities.models import Configuration
from cer.distribution.services import distribute_run, set_policy
from cer.members.models import Member
from cer.settlement.services import compute_month, finalise_run
from tests.factories.settlement import settled_small

NOW = dt.datetime(2025, 7, 3, 8, 0, tzinfo=dt.UTC)
JUNE = dt.date(2025, 6, 1)


def distributed_small(*, final: bool = False):
    """June 2025 of the small configuration, distributed; `final` finalises the run first
    (payouts pay only final runs)."""
    small = settled_small()
    set_policy(
        community=small.community,
        valid_from=dt.date(2025, 1, 1),
        pots=[{"code": "social", "label": "Social fund", "percent": Decimal("5"), "social": True}],
        components=[{"basis": "CONTRIBUTION", "percent": Decimal(100)}],
        actor=None,
        now=NOW,
    )
    run = compute_month(configuration=small.configuration, month=JUNE, now=NOW).run
    if final:
        run = finalise_run(run=run, actor=None, now=NOW)
    return small, distribute_run(run=run, actor=None, now=NOW)


def make_statement(run, member: Member, amount: str = "12.34"):
    """A statement with one share line, under a one-member distribution of the run."""
    from cer.billing.models import Statement, StatementLine
    from cer.distribution.models import Distribution, DistributionPolicy, MemberShare

    policy = DistributionPolicy.objects.filter(
        community_id=run.configuration.community_id
    ).first() or DistributionPolicy.objects.create(
        community_id=run.configuration.community_id,
        valid_from=dt.date(2025, 1, 1),
        created_at=run.created_at,
    )
    distribution = Distribution.objects.filter(run=run).first() or Distribution.objects.create(
        run=run,
        policy=policy,
        amount_basis="SHADOW",
        amount_eur=Decimal(amount),
        excess_eur=0,
        enterprise_ceiling_eur=Decimal(amount),
        enterprise_before_eur=0,
        enterprise_eur=0,
        moved_to_social_eur=0,
        moved_to_members_eur=0,
        created_at=run.created_at,
    )
    MemberShare.objects.create(
        distribution=distribution, member=member, amount_eur=Decimal(amount), exact_eur=amount
    )
    statement = Statement.objects.create(
        member=member,
        configuration=run.configuration,
        month=run.month,
        distribution=distribution,
        amount_eur=Decimal(amount),
        member_name=member.display_name,
        created_at=run.created_at,
    )
    StatementLine.objects.create(
        statement=statement,
        position=1,
        kind="SHARE",
        description="Share",
        amount_eur=Decimal(amount),
    )
    return statement


def make_dispute(line):
    from cer.billing.models import Dispute

    return Dispute.objects.create(
        line=line,
        member_id=line.statement.member_id,
        message="Why so little?",
        opened_at=dt.datetime(2025, 4, 5, tzinfo=dt.UTC),
    )


def make_payout_batch(configuration: Configuration):
    from cer.billing.models import PayoutBatch

    return PayoutBatch.objects.create(
        configuration=configuration,
        period_start=dt.date(2025, 3, 1),
        period_end=dt.date(2025, 4, 1),
        debtor_name="CER",
        debtor_iban="IT60X0542811101000000123456",
        debtor_bic="BPPIITRRXXX",
        execution_date=dt.date(2025, 4, 10),
        total_eur=Decimal("0.00"),
        message_id=f"M1-{secrets.token_hex(6)}",
        xml="<Document/>",
        created_at=dt.datetime(2025, 4, 2, tzinfo=dt.UTC),
    )


def make_bank_report(configuration: Configuration):
    """An imported (refused) bank status report, for pages and permissions."""
    from cer.billing.models import BankReport

    return BankReport.objects.create(
        configuration=configuration,
        kind="PAIN002",
        file_name="status.xml",
        sha256=secrets.token_hex(32),
        refused=True,
        result={"matched": [], "unmatched": [], "refused": []},
        imported_at=dt.datetime(2025, 4, 3, tzinfo=dt.UTC),
    )


APRIL_NOW = dt.datetime(2025, 4, 2, 8, 0, tzinfo=dt.UTC)
MARCH = dt.date(2025, 3, 1)
DEBTOR = {
    "debtor_name": "CER Piccola ETS",
    "debtor_iban": "IT60X0542811101000000123456",
    "debtor_bic": "BPPIITRRXXX",
}


def batch_of_three():
    """A draft payout of March 2025 from a final run: the small configuration's household,
    SME and producer paid 41.50, 25.00 and 12.34 EUR (EndToEndIds CERB<pk>-1, -2, -3)."""
    from cer.billing.payouts import create_payout
    from cer.settlement.services import finalise_run
    from tests.factories.settlement import make_settlement_run, make_small

    small = make_small()
    run = finalise_run(run=make_settlement_run(small.configuration), actor=None, now=APRIL_NOW)
    for member, amount in (
        (small.household, "41.50"),
        (small.sme, "25.00"),
        (small.producer, "12.34"),
    ):
        make_statement(run, member, amount)
    batch = create_payout(
        configuration=small.configuration,
        period_start=MARCH,
        period_end=dt.date(2025, 4, 1),
        actor=None,
        now=APRIL_NOW,
        **DEBTOR,
    )
    return small, batch
