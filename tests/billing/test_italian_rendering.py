"""The money pages and documents read in Italian (and in English when asked): no raw
Decimal, no ISO date in prose, no English label left on an Italian page; the report PDF
fits its page; the human CSV opens in Italian Excel, the plain one in a program."""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import re
import shutil
import subprocess
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import translation

from cer.billing.models import Statement
from cer.billing.payouts import create_payout
from cer.core.csv_export import CsvDialect, DialectCsv, csv_dialect
from cercalc import periods
from tests import factories
from tests.factories.billing import DEBTOR, JUNE, NOW, distributed_small, make_bank_report
from tests.factories.invoices import make_draft_invoice, ready_to_invoice

pytestmark = pytest.mark.django_db

# A figure written with a decimal point and two decimals: "199.40", never Italian.
RAW_DECIMAL = re.compile(r"(?<![\d.,])\d+\.\d{2}(?![\d])")
# A figure written with a decimal comma and two decimals: "199,40", never English.
COMMA_DECIMAL = re.compile(r"(?<![\d.,])\d+,\d{2}(?![\d])")
ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
ISO_MONTH = re.compile(r"\b\d{4}-(0[1-9]|1[0-2])\b")
# Labels each page shows, with an Italian translation in the catalogue.
LABELS = {
    "statement": ["How your amount was computed", "Injected into the grid [kWh]"],
    "year": ["Total for the year"],
    "my_statements": ["My statements"],
    "payouts": ["Payouts"],
    "report": ["Members' shares", "Balance"],
    "policy": ["Distribution policy", "History"],
    "invoices": ["Invoices"],
}
PDF_LABELS = {
    "statement_pdf": ["Your energy", "How your amount was computed"],
    "year_pdf": ["Monthly amounts"],
    "report_pdf": ["Members' shares"],
}


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def month():
    """June 2025 distributed and final, paid in a draft batch; an imported bank report; a
    draft invoice; a referente and the household's user."""
    small, _distribution = distributed_small(final=True)
    batch = create_payout(
        configuration=small.configuration,
        period_start=JUNE,
        period_end=dt.date(2025, 7, 1),
        actor=None,
        now=NOW,
        **DEBTOR,
    )
    report = make_bank_report(small.configuration)
    ready_to_invoice(small.community)
    invoice = make_draft_invoice(small.community)
    referente = factories.make_user_with_role(small.community, role="REFERENTE", username="ref")
    household = get_user_model().objects.create_user("anna")
    small.household.user = household
    small.household.save(update_fields=["user"])
    return {
        "small": small,
        "statement": Statement.objects.get(member=small.household),
        "batch": batch,
        "bank_report": report,
        "invoice": invoice,
        "referente": referente,
        "household": household,
    }


def _url(lang, name, *args, query=""):
    with translation.override(lang):
        return reverse(name, args=args) + query


def _prose(page: str) -> str:
    """The text a person reads: tags, attributes, scripts and styles dropped."""
    body = re.sub(r"(?s)<(script|style)\b.*?</\1>", " ", page)
    return html.unescape(re.sub(r"<[^>]+>", " ", body))


def _pdf_text(content: bytes, tmp_path, name: str) -> str:
    pdftotext = shutil.which("pdftotext")
    assert pdftotext, "make test installs poppler-utils"
    document = tmp_path / f"{name}.pdf"
    document.write_bytes(content)
    return subprocess.run(  # noqa: S603 (poppler on a file we just wrote)
        [pdftotext, "-layout", str(document), "-"], capture_output=True, text=True, check=True
    ).stdout


