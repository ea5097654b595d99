"""Template filters over cer.core.formatting: {% load fmt %} then {{ amount|eur }},
{{ energy_wh|kwh }}, {{ power|kw }}, {{ value|num:2 }}, {{ share|pct }}, {{ date|day }},
{{ date|month }}, {{ when|moment }}. An empty value (None or "") renders as "—"."""

from __future__ import annotations

from typing import Any

from django import template

from cer.core import formatting

register = template.Library()

EMPTY = "—"


def _empty(value: Any) -> bool:
    return value is None or value == ""


@register.filter
def eur(value: Any) -> str:
    return EMPTY if _empty(value) else formatting.eur(value)


@register.filter
def kwh(value: Any, places: int = 3) -> str:
    return EMPTY if _empty(value) else formatting.kwh(int(value), int(places))


@register.filter
def kw(value: Any) -> str:
    return EMPTY if _empty(value) else formatting.kw(value)


@register.filter
def num(value: Any, places: int = 0) -> str:
    return EMPTY if _empty(value) else formatting.number(value, int(places))


@register.filter
def pct(value: Any, places: int = 1) -> str:
    return EMPTY if _empty(value) else formatting.percent(value, int(places))


@register.filter
def day(value: Any) -> str:
    return EMPTY if _empty(value) else formatting.day(value)


@register.filter
def month(value: Any) -> str:
    return EMPTY if _empty(value) else formatting.month(value)


@register.filter
def moment(value: Any) -> str:
    return EMPTY if _empty(value) else formatting.moment(value)
