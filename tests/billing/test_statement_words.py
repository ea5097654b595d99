"""A statement names its month in words, in the reader's language, on the page, in the PDF
and in the lines of older statements written as "06/2025"; the PDF's ledger headings do
not break inside a word."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from django.urls import reverse
from django.utils import translation

from cer.billing.line_text import SHARE_TEXT, month_text
from cer.billing.models import LineKind, Statement, StatementLine
from tests import factories
from tests.factories.billing import JUNE, distributed_small

pytestmark = pytest.mark.django_db


@pytest.fixture
def june(client):
    small, _distribution = distributed_small()
    client.force_login(
        factories.make_user_with_role(small.community, role="REFERENTE", username="ref")
    )
    return Statement.objects.get(member=small.household)


def _page(client, lang, name, statement):
    with translation.override(lang):
        response = client.get(reverse(name, args=[statement.pk]))
    assert response.status_code == 200
    return response


def _pdf_words(content: bytes, tmp_path) -> str:
    document = tmp_path / "statement.pdf"
    document.write_bytes(content)
    pdftotext = shutil.which("pdftotext")
    assert pdftotext, "make test installs poppler-utils"
    return subprocess.run(  # noqa: S603 (poppler on a file we just wrote)
        [pdftotext, "-layout", str(document), "-"], capture_output=True, text=True, check=True
    ).stdout


def test_a_new_share_line_is_written_with_the_month_in_words(june):
    share = june.lines.get(kind=LineKind.SHARE)

    assert re.search(r"\d{2}/\d{4}", share.description) is None
    assert share.description in {
        "La tua quota di giugno 2025",
        "Your share of June 2025",
    }


@pytest.mark.parametrize(
    ("lang", "expected"),
    [("it", "La tua quota di giugno 2025"), ("en", "Your share of June 2025")],
)
def test_the_statement_page_and_pdf_name_the_month_in_the_readers_language(
    client, june, tmp_path, lang, expected
):
    page = _page(client, lang, "billing:statement", june).content.decode()
    pdf = _pdf_words(_page(client, lang, "billing:statement_pdf", june).content, tmp_path)

    assert expected in page
    assert expected in pdf
    assert "06/2025" not in page
    assert "06/2025" not in pdf


def test_an_older_line_stored_as_06_2025_is_shown_in_words(client, june):
    StatementLine.objects.filter(statement=june, kind=LineKind.SHARE).update(
        description="La tua quota di 06/2025"
    )

    italian = _page(client, "it", "billing:statement", june).content.decode()
    english = _page(client, "en", "billing:statement", june).content.decode()

    assert "La tua quota di giugno 2025" in italian
    assert "Your share of June 2025" in english
    assert "06/2025" not in italian + english


def test_a_description_the_platform_did_not_write_is_shown_as_stored(client, june):
    StatementLine.objects.filter(statement=june, kind=LineKind.SHARE).update(
        description="Quota concordata in assemblea"
    )

    english = _page(client, "en", "billing:statement", june).content.decode()

    assert "Quota concordata in assemblea" in english


def test_the_month_text_follows_the_language_asked():
    assert month_text(SHARE_TEXT, JUNE, lang="it") == "La tua quota di giugno 2025"
    assert month_text(SHARE_TEXT, JUNE, lang="en") == "Your share of June 2025"


@pytest.mark.parametrize(("lang", "heading"), [("it", "Saldo progressivo"), ("en", "Position")])
def test_the_pdf_ledger_headings_do_not_break_inside_a_word(client, june, tmp_path, lang, heading):
    pdf = _pdf_words(_page(client, lang, "billing:statement_pdf", june).content, tmp_path)

    # pdftotext -layout keeps a heading's words on one line when its column holds them.
    assert heading in pdf
