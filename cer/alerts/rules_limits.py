"""Rules over the plants, memberships and money: the regulatory limits and deadlines.

Every limit is the engine's (cercalc) read from its dated parameters on the day it
applies; these rules only warn before a limit is reached, with the community's margin.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from cer.alerts.findings import Finding, Scope
from cer.alerts.models import AlertRule
from cer.communities.models import Community, CommunityKind
from cer.members.models import Membership
from cer.notifications import links
from cer.plants.models import IncentiveRegime, Plant
from cer.settlement.models import RunPlant, SettlementRun
from cercalc.eligibility import eligibility_limits, existing_share, is_existing_plant
from cercalc.excess import excess_share
from cercalc.params import default_parameters

# GSE operating rules for CACER (RO 2024, §1.2): the request for the tariff is filed within
# 120 days of the plant's entry into service. REGULATION.md §9 names the 120 days of the
# transitional window only; this reading is [U] until checked against the RO text.
GSE_REQUEST_DAYS = 120


def _share_text(value: Fraction) -> str:
    """An exact share as a decimal string with four places (half up), for the figures."""
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return str(exact.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP))


def excess_share_trend(scope: Scope) -> list[Finding]:
    """Rule 6: a configuration whose incentivised / injected energy passes 55 %/45 %.

    Read from the settled months of the current year (the latest run of each month): the
    year to date, and the newest month alone. Each set of plants (tariff only; tariff and
    capital grant) is compared with its threshold through cercalc.excess.excess_share
    (REGULATION.md §5); GSE checks the year, so this is a trend to act on, not a verdict.
    """
    communities = scope.communities_with(AlertRule.EXCESS_SHARE)
    if not communities:
        return []
    year = scope.today.year
    parameters = default_parameters()
    first_day = dt.date(year, 1, 1)
    thresholds = {
        False: Decimal(str(parameters.value_on("excess_threshold_share", first_day, []))),
        True: Decimal(str(parameters.value_on("excess_threshold_share_with_grant", first_day, []))),
    }
    latest: dict[tuple[int, dt.date], tuple[int, int]] = {}
    for pk, configuration, month, version in SettlementRun.objects.filter(
        configuration__community_id__in=communities,
        month__gte=first_day,
        month__lt=dt.date(year + 1, 1, 1),
    ).values_list("pk", "configuration", "month", "version"):
        if (configuration, month) not in latest or latest[(configuration, month)][1] < version:
            latest[(configuration, month)] = (pk, version)
    if not latest:
        return []
    newest_month: dict[int, dt.date] = {}
    for configuration, month in latest:
        newest_month[configuration] = max(month, newest_month.get(configuration, month))
    month_of_run = {
        pk: (configuration, month) for (configuration, month), (pk, _v) in latest.items()
    }
    # (configuration, set, "year"|"month") -> [incentivised, injected]
    sums: dict[tuple[int, bool, str], list[int]] = defaultdict(lambda: [0, 0])
    names: dict[int, tuple[str, int]] = {}
    rows = RunPlant.objects.filter(run_id__in=list(month_of_run)).values_list(
        "run_id",
        "injected_wh",
        "incentivised_wh",
        "plant__regime",
        "plant__entry_into_service_date",
        "plant__capital_grant_pct",
        "run__configuration__name",
        "run__configuration__community_id",
    )
    for run, injected, incentivised, regime, entry, grant, name, community in rows:
        if regime != IncentiveRegime.DM414 or is_existing_plant(entry, parameters=parameters):
            continue  # no tariff, so not under the rule (cercalc.settle: term.tariff == DM414)
        configuration, month = month_of_run[run]
        names[configuration] = (name, community)
        with_grant = grant > 0
        spans = ["year", "month"] if month == newest_month[configuration] else ["year"]
        for span in spans:
            sums[(configuration, with_grant, span)][0] += incentivised
            sums[(configuration, with_grant, span)][1] += injected
    findings = []
    for configuration, (name, community) in names.items():
        over = []
        for (conf, with_grant, span), (incentivised, injected) in sorted(sums.items()):
            if conf != configuration:
                continue
            threshold = thresholds[with_grant]
            share = excess_share(
                incentivised_wh=incentivised, injected_wh=injected, threshold=threshold
            )
            if share > 0:
                over.append(
                    {
                        "span": span,
                        "grant": with_grant,
                        "ratio": _share_text(Fraction(incentivised, injected)),
                        "threshold": str(threshold),
                    }
                )
        if over:
            findings.append(
                Finding(
                    community_id=community,
                    rule=AlertRule.EXCESS_SHARE,
                    object_kind="configuration",
                    object_id=configuration,
                    label=name,
                    figures={
                        "configuration": name,
                        "year": year,
                        "month": newest_month[configuration].isoformat(),
                        "over": over,
                    },
                    link=links.site_path("settlement:year", configuration, year),
                )
            )
    return findings


def _plants(communities: list[int]) -> list[dict[str, Any]]:
    rows = Plant.objects.filter(connection_point__configuration__community_id__in=communities)
    return [
        dict(row)
        for row in rows.values(
            "pk",
            "name",
            "power_kw",
            "planned_extension_kw",
            "entry_into_service_date",
            "regime",
            "capital_grant_pct",
            "owner_id",
            "connection_point__configuration__community_id",
            "connection_point__configuration__gse_request_date",
        )
    ]


def existing_share_near_limit(scope: Scope) -> list[Finding]:
    """Rule 7: a CER whose existing plants reach the warning share of its plant power.

    The share is the engine's (cercalc.eligibility.existing_share), the limit its
    `existing_share_max` (30 %, D.Lgs. 199/2021 art. 31 c. 2; REGULATION.md §3.6).
    """
    names = dict(
        Community.objects.filter(
            pk__in=scope.communities_with(AlertRule.EXISTING_SHARE), kind=CommunityKind.CER
        ).values_list("pk", "name")
    )
    communities = list(names)
    if not communities:
        return []
    parameters = default_parameters()
    limit = eligibility_limits(parameters, day=scope.today).existing_share_max
    existing: dict[int, Decimal] = defaultdict(Decimal)
    total: dict[int, Decimal] = defaultdict(Decimal)
    for plant in _plants(communities):
        community = plant["connection_point__configuration__community_id"]
        total[community] += plant["power_kw"]
        if is_existing_plant(
            plant["entry_into_service_date"], parameters=parameters, regime=plant["regime"]
        ):
            existing[community] += plant["power_kw"]
    findings = []
    for community in total:
        share = existing_share(
            existing_power_kw=existing[community], total_power_kw=total[community]
        )
        if share >= Fraction(scope.settings[community].existing_share_warning):
            findings.append(
                Finding(
                    community_id=community,
                    rule=AlertRule.EXISTING_SHARE,
                    object_kind="community",
                    object_id=community,
                    label=names[community],
                    figures={
                        "existing_kw": str(existing[community]),
                        "total_kw": str(total[community]),
                        "share": _share_text(share),
                        "limit": str(limit),
                    },
                    link=links.site_path("plants:plant_list", community),
                )
            )
    return findings


def power_limit_near(scope: Scope) -> list[Finding]:
    """Rule 8: a plant whose power plus its planned extension reaches 90 % of 1 MW.

    The limit is the engine's `tip_max_power_kw` (REGULATION.md §3.6, §9), on today's date.
    """
    communities = scope.communities_with(AlertRule.POWER_LIMIT)
    if not communities:
        return []
    limit = eligibility_limits(default_parameters(), day=scope.today).max_power_kw
    findings = []
    for plant in _plants(communities):
        extension = plant["planned_extension_kw"]
        if not extension:
            continue
        community = plant["connection_point__configuration__community_id"]
        after = plant["power_kw"] + extension
        if after >= limit * scope.settings[community].power_limit_warning:
            findings.append(
                Finding(
                    community_id=community,
                    rule=AlertRule.POWER_LIMIT,
                    object_kind="plant",
                    object_id=plant["pk"],
                    label=plant["name"],
                    figures={
                        "plant": plant["name"],
                        "power_kw": str(plant["power_kw"]),
                        "extension_kw": str(extension),
                        "after_kw": str(after),
                        "limit_kw": str(limit),
                    },
                    link=links.site_path("plants:edit", plant["pk"]),
                )
            )
    return findings


def leaving_producers(scope: Scope) -> list[Finding]:
    """Rule 9: a member whose membership ends on a future date and who owns a plant here."""
    communities = scope.communities_with(AlertRule.MEMBER_LEAVING)
    if not communities:
        return []
    owned: dict[tuple[int, int], list[str]] = defaultdict(list)
    for plant in _plants(communities):
        owned[(plant["connection_point__configuration__community_id"], plant["owner_id"])].append(
            plant["name"]
        )
    findings = []
    for membership in Membership.objects.filter(
        community_id__in=communities, valid_to__gt=scope.today
    ).order_by("valid_to"):
        plants = owned.get((membership.community_id, membership.member_id))
        if not plants:
            continue
        # The alert names the plants, not the person: no personal data stays in alerts
        # after a member is erased (the member list the link opens shows who it is).
        findings.append(
            Finding(
                community_id=membership.community_id,
                rule=AlertRule.MEMBER_LEAVING,
                object_kind="member",
                object_id=membership.member_id,
                label=", ".join(plants),
                figures={"leaves": str(membership.valid_to), "plants": plants},
                link=links.site_path("members:member_list", membership.community_id),
            )
        )
    return findings


def deadlines_due(scope: Scope) -> list[Finding]:
    """Rule 10: a deadline within the warning days (30), or passed with the step not done.

    * PNRR grant (REGULATION.md §8, DM 127/2025): for a plant with a capital grant that is
      not in service yet or has a planned extension, the end of works (pnrr_works_end_until_date)
      and the entry into service (`pnrr_entry_into_service_until_date`);
    * the GSE request: GSE_REQUEST_DAYS after a plant's entry into service, while the
      configuration has recorded no request (Configuration.gse_request_date) on or after it.
    """
    communities = scope.communities_with(AlertRule.DEADLINE)
    if not communities:
        return []
    today = scope.today
    # PNRR capital grant, DM 127/2025 (REGULATION.md §8 [S]): dated parameters.
    parameters = default_parameters()
    works_until = parameters.value_on("pnrr_works_end_until_date", today, [])
    service_until = parameters.value_on("pnrr_entry_into_service_until_date", today, [])
    findings = []
    for plant in _plants(communities):
        community = plant["connection_point__configuration__community_id"]
        warn = dt.timedelta(days=scope.settings[community].deadline_warning_days)
        entry = plant["entry_into_service_date"]
        due: list[tuple[str, dt.date]] = []
        if plant["capital_grant_pct"] > 0 and (entry > today or plant["planned_extension_kw"]):
            due += [("pnrr-works", works_until), ("pnrr-service", service_until)]
        request = plant["connection_point__configuration__gse_request_date"]
        if entry <= today and (request is None or request < entry):
            due.append(("gse-request", entry + dt.timedelta(days=GSE_REQUEST_DAYS)))
        for kind, date in due:
            if today < date - warn:
                continue
            findings.append(
                Finding(
                    community_id=community,
                    rule=AlertRule.DEADLINE,
                    object_kind=f"plant-{kind}",
                    object_id=plant["pk"],
                    label=plant["name"],
                    figures={"plant": plant["name"], "deadline": kind, "due": date.isoformat()},
                    link=links.site_path("plants:edit", plant["pk"]),
                )
            )
    return findings
