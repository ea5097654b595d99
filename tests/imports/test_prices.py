"""Zonal price imports: GME files at native resolution, hourly means, synthetic replacement.

The fixture price of zone i (PUN = 0, NORD = 1, ...) in period k is
100 + i + 0.250001 k EUR/MWh.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pytest

from cer.imports import prices, services
from cer.imports.models import ImportKind, ImportStatus
from cer.incentives.models import ZonalPrice
from cer.settlement import inputs
from tests.imports.conftest import NOW, fixture_bytes


def fixture_price(zone_index, period):
    return Decimal(100 + zone_index) + Decimal("0.250001") * period


def utc(*args):
    return dt.datetime(*args, tzinfo=dt.UTC)


def import_file(name, **kwargs):
    return services.import_prices(
        data=fixture_bytes("prices", name), file_name=name, now=NOW, **kwargs
    )


def test_hourly_gme_xml_of_the_march_change_over_day_has_23_hours():
    parsed = prices.parse_price_file(fixture_bytes("prices", "20250330MGPPrezzi.xml"))

    nord = [i for i in parsed.intervals if i.zone == "NORD"]
    assert parsed.rejections == ()
    assert {i.zone for i in parsed.intervals} == set(prices.ZONES)  # PUN and AUST skipped
    assert len(nord) == 23
    assert {i.minutes for i in nord} == {60}
    # Ora 3 is 03:00 local (+02:00): 01:00 UTC.
    assert nord[2].start_s == int(utc(2025, 3, 30, 1).timestamp())
    assert nord[2].price_eur_per_mwh == fixture_price(1, 3)


def test_hourly_gme_csv_of_an_october_change_over_day_has_25_hours():
    parsed = prices.parse_price_file(fixture_bytes("prices", "20241027MGPPrezzi.csv"))

    nord = [i for i in parsed.intervals if i.zone == "NORD"]
    assert len(nord) == 25
    # Ora 3 is the first 02:00 (+02:00), Ora 4 the second (+01:00).
    assert nord[2].start_s == int(utc(2024, 10, 27, 0).timestamp())
    assert nord[3].start_s == int(utc(2024, 10, 27, 1).timestamp())
    assert nord[-1].start_s == int(utc(2024, 10, 27, 22).timestamp())


def test_quarter_hourly_gme_xml_of_the_october_change_over_day_has_100_periods():
    parsed = prices.parse_price_file(fixture_bytes("prices", "20251026MGPPrezzi15.xml"))

    nord = [i for i in parsed.intervals if i.zone == "NORD"]
    assert len(nord) == 100
    assert {i.minutes for i in nord} == {15}
    assert nord[0].start_s == int(utc(2025, 10, 25, 22).timestamp())
    assert nord[12].start_s == int(utc(2025, 10, 26, 1).timestamp())  # second 02:00


def test_quarter_hourly_gme_csv_without_granularity_is_read_as_15_minutes():
    parsed = prices.parse_price_file(fixture_bytes("prices", "20251002MGPPrezzi.csv"))

    assert {i.minutes for i in parsed.intervals} == {15}
    assert len([i for i in parsed.intervals if i.zone == "SARD"]) == 96


def test_simple_csv_rejects_bad_rows_with_reasons():
    parsed = prices.parse_price_file(fixture_bytes("prices", "prices_simple.csv"))

    assert [(r.line, r.field) for r in parsed.rejections] == [
        (5, "zone"),
        (6, "start"),
        (7, "price"),
        (8, "start"),
    ]
    assert "no UTC offset" in parsed.rejections[1].reason
    assert [i.price_eur_per_mwh for i in parsed.intervals] == [
        Decimal("101.25"),
        Decimal("99.5"),
        Decimal("-5.000001"),
    ]


def test_a_period_beyond_the_end_of_the_day_is_rejected():
    data = b"Data;Ora;NORD\n20250330;24;100,5\n"

    parsed = prices.parse_price_file(data)

    (rejection,) = parsed.rejections
    assert (rejection.line, rejection.field) == (2, "Ora")
    assert rejection.reason == "Ora 24 does not exist on 30/03/2025 (1..23)"


def test_an_unknown_price_layout_is_refused():
    with pytest.raises(prices.FileRefused, match="Not a price file"):
        prices.parse_price_file(b"giorno;valore\n1;2\n")


@pytest.mark.django_db
def test_prices_are_stored_at_native_resolution():
    batch = import_file("20251026MGPPrezzi15.xml")

    assert (batch.status, batch.kind) == (ImportStatus.DONE, ImportKind.PRICES_GME)
    assert batch.intervals_inserted == 700
    row = ZonalPrice.objects.get(market_zone="CSUD", interval_start=utc(2025, 10, 26, 1))
    assert (row.interval_minutes, row.source) == (15, "GME")
    assert row.price_eur_per_mwh == fixture_price(3, 13)


@pytest.mark.django_db
def test_importing_prices_twice_changes_nothing_and_a_correction_supersedes():
    import_file("20250330MGPPrezzi.xml")
    before = list(ZonalPrice.objects.order_by("pk").values_list())

    again = import_file("20250330MGPPrezzi.xml")
    corrected = services.import_prices(
        data=b"Data;Ora;NORD\n20250330;3;123,456\n", file_name="fix.csv", now=NOW
    )

    assert before[0] in list(ZonalPrice.objects.order_by("pk").values_list())
    assert (again.intervals_inserted, again.intervals_superseded) == (0, 0)
    assert again.intervals_unchanged == 161
    assert (corrected.intervals_superseded, corrected.intervals_unchanged) == (1, 0)
    row = ZonalPrice.objects.get(market_zone="NORD", interval_start=utc(2025, 3, 30, 1))
    assert row.price_eur_per_mwh == Decimal("123.456")


@pytest.mark.django_db
def test_real_prices_replace_the_synthetic_ones_of_the_same_zone_and_intervals():
    for hour in range(-2, 30):
        ZonalPrice.objects.create(
            market_zone="NORD",
            interval_start=utc(2025, 10, 25, 22) + dt.timedelta(hours=hour),
            interval_minutes=60,
            price_eur_per_mwh=Decimal("90"),
            source="SYNTHETIC",
        )
    ZonalPrice.objects.create(
        market_zone="SUD",
        interval_start=utc(2025, 10, 26, 3),
        interval_minutes=60,
        price_eur_per_mwh=Decimal("90"),
        source="SYNTHETIC",
    )

    batch = import_file("20251026MGPPrezzi15.xml")

    synthetic = ZonalPrice.objects.filter(source="SYNTHETIC")
    assert batch.synthetic_replaced == 25 + 1
    # Only the synthetic hours outside the imported day are left.
    assert synthetic.filter(market_zone="NORD").count() == 32 - 25
    assert not synthetic.filter(market_zone="SUD").exists()


def hours_between(start, end):
    return np.arange(int(start.timestamp()), int(end.timestamp()), 3600, dtype=np.int64)


# The settlement reads the hourly price for the tariff through inputs._prices, the one
# place that turns stored intervals into hourly prices (cercalc.prices).


@pytest.mark.django_db
def test_hourly_price_is_the_mean_of_the_four_quarter_hours():
    import_file("20251026MGPPrezzi15.xml")

    units, known, warnings = inputs._prices(
        "NORD", hours_between(utc(2025, 10, 25, 22), utc(2025, 10, 26, 23))
    )

    assert known.all()
    assert len(units) == 25
    # Hour 2 (00:00Z) holds periods 9..12: mean 101 + 0.250001 * 10.5 = 103.6250105.
    assert units[2] == 1_036_250  # rounded half up to 1e-4 EUR/MWh
    assert warnings == ["Some zonal prices had more than four decimals and were rounded half up."]


@pytest.mark.django_db
def test_hourly_prices_report_missing_hours_and_use_native_hours():
    import_file("20250330MGPPrezzi.xml")
    ZonalPrice.objects.filter(market_zone="NORD", interval_start=utc(2025, 3, 30, 5)).delete()
    hours = hours_between(utc(2025, 3, 29, 23), utc(2025, 3, 30, 23))

    units, known, _ = inputs._prices("NORD", hours)

    missing = [dt.datetime.fromtimestamp(s, dt.UTC) for s in hours[~known].tolist()]
    assert missing == [utc(2025, 3, 30, 5), utc(2025, 3, 30, 22)]
    assert units[0] == 1_012_500  # fixture_price(1, 1) = 101.250001, to 1e-4 EUR/MWh


@pytest.mark.django_db
def test_an_incomplete_set_of_quarter_hours_gives_no_hourly_price():
    for minute, price in ((0, "10"), (15, "20"), (30, "-30")):
        ZonalPrice.objects.create(
            market_zone="SICI",
            interval_start=utc(2025, 11, 1, 10, minute),
            interval_minutes=15,
            price_eur_per_mwh=Decimal(price),
            source="GME",
        )

    _, known, _ = inputs._prices("SICI", hours_between(utc(2025, 11, 1, 10), utc(2025, 11, 1, 11)))

    assert known.tolist() == [False]


@pytest.mark.django_db
def test_a_negative_mean_rounds_half_away_from_zero():
    for minute, price in ((0, "-0.0001"), (15, "-0.0001"), (30, "0"), (45, "0")):
        ZonalPrice.objects.create(
            market_zone="SARD",
            interval_start=utc(2025, 11, 1, 10, minute),
            interval_minutes=15,
            price_eur_per_mwh=Decimal(price),
            source="GME",
        )

    units, _, _ = inputs._prices("SARD", hours_between(utc(2025, 11, 1, 10), utc(2025, 11, 1, 11)))

    assert units.tolist() == [-1]  # -0.5e-4 EUR/MWh -> -1e-4