def _pages(client, lang, m):
    small = m["small"]
    community, configuration = small.community, small.configuration
    statement = m["statement"]
    client.force_login(m["referente"])
    urls = {
        "statement": _url(lang, "billing:statement", statement.pk),
        "year": _url(lang, "billing:year_statement", small.household.pk, 2025),
        "payouts": _url(lang, "billing:payouts", configuration.pk),
        "payout": _url(lang, "billing:payout", m["batch"].pk),
        "bank_report": _url(lang, "billing:bank_report", m["bank_report"].pk),
        "report": _url(lang, "reports:report", community.pk, query="?period=2025-06"),
        "policy": _url(lang, "distribution:policy", community.pk),
        "invoices": _url(lang, "billing:invoice_list", community.pk),
        "invoice": _url(lang, "billing:invoice_detail", m["invoice"].pk),
    }
    pages = {}
    for name, url in urls.items():
        response = client.get(url)
        assert response.status_code == 200, (name, response.status_code)
        pages[name] = _prose(response.content.decode())
    client.force_login(m["household"])
    pages["my_statements"] = _prose(
        client.get(_url(lang, "billing:my_statements")).content.decode()
    )
    return pages


def _documents(client, lang, m, tmp_path):
    small = m["small"]
    client.force_login(m["referente"])
    urls = {
        "statement_pdf": _url(lang, "billing:statement_pdf", m["statement"].pk),
        "year_pdf": _url(
            lang, "billing:year_statement", small.household.pk, 2025, query="?format=pdf"
        ),
        "report_pdf": _url(
            lang, "reports:report", small.community.pk, query="?period=2025&format=pdf"
        ),
        "invoice_pdf": _url(lang, "billing:invoice_pdf", m["invoice"].pk),
    }
    texts = {}
    for name, url in urls.items():
        response = client.get(url)
        assert response["Content-Type"] == "application/pdf", name
        texts[name] = _pdf_text(response.content, tmp_path, f"{lang}-{name}")
    return texts


def _problems(texts: dict[str, str], lang: str) -> list[tuple[str, str, str]]:
    wrong_decimal = RAW_DECIMAL if lang == "it" else COMMA_DECIMAL
    found = []
    for name, text in texts.items():
        for pattern in (wrong_decimal, ISO_DATE, ISO_MONTH):
            found += [(name, pattern.pattern, hit.group(0)) for hit in pattern.finditer(text)]
    return found


def test_every_money_page_and_document_reads_in_italian(client, month, tmp_path):
    pages = _pages(client, "it", month)
    documents = _documents(client, "it", month, tmp_path)

    assert _problems({**pages, **documents}, "it") == []
    for name, labels in {**LABELS, **PDF_LABELS}.items():
        text = {**pages, **documents}[name]
        with translation.override("it"):
            italian = [translation.gettext(label) for label in labels]
        assert [label for label in labels if label in text] == [], name
        assert [label for label in italian if label not in text] == [], name
    # Months in words, in lower case, and euro with a decimal comma.
    assert "giugno 2025" in pages["statement"]
    assert "giugno 2025" in documents["report_pdf"]
    amount = month["statement"].amount_eur
    assert f"{amount:.2f}".replace(".", ",") in pages["statement"]
    assert f"{amount:.2f}".replace(".", ",") in documents["statement_pdf"]


def test_every_money_page_and_document_reads_in_english_when_asked(client, month, tmp_path):
    pages = _pages(client, "en", month)
    documents = _documents(client, "en", month, tmp_path)

    assert _problems({**pages, **documents}, "en") == []
    for name, labels in {**LABELS, **PDF_LABELS}.items():
        text = {**pages, **documents}[name]
        assert [label for label in labels if label not in text] == [], name
    assert "June 2025" in pages["statement"]
    assert f"{month['statement'].amount_eur:.2f}" in documents["statement_pdf"]


def test_the_community_report_pdf_fits_a_landscape_page(client, month, tmp_path):
    client.force_login(month["referente"])
    url = _url("it", "reports:report", month["small"].community.pk, query="?period=2025&format=pdf")
    document = tmp_path / "report.pdf"
    document.write_bytes(client.get(url).content)

    boxes = subprocess.run(  # noqa: S603 (poppler on a file we just wrote)
        [shutil.which("pdftotext") or "pdftotext", "-bbox", str(document), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    page = re.search(r'<page width="([\d.]+)" height="([\d.]+)"', boxes)
    assert page is not None
    width, height = float(page.group(1)), float(page.group(2))
    assert width > height  # landscape: nine columns do not fit a portrait A4 page
    words = re.findall(r'xMin="([\d.-]+)" yMin="[\d.-]+" xMax="([\d.-]+)"', boxes)
    assert words
    outside = [(x0, x1) for x0, x1 in words if float(x0) < 0 or float(x1) > width]
    assert outside == []
    # Every column heading of the monthly table is there, none cut off.
    text = _pdf_text(document.read_bytes(), tmp_path, "report-layout")
    with translation.override("it"):
        headings = [translation.gettext(h) for h in ("Month", "Configuration", "Version")]
    assert [heading for heading in headings if heading not in text] == []


def _rows(text: str, delimiter: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text), delimiter=delimiter))


