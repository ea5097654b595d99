"""One formatting helper for every figure, date and month a person reads.

Pages, PDFs, charts, e-mails and the human CSV exports format through these functions (or
the template filters in cer/core/templatetags/fmt.py), so Italian readers see a decimal
comma, a thousands dot and months in words ("1.234,56 €", "303,744 kWh", "6 dicembre
2026"), and English readers the English forms ("€1,234.56", "303.744 kWh",
"6 December 2026"). The language is the active one (the user's choice, Italian by
default); `lang` forces one.

Money is Decimal and energy integer Wh: nothing here goes through a float.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from django.utils import formats, translation

Number = Decimal | int | Fraction | str

# Separators by language: (thousands, decimal).
_SEPARATORS = {"it": (".", ","), "en": (",", ".")}


def _lang(lang: str | None) -> str:
    code = (lang or translation.get_language() or "it").split("-")[0]
    return code if code in _SEPARATORS else "it"


def _decimal(value: Number) -> Decimal:
    if isinstance(value, Fraction):
        return Decimal(value.numerator) / Decimal(value.denominator)
    if isinstance(value, float):
        # A float reaching a person is a defect upstream; its shortest repr is the least bad.
        return Decimal(repr(value))
    return Decimal(value)


def number(value: Number, places: int = 0, *, lang: str | None = None, trim: bool = False) -> str:
    """Format a number with `places` decimals, rounded half up, in the reader's language.

    `trim` drops trailing decimal zeros (and the separator when nothing is left):
    4.500 kW reads "4,5 kW".
    """
    thousands, decimal = _SEPARATORS[_lang(lang)]
    exact = _decimal(value)
    quantum = Decimal(1).scaleb(-places)
    rounded = exact.quantize(quantum, rounding=ROUND_HALF_UP)
    sign = "-" if rounded < 0 else ""
    whole, _, fraction = f"{abs(rounded):f}".partition(".")
    groups: list[str] = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    if trim:
        fraction = fraction.rstrip("0")
    text = thousands.join(groups) + (decimal + fraction if fraction else "")
    return sign + text


def eur(value: Number, *, lang: str | None = None) -> str:
    """Money in euro with two decimals: "1.234,56 €" (it), "€1,234.56" (en)."""
    text = number(value, 2, lang=lang)
    if _lang(lang) == "en":
        return f"-€{text[1:]}" if text.startswith("-") else f"€{text}"
    return f"{text}\u00a0€"


def kwh(energy_wh: int, places: int = 3, *, lang: str | None = None) -> str:
    """Energy given in Wh, shown in kWh with `places` decimals (three at most)."""
    places = min(places, 3)
    return f"{number(Fraction(int(energy_wh), 1000), places, lang=lang)}\u00a0kWh"


def kw(power_kw: Number, *, lang: str | None = None) -> str:
    """Power in kW with up to three decimals, trailing zeros dropped: "45 kW", "274,8 kW"."""
    return f"{number(power_kw, 3, lang=lang, trim=True)}\u00a0kW"


def percent(value: Number, places: int = 1, *, lang: str | None = None) -> str:
    """A percentage already in percent units: 30 -> "30,0 %" (it), "30.0%" (en)."""
    text = number(value, places, lang=lang)
    return f"{text}%" if _lang(lang) == "en" else f"{text}\u00a0%"


def day(value: dt.date | dt.datetime, *, lang: str | None = None, weekday: bool = False) -> str:
    """A date in words: "6 dicembre 2026" (it), "6 December 2026" (en).

    Italian writes months and weekdays in lower case ("domenica 20 dicembre 2026").
    """
    code = _lang(lang)
    with translation.override(code):
        text = formats.date_format(value, "l j F Y" if weekday else "j F Y")
    return text.lower() if code == "it" else text


def month(value: dt.date | dt.datetime, *, lang: str | None = None) -> str:
    """A month in words: "dicembre 2026" (it), "December 2026" (en)."""
    code = _lang(lang)
    with translation.override(code):
        text = formats.date_format(value, "F Y")
    return text.lower() if code == "it" else text


def month_name(value: dt.date | dt.datetime, *, lang: str | None = None) -> str:
    """A month's name alone, for chart axes: "dic" (it), "Dec" (en)."""
    code = _lang(lang)
    with translation.override(code):
        text = formats.date_format(value, "M")
    return text.lower() if code == "it" else text


def moment(value: dt.datetime, *, lang: str | None = None) -> str:
    """A time of day with its date, in Europe/Rome: "6 dicembre 2026, 14:05"."""
    from django.utils import timezone

    local = timezone.localtime(value) if timezone.is_aware(value) else value
    return f"{day(local, lang=lang)}, {local:%H:%M}"
