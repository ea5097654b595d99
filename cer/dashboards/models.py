"""A version number per community that invalidates the dashboards' cached series."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ReadingsVersion(models.Model):
    """Bumped whenever readings of the community change; part of every cache key."""

    community = models.OneToOneField(
        "communities.Community",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("community"),
    )
    version = models.PositiveBigIntegerField(_("version"), default=0)
    bumped_at = models.DateTimeField(_("bumped at"), null=True, blank=True)

    class Meta:
        verbose_name = _("readings version")
        verbose_name_plural = _("readings versions")

    def __str__(self) -> str:
        return f"{self.community_id} v{self.version}"


class SeriesSnapshot(models.Model):
    """A community's hourly sums over one period, shared by every web worker.

    The payload is an uncompressed NumPy .npz archive (no pickles); a snapshot is valid
    for one readings version and for a limited time (cer.dashboards.services).
    """

    community = models.ForeignKey(
        "communities.Community",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("community"),
    )
    period_key = models.CharField(_("period"), max_length=7)
    version = models.PositiveBigIntegerField(_("readings version"))
    computed_at = models.DateTimeField(_("computed at"))
    payload = models.BinaryField(_("series"))

    class Meta:
        verbose_name = _("series snapshot")
        verbose_name_plural = _("series snapshots")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "period_key", "version"], name="series_snapshot_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.community_id} {self.period_key} v{self.version}"
