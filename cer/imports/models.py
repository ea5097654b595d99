"""Imports of grid-operator load curves and market price files, with their rejected rows."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ImportKind(models.TextChoices):
    CURVES_EDISTRIBUZIONE = "EDIS", _("Load curves: e-distribuzione CSV")
    CURVES_SII = "SII", _("Load curves: SII measurement flow (XML)")
    CURVES_MAPPED = "MAPPED", _("Load curves: CSV with a column mapping")
    PRICES_GME = "GME", _("Zonal prices: GME MGP file")
    PRICES_CSV = "PRICECSV", _("Zonal prices: simple CSV")


class ImportStatus(models.TextChoices):
    RUNNING = "RUNNING", _("Running")
    DONE = "DONE", _("Done")
    REFUSED = "REFUSED", _("Refused (file not readable)")
    FAILED = "FAILED", _("Failed")


class ImportBatch(models.Model):
    """One file imported once: what it was, who sent it, and what became of its rows.

    Rows are the file's data lines; hours (or price intervals) are what was written.
    Importing the same file again makes a new batch that inserts and supersedes nothing.
    """

    kind = models.CharField(_("kind"), max_length=8, choices=ImportKind.choices)
    file_name = models.CharField(_("file name"), max_length=255)
    sha256 = models.CharField(_("SHA-256 of the file"), max_length=64, db_index=True)
    size_bytes = models.BigIntegerField(_("size [bytes]"), default=0)
    community = models.ForeignKey(
        "communities.Community",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="import_batches",
        verbose_name=_("community"),
    )
    configuration = models.ForeignKey(
        "communities.Configuration",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="import_batches",
        verbose_name=_("configuration"),
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=8, choices=ImportStatus.choices, default=ImportStatus.RUNNING
    )
    layout = models.CharField(_("layout recognised"), max_length=120, blank=True)
    message = models.TextField(_("message"), blank=True)
    rows_accepted = models.PositiveIntegerField(_("rows accepted"), default=0)
    rows_rejected = models.PositiveIntegerField(_("rows rejected"), default=0)
    rows_ignored = models.PositiveIntegerField(
        _("rows ignored"), default=0, help_text=_("e.g. reactive-energy rows of a curve export")
    )
    intervals_inserted = models.PositiveIntegerField(_("hours or intervals inserted"), default=0)
    intervals_superseded = models.PositiveIntegerField(
        _("hours or intervals superseded"),
        default=0,
        help_text=_("Existing values replaced by different ones from this file."),
    )
    intervals_unchanged = models.PositiveIntegerField(_("hours or intervals unchanged"), default=0)
    intervals_rejected = models.PositiveIntegerField(
        _("hours rejected"), default=0, help_text=_("Hours with missing or duplicate intervals.")
    )
    synthetic_replaced = models.PositiveIntegerField(_("synthetic prices replaced"), default=0)

    class Meta:
        ordering = ["-started_at", "-pk"]
        verbose_name = _("import batch")
        verbose_name_plural = _("import batches")

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_status_display()})"


class RejectedRow(models.Model):
    """A line of an imported file that was not used, and why."""

    batch = models.ForeignKey(
        ImportBatch,
        on_delete=models.CASCADE,
        related_name="rejected_rows",
        verbose_name=_("import batch"),
    )
    line_number = models.PositiveIntegerField(_("line"))
    field = models.CharField(_("field"), max_length=80, blank=True)
    reason = models.CharField(_("reason"), max_length=300)
    raw_line = models.TextField(_("raw line"), blank=True)

    class Meta:
        ordering = ["batch", "line_number", "pk"]
        verbose_name = _("rejected row")
        verbose_name_plural = _("rejected rows")

    def __str__(self) -> str:
        return f"line {self.line_number}: {self.reason}"
