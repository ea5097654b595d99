"""Which market zone a region lies in: Terna's bidding zones in force since 1 January 2021.

A configuration is priced at the zonal price of its market zone (REGULATION.md §4.1), so a
zone that does not match the configuration's region gives every member a wrong incentive.
The table follows Terna's zonal configuration in force from 1 January 2021 (ARERA 103/2019;
Terna, "Le nuove zone del mercato elettrico", lightbox.terna.it): Umbria moved from
Centre-North to Centre-South, Molise from Centre-South to South, and Calabria became a zone
of its own. Zone borders follow the transmission grid, not administrative lines: a region
listed with more than one zone is a documented exception, where either zone is accepted and
the checklist asks to verify it on the GSE map. No region is split in the 2021 table; the
mechanism is kept so that a future revision of the zones is one edit here.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from cer.core.choices import Region

ZONES_BY_REGION: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        Region.VALLE_D_AOSTA: frozenset({"NORD"}),
        Region.PIEMONTE: frozenset({"NORD"}),
        Region.LIGURIA: frozenset({"NORD"}),
        Region.LOMBARDIA: frozenset({"NORD"}),
        Region.TRENTINO_ALTO_ADIGE: frozenset({"NORD"}),
        Region.VENETO: frozenset({"NORD"}),
        Region.FRIULI_VENEZIA_GIULIA: frozenset({"NORD"}),
        Region.EMILIA_ROMAGNA: frozenset({"NORD"}),
        Region.TOSCANA: frozenset({"CNOR"}),
        Region.MARCHE: frozenset({"CNOR"}),
        Region.UMBRIA: frozenset({"CSUD"}),
        Region.LAZIO: frozenset({"CSUD"}),
        Region.ABRUZZO: frozenset({"CSUD"}),
        Region.CAMPANIA: frozenset({"CSUD"}),
        Region.MOLISE: frozenset({"SUD"}),
        Region.PUGLIA: frozenset({"SUD"}),
        Region.BASILICATA: frozenset({"SUD"}),
        Region.CALABRIA: frozenset({"CALA"}),
        Region.SICILIA: frozenset({"SICI"}),
        Region.SARDEGNA: frozenset({"SARD"}),
    }
)


def zones_of(region: str, *, table: Mapping[str, frozenset[str]] | None = None) -> frozenset[str]:
    """Return the market zones a region lies in; empty for an unknown region."""
    # The table is read at each call, so a revision of the zones (or a test) replaces it.
    return (ZONES_BY_REGION if table is None else table).get(region, frozenset())


def zone_matches(
    region: str, zone: str, *, table: Mapping[str, frozenset[str]] | None = None
) -> bool:
    """Tell whether `zone` is a market zone of `region` (an unknown region is not judged)."""
    zones = zones_of(region, table=table)
    return not zones or zone in zones


def is_split(region: str, *, table: Mapping[str, frozenset[str]] | None = None) -> bool:
    """Tell whether the region lies in more than one zone (the zone is then to verify)."""
    return len(zones_of(region, table=table)) > 1


def region_of_municipality(istat_region: str) -> str:
    """Return the Region code for an ISTAT region name ("Trentino-Alto Adige/Südtirol")."""
    name = istat_region.split("/")[0].strip()
    return name if name in Region.values else ""
