"""SEPA payouts: the pain.001 file, members without an IBAN, never paying twice."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest
from django.utils import translation

from cer.audit.models import AuditEntry
from cer.billing.models import PaidLine, PayoutBatch, Statement
from cer.billing.payouts import (
    NothingToPay,
    PayoutAlreadyExists,
    cancel_payout,
    create_payout,
)
from cer.billing.statements import correct_statement
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


def _payout(small):
    return create_payout(
        configuration=small.configuration,
        period_start=JUNE,
        period_end=dt.date(2025, 7, 1),
        actor=None,
        now=NOW,
        **DEBTOR,
    )


def test_the_pain001_file_pays_each_member_their_share_and_its_sum_reads_back():
    small, distribution = distributed_small()

    batch = _payout(small)

    root = ET.fromstring(batch.xml.encode())  # noqa: S314 (a file we just generated)
    amounts = [Decimal(e.text) for e in root.iterfind(".//p:CdtTrfTxInf/p:Amt/p:InstdAmt", NS)]
    control = Decimal(root.find(".//p:GrpHdr/p:CtrlSum", NS).text)
    shares = sum(s.amount_eur for s in distribution.shares.all() if s.amount_eur > 0)
    assert sum(amounts) == control == shares == batch.total_eur
    assert AuditEntry.objects.filter(code="billing.payout.created").exists()


def test_members_without_a_valid_iban_are_listed_not_silently_skipped():
    small, _ = distributed_small()
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
    small, _ = distributed_small()
    _payout(small)

    with pytest.raises((PayoutAlreadyExists, NothingToPay)):
        _payout(small)

    assert PayoutBatch.objects.count() == 1


def test_after_a_correction_only_the_new_line_is_paid_in_a_later_batch():
    small, _ = distributed_small()
    _payout(small)
    statement = Statement.objects.get(member=small.household, status="CURRENT")
    correct_statement(statement=statement, amount_eur=Decimal("2.50"), description="Fix", now=NOW)

    later = create_payout(
        configuration=small.configuration,
        period_start=JUNE,
        period_end=dt.date(2025, 8, 1),
        actor=None,
        now=NOW + dt.timedelta(days=30),
        **{**DEBTOR, "execution_date": dt.date(2025, 8, 10)},
    )

    assert [(item.member_id, item.amount_eur) for item in later.items.all()] == [
        (small.household.pk, Decimal("2.50"))
    ]
    roots = list(PaidLine.objects.values_list("line_id", flat=True))
    assert len(roots) == len(set(roots))


def test_a_cancelled_batch_frees_its_lines_for_a_new_file():
    small, _ = distributed_small()
    first = _payout(small)

    cancel_payout(batch=first, actor=None, now=NOW)
    second = _payout(small)

    assert second.total_eur == first.total_eur
