"""Hourly energy readings per connection point: the series everything else is computed from."""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.utils.translation import gettext_lazy as _


class ReadingSource(models.TextChoices):
    """Where a reading came from; codes are short because the table holds millions of rows."""

    DEVICE = "DEV", _("Device (MQTT or HTTP)")
    GRID_OPERATOR = "DSO", _("Grid operator")
    MANUAL = "MAN", _("Manual entry")
    ESTIMATED = "EST", _("Estimate")


class ReadingQuality(models.TextChoices):
    VALID = "OK", _("Valid")
    ESTIMATED = "EST", _("Estimated")
    SUSPECT = "SUS", _("Suspect")


class HourlyReadingQuerySet(models.QuerySet["HourlyReading"]):
    def between(self, start: dt.datetime, end: dt.datetime) -> HourlyReadingQuerySet:
        """Readings whose hour starts in [start, end) (aware datetimes)."""
        return self.filter(hour_start__gte=start, hour_start__lt=end)


class HourlyReading(models.Model):
    """Energy injected and withdrawn at one connection point in one UTC hour [Wh].

    One row per (point, hour start, source): several sources may coexist and a
    precedence rule chooses between them. The unique index on
    (connection_point, hour_start, source) also serves range scans per point.
    """

    connection_point = models.ForeignKey(
        "plants.ConnectionPoint",
        on_delete=models.PROTECT,
        related_name="hourly_readings",
        verbose_name=_("connection point"),
        db_index=False,  # the unique index below starts with this column
    )
    hour_start = models.DateTimeField(_("hour start (UTC)"))
    injected_wh = models.BigIntegerField(_("injected [Wh]"), default=0)
    withdrawn_wh = models.BigIntegerField(_("withdrawn [Wh]"), default=0)
    source = models.CharField(_("source"), max_length=3, choices=ReadingSource.choices)
    quality = models.CharField(
        _("quality"), max_length=3, choices=ReadingQuality.choices, default=ReadingQuality.VALID
    )

    objects = HourlyReadingQuerySet.as_manager()

    class Meta:
        verbose_name = _("hourly reading")
        verbose_name_plural = _("hourly readings")
        constraints = [
            models.UniqueConstraint(
                fields=["connection_point", "hour_start", "source"],
                name="hourly_reading_one_per_point_hour_source",
            ),
            models.CheckConstraint(
                condition=models.Q(injected_wh__gte=0) & models.Q(withdrawn_wh__gte=0),
                name="hourly_reading_energy_not_negative",
            ),
        ]
        indexes = [models.Index(fields=["hour_start"], name="hourly_reading_hour_idx")]

    def __str__(self) -> str:
        return f"{self.connection_point_id} {self.hour_start:%Y-%m-%d %H:%M}Z"
