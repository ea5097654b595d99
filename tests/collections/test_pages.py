"""The treasurer's pages: every bad input of a collection refused, naming field and reason."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone

from cer.collections import batches
from cer.collections.models import (
    BatchStatus,
    CollectionBatch,
    Mandate,
    PaymentRequest,
    RequestKind,
)
from cer.collections.requests import create_request
from tests.collections.conftest import COLLECTION_DAY, DEBTOR_IBAN, NOW
from tests.collections.reports import pain002

pytestmark = pytest.mark.django_db


def _request(place, member, amount="25.00"):
    return create_request(
        community=place.community,
        member=member,
        kind=RequestKind.MEMBERSHIP_FEE,
        amount_eur=amount,
        due_date=dt.date(2025, 3, 31),
        description="Quota 2025",
        actor=None,
        now=NOW,
    )


def _day(place):
    """The first collection date the lead time allows from today (the pages read the clock)."""
    return batches.earliest_collection_date(place.community, timezone.now()).isoformat()


def test_a_mandate_without_signature_date_is_refused(manager_client, place):
    member = place.members[2]
    response = manager_client.post(
        reverse("collections:mandates", args=[place.community.pk]),
        {"member": member.pk, "signed_date": "", "debtor_name": "Mario", "iban": DEBTOR_IBAN},
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "signature date is required" in errors["signed_date"][0]
    assert not Mandate.objects.filter(member=member).exists()


def test_an_amount_with_more_than_two_decimals_is_refused(manager_client, place):
    response = manager_client.post(
        reverse("collections:requests", args=[place.community.pk]),
        {
            "action": "request",
            "one-member": place.members[0].pk,
            "one-kind": RequestKind.ENTRY_FEE,
            "one-amount_eur": "12.345",
            "one-due_date": "2025-03-31",
            "one-description": "Quota di ingresso",
        },
    )
    assert response.status_code == 200
    assert "more than two decimals" in response.context["single"].errors["amount_eur"][0]
    assert not PaymentRequest.objects.exists()


def test_a_fee_for_every_member_is_confirmed_naming_count_and_total(manager_client, place):
    url = reverse("collections:requests", args=[place.community.pk])
    data = {
        "action": "fee",
        "fee-kind": RequestKind.MEMBERSHIP_FEE,
        "fee-amount_eur": "25",
        "fee-due_date": "2025-03-31",
        "fee-description": "Quota associativa 2025",
        "fee-series": "FEE-2025",
    }
    asked = manager_client.post(url, data)
    assert "4 members will each be asked for" in asked.content.decode()
    assert not PaymentRequest.objects.exists()

    done = manager_client.post(url, {**data, "confirmed": "yes"})

    assert done.status_code == 302
    assert PaymentRequest.objects.filter(series="FEE-2025").count() == 4
    assert set(PaymentRequest.objects.values_list("amount_eur", flat=True)) == {Decimal("25.00")}


def test_a_debit_on_a_member_without_a_mandate_is_refused(manager_client, place):
    without = _request(place, place.members[2])
    response = manager_client.post(
        reverse("collections:batches", args=[place.community.pk]),
        {"collection_date": _day(place), "requests": [without.pk]},
    )
    assert response.status_code == 200
    message = response.context["form"].errors["requests"][0]
    assert without.reference in message and "has no SEPA mandate" in message
    assert not CollectionBatch.objects.exists()


def test_a_batch_is_confirmed_naming_total_count_and_date_then_downloaded(manager_client, place):
    for member in place.members[:2]:
        _request(place, member)
    url = reverse("collections:batches", args=[place.community.pk])
    data = {"collection_date": _day(place)}
    asked = manager_client.post(url, data)
    text = asked.content.decode()
    assert "from 2 members" in text and "50" in text and data["collection_date"][:4] in text
    assert not CollectionBatch.objects.exists()

    manager_client.post(url, {**data, "confirmed": "yes"})
    batch = CollectionBatch.objects.get()
    download = manager_client.get(reverse("collections:batch_xml", args=[batch.pk]))

    batch.refresh_from_db()
    assert download.status_code == 200 and batch.message_id in download.content.decode()
    assert batch.status == BatchStatus.ISSUED


def test_a_pain008_whose_totals_do_not_match_is_not_offered(manager_client, place):
    for member in place.members[:2]:
        _request(place, member)
    batch = batches.create_batch(
        community=place.community, collection_date=COLLECTION_DAY, actor=None, now=NOW
    )
    CollectionBatch.objects.filter(pk=batch.pk).update(
        xml=batch.xml.replace("<CtrlSum>50.00</CtrlSum>", "<CtrlSum>50.01</CtrlSum>", 1)
    )

    response = manager_client.get(reverse("collections:batch_xml", args=[batch.pk]), follow=True)

    text = response.content.decode()
    assert "The file is not offered" in text and "GrpHdr/CtrlSum" in text
    batch.refresh_from_db()
    assert batch.status == BatchStatus.DRAFT


def test_a_report_for_an_unknown_batch_uploaded_is_refused_and_listed(manager_client, place):
    upload = pain002("NOT-OURS-7", [("E2E-1", "RJCT", "MD01")])
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = manager_client.post(
        reverse("collections:reports", args=[place.community.pk]),
        {"file": SimpleUploadedFile("status.xml", upload, content_type="text/xml")},
        follow=True,
    )
    text = response.content.decode()
    assert "NOT-OURS-7" in text and "refused" in text


def test_a_member_sees_their_own_requests_and_not_the_managers_pages(client, place):
    mine = _request(place, place.members[0])
    _request(place, place.members[1], amount="30.00")
    client.force_login(User.objects.get(member=place.members[0]))

    page = client.get(reverse("collections:mine"))
    forbidden = client.get(reverse("collections:requests", args=[place.community.pk]))

    text = page.content.decode()
    assert mine.reference in text and place.mandates[0].reference in text
    assert "CERR" + str(mine.pk + 1) not in text
    assert forbidden.status_code == 403


def test_a_creditor_identifier_with_wrong_check_digits_is_refused(manager_client, place):
    from cer.collections.mandates import settings_of

    before = settings_of(place.community).creditor_id
    wrong = f"IT{(int(before[2:4]) + 1) % 100:02d}{before[4:]}"
    response = manager_client.post(
        reverse("collections:requests", args=[place.community.pk]),
        {
            "action": "settings",
            "settings-creditor_id": wrong,
            "settings-creditor_name": "CER Prova",
            "settings-creditor_iban": DEBTOR_IBAN,
            "settings-creditor_bic": "BPMOIT22",
            "settings-prenotification_days": "14",
        },
    )
    assert response.status_code == 200
    errors = response.context["settings_form"].errors["creditor_id"]
    assert "check digits of the creditor identifier are wrong" in errors[0]
    assert settings_of(place.community).creditor_id == before
