"""A community with its one configuration, in Spinea."""

from __future__ import annotations

import datetime as dt

from cer.communities.models import Community, Configuration, PrimarySubstation
from cer.core.models import Municipality
from tests.factories.identifiers import SPINEA, next_seed, valid_vat_number


def make_community(**overrides: object) -> Community:
    fields = {
        "name": "CER Prova",
        "kind": "CER",
        "legal_form": "THIRD_SECTOR",
        "fiscal_code": valid_vat_number(9_000_000 + next_seed()),
        "seat_address": "Piazza Marconi 1",
        "seat_municipality": Municipality.objects.get(pk=SPINEA),
        "founding_date": dt.date(2024, 9, 12),
    }
    fields.update(overrides)
    community = Community.objects.create(**fields)
    Configuration.objects.create(
        community=community,
        name="Cabina Spinea",
        primary_substation=f"AC001E{next_seed():05d}",
        market_zone="NORD",
        region="Veneto",
    )
    return community


def import_area(community: Community, *codes: str, now: dt.datetime | None = None) -> None:
    """Record each configuration's substation as serving `codes` (Spinea by default)."""
    for configuration in community.configurations.all():
        substation = PrimarySubstation.objects.create(
            community=community,
            code=configuration.primary_substation,
            name=configuration.name,
            imported_at=now or dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
        )
        substation.municipalities.set(Municipality.objects.filter(pk__in=codes or (SPINEA,)))
