"""Names typed by users never become formulas in the CSV and XLSX exports, web and API."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy
from openpyxl import load_workbook

from cer.billing.models import Statement
from cer.core.safe_export import csv_writer, safe_cell, safe_row
from tests import factories
from tests.api.conftest import client_for
from tests.factories.billing import distributed_small

PAYLOADS = ['=HYPERLINK("http://x","y")', "+1", "@SUM(1)", "-2+3"]
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")
# A negative amount is a number, not a formula: the only cell allowed to start with "-".
# A number in the plain dialect ("-1.23") or in the Italian Excel one ("-1.234,56").
NUMBER = re.compile(r"^-?[0-9]+(\.[0-9]+)?$|^-?[0-9]{1,3}(\.[0-9]{3})*(,[0-9]+)?$")


# --- the helper --------------------------------------------------------------------------


@pytest.mark.parametrize("text", [*PAYLOADS, "\t=1+1", "\r=1+1", "-", "=", "@"])
def test_a_text_that_starts_like_a_formula_gets_a_leading_apostrophe(text):
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize(
    "value",
    [
        Decimal("-12.34"),
        Decimal("0.00"),
        -5,
        -1.5,
        True,
        None,
        dt.date(2025, 3, 30),
        dt.datetime(2025, 10, 26, 2, 0, tzinfo=dt.UTC),
        "Mario Rossi",
        "2025-06",
        "",
        "'già citato",
        " =1+1",
    ],
)
def test_numbers_dates_and_plain_texts_pass_unchanged(value):
    assert safe_cell(value) is value


def test_a_lazy_text_is_neutralised_like_any_text():
    assert safe_cell(gettext_lazy("=1+1")) == "'=1+1"


def test_a_row_keeps_its_numbers_and_neutralises_its_texts():
    assert safe_row(["=1", Decimal("-1.23"), 4, "@x"]) == ["'=1", Decimal("-1.23"), 4, "'@x"]


def test_the_csv_writer_quotes_a_row_whose_text_holds_a_semicolon():
    out = io.StringIO()
    writer = csv_writer(out)

    writer.writerow(["Rossi;=1+1", Decimal("-1.23"), None])
    writer.writerow(["Rossi", Decimal("-1.23"), 2])

    # Excel in Italian splits on ";": a quoted text stays one cell, never a formula.
    assert out.getvalue().splitlines() == ['"Rossi;=1+1",-1.23,""', "Rossi,-1.23,2"]


# --- the exports, through HTTP ----------------------------------------------------------


@pytest.fixture(params=PAYLOADS)
def hostile(request):
    """A settled community whose name, configuration and member carry `request.param`."""
    payload = request.param
    small, _distribution = distributed_small()
    small.community.name = payload
    small.community.save(update_fields=["name"])
    small.configuration.name = payload
    small.configuration.save(update_fields=["name"])
    small.household.first_name, small.household.last_name = payload, ""
    small.household.user = User.objects.create_user("ospite")
    small.household.save(update_fields=["first_name", "last_name", "user"])
    referente = factories.make_user_with_role(small.community, role="REFERENTE", username="ref")
    return payload, small, referente


def _csv_cells(text: str) -> list[str]:
    # The Italian Excel dialect starts with a byte-order mark and splits on ";".
    delimiter = ";" if text.startswith("\ufeff") else ","
    rows = csv.reader(io.StringIO(text.removeprefix("\ufeff")), delimiter=delimiter)
    return [cell for row in rows for cell in row]


def _assert_no_formula_in_csv(text: str, payload: str | None) -> None:
    cells = _csv_cells(text)
    risky = [c for c in cells if c.startswith(DANGEROUS) and not NUMBER.match(c)]
    assert risky == []
    if payload is not None:
        assert "'" + payload in cells
    # The same file read by Excel with either separator.
    for delimiter in (",", ";"):
        for row in csv.reader(io.StringIO(text.removeprefix("\ufeff")), delimiter=delimiter):
            assert not [c for c in row if c.startswith(DANGEROUS) and not NUMBER.match(c)]


def _assert_no_formula_in_xlsx(content: bytes, payload: str) -> None:
    workbook = load_workbook(io.BytesIO(content))
    cells = [cell for sheet in workbook for row in sheet.iter_rows() for cell in row]
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    assert "'" + payload in [c.value for c in cells]
    negatives = [c for c in cells if isinstance(c.value, (int, float, Decimal)) and c.value < 0]
    assert all(c.data_type == "n" for c in negatives)


def _web(path_name: str, *args: object) -> str:
    with translation.override("en"):
        return reverse(path_name, args=args)


@pytest.mark.django_db
def test_the_web_exports_hold_no_formula(client, hostile):
    payload, small, referente = hostile
    statement = Statement.objects.get(member=small.household)
    client.force_login(referente)
    report = _web("reports:report", small.community.pk)

    report_csv = client.get(report, {"period": "2025", "format": "csv"})
    plain_csv = client.get(report, {"period": "2025", "format": "csv", "dialect": "plain"})
    report_xlsx = client.get(report, {"period": "2025", "format": "xlsx"})
    year = _web("billing:year_statement", small.household.pk, 2025)
    year_csv = client.get(year, {"format": "csv"})
    hours_csv = client.get(_web("billing:statement_csv", statement.pk))

    _assert_no_formula_in_csv(report_csv.content.decode(), payload)
    _assert_no_formula_in_csv(plain_csv.content.decode(), payload)
    _assert_no_formula_in_xlsx(report_xlsx.content, payload)
    _assert_no_formula_in_csv(year_csv.content.decode(), payload)
    _assert_no_formula_in_csv(hours_csv.content.decode(), None)
    assert len(_csv_cells(hours_csv.content.decode())) == 8 * (1 + 720)


@pytest.mark.django_db
def test_the_api_exports_hold_no_formula(hostile):
    payload, small, referente = hostile
    manager = client_for(referente)
    report = f"/api/v1/communities/{small.community.pk}/report"

    report_csv = manager.get(report, {"year": "2025", "format": "csv"})
    report_xlsx = manager.get(report, {"year": "2025", "format": "xlsx"})
    register = manager.get(f"/api/v1/communities/{small.community.pk}/processing-register.csv")
    export = client_for(small.household.user).get("/api/v1/me/export")

    _assert_no_formula_in_csv(report_csv.content.decode(), payload)
    _assert_no_formula_in_xlsx(report_xlsx.content, payload)
    _assert_no_formula_in_csv(register.content.decode(), payload)
    archive = zipfile.ZipFile(io.BytesIO(export.content))
    sections = [name for name in archive.namelist() if name.endswith(".csv")]
    texts = [archive.read(name).decode() for name in sections]
    assert texts
    for text in texts:
        _assert_no_formula_in_csv(text, None)
    assert "'" + payload in [cell for text in texts for cell in _csv_cells(text)]


@pytest.mark.django_db
def test_a_negative_amount_stays_a_number_in_the_report(client):
    small, distribution = distributed_small()
    client.force_login(
        factories.make_user_with_role(small.community, role="REFERENTE", username="ref")
    )
    report = _web("reports:report", small.community.pk)

    xlsx = client.get(report, {"period": "2025", "format": "xlsx"})
    text = client.get(report, {"period": "2025", "format": "csv"}).content.decode()

    assert distribution.run.gse_fees_eur > 0
    sheet = load_workbook(io.BytesIO(xlsx.content))["Balance"]
    fees = next(row for row in sheet.iter_rows(min_row=2) if row[0].value == "GSE fees (provision)")
    assert fees[1].data_type == "n"
    assert Decimal(str(fees[1].value)) == -distribution.run.gse_fees_eur
    plain = client.get(report, {"period": "2025", "format": "csv", "dialect": "plain"})
    assert f"GSE fees (provision);{-distribution.run.gse_fees_eur}".replace(".", ",") in text
    assert f"GSE fees (provision),{-distribution.run.gse_fees_eur}" in plain.content.decode()
