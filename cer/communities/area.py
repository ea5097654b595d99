"""Whether a place (a plant, a member's point) lies in its configuration's area.

A configuration is the part of a community under one primary substation: every point of it
must lie in the conventional area of that substation (D.Lgs. 199/2021 art. 31 c. 2 lett. b;
TIAD, ARERA 727/2022, art. 1; REGULATION.md §3.6). The area is known here only when the
community has imported the distributor's list with the municipalities each substation serves.
Without it the verdict leans on what is certain: since November 2024 the GSE has redrawn the
areas so that none crosses a market zone, so a place in a region of another zone is outside;
anything else is to verify on the GSE map, with the reason. Nothing here reads the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from cer.communities.zones import zones_of


class Placement(StrEnum):
    INSIDE = "INSIDE"
    OUTSIDE = "OUTSIDE"
    TO_VERIFY = "TO_VERIFY"


@dataclass(frozen=True)
class PlaceVerdict:
    """Where a place stands, and which sentence explains it (`variant`)."""

    placement: Placement
    variant: str


def place_in_area(
    *,
    municipality_code: str,
    region: str,
    configuration_region: str,
    area_codes: frozenset[str] | None,
) -> PlaceVerdict:
    """Judge whether a place lies in the configuration's area.

    `municipality_code` is the ISTAT code of the place ("" when unknown), `region` its
    region; `area_codes` the ISTAT codes of the area's municipalities, None when not known.
    """
    if not municipality_code and not region:
        return PlaceVerdict(Placement.TO_VERIFY, "place_unknown")
    if area_codes and municipality_code:
        if municipality_code in area_codes:
            return PlaceVerdict(Placement.INSIDE, "in_area")
        return PlaceVerdict(Placement.OUTSIDE, "outside_area")
    if region and configuration_region and region != configuration_region:
        if not zones_of(region) & zones_of(configuration_region):
            return PlaceVerdict(Placement.OUTSIDE, "other_zone")
        return PlaceVerdict(Placement.TO_VERIFY, "other_region")
    return PlaceVerdict(Placement.TO_VERIFY, "area_unknown")
