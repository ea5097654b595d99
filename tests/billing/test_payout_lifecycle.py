"""A payout batch's life: draft, file issued, sent, settled or rejected per transfer, void."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from cer.audit.models import AuditEntry
from cer.billing.models import PaidLine, PayoutBatch, PayoutItemStatus
from cer.billing.payout_lifecycle import record_outcome, record_sent, void_payout
from cer.billing.payouts import PayoutError, create_payout, payout_file, preview
from tests.factories.billing import APRIL_NOW, DEBTOR, MARCH, batch_of_three

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def manager_client(client, django_user_model):
    user = django_user_model.objects.create_user("tesoriere", password="x", is_staff=True)
    client.force_login(user)
    return client


def _codes(batch):
    return list(
        AuditEntry.objects.filter(target_id=str(batch.pk), code__startswith="billing.payout")
        .order_by("pk")
        .values_list("code", flat=True)
    )


def _issued():
    small, batch = batch_of_three()
    payout_file(batch=batch, actor=None, now=APRIL_NOW)
    batch.refresh_from_db()
    return small, batch


def test_the_first_download_issues_the_file_and_both_are_audited(manager_client):
    _, batch = batch_of_three()
    url = reverse("billing:payout_xml", args=[batch.pk])

    first = manager_client.get(url)
    second = manager_client.get(url)

    batch.refresh_from_db()
    assert first.status_code == second.status_code == 200
    assert batch.message_id in first.content.decode()
    assert batch.status == "ISSUED" and batch.issued_at is not None
    assert _codes(batch) == [
        "billing.payout.created",
        "billing.payout.issued",
        "billing.payout.downloaded",
        "billing.payout.downloaded",
    ]


def test_an_issued_batch_is_voided_only_with_a_confirmed_reason_and_reissued_with_new_ids(
    manager_client,
):
    small, batch = _issued()
    url = reverse("billing:payout", args=[batch.pk])

    no_reason = manager_client.post(url, {"action": "void", "reason": ""})
    asked = manager_client.post(url, {"action": "void", "reason": "Wrong debit account"})
    batch.refresh_from_db()
    assert no_reason.context["void_form"].errors["reason"]
    assert batch.status == "ISSUED"
    assert f"The batch {batch.message_id} (3 transfers, 78.84 EUR) will be voided" in (
        asked.content.decode()
    )

    manager_client.post(
        url, {"action": "void", "reason": "Wrong debit account", "confirmed": "yes"}
    )

    batch.refresh_from_db()
    assert (batch.status, batch.void_reason) == ("VOID", "Wrong debit account")
    voided = AuditEntry.objects.get(code="billing.payout.voided")
    assert voided.changes["reason"] == "Wrong debit account"
    assert not PaidLine.objects.filter(item__batch=batch, released_at__isnull=True).exists()
    again = create_payout(
        configuration=small.configuration,
        period_start=MARCH,
        period_end=dt.date(2025, 4, 1),
        actor=None,
        now=APRIL_NOW + dt.timedelta(minutes=5),
        **DEBTOR,
    )
    assert again.total_eur == batch.total_eur == Decimal("78.84")
    assert again.message_id != batch.message_id
    old_ids = set(batch.items.values_list("end_to_end_id", flat=True))
    assert not old_ids & set(again.items.values_list("end_to_end_id", flat=True))
    refused = manager_client.get(reverse("billing:payout_xml", args=[batch.pk]))
    assert refused.status_code == 302


def test_a_batch_sent_to_the_bank_cannot_be_voided():
    _, batch = _issued()
    record_sent(batch=batch, sent_date=dt.date(2025, 4, 2), actor=None, now=APRIL_NOW)

    with pytest.raises(PayoutError, match="cannot be voided"):
        void_payout(batch=batch, reason="Changed my mind", actor=None, now=APRIL_NOW)

    batch.refresh_from_db()
    assert batch.status == "SENT"


def test_recording_the_sending_refuses_a_future_date_and_keeps_the_date(manager_client):
    _, batch = batch_of_three()
    manager_client.get(reverse("billing:payout_xml", args=[batch.pk]))
    url = reverse("billing:payout", args=[batch.pk])
    today = timezone.localdate()

    future = manager_client.post(
        url, {"action": "sent", "sent_date": (today + dt.timedelta(days=1)).isoformat()}
    )
    manager_client.post(url, {"action": "sent", "sent_date": today.isoformat()})

    assert "cannot be in the future" in future.context["sent_form"].errors["sent_date"][0]
    batch.refresh_from_db()
    assert (batch.status, batch.sent_date) == ("SENT", today)
    assert "billing.payout.sent" in _codes(batch)


def test_a_draft_cannot_be_recorded_as_sent():
    _, batch = batch_of_three()

    with pytest.raises(PayoutError, match="only a batch whose file was issued"):
        record_sent(batch=batch, sent_date=dt.date(2025, 4, 2), actor=None, now=APRIL_NOW)


def test_a_rejected_transfer_returns_to_pay_with_its_reason(manager_client):
    small, batch = _issued()
    record_sent(batch=batch, sent_date=dt.date(2025, 4, 2), actor=None, now=APRIL_NOW)
    item = batch.items.get(member=small.sme)
    url = reverse("billing:payout", args=[batch.pk])
    form = {
        "action": "outcome",
        "item": item.pk,
        "outcome": "REJECTED",
        "reason_code": "AC04",
        "reason": "Conto estinto",
    }

    asked = manager_client.post(url, form)
    item.refresh_from_db()
    assert item.status == "PENDING"
    assert "25.00 EUR of this transfer become payable again" in asked.content.decode()

    manager_client.post(url, {**form, "confirmed": "yes"})

    item.refresh_from_db()
    assert (item.status, item.reason_code, item.reason) == ("REJECTED", "AC04", "Conto estinto")
    [again] = preview(configuration=small.configuration, period_end=dt.date(2025, 4, 1)).members
    assert (again.member_id, again.amount_eur) == (small.sme.pk, Decimal("25.00"))
    assert again.note == "previous transfer rejected: AC04 Conto estinto"
    page = manager_client.get(reverse("billing:payouts", args=[small.configuration.pk]))
    assert "previous transfer rejected: AC04 Conto estinto" in page.content.decode()
    repaid = create_payout(
        configuration=small.configuration,
        period_start=MARCH,
        period_end=dt.date(2025, 4, 1),
        actor=None,
        now=APRIL_NOW,
        **DEBTOR,
    )
    [new_item] = repaid.items.all()
    assert new_item.amount_eur == Decimal("25.00")
    assert new_item.end_to_end_id != item.end_to_end_id


def test_a_batch_is_completed_when_every_transfer_has_an_outcome():
    _, batch = _issued()
    record_sent(batch=batch, sent_date=dt.date(2025, 4, 2), actor=None, now=APRIL_NOW)
    items = list(batch.items.all())

    for item in items[:-1]:
        record_outcome(item=item, outcome=PayoutItemStatus.SETTLED, actor=None, now=APRIL_NOW)
    batch.refresh_from_db()
    assert batch.status == "SENT"
    record_outcome(
        item=items[-1],
        outcome=PayoutItemStatus.REJECTED,
        reason_code="MS03",
        actor=None,
        now=APRIL_NOW,
    )

    batch.refresh_from_db()
    assert batch.status == "COMPLETED"
    assert "billing.payout.completed" in _codes(batch)


def test_a_rejected_transfer_cannot_be_called_settled_afterwards():
    _, batch = _issued()
    item = batch.items.first()
    record_outcome(
        item=item, outcome=PayoutItemStatus.REJECTED, reason="closed", actor=None, now=APRIL_NOW
    )

    with pytest.raises(PayoutError, match="rejected already"):
        record_outcome(item=item, outcome=PayoutItemStatus.SETTLED, actor=None, now=APRIL_NOW)


def test_a_draft_batch_has_no_outcomes_and_lines_stay_paid_once():
    _, batch = batch_of_three()

    with pytest.raises(PayoutError, match="cannot have an outcome"):
        record_outcome(
            item=batch.items.first(), outcome=PayoutItemStatus.SETTLED, actor=None, now=APRIL_NOW
        )
    assert PayoutBatch.objects.get().status == "DRAFT"
