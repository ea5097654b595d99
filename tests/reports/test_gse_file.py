"""The GSE CSV reader: accepted columns, aliases, mapping and clear errors."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import translation

from cer.settlement.reconciliation import GseFileError, parse_gse_csv


@pytest.fixture(autouse=True)
def _english():
    """The file errors are translated; these tests read the English ones."""
    with translation.override("en"):
        yield


def test_english_columns_with_commas_are_read():
    rows = parse_gse_csv("period,type,amount,reference\n2025-06,FEES,-3.50,F1\n")

    assert rows[0]["month"] == dt.date(2025, 6, 1)
    assert rows[0]["kind"] == "FEES"
    # A fee is a charge whatever its sign in the file: stored as the amount GSE keeps.
    assert rows[0]["amount_eur"] == Decimal("3.50")


def test_other_headers_are_read_through_a_mapping():
    rows = parse_gse_csv(
        "Mese;Causale;Euro\n06/2025;conguaglio;1.234,56\n",
        mapping={"period": "Mese", "amount": "Euro"},
    )

    assert rows[0]["kind"] == "CONGUAGLIO"
    assert rows[0]["amount_eur"] == Decimal("1234.56")


def test_an_unknown_type_is_refused_naming_the_line():
    with pytest.raises(GseFileError, match="line 3, type"):
        parse_gse_csv("period,type,amount\n2025-06,TIP,1\n2025-06,bonus,2\n")


def test_a_missing_column_is_refused_naming_it():
    with pytest.raises(GseFileError, match="'amount' not found"):
        parse_gse_csv("period,type\n2025-06,TIP\n")
