"""SEPA payouts: final runs only, confirmed, minimum transfer, execution date, netting."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from cer.audit.models import AuditEntry
from cer.billing import target2
from cer.billing.models import LineKind, PaidLine, PayoutBatch, Statement
from cer.billing.payouts import (
    InvalidExecutionDate,
    MemberState,
    NothingToPay,
    create_payout,
    preview,
)
from cer.billing.statements import NewLine, add_lines, correct_statement
from cer.members.models import Membership
from tests.factories.billing import JUNE, NOW, distributed_small

NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"}
DEBTOR = {
    "debtor_name": "CER Piccola ETS",
    "debtor_iban": "IT60X0542811101000000123456",
    "debtor_bic": "BPPIITRRXXX",
    "execution_date": dt.date(2025, 7, 10),
}

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    """Assert on the English texts whatever the translations say."""
    with translation.override("en"):
        yield


def _payout(small, **overrides):
    return create_payout(
        configuration=small.configuration,
        period_start=JUNE,
        period_end=dt.date(2025, 7, 1),
        actor=None,
        now=NOW,
        **{**DEBTOR, **overrides},
    )


def _form(**overrides):
    return {
        "action": "create",
        "period_start": "2025-06",
        "period_end": "2025-06",
        "debtor_name": DEBTOR["debtor_name"],
        "debtor_iban": DEBTOR["debtor_iban"],
        "debtor_bic": DEBTOR["debtor_bic"],
        "execution_date": "",
        **overrides,
    }


@pytest.fixture
def manager_client(client, django_user_model):
    """A staff user (passes settlement.manage_payouts) signed in."""
    user = django_user_model.objects.create_user("tesoriere", password="x", is_staff=True)
    client.force_login(user)
    return client


def _amounts(xml: str) -> list[Decimal]:
    root = ET.fromstring(xml.encode())  # noqa: S314 (a file we just generated)
    return [Decimal(e.text) for e in root.iterfind(".//p:CdtTrfTxInf/p:Amt/p:InstdAmt", NS)]


def test_the_pain001_file_pays_each_member_their_share_and_its_sum_reads_back():
    small, distribution = distributed_small(final=True)

    batch = _payout(small)

    root = ET.fromstring(batch.xml.encode())  # noqa: S314 (a file we just generated)
    control = Decimal(root.find(".//p:GrpHdr/p:CtrlSum", NS).text)
    shares = sum(s.amount_eur for s in distribution.shares.all() if s.amount_eur > 0)
    assert sum(_amounts(batch.xml)) == control == shares == batch.total_eur
    assert batch.status == "DRAFT"
    assert AuditEntry.objects.filter(code="billing.payout.created").exists()
    # The remittance text a member reads on the bank statement names the month in words.
    texts = {e.text for e in root.iterfind(".//p:CdtTrfTxInf/p:RmtInf/p:Ustrd", NS)}
    assert texts == {f"{small.configuration.community.name} giugno 2025"}


def test_the_stored_message_id_is_the_files_msgid_and_end_to_end_ids_are_unique():
    small, _ = distributed_small(final=True)

    batch = _payout(small)

    root = ET.fromstring(batch.xml.encode())  # noqa: S314 (a file we just generated)
    assert root.find(".//p:GrpHdr/p:MsgId", NS).text == batch.message_id
    in_file = [e.text for e in root.iterfind(".//p:CdtTrfTxInf/p:PmtId/p:EndToEndId", NS)]
    assert sorted(in_file) == sorted(batch.items.values_list("end_to_end_id", flat=True))
    assert len(set(in_file)) == len(in_file) == 3
    assert all(len(i) <= 35 and i.startswith(f"CERB{batch.pk}-") for i in in_file)


def test_members_without_a_valid_iban_are_listed_not_silently_skipped():
    small, _ = distributed_small(final=True)
    Membership.objects.filter(member=small.sme).update(iban="")
    Membership.objects.filter(member=small.household).update(iban="IT00X0000000000000000000000")

    batch = _payout(small)

    listed = {entry["name"]: entry["reason"] for entry in batch.without_iban}
    assert listed == {
        "Forno Srl": "no IBAN on file",
        small.household.display_name: "the IBAN on file is not valid",
    }
    assert batch.items.count() == 1


def test_a_period_cannot_be_paid_twice():
    small, _ = distributed_small(final=True)
    _payout(small)

    with pytest.raises(NothingToPay):
        _payout(small)

    assert PayoutBatch.objects.count() == 1


def test_after_a_correction_only_the_new_line_is_paid_in_a_later_batch():
    small, _ = distributed_small(final=True)
    _payout(small)
    statement = Statement.objects.get(member=small.household, status="CURRENT")
    correct_statement(statement=statement, amount_eur=Decimal("2.50"), description="Fix", now=NOW)

    later = create_payout(
        configuration=small.configuration,
        period_start=JUNE,
        period_end=dt.date(2025, 8, 1),
        actor=None,
        now=NOW + dt.timedelta(days=30),
        **{**DEBTOR, "execution_date": dt.date(2025, 8, 11)},
    )

    assert [(item.member_id, item.amount_eur) for item in later.items.all()] == [
        (small.household.pk, Decimal("2.50"))
    ]
    roots = list(PaidLine.objects.values_list("line_id", flat=True))
    assert len(roots) == len(set(roots))


# Final runs only, and a confirmation that names the total, the count and the period -------


def test_a_month_whose_run_is_not_final_is_not_paid_from_the_payouts_page(manager_client):
    small, _ = distributed_small(final=False)

    response = manager_client.post(
        reverse("billing:payouts", args=[small.configuration.pk]), _form(confirmed="yes")
    )

    assert response.status_code == 200
    assert PayoutBatch.objects.count() == 0
    text = response.content.decode()
    assert "No member has an unpaid amount" in text
    assert "settlement version 1 is not final" in text


def test_preparing_a_file_asks_a_confirmation_naming_total_count_and_period(manager_client):
    small, distribution = distributed_small(final=True)
    url = reverse("billing:payouts", args=[small.configuration.pk])
    total = sum(s.amount_eur for s in distribution.shares.all() if s.amount_eur > 0)

    asked = manager_client.post(url, _form())

    assert PayoutBatch.objects.count() == 0
    text = asked.content.decode()
    assert f"paying 3 members a total of {total} EUR for June 2025" in text
    assert 'name="confirmed" value="yes"' in text

    done = manager_client.post(url, _form(confirmed="yes"))

    batch = PayoutBatch.objects.get()
    assert done.status_code == 302 and done["Location"] == reverse(
        "billing:payout", args=[batch.pk]
    )
    assert batch.total_eur == total and batch.status == "DRAFT"
    assert batch.execution_date == target2.next_business_day(timezone.localdate())


def test_a_newer_draft_version_holds_its_month_even_when_an_older_one_is_final():
    from tests.factories.settlement import make_settlement_run

    small, _ = distributed_small(final=True)
    make_settlement_run(small.configuration, month=JUNE, version=2)

    plan = preview(configuration=small.configuration, period_end=dt.date(2025, 7, 1))

    assert plan.to_pay == []
    assert [h.month for h in plan.held_months] == [JUNE]
    assert "is not the latest" in plan.held_months[0].reason


# Minimum transfer --------------------------------------------------------------------------


def test_a_member_below_the_minimum_is_carried_and_their_statement_says_so(manager_client):
    small, distribution = distributed_small(final=True)
    smallest = min(
        (s for s in distribution.shares.all() if s.amount_eur > 0), key=lambda s: s.amount_eur
    )
    minimum = smallest.amount_eur + Decimal("0.01")
    url = reverse("billing:payouts", args=[small.configuration.pk])

    saved = manager_client.post(url, {"action": "minimum", "minimum_transfer_eur": str(minimum)})
    manager_client.post(url, _form(confirmed="yes"))

    assert saved.status_code == 302
    batch = PayoutBatch.objects.get()
    assert smallest.member_id not in set(batch.items.values_list("member_id", flat=True))
    [carried] = batch.without_iban
    assert carried["reason"] == (
        f"carried to the next payout: below the minimum transfer of {minimum} EUR"
    )
    statement = Statement.objects.get(member_id=smallest.member_id, status="CURRENT")
    page = manager_client.get(reverse("billing:statement", args=[statement.pk])).content.decode()
    assert f"Carried to the next payout: below the minimum transfer of {minimum} EUR" in page
    assert AuditEntry.objects.filter(code="billing.payout_settings.changed").exists()


def test_the_default_minimum_of_one_euro_leaves_out_a_29_cent_transfer():
    small, _ = distributed_small(final=True)
    _payout(small)
    statement = Statement.objects.get(member=small.household, status="CURRENT")
    correct_statement(statement=statement, amount_eur=Decimal("0.29"), description="Fix", now=NOW)

    with pytest.raises(NothingToPay):
        _payout(small, execution_date=dt.date(2025, 7, 11))

    [member] = preview(configuration=small.configuration, period_end=dt.date(2025, 7, 1)).members
    assert (member.state, member.amount_eur) == (MemberState.CARRIED, Decimal("0.29"))


def test_a_minimum_with_three_decimals_is_refused_on_its_field(manager_client):
    small, _ = distributed_small(final=True)

    response = manager_client.post(
        reverse("billing:payouts", args=[small.configuration.pk]),
        {"action": "minimum", "minimum_transfer_eur": "1.005"},
    )

    assert response.status_code == 200
    assert response.context["minimum_form"].errors["minimum_transfer_eur"]


# Execution date ----------------------------------------------------------------------------


def test_an_execution_date_in_the_past_is_a_field_error_and_nothing_is_stored(manager_client):
    small, _ = distributed_small(final=True)

    response = manager_client.post(
        reverse("billing:payouts", args=[small.configuration.pk]),
        _form(execution_date="2020-01-01", confirmed="yes"),
    )

    assert response.status_code == 200
    [error] = response.context["form"].errors["execution_date"]
    assert "1 January 2020 is in the past" in error
    assert PayoutBatch.objects.count() == 0


def test_the_execution_date_must_be_a_target2_business_day():
    small, _ = distributed_small(final=True)

    with pytest.raises(InvalidExecutionDate, match="not a TARGET2 business day"):
        _payout(small, execution_date=dt.date(2025, 8, 16))  # a Saturday

    assert _payout(small, execution_date=None).execution_date == dt.date(2025, 7, 4)


@pytest.mark.parametrize(
    ("day", "open_"),
    [
        (dt.date(2025, 4, 18), False),  # Good Friday
        (dt.date(2025, 4, 21), False),  # Easter Monday
        (dt.date(2025, 5, 1), False),
        (dt.date(2025, 12, 24), True),
        (dt.date(2025, 12, 26), False),
        (dt.date(2026, 1, 1), False),
        (dt.date(2026, 4, 3), False),  # Good Friday 2026
        (dt.date(2025, 8, 15), True),  # an Italian holiday, but TARGET2 is open
    ],
)
def test_target2_closing_days(day, open_):
    assert target2.is_business_day(day) is open_


def test_the_next_business_day_skips_a_weekend_and_christmas():
    assert target2.next_business_day(dt.date(2025, 12, 24)) == dt.date(2025, 12, 29)


# Negative lines: netted, never below zero in a file, debts shown ---------------------------


def test_a_clawback_is_owed_then_netted_against_the_next_share(manager_client):
    small, distribution = distributed_small(final=True)
    first = _payout(small)
    paid = first.items.get(member=small.household).amount_eur
    add_lines(
        distribution=distribution,
        lines={small.household.pk: [NewLine(LineKind.VERSION, "Dropped", -paid)]},
        reason="New version",
        now=NOW,
    )

    plan = preview(configuration=small.configuration, period_end=dt.date(2025, 7, 1))
    page = manager_client.get(reverse("billing:payouts", args=[small.configuration.pk]))
    statement = Statement.objects.get(member=small.household, status="CURRENT")
    statement_page = manager_client.get(reverse("billing:statement", args=[statement.pk]))

    [owing] = plan.owed
    assert (owing.member_id, owing.amount_eur) == (small.household.pk, -paid)
    assert plan.to_pay == []
    assert f"owes {paid} EUR to the community" in page.content.decode()
    assert f"You owe {paid} EUR to the community" in statement_page.content.decode()

    add_lines(
        distribution=distribution,
        lines={small.household.pk: [NewLine(LineKind.GSE, "GSE balance", paid + Decimal("3.00"))]},
        reason="GSE",
        now=NOW,
    )
    netted = _payout(small, execution_date=dt.date(2025, 7, 11))

    assert [(i.member_id, i.amount_eur) for i in netted.items.all()] == [
        (small.household.pk, Decimal("3.00"))
    ]
    assert all(amount > 0 for amount in _amounts(netted.xml))
    assert preview(configuration=small.configuration, period_end=dt.date(2025, 7, 1)).members == []
