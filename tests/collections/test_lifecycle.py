"""A fee asked of every member, collected by direct debit, paid or returned, collected again."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import xmlschema

from cer.audit.models import AuditEntry
from cer.collections import batches, income, sepa
from cer.collections.errors import CollectionError
from cer.collections.models import (
    BatchStatus,
    CollectionReport,
    ItemStatus,
    PaymentRequest,
    RequestKind,
    RequestState,
    Sequence,
)
from cer.collections.reports import import_report
from cer.collections.requests import create_fee_for_all, create_request
from cer.notifications.models import Notification
from cer.treasury.income import income_items
from cer.treasury.models import IncomeCategory
from tests.collections.conftest import COLLECTION_DAY, NOW
from tests.collections.reports import camt054, pain002

pytestmark = pytest.mark.django_db


def _fee(place, amount="25.00"):
    return create_fee_for_all(
        community=place.community,
        kind=RequestKind.MEMBERSHIP_FEE,
        amount_eur=amount,
        due_date=dt.date(2025, 3, 31),
        description="Quota associativa 2025",
        series="FEE-2025",
        actor=None,
        now=NOW,
    )


def _batch(place, ids=None):
    return batches.create_batch(
        community=place.community,
        collection_date=COLLECTION_DAY,
        request_ids=ids,
        actor=None,
        now=NOW,
    )


def _with_mandate(place, requests):
    mandated = {m.member_id for m in place.mandates}
    return [r.pk for r in requests if r.member_id in mandated]


def test_a_fee_for_everyone_asks_each_active_member_once(place):
    first = _fee(place)
    # The manager is a member too: four active members, each asked once.
    assert len(first) == 4
    assert {r.amount_eur for r in first} == {Decimal("25.00")}
    with pytest.raises(CollectionError) as refused:
        _fee(place)
    assert refused.value.field == "series"
    assert PaymentRequest.objects.count() == 4


def test_the_pain008_validates_against_its_xsd_and_its_totals_match(
    place, django_capture_on_commit_callbacks
):
    requests = _fee(place)
    with django_capture_on_commit_callbacks(execute=True):
        batch = _batch(place, _with_mandate(place, requests))

    schema = xmlschema.XMLSchema(str(sepa.SCHEMA_PATH))
    assert schema.is_valid(batch.xml)
    totals = sepa.read_totals(batch.xml)
    assert totals.count == batch.count == 2
    assert totals.total_eur == batch.total_eur == Decimal("50.00")
    assert totals.message_id == batch.message_id
    assert "<SeqTp>FRST</SeqTp>" in batch.xml
    assert f"<ReqdColltnDt>{COLLECTION_DAY.isoformat()}</ReqdColltnDt>" in batch.xml
    assert place.mandates[0].reference in batch.xml
    assert {i.request.state for i in batch.items.all()} == {RequestState.IN_BATCH}
    # Each debtor is pre-notified with the amount and the date.
    told = Notification.objects.filter(topic="collections.debit.prenotified")
    assert told.count() == 2
    assert "17" in told.first().body and "25" in told.first().body


def test_a_file_whose_totals_do_not_match_is_refused(place):
    batch = _batch(place, _with_mandate(place, _fee(place)))
    tampered = batch.xml.replace("<CtrlSum>50.00</CtrlSum>", "<CtrlSum>55.00</CtrlSum>", 1)
    with pytest.raises(CollectionError) as refused:
        sepa.check_file(tampered, count=2, total_eur=Decimal("50.00"))
    assert refused.value.field == "GrpHdr/CtrlSum"
    with pytest.raises(CollectionError) as fewer:
        sepa.check_file(batch.xml, count=3, total_eur=Decimal("50.00"))
    assert fewer.value.field == "GrpHdr/NbOfTxs"


def test_a_debit_on_a_member_without_a_mandate_is_refused(place):
    requests = _fee(place)
    with pytest.raises(CollectionError) as refused:
        _batch(place, [r.pk for r in requests])
    assert refused.value.field == "requests"
    assert "has no SEPA mandate" in str(refused.value)
    assert not batches.CollectionBatch.objects.exists()


def test_the_collection_date_must_leave_the_lead_time(place):
    _fee(place)
    with pytest.raises(CollectionError) as refused:
        batches.create_batch(
            community=place.community,
            collection_date=dt.date(2025, 3, 10),
            actor=None,
            now=NOW,
        )
    assert refused.value.field == "collection_date"


def test_a_returned_debit_comes_back_unpaid_with_its_reason_and_is_collected_again(place):
    _fee(place)
    batch = _batch(place)
    batches.batch_file(batch=batch, actor=None, now=NOW)
    paid_item, returned_item = sorted(batch.items.all(), key=lambda i: i.pk)

    result = import_report(
        community=place.community,
        file_name="sts.xml",
        content=pain002(batch.message_id, [(returned_item.end_to_end_id, "RJCT", "AM04")]),
        actor=None,
        now=NOW,
    )
    notice = import_report(
        community=place.community,
        file_name="camt.xml",
        content=camt054([(paid_item.end_to_end_id, "25.00", "", dt.date(2025, 3, 18))]),
        actor=None,
        now=NOW,
    )

    assert len(result.matched) == 1 and len(notice.matched) == 1
    returned_item.refresh_from_db()
    paid_item.refresh_from_db()
    assert returned_item.status == ItemStatus.RETURNED
    returned = returned_item.request
    returned.refresh_from_db()
    assert returned.state == RequestState.RETURNED
    assert returned.reason_code == "AM04" and returned.reason == "insufficient funds"
    # A first collection that failed: the mandate's next collection is a first again.
    returned_item.mandate.refresh_from_db()
    assert returned_item.mandate.next_sequence == Sequence.FIRST
    paid_item.request.refresh_from_db()
    assert paid_item.request.state == RequestState.PAID
    assert paid_item.request.paid_date == dt.date(2025, 3, 18)
    batch.refresh_from_db()
    assert batch.status == BatchStatus.COMPLETED

    received = income.collected(place.community.pk, dt.date(2025, 1, 1), dt.date(2026, 1, 1))
    assert [(c.member_id, c.amount_eur, c.paid_date) for c in received] == [
        (paid_item.request.member_id, Decimal("25.00"), dt.date(2025, 3, 18))
    ]
    assert income.collected(place.community.pk, dt.date(2025, 3, 19), dt.date(2026, 1, 1)) == []
    # The community's accounts count what was paid, and only that, as membership fees.
    accounts = income_items(
        community_id=place.community.pk, start=dt.date(2025, 1, 1), end=dt.date(2026, 1, 1)
    )
    fees = [(i.category, i.amount, i.day) for i in accounts if i.source == "fees"]
    assert fees == [(IncomeCategory.FEES, Decimal("25.00"), dt.date(2025, 3, 18))]

    again = batches.create_batch(
        community=place.community,
        collection_date=dt.date(2025, 4, 1),
        request_ids=[returned.pk],
        actor=None,
        now=NOW,
    )
    item = again.items.get()
    assert item.request_id == returned.pk and item.sequence == Sequence.FIRST
    assert item.end_to_end_id != returned_item.end_to_end_id


def test_a_refund_after_payment_takes_the_money_out_of_the_accounts(place):
    batch = _batch(place, _with_mandate(place, _fee(place)))
    item = batch.items.order_by("pk").first()
    day = dt.date(2025, 3, 18)
    import_report(
        community=place.community,
        file_name="a.xml",
        content=camt054([(item.end_to_end_id, "25.00", "", day)]),
        actor=None,
        now=NOW,
    )
    assert len(income.collected(place.community.pk, day, day + dt.timedelta(days=1))) == 1
    import_report(
        community=place.community,
        file_name="b.xml",
        content=camt054([(item.end_to_end_id, "25.00", "MD06", dt.date(2025, 4, 20))]),
        actor=None,
        now=NOW,
    )
    item.request.refresh_from_db()
    assert item.request.state == RequestState.RETURNED
    assert item.request.reason == "refund requested by the debtor"
    assert income.collected(place.community.pk, day, dt.date(2026, 1, 1)) == []


def test_a_report_for_an_unknown_batch_or_debit_is_refused_and_listed(place):
    batch = _batch(place, _with_mandate(place, _fee(place)))
    unknown_batch = import_report(
        community=place.community,
        file_name="other.xml",
        content=pain002("SOMEONE-ELSE-1", [("X-1", "RJCT", "AC04")]),
        actor=None,
        now=NOW,
    )
    unknown_debit = import_report(
        community=place.community,
        file_name="other2.xml",
        content=pain002(batch.message_id, [("CERD999999-1", "RJCT", "AC04")]),
        actor=None,
        now=NOW,
    )
    assert unknown_batch.report.refused and unknown_debit.report.refused
    assert "SOMEONE-ELSE-1" in unknown_batch.refused[0]["problem"]
    assert "CERD999999-1" in unknown_debit.refused[0]["problem"]
    assert not batch.items.exclude(status=ItemStatus.PENDING).exists()
    # The same file again changes nothing and is kept once.
    again = import_report(
        community=place.community,
        file_name="other.xml",
        content=pain002("SOMEONE-ELSE-1", [("X-1", "RJCT", "AC04")]),
        actor=None,
        now=NOW,
    )
    assert again.already and CollectionReport.objects.count() == 2


def test_voiding_opens_the_requests_and_a_reissue_gets_new_ids(place):
    batch = _batch(place, _with_mandate(place, _fee(place)))
    batches.batch_file(batch=batch, actor=None, now=NOW)
    old_ids = set(batch.items.values_list("end_to_end_id", flat=True))

    new = batches.reissue_batch(
        batch=batch, reason="wrong date", collection_date=None, actor=None, now=NOW
    )

    batch.refresh_from_db()
    assert batch.status == BatchStatus.VOID and new.replaces_id == batch.pk
    assert new.message_id != batch.message_id
    assert not old_ids & set(new.items.values_list("end_to_end_id", flat=True))
    # The first collection was voided: still FRST in the new file.
    assert set(new.items.values_list("sequence", flat=True)) == {Sequence.FIRST}
    assert new.count == 2 and new.total_eur == Decimal("50.00")
    with pytest.raises(CollectionError):
        batches.batch_file(batch=batch, actor=None, now=NOW)
    codes = set(
        AuditEntry.objects.filter(code__startswith="collections.batch").values_list(
            "code", flat=True
        )
    )
    assert {"collections.batch.voided", "collections.batch.issued"} <= codes


def test_the_second_collection_under_a_mandate_is_recurrent(place):
    first = _batch(place, _with_mandate(place, _fee(place)))
    member = place.mandates[0].member
    extra = create_request(
        community=place.community,
        member=member,
        kind=RequestKind.ENTRY_FEE,
        amount_eur="10.50",
        due_date=dt.date(2025, 4, 30),
        description="Quota di ingresso",
        actor=None,
        now=NOW,
    )
    second = _batch(place, [extra.pk])
    assert first.items.first().sequence == Sequence.FIRST
    assert second.items.get().sequence == Sequence.RECURRENT
    assert "<SeqTp>RCUR</SeqTp>" in second.xml
