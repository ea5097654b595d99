"""Alerts a community's managers see, and each community's settings for the rules.

An alert is one condition about one object (a device, a point, a plant, a member, the
community itself) found by a rule (cer.alerts.rules). At most one alert per (community,
rule, object) is open or acknowledged at a time: a partial unique index enforces it, so
re-evaluating a condition that still holds only moves `last_seen_at` and its figures.
When the condition clears the alert closes; if it comes back, a new alert opens.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


class AlertRule(models.TextChoices):
    """The rules; codes are stored and never change (docs/alerts.md explains each)."""

    DEVICE_SILENT = "DEVICE_SILENT", _("Device silent")
    READINGS_MISSING = "READINGS_MISSING", _("Hourly readings missing")
    COUNTER_QUARANTINE = "COUNTER_QUARANTINE", _("Counter values in quarantine")
    LOW_PRODUCTION = "LOW_PRODUCTION", _("Production far below expectation")
    HIGH_CONSUMPTION = "HIGH_CONSUMPTION", _("Consumption far above usual")
    EXCESS_SHARE = "EXCESS_SHARE", _("Shared energy above the 55 %/45 % threshold")
    EXISTING_SHARE = "EXISTING_SHARE", _("Existing plants near 30 % of the power")
    POWER_LIMIT = "POWER_LIMIT", _("Plant extension near 1 MW")
    MEMBER_LEAVING = "MEMBER_LEAVING", _("A member leaving who holds a plant")
    DEADLINE = "DEADLINE", _("A deadline coming due")


class AlertState(models.TextChoices):
    OPEN = "OPEN", _("Open")
    ACKNOWLEDGED = "ACK", _("Acknowledged")
    CLOSED = "CLOSED", _("Closed")


# The states in which an alert still stands for its condition.
LIVE_STATES = (AlertState.OPEN, AlertState.ACKNOWLEDGED)


class Alert(models.Model):
    """One condition about one object, from when a rule first saw it until it cleared."""

    community = models.ForeignKey(
        "communities.Community",
        on_delete=models.CASCADE,
        related_name="alerts",
        verbose_name=_("community"),
    )
    rule = models.CharField(_("rule"), max_length=24, choices=AlertRule.choices)
    # The object the alert is about: its kind ("device", "point", "plant", "member",
    # "community", or "plant-deadline" style variants) and id, and a label kept for reading.
    object_kind = models.CharField(_("object kind"), max_length=30)
    object_id = models.BigIntegerField(_("object id"))
    object_label = models.CharField(_("about"), max_length=200)
    state = models.CharField(
        _("state"), max_length=6, choices=AlertState.choices, default=AlertState.OPEN
    )
    opened_at = models.DateTimeField(_("opened at"))
    last_seen_at = models.DateTimeField(_("last seen at"))
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("acknowledged by"),
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    # The rule's figures as plain JSON (numbers as strings, Wh as integers, dates ISO):
    # the explanation is written from them in the reader's language (cer.alerts.explain).
    figures = models.JSONField(_("figures"), default=dict)
    link = models.CharField(_("link"), max_length=300, blank=True)

    class Meta:
        ordering = ["-opened_at", "-pk"]
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "rule", "object_kind", "object_id"],
                condition=models.Q(state__in=["OPEN", "ACK"]),
                name="alert_one_live_per_condition",
            )
        ]
        indexes = [models.Index(fields=["community", "state"], name="alert_community_state")]

    def __str__(self) -> str:
        return f"{self.get_rule_display()}: {self.object_label}"

    @property
    def is_live(self) -> bool:
        return self.state in LIVE_STATES


def _all_rules() -> list[str]:
    return [rule.value for rule in AlertRule]


class AlertSettings(models.Model):
    """A community's thresholds for the rules, and which rules it watches."""

    community = models.OneToOneField(
        "communities.Community",
        on_delete=models.CASCADE,
        related_name="alert_settings",
        verbose_name=_("community"),
    )
    silence_hours = models.PositiveIntegerField(
        _("silence before an alert [hours]"), default=24, validators=[MinValueValidator(1)]
    )
    production_tolerance = models.DecimalField(
        _("low production: share of the other plants' median"),
        max_digits=4,
        decimal_places=2,
        default=Decimal("0.50"),
    )
    consumption_factor = models.DecimalField(
        _("high consumption: times the usual day"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("2.00"),
    )
    consumption_floor_kwh = models.DecimalField(
        _("high consumption: at least [kWh]"), max_digits=8, decimal_places=3, default=Decimal(5)
    )
    existing_share_warning = models.DecimalField(
        _("existing plants: warn from this share"),
        max_digits=4,
        decimal_places=2,
        default=Decimal("0.25"),
    )
    power_limit_warning = models.DecimalField(
        _("1 MW limit: warn from this share"),
        max_digits=4,
        decimal_places=2,
        default=Decimal("0.90"),
    )
    deadline_warning_days = models.PositiveIntegerField(
        _("deadlines: warn days before"), default=30
    )
    enabled_rules = models.JSONField(_("rules watched"), default=_all_rules)

    class Meta:
        verbose_name = _("alert settings")
        verbose_name_plural = _("alert settings")

    def __str__(self) -> str:
        return str(self.community)
