"""The managers' invoice pages: a draft with lines from the formset, issue, files."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cer.billing.models import Invoice, InvoiceStatus
from tests.factories.invoices import make_draft_invoice, ready_to_invoice

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _outbox(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _post_data(**overrides):
    data = {
        "customer-customer_name": "Bottega Verde S.r.l.",
        "customer-customer_vat_number": "01234560279",
        "customer-customer_address": "Via Roma 10",
        "customer-customer_postal_code": "30038",
        "customer-customer_city": "Spinea",
        "customer-customer_province": "VE",
        "customer-customer_country": "IT",
        "customer-sdi_code": "",
        "line-TOTAL_FORMS": "2",
        "line-INITIAL_FORMS": "0",
        "line-MIN_NUM_FORMS": "1",
        "line-MAX_NUM_FORMS": "200",
        "line-0-description": "Quota associativa 2025",
        "line-0-quantity": "3",
        "line-0-unit_price_eur": "12.50",
        "line-0-vat_rate": "22",
        "line-0-natura": "",
        "line-1-description": "Contributo di adesione",
        "line-1-quantity": "1",
        "line-1-unit_price_eur": "15",
        "line-1-vat_rate": "0",
        "line-1-natura": "N2.2",
        "action": "save",
    }
    data.update(overrides)
    return data


def test_the_community_page_links_the_invoices_for_managers(client, community, referente):
    client.force_login(referente)

    page = client.get(reverse("community_detail", args=[community.pk]))

    assert reverse("billing:invoice_list", args=[community.pk]) in page.content.decode()


def test_a_manager_writes_a_draft_from_the_form_and_issues_it(client, community, referente):
    ready_to_invoice(community)
    client.force_login(referente)

    created = client.post(reverse("billing:invoice_create", args=[community.pk]), _post_data())
    invoice = Invoice.objects.get()
    issued = client.post(reverse("billing:invoice_issue", args=[invoice.pk]))
    detail = client.get(reverse("billing:invoice_detail", args=[invoice.pk]))
    xml = client.get(reverse("billing:invoice_xml", args=[invoice.pk]))
    pdf = client.get(reverse("billing:invoice_pdf", args=[invoice.pk]))

    assert created.status_code == 302
    assert issued.status_code == 302
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.ISSUED
    assert str(invoice.total_eur) == "60.75"  # 37.50 + 8.25 VAT + 15.00 at N2.2
    assert invoice.sdi_code == "0000000"
    assert "1/" in detail.content.decode()
    assert xml["Content-Type"] == "application/xml"
    assert pdf.content.startswith(b"%PDF")


def test_a_zero_rate_line_without_natura_is_shown_back_with_the_error(client, community, referente):
    client.force_login(referente)

    response = client.post(
        reverse("billing:invoice_create", args=[community.pk]), _post_data(**{"line-1-natura": ""})
    )

    assert response.status_code == 400
    assert response.context["formset"].forms[1].errors["natura"]
    assert not Invoice.objects.exists()


def test_add_row_gives_one_more_blank_line(client, community, referente):
    client.force_login(referente)

    response = client.post(
        reverse("billing:invoice_create", args=[community.pk]), _post_data(action="add_row")
    )

    assert len(response.context["formset"].forms) == 3
    assert not Invoice.objects.exists()


def test_a_member_cannot_open_the_invoices(client, community, member_user):
    draft = make_draft_invoice(community)
    client.force_login(member_user)

    listing = client.get(reverse("billing:invoice_list", args=[community.pk]))
    detail = client.get(reverse("billing:invoice_detail", args=[draft.pk]))

    assert listing.status_code == detail.status_code == 403
