"""The dashboards' shared cache: hourly series of a community, valid for one readings version."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


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