def test_the_report_csv_comes_in_the_italian_excel_dialect_and_plain_for_programs(client, month):
    small = month["small"]
    client.force_login(month["referente"])
    url = _url("it", "reports:report", small.community.pk)

    excel = client.get(url, {"period": "2025-06", "format": "csv"}).content
    plain = client.get(url, {"period": "2025-06", "format": "csv", "dialect": "plain"}).content
    wrong = client.get(url, {"period": "2025-06", "format": "csv", "dialect": "tsv"})

    distributed = month["statement"].distribution.amount_eur
    assert excel.startswith(b"\xef\xbb\xbf")
    assert b"\r\n" in excel and b"\n" not in excel.replace(b"\r\n", b"")
    excel_rows = _rows(excel.decode("utf-8-sig"), ";")
    assert ["giugno 2025", small.configuration.name, "1"] == excel_rows[2][:3]
    with translation.override("it"):
        label = translation.gettext("Amount distributed")
    assert [label, f"{distributed:.2f}".replace(".", ",")] in excel_rows
    assert not plain.startswith(b"\xef\xbb\xbf")
    plain_rows = _rows(plain.decode(), ",")
    assert plain_rows[2][:3] == ["2025-06", small.configuration.name, "1"]
    assert [r for r in plain_rows if r and r[-1] == f"{distributed:.2f}"]
    assert wrong.status_code == 400


def test_the_hourly_statement_csv_comes_in_both_dialects(client, month):
    client.force_login(month["household"])
    url = _url("it", "billing:statement_csv", month["statement"].pk)

    excel = _rows(client.get(url).content.decode("utf-8-sig"), ";")
    plain = _rows(client.get(url, {"dialect": "plain"}).content.decode(), ",")

    assert len(excel) == len(plain) == 1 + 720
    assert plain[0][:3] == ["hour_start_local", "hour_start_utc", "injected_kwh"]
    assert excel[1][:2] == ["01/06/2025 00:00", "31/05/2025 22:00"]
    assert plain[1][:2] == ["2025-06-01T00:00:00+02:00", "2025-05-31T22:00:00Z"]
    # The same energies, written with a decimal comma for Excel and a point for programs.
    for excel_row, plain_row in zip(excel[1:], plain[1:], strict=True):
        assert [c.replace(".", "").replace(",", ".") for c in excel_row[2:7]] == plain_row[2:7]
        assert all(re.fullmatch(r"-?\d+\.\d{3}", cell) for cell in plain_row[2:7])


def test_the_dialect_writer_keeps_signs_numbers_and_the_formula_guard():
    rows = [["=1+1", Decimal("-1234.50"), Decimal("0.125"), 3, True, periods.month(2025, 6)]]

    excel, plain = DialectCsv(CsvDialect.EXCEL), DialectCsv(CsvDialect.PLAIN)
    with translation.override("it"):
        excel.writerows(rows)
    plain.writerows(rows)

    assert excel.content() == "\ufeff'=1+1;-1.234,50;0,125;3;sì;giugno 2025\r\n"
    assert plain.content() == "'=1+1,-1234.50,0.125,3,true,2025-06\r\n"
    assert csv_dialect(None) == csv_dialect("") == CsvDialect.EXCEL
    assert csv_dialect("PLAIN") == CsvDialect.PLAIN
    with pytest.raises(ValueError, match="dialect"):
        csv_dialect("tsv")
