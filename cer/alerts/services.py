"""Evaluate the rules, keep one alert per condition, and acknowledge alerts.

`evaluate(now)` is the one entry point (the periodic job, the management command and the
tests call it): every rule runs once over all the evaluated communities; a condition
without a live alert opens one (and its community's managers are told, once, after
commit); a condition that still holds moves its alert's `last_seen_at` and figures; a live
alert whose condition is gone closes, acknowledged or not.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from cer.alerts import explain as explanations
from cer.alerts import rules_limits, rules_production, rules_readings
from cer.alerts.findings import Finding, Scope
from cer.alerts.models import LIVE_STATES, Alert, AlertRule, AlertSettings, AlertState
from cer.alerts.notices import ALERT_OPENED
from cer.audit.services import record
from cer.communities.models import Community
from cer.notifications.hooks import managers_of
from cer.notifications.services import notify

logger = logging.getLogger(__name__)

RULES: dict[str, Callable[[Scope], list[Finding]]] = {
    AlertRule.DEVICE_SILENT: rules_readings.silent_devices,
    AlertRule.READINGS_MISSING: rules_readings.missing_hours,
    AlertRule.COUNTER_QUARANTINE: rules_readings.quarantined_counters,
    AlertRule.LOW_PRODUCTION: rules_production.low_production,
    AlertRule.HIGH_CONSUMPTION: rules_readings.high_consumption,
    AlertRule.EXCESS_SHARE: rules_limits.excess_share_trend,
    AlertRule.EXISTING_SHARE: rules_limits.existing_share_near_limit,
    AlertRule.POWER_LIMIT: rules_limits.power_limit_near,
    AlertRule.MEMBER_LEAVING: rules_limits.leaving_producers,
    AlertRule.DEADLINE: rules_limits.deadlines_due,
}


class AlertNotLive(Exception):
    """Raised when acknowledging an alert that is already closed or acknowledged."""


@dataclass(frozen=True)
class Outcome:
    """What one evaluation did: alerts opened, kept (seen again) and closed."""

    opened: int
    kept: int
    closed: int

    def __str__(self) -> str:
        return f"opened {self.opened}, kept {self.kept}, closed {self.closed}"


def settings_of(community_ids: Iterable[int]) -> dict[int, AlertSettings]:
    """Each community's alert settings; the defaults (unsaved) where it has none."""
    ids = list(community_ids)
    stored = {s.community_id: s for s in AlertSettings.objects.filter(community_id__in=ids)}
    return {pk: stored.get(pk) or AlertSettings(community_id=pk) for pk in ids}


def evaluate(now: dt.datetime, community_ids: Iterable[int] | None = None) -> Outcome:
    """Run every rule over the communities (all when None) at `now`; return the counts.

    Rules a community switched off find nothing there, so its alerts of those rules close.
    """
    ids = (
        list(Community.objects.values_list("pk", flat=True))
        if community_ids is None
        else list(community_ids)
    )
    scope = Scope(now=now, settings=settings_of(ids))
    findings: dict[tuple[int, str, str, int], Finding] = {}
    for rule in RULES.values():
        for finding in rule(scope):
            findings[finding.key] = finding
    with transaction.atomic():
        live = {
            (a.community_id, a.rule, a.object_kind, a.object_id): a
            for a in Alert.objects.select_for_update().filter(
                community_id__in=ids, state__in=LIVE_STATES
            )
        }
        kept = [alert for key, alert in live.items() if key in findings]
        for alert in kept:
            finding = findings[(alert.community_id, alert.rule, alert.object_kind, alert.object_id)]
            alert.last_seen_at = now
            alert.figures = finding.figures
            alert.object_label = finding.label[:200]
            alert.link = finding.link
        Alert.objects.bulk_update(kept, ["last_seen_at", "figures", "object_label", "link"])
        gone = [alert.pk for key, alert in live.items() if key not in findings]
        Alert.objects.filter(pk__in=gone).update(state=AlertState.CLOSED, closed_at=now)
        opened = Alert.objects.bulk_create(
            [
                Alert(
                    community_id=f.community_id,
                    rule=f.rule,
                    object_kind=f.object_kind,
                    object_id=f.object_id,
                    object_label=f.label[:200],
                    figures=f.figures,
                    link=f.link,
                    opened_at=now,
                    last_seen_at=now,
                )
                for key, f in findings.items()
                if key not in live
            ]
        )
        if opened:
            ids_opened = [a.pk for a in opened] if opened[0].pk else None
            transaction.on_commit(lambda: _tell_managers(ids_opened, opened, now))
    outcome = Outcome(opened=len(opened), kept=len(kept), closed=len(gone))
    if opened or gone:
        logger.info("alerts: %s", outcome)
    return outcome


def _tell_managers(ids: list[int] | None, opened: list[Alert], now: dt.datetime) -> None:
    """Notify each new alert's community managers, once per alert (dedupe on its id)."""
    if ids is None:  # a database that does not return ids from a bulk insert
        keys = [(a.community_id, a.rule, a.object_kind, a.object_id) for a in opened]
        found = Alert.objects.filter(opened_at=now, state=AlertState.OPEN)
        by_key = {(a.community_id, a.rule, a.object_kind, a.object_id): a for a in found}
        opened = [by_key[key] for key in keys if key in by_key]
    names = dict(
        Community.objects.filter(pk__in={a.community_id for a in opened}).values_list("pk", "name")
    )
    managers: dict[int, list[Any]] = {}
    for alert in opened:
        if alert.community_id not in managers:
            managers[alert.community_id] = managers_of(alert.community_id, now)
        community = Community(pk=alert.community_id, name=names.get(alert.community_id, ""))
        notify(
            managers[alert.community_id],
            ALERT_OPENED.code,
            {
                "community": community.name,
                "rule": AlertRule(alert.rule).label,
                "explanation": _Explanation(alert.rule, alert.figures),
            },
            link=alert.link or "",
            now=now,
            community=community,
            dedupe_key=f"alert:{alert.pk}",
        )


@dataclass(frozen=True)
class _Explanation:
    """An alert's explanation, written when the notice is (in the recipient's language)."""

    rule: str
    figures: dict[str, Any]

    def __str__(self) -> str:
        return explanations.explain(self.rule, self.figures)


def acknowledge(*, alert: Alert, actor: Any, now: dt.datetime) -> Alert:
    """Mark a live alert as seen by `actor` (audited); it still closes when its condition clears.

    Raises AlertNotLive when the alert is closed or already acknowledged.
    """
    with transaction.atomic():
        updated = Alert.objects.filter(pk=alert.pk, state=AlertState.OPEN).update(
            state=AlertState.ACKNOWLEDGED, acknowledged_at=now, acknowledged_by=actor
        )
        if not updated:
            raise AlertNotLive
        record(
            actor=actor,
            code="alerts.alert.acknowledged",
            now=now,
            target=alert,
            community=alert.community,
            changes={"rule": alert.rule, "about": alert.object_label},
        )
    alert.refresh_from_db()
    return alert
