"""Monthly settlement runs of a configuration, their stored results, jobs and GSE figures.

A run is one version of the shadow settlement of a Europe/Rome calendar month: the inputs it
used (a hash of the readings, the parameter rows, the membership), the hourly results (one row
per hour), the plants' and the members' figures. A finalised run is immutable; a correction
is a new version that refers to the one it replaces.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cer.core import deflate


def amount_field(verbose_name: Any, **options: Any) -> models.DecimalField:
    """A decimal field with 12 digits, 2 decimals."""
    return models.DecimalField(verbose_name, max_digits=12, decimal_places=2, **options)


class RunIsFinal(Exception):
    """A finalised run cannot be changed or deleted."""


# The first byte of a blob packed as byte planes of int32 (pack_rows). A zlib stream always
# starts with 0x78, so blobs packed before this format (int64, compressed as they are) are
# still read.
_PLANES_I4 = b"\x01"
_I4 = np.iinfo(np.int32)


def pack_series(*series: np.ndarray) -> bytes:
    """Pack int64 hourly series of equal length into compressed bytes (rows in order)."""
    return pack_rows(np.stack(series))


def pack_rows(rows: np.ndarray) -> bytes:
    """Pack a rows x hours int64 array into compressed bytes (unpack_series reads them).

    Values that fit in int32 (every energy in Wh of a month, every rate) are stored as four
    byte planes (all lowest bytes, then all second bytes...): the high planes are nearly all
    zero, so zlib packs them several times faster and smaller than the raw int64 bytes.
    """
    array = np.ascontiguousarray(rows, dtype="<i8")
    if array.size and (array.min() < _I4.min or array.max() > _I4.max):
        return deflate.compress(array.tobytes())
    return _PLANES_I4 + deflate.compress(byte_planes(array))


def pack_each(rows: np.ndarray) -> list[bytes]:
    """pack_rows of each item of a items x rows x hours array, the byte planes made at once.

    A month stores a thousand members' series: one NumPy transposition for all of them
    instead of one per member. The bytes are the same as pack_rows gives.
    """
    return pack_each_later(rows)()


def pack_each_later(rows: np.ndarray) -> Callable[[], list[bytes]]:
    """Start pack_each on threads; the call returned waits for the blobs and returns them.

    The compression (most of a month's storing time) runs on every core, outside the
    interpreter lock (cer.core.deflate), while the caller goes on storing the month's other
    rows.
    """
    if not rows.size or rows.min() < _I4.min or rows.max() > _I4.max:
        blobs = [pack_rows(item) for item in rows]
        return lambda: blobs
    items = rows.shape[0]
    values = np.ascontiguousarray(rows, dtype="<i4").view(np.uint8).reshape(items, -1, 4)
    planes = np.ascontiguousarray(values.transpose(0, 2, 1)).reshape(items, -1)
    workers = min(_COMPRESS_THREADS, max(1, items // 100))
    # A pool of its own, not a shared one: a process forked later (a worker) would inherit
    # a shared pool's threads as dead ones. shutdown(wait=False) lets the parts finish.
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="pack-series")
    parts = [pool.submit(_compress_planes, part) for part in np.array_split(planes, workers)]
    pool.shutdown(wait=False)
    return lambda: [blob for part in parts for blob in part.result()]


# Threads compressing a month's series: the machine's cores, at most four.
_COMPRESS_THREADS = min(4, os.cpu_count() or 1)


def _compress_planes(planes: np.ndarray) -> list[bytes]:
    return [_PLANES_I4 + deflate.compress(item.tobytes()) for item in planes]


def byte_planes(array: np.ndarray) -> bytes:
    """Return the int32 values of `array` as byte planes: every value's byte 0, then 1, 2, 3."""
    return np.ascontiguousarray(array, dtype="<i4").view(np.uint8).reshape(-1, 4).T.tobytes()


def unpack_series(blob: bytes | memoryview, rows: int) -> np.ndarray:
    """Return the int64 series packed by pack_series, as a rows x hours array."""
    data = bytes(blob)
    if data[:1] == _PLANES_I4:
        planes = np.frombuffer(deflate.decompress(data[1:]), dtype=np.uint8).reshape(4, -1)
        raw = np.ascontiguousarray(planes.T).view("<i4").ravel()
    else:
        raw = np.frombuffer(deflate.decompress(data), dtype="<i8")
    return raw.reshape(rows, -1).astype(np.int64)


class RunStatus(models.TextChoices):
    DRAFT = "DRAFT", _("Computed, not final")
    FINAL = "FINAL", _("Final")


class SettlementRun(models.Model):
    """One version of the shadow settlement of a configuration for one month."""

    configuration = models.ForeignKey(
        "communities.Configuration",
        on_delete=models.PROTECT,
        related_name="settlement_runs",
        verbose_name=_("configuration"),
    )
    month = models.DateField(_("month"), help_text=_("The first day of the month."))
    version = models.PositiveIntegerField(_("version"))
    status = models.CharField(
        _("status"), max_length=5, choices=RunStatus.choices, default=RunStatus.DRAFT
    )
    provisional = models.BooleanField(
        _("provisional"), default=False, help_text=_("Some readings or prices were missing.")
    )
    previous = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("replaces version"),
    )
    inputs_hash = models.CharField(_("inputs hash"), max_length=64)
    readings_hash = models.CharField(_("readings hash"), max_length=64)
    # {"overrides": [{"id", "code", "value", "valid_from", "valid_to"}], "engine": "defaults"}
    parameter_versions = models.JSONField(_("parameter versions"), default=dict)
    # [{"member_id", "name", "category", "kind", "valid_from", "valid_to"}]
    membership_snapshot = models.JSONField(_("membership at the time"), default=list)
    # {pod: [injected_wh, withdrawn_wh]}: lets the next version show what changed.
    point_totals = models.JSONField(_("totals per point"), default=dict)
    # [{"pod", "count", "ranges": [[start_iso, end_iso], ...]}]
    gaps = models.JSONField(_("missing readings"), default=list, blank=True)
    unpriced_hours = models.JSONField(_("hours without a zonal price"), default=list, blank=True)
    warnings = models.JSONField(_("engine warnings"), default=list, blank=True)
    changes = models.JSONField(_("changes from the previous version"), default=dict, blank=True)
    hours = models.PositiveIntegerField(_("hours"))
    injected_wh = models.BigIntegerField(_("injected [Wh]"))
    withdrawn_wh = models.BigIntegerField(_("withdrawn [Wh]"))
    shared_wh = models.BigIntegerField(_("shared [Wh]"))
    incentive_eur = amount_field(_("incentive (TIP) [EUR]"))
    valorisation_eur = amount_field(_("valorisation [EUR]"))
    excess_eur = amount_field(_("excess above 55 %/45 % [EUR]"))
    gse_fees_eur = amount_field(_("GSE fees, monthly provision [EUR]"))
    created_at = models.DateTimeField(_("created at"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    finalised_at = models.DateTimeField(_("finalised at"), null=True, blank=True)
    finalised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("finalised by"),
    )
    # A provisional run made final anyway: why, when and by whom (finalise_run).
    override_reason = models.TextField(_("reason for finalising with missing data"), blank=True)
    override_at = models.DateTimeField(_("overridden at"), null=True, blank=True)
    override_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("overridden by"),
    )

    class Meta:
        ordering = ["configuration", "-month", "-version"]
        verbose_name = _("settlement run")
        verbose_name_plural = _("settlement runs")
        constraints = [
            models.UniqueConstraint(
                fields=["configuration", "month", "version"], name="settlement_run_one_version"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.configuration} {self.month:%Y-%m} v{self.version}"

    @property
    def is_final(self) -> bool:
        return self.status == RunStatus.FINAL

    @property
    def amounts_provisional(self) -> bool:
        """Whether the statements of this run are provisional: true until the run is final.

        A provisional run (missing data) becomes final only with a recorded override, so a
        final run's amounts are never provisional, and a run not yet final may still change.
        """
        return not self.is_final

    def _stored_status(self) -> str | None:
        if self.pk is None:
            return None
        return type(self).objects.filter(pk=self.pk).values_list("status", flat=True).first()

    def save(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if self._stored_status() == RunStatus.FINAL:
            raise RunIsFinal(f"run {self.pk} is final")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if self._stored_status() == RunStatus.FINAL:
            raise RunIsFinal(f"run {self.pk} is final")
        return super().delete(*args, **kwargs)


class SettlementHour(models.Model):
    """The configuration's energies and price in one hour of a run (one row per hour)."""

    # No index of its own: settlement_hour_once (run, hour_start) serves lookups by run.
    run = models.ForeignKey(
        SettlementRun,
        on_delete=models.CASCADE,
        related_name="hour_rows",
        verbose_name=_("run"),
        db_index=False,
    )
    hour_start = models.DateTimeField(_("hour start (UTC)"))
    injected_wh = models.BigIntegerField(_("injected [Wh]"))
    withdrawn_wh = models.BigIntegerField(_("withdrawn [Wh]"))
    shared_wh = models.BigIntegerField(_("shared [Wh]"))
    price_eur_per_mwh = models.DecimalField(
        _("zonal price [EUR/MWh]"), max_digits=12, decimal_places=4, null=True
    )

    class Meta:
        ordering = ["run", "hour_start"]
        verbose_name = _("settlement hour")
        verbose_name_plural = _("settlement hours")
        constraints = [
            models.UniqueConstraint(fields=["run", "hour_start"], name="settlement_hour_once"),
        ]


class RunPlant(models.Model):
    """A plant's settled figures in a run, with its hourly shared energy (compressed)."""

    run = models.ForeignKey(
        SettlementRun, on_delete=models.CASCADE, related_name="plant_rows", verbose_name=_("run")
    )
    plant = models.ForeignKey(
        "plants.Plant", on_delete=models.PROTECT, related_name="+", verbose_name=_("plant")
    )
    owner = models.ForeignKey(
        "members.Member", on_delete=models.PROTECT, related_name="+", verbose_name=_("owner")
    )
    injected_wh = models.BigIntegerField(_("injected [Wh]"))
    shared_wh = models.BigIntegerField(_("shared [Wh]"))
    incentivised_wh = models.BigIntegerField(_("incentivised [Wh]"))
    incentive_eur = amount_field(_("incentive [EUR]"))
    gse_fee_eur_per_year = amount_field(_("GSE fee [EUR/year]"))
    # Two rows: shared energy attributed per hour [Wh], tariff applied [cent/MWh].
    series = models.BinaryField(_("hourly series"))

    class Meta:
        ordering = ["run", "plant"]
        verbose_name = _("plant in a run")
        verbose_name_plural = _("plants in a run")


class RunMember(models.Model):
    """A member's energies in a run, with the hours of membership and hourly series."""

    # No index of its own: run_member_once (run, member) serves lookups by run.
    run = models.ForeignKey(
        SettlementRun,
        on_delete=models.CASCADE,
        related_name="member_rows",
        verbose_name=_("run"),
        db_index=False,
    )
    member = models.ForeignKey(
        "members.Member", on_delete=models.PROTECT, related_name="+", verbose_name=_("member")
    )
    category = models.CharField(_("category"), max_length=20)
    active_hours = models.PositiveIntegerField(_("hours of membership"))
    injected_wh = models.BigIntegerField(_("injected [Wh]"))
    withdrawn_wh = models.BigIntegerField(_("withdrawn [Wh]"))
    producer_shared_wh = models.BigIntegerField(_("shared energy of own plants [Wh]"))
    consumer_shared_wh = models.BigIntegerField(_("part of shared energy as consumer [Wh]"))
    # Four rows per hour [Wh]: injected, withdrawn, consumer part, producer part.
    series = models.BinaryField(_("hourly series"))

    class Meta:
        ordering = ["run", "member"]
        verbose_name = _("member in a run")
        verbose_name_plural = _("members in a run")
        constraints = [
            models.UniqueConstraint(fields=["run", "member"], name="run_member_once"),
        ]

    def hourly(self) -> np.ndarray:
        return unpack_series(self.series, 4)


class JobStatus(models.TextChoices):
    QUEUED = "QUEUED", _("Queued")
    RUNNING = "RUNNING", _("Running")
    DONE = "DONE", _("Done")
    FAILED = "FAILED", _("Failed")


ACTIVE_JOB_STATUSES = (JobStatus.QUEUED, JobStatus.RUNNING)


class SettlementJob(models.Model):
    """A request to settle a month, run in the background; two cannot be active at once."""

    configuration = models.ForeignKey(
        "communities.Configuration",
        on_delete=models.CASCADE,
        related_name="settlement_jobs",
        verbose_name=_("configuration"),
    )
    month = models.DateField(_("month"))
    status = models.CharField(
        _("status"), max_length=7, choices=JobStatus.choices, default=JobStatus.QUEUED
    )
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
    run = models.ForeignKey(
        SettlementRun,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("run"),
    )
    created_new_version = models.BooleanField(_("created a new version"), default=False)
    error = models.TextField(_("error"), blank=True)
    # The record of the background task (docs/tasks.md): the Celery task id, who holds the
    # job now ("host:pid") and until when (renewed while it runs; a lapsed lease marks a
    # dead worker, whose job the next delivery takes over), and how many claims it took.
    task_id = models.CharField(_("task id"), max_length=64, blank=True)
    claimed_by = models.CharField(_("claimed by"), max_length=200, blank=True)
    lease_until = models.DateTimeField(_("lease until"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)

    class Meta:
        ordering = ["-requested_at", "-pk"]
        verbose_name = _("settlement job")
        verbose_name_plural = _("settlement jobs")
        constraints = [
            # The database refuses a second active job for the same month (issue: no overlap).
            models.UniqueConstraint(
                fields=["configuration", "month"],
                condition=Q(status__in=["QUEUED", "RUNNING"]),
                name="settlement_job_one_active_per_month",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.configuration} {self.month:%Y-%m} ({self.status})"


class GseAmountKind(models.TextChoices):
    TIP = "TIP", _("Incentive tariff (TIP)")
    VALORISATION = "VALORISATION", _("ARERA valorisation")
    FEES = "FEES", _("GSE fees")
    CONGUAGLIO = "CONGUAGLIO", _("Balancing payment (conguaglio)")
    ADVANCE = "ADVANCE", _("Advance payment (acconto)")


class GseAmount(models.Model):
    """An amount GSE paid or certified for a configuration and a month (imported CSV).

    A ledger row: never summed twice. A GSE reference is stored once per configuration,
    month and kind; a row without a reference keeps `reference` blank, and one that repeats
    the month, kind and amount of a row from another file is stored only when a person
    confirmed it is a second payment (`second_payment`). FEES are stored as the positive
    charge; only certified rows count towards what members receive.
    """

    configuration = models.ForeignKey(
        "communities.Configuration",
        on_delete=models.PROTECT,
        related_name="gse_amounts",
        verbose_name=_("configuration"),
    )
    month = models.DateField(_("month"))
    kind = models.CharField(_("type"), max_length=12, choices=GseAmountKind.choices)
    amount_eur = amount_field(_("amount [EUR]"))
    certified = models.BooleanField(_("certified by GSE"), default=True)
    reference = models.CharField(_("GSE reference"), max_length=100, blank=True)
    source_name = models.CharField(_("file"), max_length=200, blank=True)
    second_payment = models.BooleanField(
        _("confirmed as a second payment"),
        default=False,
        help_text=_("Same month, type and amount as a row of another file, kept on purpose."),
    )
    imported_at = models.DateTimeField(_("imported at"))
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("imported by"),
    )

    class Meta:
        ordering = ["configuration", "month", "kind"]
        verbose_name = _("GSE amount")
        verbose_name_plural = _("GSE amounts")
        constraints = [
            models.UniqueConstraint(
                fields=["configuration", "month", "kind", "reference"],
                condition=~Q(reference=""),
                name="gse_amount_once_per_reference",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.configuration} {self.month:%Y-%m} {self.kind} {self.amount_eur}"
