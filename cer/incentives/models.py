"""Market prices and the dated regulatory parameters the settlement engine reads."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cer.communities.models import MarketZone


class PriceSource(models.TextChoices):
    SYNTHETIC = "SYNTHETIC", _("Synthetic (demo only)")
    GME = "GME", _("GME day-ahead market")
    CSV = "CSV", _("Imported CSV")


class ZonalPrice(models.Model):
    """The day-ahead zonal price of one market interval, at its native resolution."""

    market_zone = models.CharField(_("market zone"), max_length=4, choices=MarketZone.choices)
    interval_start = models.DateTimeField(_("interval start (UTC)"))
    interval_minutes = models.PositiveSmallIntegerField(
        _("interval length [min]"), help_text=_("60 before 1 Oct 2025, 15 after.")
    )
    price_eur_per_mwh = models.DecimalField(_("price [EUR/MWh]"), max_digits=12, decimal_places=6)
    source = models.CharField(_("source"), max_length=9, choices=PriceSource.choices)

    class Meta:
        ordering = ["market_zone", "interval_start"]
        verbose_name = _("zonal price")
        verbose_name_plural = _("zonal prices")
        constraints = [
            models.UniqueConstraint(
                fields=["market_zone", "interval_start", "interval_minutes"],
                name="zonal_price_one_per_interval",
            ),
            models.CheckConstraint(
                condition=Q(interval_minutes__in=[15, 30, 60]),
                name="zonal_price_interval_known",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.market_zone} {self.interval_start:%Y-%m-%d %H:%M}Z {self.price_eur_per_mwh}"


class Confidence(models.TextChoices):
    """How sure the project is of a figure (REGULATION.md §0)."""

    VERIFIED = "V", _("Verified in an official text")
    SECONDARY = "S", _("Agreed by secondary sources")
    THIRD_PARTY = "C", _("Quoted by third-party code")
    UNVERIFIED = "U", _("Unverified working reading")


class RegulatoryParameter(models.Model):
    """A regulatory number valid over a period: tariffs, caps, thresholds, fees.

    The engine ships the defaults; a row here overrides the engine's value for its period.
    """

    code = models.CharField(_("code"), max_length=80, help_text=_("e.g. valorisation_eur_per_mwh"))
    value = models.DecimalField(_("value"), max_digits=18, decimal_places=6)
    unit = models.CharField(_("unit"), max_length=30, blank=True)
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=300, blank=True)
    confidence = models.CharField(
        _("confidence"), max_length=1, choices=Confidence.choices, default=Confidence.UNVERIFIED
    )

    class Meta:
        ordering = ["code", "valid_from"]
        verbose_name = _("regulatory parameter")
        verbose_name_plural = _("regulatory parameters")
        constraints = [
            models.UniqueConstraint(fields=["code", "valid_from"], name="parameter_one_per_start"),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gt=models.F("valid_from")),
                name="parameter_period_not_empty",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} = {self.value} {self.unit} from {self.valid_from}"
