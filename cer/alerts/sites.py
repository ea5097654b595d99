"""Where a plant stands when its record does not say: the regional capital's coordinates.

Coordinates of each region's capital (the city centre, to two decimals: a few hundred
metres do not change a day's clear-sky irradiation), from the Italian Wikipedia pages of
the cities (coordinates of the comune), read in December 2026. A photovoltaic plant
without its own tilt and azimuth is taken as tilted 30° and facing due south, the usual
rooftop installation in Italy.
"""

from __future__ import annotations

from decimal import Decimal

from cer.core.choices import Region

DEFAULT_TILT_DEG = Decimal(30)
DEFAULT_AZIMUTH_DEG = Decimal(180)

# region -> (latitude, longitude) [°] of its capital.
REGIONAL_CAPITALS: dict[str, tuple[Decimal, Decimal]] = {
    Region.ABRUZZO: (Decimal("42.35"), Decimal("13.40")),  # L'Aquila
    Region.BASILICATA: (Decimal("40.64"), Decimal("15.80")),  # Potenza
    Region.CALABRIA: (Decimal("38.91"), Decimal("16.59")),  # Catanzaro
    Region.CAMPANIA: (Decimal("40.85"), Decimal("14.27")),  # Napoli
    Region.EMILIA_ROMAGNA: (Decimal("44.49"), Decimal("11.34")),  # Bologna
    Region.FRIULI_VENEZIA_GIULIA: (Decimal("45.65"), Decimal("13.78")),  # Trieste
    Region.LAZIO: (Decimal("41.90"), Decimal("12.50")),  # Roma
    Region.LIGURIA: (Decimal("44.41"), Decimal("8.93")),  # Genova
    Region.LOMBARDIA: (Decimal("45.46"), Decimal("9.19")),  # Milano
    Region.MARCHE: (Decimal("43.62"), Decimal("13.52")),  # Ancona
    Region.MOLISE: (Decimal("41.56"), Decimal("14.66")),  # Campobasso
    Region.PIEMONTE: (Decimal("45.07"), Decimal("7.69")),  # Torino
    Region.PUGLIA: (Decimal("41.12"), Decimal("16.87")),  # Bari
    Region.SARDEGNA: (Decimal("39.22"), Decimal("9.12")),  # Cagliari
    Region.SICILIA: (Decimal("38.12"), Decimal("13.36")),  # Palermo
    Region.TOSCANA: (Decimal("43.77"), Decimal("11.26")),  # Firenze
    Region.TRENTINO_ALTO_ADIGE: (Decimal("46.07"), Decimal("11.12")),  # Trento
    Region.UMBRIA: (Decimal("43.11"), Decimal("12.39")),  # Perugia
    Region.VALLE_D_AOSTA: (Decimal("45.74"), Decimal("7.32")),  # Aosta
    Region.VENETO: (Decimal("45.44"), Decimal("12.33")),  # Venezia
}


def site_of(
    *,
    latitude: Decimal | None,
    longitude: Decimal | None,
    tilt_deg: Decimal | None,
    azimuth_deg: Decimal | None,
    region: str,
) -> tuple[float, float, float, float]:
    """Return (latitude, longitude, tilt, azimuth) [°] of a plant, filling in the defaults.

    A plant without coordinates stands at its region's capital; without a region, at Rome.
    """
    if latitude is None or longitude is None:
        latitude, longitude = REGIONAL_CAPITALS.get(region, REGIONAL_CAPITALS[Region.LAZIO])
    return (
        float(latitude),
        float(longitude),
        float(DEFAULT_TILT_DEG if tilt_deg is None else tilt_deg),
        float(DEFAULT_AZIMUTH_DEG if azimuth_deg is None else azimuth_deg),
    )
