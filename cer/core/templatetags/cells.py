"""Template filters for tables whose rows hold values (the community report): {% load cells %}
then {{ value|cell }} writes a cell through cer.core.csv_export.cell_text, and
{{ value|is_number }} tells the template to align it right."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template

from cer.core.csv_export import cell_text

register = template.Library()


@register.filter
def cell(value: Any) -> str:
    return cell_text(value)


@register.filter
def is_number(value: Any) -> bool:
    return isinstance(value, (Decimal, int)) and not isinstance(value, bool)
