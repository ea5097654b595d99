"""The 55 %/45 % rule applied where GSE applies it, the year (docs/algorithms/excess.md).

Months show their excess as an indication and are never cut; the yearly true-up moves what
enterprises received above the year's ceiling, adds the lines to the December statements
and the December payout nets them.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from cer.audit.models import AuditEntry
from cer.billing.models import LineKind, Statement, StatementStatus
from cer.distribution.models import Distribution, YearTrueUp
from cer.distribution.true_up import NothingChanged, true_up_year
from cer.metering.models import HourlyReading
from cer.settlement.models import SettlementRun
from cer.settlement.services import compute_month
from cer.settlement.year import year_summary
from tests import factories
from tests.factories.year import (
    AFTER_YEAR,
    LOW,
    make_year,
    set_year_policy,
    settle_and_distribute,
)

pytestmark = pytest.mark.django_db

DECEMBER = dt.date(2025, 12, 1)
NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"}


@pytest.fixture(autouse=True)
def _english():
    """Assert on the English texts whatever the translations say."""
    with translation.override("en"):
        yield


def _login(client, small):
    client.force_login(
        factories.make_user_with_role(small.community, role="REFERENTE", username="tesoriere")
    )
    return client


def _true_up_url(small):
    return reverse("distribution:year_true_up", kwargs={"pk": small.configuration.pk, "year": 2025})


def _year_url(small):
    return reverse("settlement:year", kwargs={"pk": small.configuration.pk, "year": 2025})


def _december_lines(member):
    statement = Statement.objects.get(member=member, month=DECEMBER, status=StatementStatus.CURRENT)
    return statement, list(statement.lines.all())


def _year_total(member) -> Decimal:
    """Σ of the member's current 2025 statements [EUR]."""
    return sum(
        (s.amount_eur for s in Statement.objects.filter(member=member, status="CURRENT")),
        Decimal(0),
    )


def _pay_december(small) -> dict[int, Decimal]:
    """Issue the December payout file and return what it pays each member [EUR].

    The one place this module touches cer.billing.payouts: adapt it when payouts change.
    """
    from cer.billing.payouts import create_payout

    batch = create_payout(
        configuration=small.configuration,
        period_start=DECEMBER,
        period_end=dt.date(2026, 1, 1),
        debtor_name="CER Piccola ETS",
        debtor_iban="IT60X0542811101000000123456",
        debtor_bic="BPPIITRRXXX",
        execution_date=dt.date(2026, 1, 15),
        actor=None,
        now=AFTER_YEAR,
    )
    root = ET.fromstring(batch.xml.encode())  # noqa: S314 (a file we just generated)
    amounts = sorted(
        Decimal(e.text) for e in root.iterfind(".//p:CdtTrfTxInf/p:Amt/p:InstdAmt", NS)
    )
    paid = {item.member_id: item.amount_eur for item in batch.items.all()}
    assert amounts == sorted(paid.values())
    return paid


def test_months_above_their_indicative_ceiling_are_distributed_uncut_and_the_year_owes_nothing(
    client,
):
    # January and December share 77 % of what the plant injects, the other months 30 %: the
    # months show an excess, the year (38 %) has none. The policy refuses.
    small = make_year(withdrawn_wh_by_month={month: LOW for month in range(2, 12)})
    set_year_policy(small, excess_policy="REFUSE")
    _login(client, small)
    january = compute_month(
        configuration=small.configuration, month=dt.date(2025, 1, 1), now=AFTER_YEAR
    ).run

    distributed = client.post(
        reverse("settlement:run_distribute", kwargs={"pk": january.pk}), {"confirmed": "yes"}
    )

    distribution = Distribution.objects.get(run=january)
    assert distributed.status_code == 302
    assert january.excess_eur > 0
    sme = distribution.shares.get(member=small.sme)
    assert sme.amount_eur > distribution.enterprise_ceiling_eur
    assert sme.correction_eur == 0
    assert distribution.moved_to_social_eur == distribution.moved_to_members_eur == 0

    settle_and_distribute(small, months=range(2, 13), final=False)
    page = client.get(_year_url(small))

    summary = page.context["summary"]
    assert summary.monthly_excess_eur == Decimal("40.16")
    assert summary.year_excess_eur == Decimal("0.00")
    assert summary.ready_for_true_up
    assert _true_up_url(small) in page.content.decode()
    assert "correct the yearly distribution" not in page.content.decode()

    asked = client.post(_true_up_url(small))
    stored_when_asked = YearTrueUp.objects.count()
    done = client.post(_true_up_url(small), {"confirmed": "yes"})

    assert asked.status_code == 200
    assert "Yearly excess 0.00 EUR" in asked.content.decode()
    assert stored_when_asked == 0
    assert done.status_code == 302
    true_up = YearTrueUp.objects.get()
    assert true_up.moved_eur == Decimal("0.00")
    assert true_up.excess_eur == Decimal("0.00")
    assert not Statement.objects.filter(lines__kind=LineKind.YEAR_EXCESS).exists()


