"""The one formatting helper: Italian by default, English on request, never a float."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.template import Context, Template
from django.utils import translation

from cer.core import formatting as f


def test_italian_numbers_have_a_decimal_comma_and_a_thousands_dot():
    assert f.number(Decimal("1234567.891"), 2, lang="it") == "1.234.567,89"
    assert f.eur(Decimal("199.40"), lang="it") == "199,40\u00a0€"
    assert f.eur(Decimal("-0.925"), lang="it") == "-0,93\u00a0€"
    assert f.kwh(303744, lang="it") == "303,744\u00a0kWh"
    assert f.kwh(32462196, lang="it") == "32.462,196\u00a0kWh"
    assert f.kw(Decimal("274.800000000000"), lang="it") == "274,8\u00a0kW"
    assert f.kw(Decimal("45.000"), lang="it") == "45\u00a0kW"
    assert f.percent(30, lang="it") == "30,0\u00a0%"
    assert f.number(29760, lang="it") == "29.760"


def test_english_numbers_have_a_decimal_point_and_a_thousands_comma():
    assert f.number(Decimal("1234567.891"), 2, lang="en") == "1,234,567.89"
    assert f.eur(Decimal("199.4"), lang="en") == "€199.40"
    assert f.eur(Decimal("-3"), lang="en") == "-€3.00"
    assert f.kwh(303744, lang="en") == "303.744\u00a0kWh"


def test_dates_and_months_are_in_words_lower_case_in_italian():
    sunday = dt.date(2026, 12, 20)
    assert f.day(sunday, lang="it") == "20 dicembre 2026"
    assert f.day(sunday, lang="it", weekday=True) == "domenica 20 dicembre 2026"
    assert f.month(sunday, lang="it") == "dicembre 2026"
    assert f.day(sunday, lang="en") == "20 December 2026"
    assert f.month(sunday, lang="en") == "December 2026"


def test_the_active_language_decides_and_the_filters_use_it():
    template = Template("{% load fmt %}{{ a|eur }} · {{ e|kwh }} · {{ d|month }} · {{ n|eur }}")
    context = Context({"a": Decimal("1234.5"), "e": 1500, "d": dt.date(2025, 6, 1), "n": None})
    with translation.override("it"):
        assert template.render(context) == "1.234,50\u00a0€ · 1,500\u00a0kWh · giugno 2025 · —"
    with translation.override("en"):
        assert template.render(context) == "€1,234.50 · 1.500\u00a0kWh · June 2025 · —"
