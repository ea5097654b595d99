"""The settlement pages as the referente and a member use them."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from cer.billing.models import Statement
from cer.distribution.models import DistributionPolicy
from cer.settlement.models import GseAmount, SettlementJob
from tests import factories
from tests.factories.billing import distributed_small

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    """Assert on the English texts whatever the translations say."""
    with translation.override("en"):
        yield


@pytest.fixture
def distributed():
    return distributed_small()


@pytest.fixture
def referente_client(client, distributed):
    small, _ = distributed
    client.force_login(
        factories.make_user_with_role(small.community, role="REFERENTE", username="r")
    )
    return client


def test_the_referente_queues_a_settlement_from_the_runs_page(referente_client, distributed):
    small, _ = distributed
    url = reverse("settlement:configuration_runs", kwargs={"pk": small.configuration.pk})

    response = referente_client.post(url, {"month": "2025-05"})

    assert response.status_code == 302
    assert SettlementJob.objects.get().month == dt.date(2025, 5, 1)


def test_a_member_reads_their_statement_with_the_arithmetic_and_downloads_it(client, distributed):
    small, _ = distributed
    user = User.objects.create_user("anna")
    small.household.user = user
    small.household.save(update_fields=["user"])
    statement = Statement.objects.get(member=small.household)
    client.force_login(user)

    page = client.get(reverse("billing:statement", kwargs={"pk": statement.pk}))
    document = client.get(reverse("billing:statement_pdf", kwargs={"pk": statement.pk}))
    hours = client.get(
        reverse("billing:statement_csv", kwargs={"pk": statement.pk}), {"dialect": "plain"}
    )
    other = Statement.objects.get(member=small.sme)
    refused = client.get(reverse("billing:statement", kwargs={"pk": other.pk}))

    assert str(statement.amount_eur) in page.content.decode()
    assert "How your amount was computed" in page.content.decode()
    assert document["Content-Type"] == "application/pdf"
    assert statement.file_token in document["Content-Disposition"]
    lines = hours.content.decode().splitlines()
    assert lines[0].startswith("hour_start_local,hour_start_utc,injected_kwh")
    assert len(lines) == 1 + 720
    assert refused.status_code == 403


def test_an_invalid_policy_form_names_the_field_and_stores_nothing(referente_client, distributed):
    small, _ = distributed
    url = reverse("distribution:policy", kwargs={"pk": small.community.pk})
    data = {
        "valid_from": "2025-09-01",
        "excess_policy": "CORRECT",
        "excess_to_social_percent": "0",
        "missing_data": "PROVISIONAL",
        "pots-TOTAL_FORMS": "2",
        "pots-INITIAL_FORMS": "0",
        "pots-0-code": "a",
        "pots-0-label": "A",
        "pots-0-percent": "70",
        "pots-1-code": "b",
        "pots-1-label": "B",
        "pots-1-percent": "40",
        "components-TOTAL_FORMS": "1",
        "components-INITIAL_FORMS": "0",
        "components-0-basis": "EQUAL",
        "components-0-percent": "100",
    }

    response = referente_client.post(url, data)

    assert response.status_code == 200
    assert "pots: the percentages add up to 110" in response.content.decode()
    assert DistributionPolicy.objects.count() == 1


def test_the_community_report_comes_as_a_page_csv_xlsx_and_pdf(referente_client, distributed):
    small, distribution = distributed
    url = reverse("reports:report", kwargs={"pk": small.community.pk})

    page = referente_client.get(url, {"period": "2025-Q2"})
    csv = referente_client.get(url, {"period": "2025-06", "format": "csv"})
    xlsx = referente_client.get(url, {"period": "2025", "format": "xlsx"})
    pdf = referente_client.get(url, {"period": "2025", "format": "pdf"})

    assert ["Amount distributed", distribution.amount_eur] in page.context["report"].balance_rows
    assert "Balance (distributed − pots − shares);0,00" in csv.content.decode()
    sheet = load_workbook(io.BytesIO(xlsx.content))["Balance"]
    rows = {row[0]: row[1] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert Decimal(str(rows["Amount distributed"])) == distribution.amount_eur
    assert pdf.content.startswith(b"%PDF")


def test_gse_amounts_are_imported_and_differences_above_a_cent_are_flagged(
    referente_client, distributed
):
    small, distribution = distributed
    run = distribution.run
    content = (
        "periodo;voce;importo\n"
        f"2025-06;TIP;{run.incentive_eur + Decimal('0.01')}\n"
        f"2025-06;valorizzazione;{str(run.valorisation_eur + Decimal('0.02')).replace('.', ',')}\n"
    )
    upload = SimpleUploadedFile("gse.csv", content.encode(), content_type="text/csv")

    referente_client.post(
        reverse("settlement:gse_import", kwargs={"pk": small.configuration.pk}), {"file": upload}
    )
    page = referente_client.get(
        reverse("settlement:reconciliation", kwargs={"pk": small.configuration.pk, "year": 2025})
    )

    assert GseAmount.objects.count() == 2
    lines = {line.kind: line for line in page.context["lines"]}
    assert not lines["TIP"].flagged
    assert lines["VALORISATION"].flagged
    assert page.context["flagged"] == 1


def test_the_year_view_applies_the_55_45_rule_over_the_year(referente_client, distributed):
    small, _ = distributed

    page = referente_client.get(
        reverse("settlement:year", kwargs={"pk": small.configuration.pk, "year": 2025})
    )

    summary = page.context["summary"]
    assert summary.year_excess_eur is not None
    assert len(summary.missing_months) == 11
    assert summary.enterprise_ceiling_eur is not None
