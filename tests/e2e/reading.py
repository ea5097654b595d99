"""What a person reads on a page, checked in a real browser: figures, dates and months in the
page's language, no raw floats, ISO dates or Wh integers; the page fits a phone; axe-core
finds nothing serious. One helper for every journey test."""

from __future__ import annotations

import re

from tests.e2e.accessibility import serious_violations

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1200, "height": 900}

ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
ISO_MONTH = re.compile(r"\b\d{4}-(0[1-9]|1[0-2])\b")
# "06/12/2026", "12/1", "06/2025"; a decree's name ("DM 16/9/2020") is a title.
SLASHED_DATE = re.compile(r"(?<!DM )(?<!MiSE )(?<![\d/])\d{1,2}/\d{1,4}(/\d{2,4})?\b")
# A Decimal written out as stored: a tail of zeros ("274.800000000000").
TRAILING_ZEROS = re.compile(r"\d[.,]\d*0000(?!\d)")
# In Italian a dot before one, two or more than three digits is never a thousands
# separator: a decimal point left raw ("199.40", "0.9", "8116.2790").
ITALIAN_RAW_DECIMAL = re.compile(r"(?<![\d.])\d+\.(\d{1,2}|\d{4,})(?![\d])")
# In English the same with a comma: an Italian decimal comma ("199,40").
ENGLISH_RAW_DECIMAL = re.compile(r"(?<![\d,])\d+,(\d{1,2}|\d{4,})(?![\d])")
# Energy as a raw Wh integer ("32462196"): five digits or more without a separator.
RAW_INTEGER = re.compile(r"(?<![\w.,/+])\d{5,}(?![\w.,/])")
MONTHS = {
    "it": re.compile(r"\b(January|February|March|April|June|July|August|December)\b"),
    "en": re.compile(r"\b(gennaio|febbraio|marzo|aprile|giugno|luglio|agosto|dicembre)\b", re.I),
}


def text_problems(text: str, lang: str, *, figures: bool = True) -> list[str]:
    """Return what reads wrong in `text` for a reader of `lang` ("it" or "en").

    `figures` also looks for raw Wh integers: off on pages that show codes made of digits
    (postal codes, phone numbers).
    """
    patterns = [ISO_DATE, ISO_MONTH, SLASHED_DATE, TRAILING_ZEROS, MONTHS[lang]]
    patterns.append(ITALIAN_RAW_DECIMAL if lang == "it" else ENGLISH_RAW_DECIMAL)
    if figures:
        patterns.append(RAW_INTEGER)
    return [
        f"{hit.group(0)!r} ({pattern.pattern})"
        for pattern in patterns
        for hit in pattern.finditer(text)
    ]


def page_problems(page, lang: str, *, figures: bool = True) -> list[str]:
    """Check the page as it is now: its main text, its width on a phone, axe-core."""
    url = page.url
    problems = [
        f"{url}: {p}"
        for p in text_problems(page.locator("main").inner_text(), lang, figures=figures)
    ]
    viewport = page.viewport_size or DESKTOP
    width = page.evaluate("document.documentElement.scrollWidth")
    if viewport["width"] == PHONE["width"] and width > PHONE["width"]:
        problems.append(f"{url}: {width} px wide on a {PHONE['width']} px screen")
    problems += [f"{url}: {violation}" for violation in serious_violations(page)]
    return problems
