"""The community's distribution policy, as the statute and the regulation spell it out.

The founding documents live on a lower floor (cer.documents) and cannot read the policy
themselves; this module hands them its terms as plain data (cer.documents.services
`add_context_provider`), so the article on the distribution of benefits says exactly
what the policy applied by the settlement says: the pots set aside first, then each
component of the rest with its basis and its producers' side. The text itself is written
in the templates (cer/documents/templates_docs/_distribution.txt).

Effective shares of the whole amount are given next to each percentage of the rest when
every pot is a percentage (a fixed monthly sum makes them depend on the month's amount).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from cer.distribution.models import DistributionPolicy

HUNDRED = Decimal(100)


def _policy_for(community: Any, today: dt.date) -> DistributionPolicy | None:
    """The policy valid on `today`, else the first one that starts later."""
    policies = DistributionPolicy.objects.filter(community=community)
    current = (
        policies.filter(valid_from__lte=today)
        .exclude(valid_to__lte=today)
        .order_by("-valid_from")
        .first()
    )
    return current or policies.filter(valid_from__gt=today).order_by("valid_from").first()


def policy_terms(*, community: Any, today: dt.date) -> dict[str, Any]:
    """Return {"policy": terms} for the templates, or {} when the community has no policy.

    terms: valid_from, pots [{label, percent, fixed_eur, social}], rest_percent (None when
    a pot is a fixed sum), components [{basis, percent, producers_percent,
    consumers_percent, of_total, producers_of_total, consumers_of_total}], weights
    [{name, weight}] for custom weights, excess_policy, excess_to_social_percent,
    missing_data. Percentages [%] are Decimals as stored.
    """
    policy = _policy_for(community, today)
    if policy is None:
        return {}
    pots = [
        {
            "label": pot.label,
            "percent": pot.percent,
            "fixed_eur": pot.fixed_eur,
            "social": pot.social,
        }
        for pot in policy.pots.all()
    ]
    fixed = any(pot["fixed_eur"] is not None for pot in pots)
    rest = None if fixed else HUNDRED - sum((pot["percent"] or 0 for pot in pots), Decimal(0))
    components = []
    for component in policy.components.all():
        producers = component.producers_percent or Decimal(0)
        terms: dict[str, Any] = {
            "basis": component.basis,
            "percent": component.percent,
            "producers_percent": producers,
            "consumers_percent": HUNDRED - producers,
            "of_total": None,
            "producers_of_total": None,
            "consumers_of_total": None,
        }
        if rest is not None:
            # Share of the whole amount [%] = rest × component × side, each in percent.
            of_total = rest * component.percent / HUNDRED
            terms["of_total"] = of_total
            terms["producers_of_total"] = of_total * producers / HUNDRED
            terms["consumers_of_total"] = of_total - terms["producers_of_total"]
        components.append(terms)
    weights = [
        {"name": weight.member.display_name, "weight": weight.weight}
        for weight in policy.weights.select_related("member").order_by("member__pk")
    ]
    return {
        "policy": {
            "valid_from": policy.valid_from,
            "pots": pots,
            "rest_percent": rest,
            "components": components,
            "weights": weights,
            "excess_policy": policy.excess_policy,
            "excess_to_social_percent": policy.excess_to_social_percent,
            "missing_data": policy.missing_data,
        }
    }
