"""Reference data shared by every community: Italian municipalities."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Municipality(models.Model):
    """An Italian municipality from the ISTAT archive (reference data, CC BY 3.0 IT)."""

    istat_code = models.CharField(_("ISTAT code"), max_length=6, primary_key=True)
    name = models.CharField(_("name"), max_length=100)
    region = models.CharField(_("region"), max_length=50)
    province = models.CharField(_("province"), max_length=50)
    province_abbr = models.CharField(_("province abbreviation"), max_length=2)
    cadastral_code = models.CharField(_("cadastral code"), max_length=4, unique=True)
    # The 2011 census figure: a default the referente may correct (PNRR thresholds
    # refer to the official population at a date the decree sets).
    population = models.PositiveIntegerField(_("resident population"))

    class Meta:
        ordering = ["name"]
        verbose_name = _("municipality")
        verbose_name_plural = _("municipalities")

    def __str__(self) -> str:
        return f"{self.name} ({self.province_abbr})"


class PeriodicRun(models.Model):
    """When a periodic job (cer/core/periodic.py) runs next, and how its last run went."""

    name = models.CharField(_("job"), max_length=100, unique=True)
    next_run_at = models.DateTimeField(_("next run"))
    last_started_at = models.DateTimeField(_("last started"), null=True, blank=True)
    last_finished_at = models.DateTimeField(_("last finished"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("periodic job run")
        verbose_name_plural = _("periodic job runs")

    def __str__(self) -> str:
        return self.name


class Heartbeat(models.Model):
    """The last sign of life of a long-running process (cer/core/heartbeat.py), read by /healthz."""

    name = models.CharField(_("process"), max_length=100, unique=True)
    last_beat_at = models.DateTimeField(_("last beat"))
    host = models.CharField(_("host"), max_length=255, blank=True)
    pid = models.PositiveIntegerField(_("process id"), default=0)

    class Meta:
        ordering = ["name"]
        verbose_name = _("heartbeat")
        verbose_name_plural = _("heartbeats")

    def __str__(self) -> str:
        return f"{self.name} ({self.host}:{self.pid})"
