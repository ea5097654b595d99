"""Reference data shared by every community: Italian municipalities."""

from __future__ import annotations

from django.conf import settings
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


class TaskState(models.TextChoices):
    QUEUED = "QUEUED", _("Queued")
    RUNNING = "RUNNING", _("Running")
    DONE = "DONE", _("Done")
    FAILED = "FAILED", _("Failed")


class TaskRecord(models.Model):
    """The record of one background piece of work a person asked for (cer/core/background.py):
    an import, an export, a bundle of PDFs. Its state is what the person sees; its claim
    keeps a retried or duplicated task from doing the work twice (docs/tasks.md)."""

    name = models.CharField(_("task"), max_length=100)
    # Two requests with the same key while one is queued or running are one request.
    key = models.CharField(_("key"), max_length=255)
    arguments = models.JSONField(_("arguments"), default=dict)
    state = models.CharField(
        _("state"), max_length=7, choices=TaskState.choices, default=TaskState.QUEUED
    )
    task_id = models.CharField(_("task id"), max_length=64, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    requested_at = models.DateTimeField(_("requested at"))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("requested by"),
    )
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    result = models.JSONField(_("result"), default=dict, blank=True)
    # The file the task produced (default storage), offered to the person who asked.
    result_file = models.CharField(_("result file"), max_length=300, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        ordering = ["-requested_at", "-pk"]
        verbose_name = _("background task")
        verbose_name_plural = _("background tasks")
        constraints = [
            models.UniqueConstraint(
                fields=["key"],
                condition=models.Q(state__in=["QUEUED", "RUNNING"]),
                name="task_record_one_active_per_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} #{self.pk} ({self.state})"
