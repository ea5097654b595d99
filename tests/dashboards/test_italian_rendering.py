"""Every page of the community's records and dashboards reads right in Italian and in English.

Each page is rendered through the Django test client in both languages; its visible text
(tags, scripts and attributes stripped) must hold no raw float ("274.800000000000",
"0.9"), no ISO or slashed date in prose ("2026-12-06", "06/12/2026") and, in Italian, none
of a few labels that have an Italian translation. The figures a page shows are checked in
both forms ("19,8 kW" and "19.8 kW").
"""

from __future__ import annotations

import datetime as dt
import html
import re
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone, translation

from cer.dashboards import charts
from cer.plants import services as plant_services
from tests import factories
from tests.dashboards.conftest import MARCH_FIRST_HOUR, add_reading, join

pytestmark = pytest.mark.django_db

# A dot followed by one, two or more than three digits is never an Italian thousands group.
RAW_FLOAT = re.compile(r"\d\.(\d{1,2}|\d{4,})(?!\d)")
ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
# A decree's name ("DM MiSE 16/9/2020") is a title, not a date in prose.
SLASHED_DATE = re.compile(r"(?<!DM )(?<!MiSE )\b\d{1,2}/\d{1,2}(/\d{2,4})?\b")
ENGLISH_MONTHS = re.compile(r"\b(January|February|March|June|July|December)\b")
ITALIAN_MONTHS = re.compile(r"\b(gennaio|febbraio|marzo|giugno|luglio|dicembre)\b")


def visible_text(content: bytes) -> str:
    """Return what a reader sees: no scripts, styles, tags or attribute values."""
    text = content.decode()
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", text, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", text)
    return " ".join(html.unescape(text).split())


def get(client, name, args=(), *, lang, query=None):
    with translation.override(lang):
        url = reverse(name, args=args)
    response = client.get(url, query or {})
    assert response.status_code == 200, url
    return visible_text(response.content)


def assert_reads_well(text: str, *, lang: str) -> None:
    assert not RAW_FLOAT.search(text) if lang == "it" else True, RAW_FLOAT.search(text)
    assert not ISO_DATE.search(text), ISO_DATE.search(text)
    assert not SLASHED_DATE.search(text), SLASHED_DATE.search(text)
    months = ENGLISH_MONTHS if lang == "it" else ITALIAN_MONTHS
    assert not months.search(text), months.search(text)


@pytest.fixture
def plant(community, referente):
    """A registered plant of 274.8 kW with its eligibility checked, and a month of readings."""
    producer = factories.make_member(first_name="Anna", last_name="Sole")
    join(community, producer, kind="PRODUCER")
    point = factories.make_connection_point(
        community, producer, pod="IT001E70000003", has_injection=True, has_withdrawal=False
    )
    plant = factories.make_plant(
        point,
        name="FV capannone",
        power_kw=Decimal("274.800000000000"),
        entry_into_service_date=dt.date(2024, 6, 1),
    )
    plant_services.register_plant(plant=plant, actor=referente, now=timezone.now())
    consumer = factories.make_member(first_name="Paolo", last_name="Vicino")
    join(community, consumer)
    consumer_point = factories.make_connection_point(community, consumer, pod="IT001E70000002")
    for hour in range(24 * 31):
        start = MARCH_FIRST_HOUR + dt.timedelta(hours=hour)
        add_reading(point, start, injected_wh=303_744 if hour % 24 == 12 else 0)
        add_reading(consumer_point, start, withdrawn_wh=1_250)
    return plant


PAGES_OF_THE_REFERENTE = [
    ("dashboards:community", "community", {"period": "2025-03"}),
    ("dashboards:community", "community", {"period": "2025"}),
    ("community_detail", "community", None),
    ("dashboards:point", "point", {"period": "2025-03"}),
    ("plants:plant_list", "community", None),
    ("plant_detail", "plant", {"period": "2025-03"}),
    ("members:invite", "community", None),
    ("members:history", "community", None),
    ("documents:archive", "community", None),
    ("audit:community_log", "community", None),
]


@pytest.mark.parametrize("lang", ["it", "en"])
@pytest.mark.parametrize(("name", "target", "query"), PAGES_OF_THE_REFERENTE)
def test_each_page_reads_in_the_chosen_language(
    client, referente, community, plant, lang, name, target, query
):
    client.force_login(referente)
    args = {"community": community.pk, "plant": plant.pk, "point": plant.connection_point_id}

    text = get(client, name, [args[target]], lang=lang, query=query)

    assert_reads_well(text, lang=lang)


