"""Bank status reports: pain.002 and camt.054 read, matched by EndToEndId, kept once."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from cer.audit.models import AuditEntry
from cer.billing import bank_reports
from cer.billing.bank_reports import BankReportError, parse_report
from cer.billing.models import BankReport, PaidLine
from cer.billing.payout_lifecycle import import_bank_report
from cer.billing.payouts import payout_file, preview
from tests.factories.billing import APRIL_NOW, batch_of_three

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "bank"


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def manager_client(client, django_user_model):
    user = django_user_model.objects.create_user("tesoriere", password="x", is_staff=True)
    client.force_login(user)
    return client


def _fixture(name: str, batch=None) -> bytes:
    """The sample file, its ids (written for batch 7) rewritten for `batch`."""
    text = (FIXTURES / name).read_text()
    if batch is not None:
        text = text.replace("CERB7-", f"CERB{batch.pk}-")
    return text.encode()


# Parsing, no database ----------------------------------------------------------------------


def test_a_pain002_lists_each_transaction_with_its_status_and_reason():
    report = parse_report(_fixture("pain002_v03_partly_rejected.xml"))

    assert (report.kind, report.message_id) == ("PAIN002", "STS2504030001")
    assert report.original_message_ids == ("CERB7-250402080000",)
    assert [(t.end_to_end_id, t.outcome, t.reason_code) for t in report.transactions] == [
        ("CERB7-1", "SETTLED", ""),
        ("CERB7-2", "REJECTED", "AC04"),
        ("CERB7-99", "REJECTED", "AC01"),
    ]
    assert report.transactions[1].reason == "account closed; Conto estinto"
    assert report.transactions[1].amount_eur == Decimal("25.00")


def test_a_later_pain002_version_with_a_group_rejection_speaks_for_every_transaction():
    report = parse_report(_fixture("pain002_v10_group_rejected.xml"))

    [whole] = report.transactions
    assert (whole.end_to_end_id, whole.outcome, whole.reason_code) == ("", "REJECTED", "FF01")
    assert "File rejected at reception" in whole.reason


def test_a_camt054_books_debits_leaves_pending_ones_and_reads_returns():
    booked = parse_report(_fixture("camt054_v02_booked.xml"))
    returned = parse_report(_fixture("camt054_v08_return.xml"))

    assert [(t.end_to_end_id, t.outcome, t.amount_eur) for t in booked.transactions] == [
        ("CERB7-1", "SETTLED", Decimal("41.50")),
        ("CERB7-3", "SETTLED", Decimal("12.34")),
        ("CERB7-2", "", Decimal("25.00")),
        ("RENT-APRIL-2025", "SETTLED", Decimal("99.00")),
    ]
    [back] = returned.transactions
    assert (back.end_to_end_id, back.outcome, back.reason_code) == ("CERB7-3", "REJECTED", "AC04")
    assert back.amount_eur == Decimal("12.34")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not xml at all", "not well-formed XML"),
        (
            b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "x">]><Document>&a;</Document>',
            "DOCTYPE",
        ),
        (
            b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.03">'
            b"<CstmrCdtTrfInitn/></Document>",
            "CstmrCdtTrfInitn is not a payment status report",
        ),
        (
            b"<Document><CstmrPmtStsRpt><GrpHdr><MsgId>X</MsgId></GrpHdr>"
            b"</CstmrPmtStsRpt></Document>",
            "OrgnlMsgId",
        ),
    ],
)
def test_a_file_that_is_not_a_bank_report_is_refused_with_the_reason(content, message):
    with pytest.raises(BankReportError, match=message):
        parse_report(content)


# Import ------------------------------------------------------------------------------------


def _issued():
    small, batch = batch_of_three()
    payout_file(batch=batch, actor=None, now=APRIL_NOW)
    batch.refresh_from_db()
    return small, batch


def _upload(client, configuration, name, content):
    return client.post(
        reverse("billing:bank_report_import", args=[configuration.pk]),
        {"report": SimpleUploadedFile(name, content, content_type="application/xml")},
    )


@pytest.mark.django_db
def test_a_pain002_settles_and_rejects_by_end_to_end_id_and_lists_what_did_not_match(
    manager_client,
):
    small, batch = _issued()
    content = _fixture("pain002_v03_partly_rejected.xml", batch)

    response = _upload(manager_client, small.configuration, "status.xml", content)

    assert response.status_code == 302
    page = manager_client.get(response["Location"]).content.decode()
    outcomes = {i.member_id: (i.status, i.reason_code) for i in batch.items.all()}
    assert outcomes == {
        small.household.pk: ("SETTLED", ""),
        small.sme.pk: ("REJECTED", "AC04"),
        small.producer.pk: ("PENDING", ""),
    }
    batch.refresh_from_db()
    assert batch.status == "SENT"
    report = BankReport.objects.get()
    assert [u["end_to_end_id"] for u in report.result["unmatched"]] == [f"CERB{batch.pk}-99"]
    assert f"CERB{batch.pk}-99" in page and "no transfer with this EndToEndId" in page
    [again] = preview(configuration=small.configuration, period_end=dt.date(2025, 4, 1)).members
    assert (again.member_id, again.amount_eur) == (small.sme.pk, Decimal("25.00"))
    assert again.note.startswith("previous transfer rejected: AC04 account closed")


@pytest.mark.django_db
def test_importing_the_same_file_twice_changes_nothing(manager_client):
    small, batch = _issued()
    content = _fixture("pain002_v03_partly_rejected.xml", batch)
    _upload(manager_client, small.configuration, "status.xml", content)
    entries = AuditEntry.objects.count()

    second = _upload(manager_client, small.configuration, "status-copy.xml", content)

    assert second.status_code == 302
    assert BankReport.objects.count() == 1
    assert AuditEntry.objects.count() == entries
    page = manager_client.get(second["Location"], follow=True).content.decode()
    assert "imported already" in page


@pytest.mark.django_db
def test_a_report_for_a_batch_that_is_not_ours_is_refused_and_listed(manager_client):
    small, batch = _issued()
    content = _fixture("pain002_v03_partly_rejected.xml").replace(
        b"CERB7-250402080000", b"OTHERBANK-MSG-1"
    )

    response = _upload(manager_client, small.configuration, "other.xml", content)

    page = manager_client.get(response["Location"]).content.decode()
    report = BankReport.objects.get()
    assert report.refused
    assert report.result["refused"][0]["original_message_id"] == "OTHERBANK-MSG-1"
    assert len(report.result["unmatched"]) == 3
    assert "not a payout batch of this configuration" in page
    assert set(batch.items.values_list("status", flat=True)) == {"PENDING"}


@pytest.mark.django_db
def test_a_whole_file_rejected_by_the_bank_puts_every_transfer_back_to_pay():
    small, batch = _issued()

    import_bank_report(
        configuration=small.configuration,
        file_name="rejected.xml",
        content=_fixture("pain002_v10_group_rejected.xml", batch),
        actor=None,
        now=APRIL_NOW,
    )

    batch.refresh_from_db()
    assert batch.status == "COMPLETED"
    assert set(batch.items.values_list("status", "reason_code")) == {("REJECTED", "FF01")}
    assert not PaidLine.objects.filter(released_at__isnull=True).exists()
    plan = preview(configuration=small.configuration, period_end=dt.date(2025, 4, 1))
    assert plan.total_eur == Decimal("78.84")


@pytest.mark.django_db
def test_a_camt054_settles_booked_debits_and_a_later_return_rejects_one():
    small, batch = _issued()

    first = import_bank_report(
        configuration=small.configuration,
        file_name="ntf.xml",
        content=_fixture("camt054_v02_booked.xml", batch),
        actor=None,
        now=APRIL_NOW,
    )
    import_bank_report(
        configuration=small.configuration,
        file_name="return.xml",
        content=_fixture("camt054_v08_return.xml", batch),
        actor=None,
        now=APRIL_NOW + dt.timedelta(days=6),
    )

    outcomes = {i.member_id: i.status for i in batch.items.all()}
    assert outcomes == {
        small.household.pk: "SETTLED",
        small.sme.pk: "PENDING",
        small.producer.pk: "REJECTED",
    }
    assert [u["end_to_end_id"] for u in first.report.result["unmatched"]] == ["RENT-APRIL-2025"]
    producer = batch.items.get(member=small.producer)
    assert producer.reason_code == "AC04"
    [again] = preview(configuration=small.configuration, period_end=dt.date(2025, 4, 1)).members
    assert (again.member_id, again.amount_eur) == (small.producer.pk, Decimal("12.34"))


@pytest.mark.django_db
def test_a_transaction_whose_amount_differs_is_listed_not_applied():
    small, batch = _issued()
    content = _fixture("camt054_v02_booked.xml", batch).replace(b">41.50<", b">41.05<")

    outcome = import_bank_report(
        configuration=small.configuration,
        file_name="ntf.xml",
        content=content,
        actor=None,
        now=APRIL_NOW,
    )

    assert batch.items.get(member=small.household).status == "PENDING"
    [differs] = [u for u in outcome.report.result["unmatched"] if u["end_to_end_id"].endswith("-1")]
    assert differs["why"] == "the amount differs: 41.05 in the report, 41.50 in the batch"


@pytest.mark.django_db
def test_a_transfer_of_a_voided_batch_in_a_report_is_flagged_not_applied():
    from cer.billing.payout_lifecycle import void_payout

    small, batch = _issued()
    void_payout(batch=batch, reason="Wrong account", actor=None, now=APRIL_NOW)

    outcome = import_bank_report(
        configuration=small.configuration,
        file_name="ntf.xml",
        content=_fixture("camt054_v02_booked.xml", batch),
        actor=None,
        now=APRIL_NOW,
    )

    whys = {u["end_to_end_id"]: u["why"] for u in outcome.report.result["unmatched"]}
    assert whys[f"CERB{batch.pk}-1"].startswith("the transfer belongs to a voided batch")
    assert set(batch.items.values_list("status", flat=True)) == {"PENDING"}


@pytest.mark.django_db
def test_an_unreadable_upload_is_a_field_error_and_nothing_is_stored(manager_client):
    small, _ = _issued()

    response = _upload(manager_client, small.configuration, "x.xml", b"<Document><oops")

    assert response.status_code == 200
    assert "not well-formed XML" in response.context["form"].errors["report"][0]
    assert BankReport.objects.count() == 0


def test_reason_texts_name_the_code_and_keep_the_banks_words():
    assert bank_reports.reason_text("AC04", "Conto estinto") == "account closed; Conto estinto"
    assert bank_reports.reason_text("ZZ99", "Something") == "Something"
