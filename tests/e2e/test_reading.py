"""The page-text checker of the browser journeys finds what it is there to find."""

from __future__ import annotations

import pytest

from tests.e2e.reading import text_problems


@pytest.mark.parametrize(
    "text",
    [
        "Prelevata dalla rete 303.744 kWh e 199.40 EUR",
        "274.800000000000 kW",
        "Energia 32462196",
        "Valido dal 2025-06-01",
        "Mese 2025-06",
        "Rendiconto di 06/2025",
        "Grafico del 12/1",
        "June 2025",
    ],
)
def test_an_italian_page_text_that_reads_wrong_is_caught(text):
    assert text_problems(text, "it") != []


@pytest.mark.parametrize("text", ["199,40 EUR", "giugno 2025", "4.800000 kW"])
def test_an_english_page_text_that_reads_wrong_is_caught(text):
    assert text_problems(text, "en") != []


def test_well_formatted_text_passes_in_both_languages():
    italian = (
        "La tua quota di giugno 2025: 1.234,56 € per 303,744 kWh; DM 16/9/2020; POD IT001E00000007"
    )
    english = "Your share of June 2025: €1,234.56 for 303.744 kWh; 13.539978 EUR before rounding"

    assert text_problems(italian, "it") == []
    assert text_problems(english, "en") == []
