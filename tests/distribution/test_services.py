"""Distribution policies and their application to settlement runs."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from cer.audit.models import AuditEntry
from cer.billing.models import Statement
from cer.distribution.models import DistributionPolicy, MemberShare
from cer.distribution.services import (
    InvalidPlan,
    PolicyConflict,
    distribute_run,
    policy_on,
    set_policy,
)
from cer.settlement.models import GseAmount
from cer.settlement.services import compute_month
from tests.factories.settlement import settled_small

NOW = dt.datetime(2025, 7, 3, 8, 0, tzinfo=dt.UTC)
JUNE = dt.date(2025, 6, 1)
POTS = [
    {"code": "running", "label": "Running costs", "percent": Decimal("10")},
    {"code": "social", "label": "Social fund", "percent": Decimal("5"), "social": True},
]

pytestmark = pytest.mark.django_db


def _policy(small, **overrides):
    fields = {
        "community": small.community,
        "valid_from": dt.date(2025, 1, 1),
        "pots": POTS,
        "components": [{"basis": "CONTRIBUTION", "percent": Decimal(100)}],
        "actor": None,
        "now": NOW,
    }
    fields.update(overrides)
    return set_policy(**fields)


def test_pots_above_one_hundred_percent_are_refused_before_anything_is_stored():
    small = settled_small()

    with pytest.raises(InvalidPlan) as refused:
        _policy(
            small,
            pots=[{"code": "a", "percent": Decimal(70)}, {"code": "b", "percent": Decimal(31)}],
        )

    assert refused.value.field == "pots"
    assert DistributionPolicy.objects.count() == 0


def test_component_percentages_that_do_not_sum_to_one_hundred_are_refused():
    small = settled_small()

    with pytest.raises(InvalidPlan) as refused:
        _policy(small, components=[{"basis": "EQUAL", "percent": Decimal(60)}])

    assert refused.value.field == "components"


def test_a_new_policy_closes_the_previous_one_and_keeps_the_history():
    small = settled_small()
    first = _policy(small)

    second = _policy(small, valid_from=dt.date(2025, 7, 1), pots=[])

    first.refresh_from_db()
    assert first.valid_to == dt.date(2025, 7, 1)
    assert policy_on(small.community.pk, dt.date(2025, 6, 30)) == first
    assert policy_on(small.community.pk, dt.date(2025, 7, 1)) == second
    with pytest.raises(PolicyConflict):
        _policy(small, valid_from=dt.date(2025, 3, 1))


def test_a_distribution_adds_up_to_the_amount_and_issues_a_statement_per_member():
    small = settled_small()
    _policy(small)
    run = compute_month(configuration=small.configuration, month=JUNE, now=NOW).run

    distribution = distribute_run(run=run, actor=None, now=NOW)

    shares = sum(
        MemberShare.objects.filter(distribution=distribution).values_list("amount_eur", flat=True)
    )
    pots = sum(Decimal(p["amount_eur"]) for p in distribution.pots)
    assert distribution.amount_eur == run.incentive_eur + run.valorisation_eur - run.gse_fees_eur
    assert shares + pots == distribution.amount_eur
    assert Statement.objects.filter(distribution=distribution).count() == 3
    assert AuditEntry.objects.filter(code="distribution.distribution.created").count() == 1
    assert distribute_run(run=run, actor=None, now=NOW) == distribution


def test_a_month_above_the_indicative_ceiling_is_distributed_uncut_whatever_the_policy():
    small = settled_small()
    _policy(
        small,
        pots=POTS[1:],
        components=[{"basis": "CUSTOM", "percent": Decimal(100)}],
        custom_weights={small.sme.pk: Decimal(9), small.household.pk: Decimal(1)},
        excess_policy="REFUSE",
        excess_to_social_percent=Decimal(50),
    )
    run = compute_month(configuration=small.configuration, month=JUNE, now=NOW).run
    assert run.excess_eur > 0

    distribution = distribute_run(run=run, actor=None, now=NOW)

    # The month's ceiling is shown as an indication; the rule is applied to the year.
    sme = distribution.shares.get(member=small.sme)
    assert sme.amount_eur > distribution.enterprise_ceiling_eur
    assert sme.correction_eur == 0
    assert distribution.enterprise_eur == distribution.enterprise_before_eur == sme.amount_eur
    assert distribution.moved_to_social_eur == distribution.moved_to_members_eur == 0
    statement = Statement.objects.get(member=small.sme)
    assert [line.kind for line in statement.lines.all()] == ["SHARE"]


def test_the_amount_certified_by_gse_replaces_the_shadow_amount():
    small = settled_small()
    _policy(small)
    run = compute_month(configuration=small.configuration, month=JUNE, now=NOW).run
    for kind, amount in (("TIP", "90.00"), ("VALORISATION", "7.00"), ("FEES", "3.00")):
        GseAmount.objects.create(
            configuration=small.configuration,
            month=JUNE,
            kind=kind,
            amount_eur=Decimal(amount),
            imported_at=NOW,
        )

    distribution = distribute_run(run=run, actor=None, now=NOW)

    assert distribution.amount_basis == "GSE"
    assert distribution.amount_eur == Decimal("94.00")