def test_the_community_dashboard_shows_figures_in_italian_and_english(
    client, referente, community, plant
):
    client.force_login(referente)

    italian = get(
        client, "dashboards:community", [community.pk], lang="it", query={"period": "2025-03"}
    )
    english = get(
        client, "dashboards:community", [community.pk], lang="en", query={"period": "2025-03"}
    )

    # 31 days of 303.744 kWh injected: 9416.064 kWh, shown without decimals.
    assert "9.416 kWh immessi in rete" in italian
    assert "9,416 kWh injected into the grid" in english
    assert "marzo 2025" in italian and "March 2025" in english
    assert "1 marzo 2025" in italian and "1 March 2025" in english  # the daily table
    for label in ("Energy dashboard", "Key figures", "Data completeness"):
        assert label not in italian
        assert label in english


def test_a_year_lists_its_months_in_words(client, referente, community, plant):
    client.force_login(referente)

    italian = get(
        client, "dashboards:community", [community.pk], lang="it", query={"period": "2025"}
    )
    english = get(
        client, "dashboards:community", [community.pk], lang="en", query={"period": "2025"}
    )

    assert "marzo 2025" in italian
    assert "Marzo" not in italian  # months are lower case in Italian
    # 8760 hours in 2025, with the thousands separator of each language.
    assert "su 8.760 attese" in italian
    assert "out of 8,760 expected" in english


def test_the_plant_page_formats_power_dates_and_eligibility(client, referente, plant):
    client.force_login(referente)

    italian = get(client, "plant_detail", [plant.pk], lang="it")
    english = get(client, "plant_detail", [plant.pk], lang="en")

    assert "274,8 kW" in italian and "274.800000000000" not in italian
    assert "274.8 kW" in english
    assert "1 giugno 2024" in italian and "1 June 2024" in english
    # The eligibility sentences: power, limit and dates formatted, no trailing zeros.
    assert "274,8 kW rientra nel limite di 1.000 kW per impianto." in italian
    assert "274.8 kW is within the limit of 1,000 kW per plant." in english
    assert "In esercizio dal 1 giugno 2024, alla data di entrata in vigore del DM 414 (" in italian
    assert "In service on 1 June 2024, on or after the entry into force of DM 414 (" in english
    assert "Not verified by the back office yet." not in italian


def test_plant_names_print_their_power_for_a_reader(plant):
    with translation.override("it"):
        italian = str(plant)
    with translation.override("en"):
        english = str(plant)

    assert italian == "FV capannone (274,8\u00a0kW)"
    assert english == "FV capannone (274.8\u00a0kW)"


def test_the_point_page_lists_missing_hours_with_dates_in_words(client, referente, plant):
    client.force_login(referente)

    italian = get(
        client,
        "dashboards:point",
        [plant.connection_point_id],
        lang="it",
        query={"period": "2025-04"},
    )

    assert "aprile 2025" in italian


def test_the_constitution_wizard_start_reads_in_both_languages(client, referente):
    client.force_login(referente)

    italian = get(client, "constitution:wizard_start", lang="it")
    english = get(client, "constitution:wizard_start", lang="en")

    assert_reads_well(italian, lang="it")
    assert_reads_well(english, lang="en")
    assert "Constitute a community" in english
    assert "Constitute a community" not in italian


@pytest.mark.parametrize(
    ("lang", "expected"),
    [("it", r"\d{1,2} [a-z]+ \d{4}, \d\d:\d\d"), ("en", r"\d{1,2} [A-Z][a-z]+ \d{4}, \d\d:\d\d")],
)
def test_the_invitation_email_gives_its_expiry_in_words(
    client, referente, community, django_capture_on_commit_callbacks, lang, expected
):
    client.force_login(referente)
    with translation.override(lang):
        url = reverse("members:invite", args=[community.pk])

    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"email": "nuova@example.org"})

    (message,) = mail.outbox
    assert re.search(expected, message.body), message.body
    assert_reads_well(message.body, lang=lang)


def test_the_chart_payload_carries_italian_month_names_and_separators(
    client, referente, community, plant
):
    client.force_login(referente)

    italian = client.get(
        reverse("dashboards:community", args=[community.pk]), {"period": "2025-03"}
    )
    with translation.override("en"):
        english_url = reverse("dashboards:community", args=[community.pk])
    english = client.get(english_url, {"period": "2025-03"})

    payload = re.search(
        r'id="community-chart-data" type="application/json">(.*?)</script>',
        italian.content.decode(),
    )
    assert payload is not None
    assert '"months": ["gen", "feb", "mar", "apr", "mag", "giu"' in payload.group(1)
    assert '"decimal": ","' in payload.group(1)
    assert '"months": ["Jan", "Feb", "Mar"' in english.content.decode()
    assert charts.locale(lang="it")["thousands"] == "."


def test_the_region_reads_as_it_is_written():
    from cer.core.choices import Region

    assert Region.VALLE_D_AOSTA.label == "Valle d'Aosta"
    assert Region.EMILIA_ROMAGNA.label == "Emilia-Romagna"
