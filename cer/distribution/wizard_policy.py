"""The split chosen in the constitution wizard, stored as the community's first policy.

The wizard asks three percentages (to producers, to consumers, to a community fund) and a
model (consumers by their withdrawals, equal shares, or mostly the fund); the settlement
needs a distribution policy (pots and components, cer/distribution/models.py). This maps
one onto the other and stores it through services.set_policy, valid from the community's
founding date, or from the first of the month it is created in when no date is given:

- the community fund becomes a social pot of its percentage (DM 414/2023 art. 3 c. 2
  lett. g allows the excess to go to social purposes);
- producers and consumers share the rest: with "equal shares" producers by the shared
  energy of their plants and consumers in equal parts; otherwise one producers/consumers
  component, each side by its part of the shared energy (consumers' part follows their
  withdrawals hour by hour).

Percentages of the rest are kept to two decimals, the last one taking what rounding leaves
so they add up to 100.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from cer.communities.models import Community, DistributionModel, IncentiveDistribution
from cer.distribution import services
from cer.distribution.models import DistributionBasis

HUNDRED = Decimal(100)
CENT = Decimal("0.01")


def _share(part: Decimal, whole: Decimal) -> Decimal:
    """`part` as a percentage of `whole` [%], two decimals, rounded half up."""
    return (part * HUNDRED / whole).quantize(CENT, rounding=ROUND_HALF_UP)


def wizard_plan(
    split: IncentiveDistribution,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Return the policy's pots and components for the wizard's split."""
    pots: list[dict[str, Any]] = []
    if split.community_fund_pct:
        pots.append(
            {
                "code": "community-fund",
                # A label is the community's own text, shown in its statute: stored in the
                # site's language (Italian), not in the language the founder happened to use.
                "label": _in_site_language(gettext_noop("Community fund")),
                "percent": Decimal(split.community_fund_pct),
                "social": True,
            }
        )
    producers, consumers = Decimal(split.producers_pct), Decimal(split.consumers_pct)
    rest = producers + consumers
    if split.model == DistributionModel.EQUAL_SHARE and consumers and producers:
        to_producers = _share(producers, rest)
        components = [
            {
                "basis": DistributionBasis.PRODUCERS_CONSUMERS,
                "percent": to_producers,
                "producers_percent": HUNDRED,
            },
            {"basis": DistributionBasis.EQUAL, "percent": HUNDRED - to_producers},
        ]
    elif split.model == DistributionModel.EQUAL_SHARE and consumers:
        components = [{"basis": DistributionBasis.EQUAL, "percent": HUNDRED}]
    else:
        components = [
            {
                "basis": DistributionBasis.PRODUCERS_CONSUMERS,
                "percent": HUNDRED,
                "producers_percent": _share(producers, rest) if rest else Decimal(0),
            }
        ]
    return pots, components


def policy_from_wizard(
    *,
    community: Community,
    distribution: IncentiveDistribution,
    actor: Any,
    now: dt.datetime,
    today: dt.date,
) -> None:
    """Store the wizard's split as the community's first distribution policy.

    Valid from the founding date, or the first of the current month without one. Raises
    services.InvalidPlan when the split cannot make a policy (the wizard's form already
    requires the three shares to add up to 100).
    """
    pots, components = wizard_plan(distribution)
    services.set_policy(
        community=community,
        valid_from=community.founding_date or today.replace(day=1),
        pots=pots,
        components=components,
        actor=actor,
        now=now,
    )


def _in_site_language(text: str) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return _(text)
