"""The community report: one row per member, never per name, and money exact in the XLSX."""

from __future__ import annotations

import io
import re
import zipfile
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from cer.core.xlsx import workbook_bytes
from tests import factories
from tests.factories.billing import distributed_small

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def namesakes():
    """The June distribution of the small configuration, two of its members both Mario Rossi."""
    small, distribution = distributed_small()
    for member in (small.household, small.producer):
        member.first_name, member.last_name = "Mario", "Rossi"
        member.save(update_fields=["first_name", "last_name"])
    return small, distribution


@pytest.fixture
def referente_client(client, namesakes):
    small, _ = namesakes
    client.force_login(
        factories.make_user_with_role(small.community, role="REFERENTE", username="r")
    )
    return client


def _sheet_xml(content: bytes, number: int) -> str:
    return zipfile.ZipFile(io.BytesIO(content)).read(f"xl/worksheets/sheet{number}.xml").decode()


def test_two_members_with_the_same_name_keep_a_row_each(referente_client, namesakes):
    small, distribution = namesakes
    url = reverse("reports:report", kwargs={"pk": small.community.pk})

    page = referente_client.get(url, {"period": "2025-06"})

    rows = page.context["report"].member_rows[1:]
    shares = {share.member_id: share.amount_eur for share in distribution.shares.all()}
    rossi = [row for row in rows if row[0] == "Mario Rossi"]
    assert sorted(row[1] for row in rossi) == sorted([small.household.pk, small.producer.pk])
    assert {row[1]: row[2] for row in rows} == shares
    assert sum(row[2] for row in rows) == sum(shares.values())


def test_the_xlsx_stores_each_amount_as_its_exact_decimal(referente_client, namesakes):
    small, distribution = namesakes
    url = reverse("reports:report", kwargs={"pk": small.community.pk})

    response = referente_client.get(url, {"period": "2025-06", "format": "xlsx"})

    report = referente_client.get(url, {"period": "2025-06"}).context["report"]
    for number, (_heading, rows) in enumerate(report.sections(), start=1):
        xml = _sheet_xml(response.content, number)
        amounts = [cell for row in rows for cell in row if isinstance(cell, Decimal)]
        stored = re.findall(r'<c r="[A-Z]+\d+" s="\d+" t="n"><v>([^<]*)</v>', xml)
        assert stored == [format(amount, "f") for amount in amounts]
    assert f"<v>{distribution.amount_eur}</v>" in _sheet_xml(response.content, 4)


def test_a_money_cell_is_a_number_cell_with_a_money_format_and_the_exact_text():
    content = workbook_bytes([("Money", [["Item", "Amount"], ["Share", Decimal("86.46")]])])

    xml = _sheet_xml(content, 1)
    cell = load_workbook(io.BytesIO(content))["Money"]["B2"]

    assert re.search(r'<c r="B2" s="\d+" t="n"><v>86.46</v></c>', xml)
    assert "86.4599" not in xml
    assert (cell.data_type, cell.number_format) == ("n", "#,##0.00")


def test_a_money_cell_keeps_its_sign_and_cents_and_never_an_exponent():
    content = workbook_bytes(
        [("Money", [["A", "B", "C"], [Decimal("-0.10"), Decimal("1E+2"), Decimal("0.3")]])]
    )

    xml = _sheet_xml(content, 1)

    assert re.findall(r"<v>([^<]*)</v>", xml) == ["-0.10", "100", "0.3"]