def test_the_year_true_up_reaches_the_december_statements_and_the_december_payout(client):
    small = make_year()
    set_year_policy(small)
    settle_and_distribute(small)
    _login(client, small)
    summary = year_summary(configuration=small.configuration, year=2025)
    _, sme_before = _december_lines(small.sme)
    _, household_before = _december_lines(small.household)

    asked = client.post(_true_up_url(small))
    done = client.post(_true_up_url(small), {"confirmed": "yes"})

    # The year (December trues up the GSE fee provision): 1,140.10 EUR distributed, 236.46
    # EUR of excess over the whole year; the SME received 974.80 EUR against a ceiling of
    # 1,140.10 - 236.46 = 903.64 EUR (the only pot is social), so 71.16 EUR move: 25 %
    # (17.79) to the social pot, 53.37 to the household, the only other member who received
    # something.
    assert asked.status_code == 200
    assert "-71.16" in asked.content.decode() and "53.37" in asked.content.decode()
    assert done.status_code == 302
    true_up = YearTrueUp.objects.get()
    assert true_up.amount_eur == Decimal("1140.10")
    assert true_up.excess_eur == summary.year_excess_eur == Decimal("236.46")
    assert true_up.ceiling_eur == summary.enterprise_ceiling_eur == Decimal("903.64")
    assert true_up.enterprise_eur == summary.enterprise_eur == Decimal("974.80")
    assert true_up.moved_eur == Decimal("71.16")
    assert true_up.moved_to_social_eur == Decimal("17.79")
    assert true_up.moved_to_members_eur == Decimal("53.37")
    assert true_up.social_pot == "social"
    assert true_up.inputs_hash == summary.inputs_hash
    assert set(true_up.runs) == {f"2025-{m:02d}" for m in range(1, 13)}
    assert AuditEntry.objects.filter(code="distribution.year_true_up.created").count() == 1

    sme_statement, sme_lines = _december_lines(small.sme)
    household_statement, household_lines = _december_lines(small.household)
    assert [line.kind for line in sme_lines] == [
        *[line.kind for line in sme_before],
        LineKind.YEAR_EXCESS,
    ]
    assert sme_lines[-1].amount_eur == Decimal("-71.16")
    assert household_lines[-1].kind == LineKind.YEAR_EXCESS
    assert household_lines[-1].amount_eur == Decimal("53.37")
    assert sme_statement.version == 2 and household_statement.version == 2
    assert sme_statement.amount_eur == sum(line.amount_eur for line in sme_before) - Decimal(
        "71.16"
    )

    paid = _pay_december(small)

    # The payout up to December pays every unpaid month of the year, netting the true-up:
    # the SME ends the year with exactly its ceiling, the household with its year's position.
    assert paid[small.sme.pk] == true_up.ceiling_eur == _year_total(small.sme)
    assert paid[small.household.pk] == _year_total(small.household)
    assert household_statement.amount_eur == sum(
        line.amount_eur for line in household_before
    ) + Decimal("53.37")


def test_the_year_page_names_the_months_missing_and_the_true_up_is_refused(client):
    small = make_year()
    set_year_policy(small)
    settle_and_distribute(small, months=range(1, 11), final=False)
    compute_month(configuration=small.configuration, month=dt.date(2025, 11, 1), now=AFTER_YEAR)
    _login(client, small)

    page = client.get(_year_url(small))
    refused = client.post(_true_up_url(small), {"confirmed": "yes"}, follow=True)

    content = page.content.decode()
    assert "Not settled: December 2025" in content
    assert "Not distributed: November 2025" in content
    assert _true_up_url(small) not in content
    assert "December 2025, November 2025" in refused.content.decode()
    assert YearTrueUp.objects.count() == 0


def test_a_refusing_policy_names_the_amounts_and_stores_nothing(client):
    small = make_year()
    set_year_policy(small, excess_policy="REFUSE")
    settle_and_distribute(small, final=False)
    _login(client, small)

    refused = client.post(_true_up_url(small), follow=True)

    content = refused.content.decode()
    assert "974.80" in content and "903.64" in content and "236.46" in content
    assert YearTrueUp.objects.count() == 0
    assert not Statement.objects.filter(lines__kind=LineKind.YEAR_EXCESS).exists()


def test_a_second_true_up_after_a_new_version_of_a_month_adds_only_the_difference(client):
    small = make_year()
    set_year_policy(small)
    settle_and_distribute(small, final=False)
    first = true_up_year(configuration=small.configuration, year=2025, actor=None, now=AFTER_YEAR)
    _login(client, small)
    unchanged = client.post(_true_up_url(small), follow=True)
    # March is read again: the SME withdrew more, so more energy is shared and incentivised.
    HourlyReading.objects.filter(
        connection_point=small.points["sme"],
        hour_start__gte=dt.datetime(2025, 3, 1, tzinfo=dt.UTC),
        hour_start__lt=dt.datetime(2025, 3, 31, tzinfo=dt.UTC),
    ).update(withdrawn_wh=2500)
    settle_and_distribute(small, months=[3], final=False)
    assert SettlementRun.objects.filter(month=dt.date(2025, 3, 1)).count() == 2

    second = true_up_year(configuration=small.configuration, year=2025, actor=None, now=AFTER_YEAR)

    assert "nothing would change" in unchanged.content.decode()
    assert (first.sequence, second.sequence) == (1, 2)
    assert second.moved_eur != first.moved_eur
    _, sme_lines = _december_lines(small.sme)
    year_lines = [line.amount_eur for line in sme_lines if line.kind == LineKind.YEAR_EXCESS]
    assert len(year_lines) == 2
    assert sum(year_lines) == -second.moved_eur
    assert year_lines[0] == -first.moved_eur
    with pytest.raises(NothingChanged):
        true_up_year(configuration=small.configuration, year=2025, actor=None, now=AFTER_YEAR)
