"""Connection points (POD) and the production plants behind them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cer.communities.substation_codes import normalise_substation_code, validate_substation_code
from cer.communities.zones import region_of_municipality
from cer.core import formatting
from cer.core.choices import Region
from cer.core.validators import (
    normalise_code,
    validate_not_in_future,
    validate_not_negative,
    validate_percentage,
    validate_pod,
)
from cercalc.eligibility import is_existing_plant
from cercalc.params import default_parameters


def power_field(verbose_name: Any, **options: Any) -> models.DecimalField:
    """A non-negative quantity in kW or kWh with three decimals (watt precision)."""
    return models.DecimalField(
        verbose_name,
        max_digits=10,
        decimal_places=3,
        validators=[validate_not_negative],
        **options,
    )


class VoltageLevel(models.TextChoices):
    LV = "LV", _("Low voltage")
    MV = "MV", _("Medium voltage")
    HV = "HV", _("High voltage")


class ConnectionPoint(models.Model):
    """A point of delivery on the grid (POD): where energy is metered in and out."""

    pod = models.CharField(_("POD code"), max_length=15, unique=True, validators=[validate_pod])
    configuration = models.ForeignKey(
        "communities.Configuration",
        on_delete=models.PROTECT,
        related_name="connection_points",
        verbose_name=_("configuration"),
    )
    holder = models.ForeignKey(
        "members.Member",
        on_delete=models.PROTECT,
        related_name="connection_points",
        verbose_name=_("holder"),
    )
    voltage_level = models.CharField(
        _("voltage level"), max_length=2, choices=VoltageLevel.choices, default=VoltageLevel.LV
    )
    contracted_power_kw = power_field(_("contracted power [kW]"))
    has_withdrawal = models.BooleanField(_("withdraws energy"), default=True)
    has_injection = models.BooleanField(_("injects energy"), default=False)
    address = models.CharField(_("address"), max_length=200, blank=True)

    class Meta:
        ordering = ["pod"]
        verbose_name = _("connection point")
        verbose_name_plural = _("connection points")

    def __str__(self) -> str:
        return self.pod

    def clean(self) -> None:
        self.pod = normalise_code(self.pod)
        if not (self.has_withdrawal or self.has_injection):
            raise ValidationError(
                {"has_withdrawal": _("A connection point withdraws, injects or both.")}
            )


class EnergySource(models.TextChoices):
    PV = "PV", _("Photovoltaic")
    WIND = "WIND", _("Wind")
    HYDRO = "HYDRO", _("Hydro")
    BIOGAS = "BIOGAS", _("Biogas")
    BIOMASS = "BIOMASS", _("Biomass")
    OTHER = "OTHER", _("Other renewable")


class IncentiveRegime(models.TextChoices):
    DM414 = "DM414", _("DM 414/2023 (TIP by zonal price)")
    DM2020 = "DM2020", _("DM 16/9/2020 (flat tariff, transitional)")


class EligibilityStatus(models.TextChoices):
    """The outcome of the automatic checks (cer.plants.eligibility); codes never change."""

    UNCHECKED = "UNCHECKED", _("Not checked yet")
    ELIGIBLE = "ELIGIBLE", _("Eligible")
    TO_CHECK = "TO_CHECK", _("To check")
    NOT_ELIGIBLE = "NOT_ELIGIBLE", _("Not eligible")


class Plant(models.Model):
    """A renewable production plant behind a connection point."""

    connection_point = models.ForeignKey(
        ConnectionPoint,
        on_delete=models.PROTECT,
        related_name="plants",
        verbose_name=_("connection point"),
    )
    owner = models.ForeignKey(
        "members.Member",
        on_delete=models.PROTECT,
        related_name="plants",
        verbose_name=_("owner"),
    )
    name = models.CharField(_("name"), max_length=200)
    source = models.CharField(_("source"), max_length=8, choices=EnergySource.choices)
    power_kw = power_field(_("power [kW]"), help_text=_("Sum of the sections of the same source."))
    entry_into_service_date = models.DateField(_("entry into service"))
    regime = models.CharField(
        _("incentive regime"),
        max_length=6,
        choices=IncentiveRegime.choices,
        default=IncentiveRegime.DM414,
    )
    storage_power_kw = power_field(_("storage power [kW]"), default=Decimal(0))
    storage_capacity_kwh = power_field(_("storage capacity [kWh]"), default=Decimal(0))
    cadastral_sheet = models.CharField(_("cadastral sheet (foglio)"), max_length=10, blank=True)
    cadastral_parcel = models.CharField(
        _("cadastral parcel (particella)"), max_length=10, blank=True
    )
    cadastral_subunit = models.CharField(
        _("cadastral subunit (subalterno)"), max_length=10, blank=True
    )
    censimp_code = models.CharField(_("CENSIMP / GAUDÌ code"), max_length=30, blank=True)
    superbonus_kw = power_field(_("Superbonus share [kW]"), default=Decimal(0))
    obligation_kw = power_field(_("RES-obligation share [kW]"), default=Decimal(0))
    capital_grant_pct = models.DecimalField(
        _("capital grant [% of investment]"),
        max_digits=5,
        decimal_places=2,
        default=Decimal(0),
        validators=[validate_percentage],
    )
    investment_eur = models.DecimalField(
        _("investment [EUR]"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[validate_not_negative],
    )
    primary_substation = models.CharField(
        _("primary substation code"),
        max_length=20,
        blank=True,
        validators=[validate_substation_code],
        help_text=_("The cabina primaria of the plant's connection point on the GSE map."),
    )
    municipality = models.ForeignKey(
        "core.Municipality",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("municipality"),
        help_text=_("Where the plant stands: it gives the plant's region."),
    )
    region = models.CharField(
        _("region"),
        max_length=30,
        choices=Region.choices,
        blank=True,
        help_text=_("Where the plant stands; taken from the municipality when it is given."),
    )
    # Where and how the panels face, for the expected production of a PV plant (cer.alerts):
    # empty means the regional capital's coordinates, 30° tilt, due south.
    latitude = models.DecimalField(
        _("latitude [°]"),
        max_digits=8,
        decimal_places=5,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(-90)), MaxValueValidator(Decimal(90))],
    )
    longitude = models.DecimalField(
        _("longitude [°]"),
        max_digits=8,
        decimal_places=5,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(-180)), MaxValueValidator(Decimal(180))],
    )
    tilt_deg = models.DecimalField(
        _("panel tilt [°]"),
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(90))],
        help_text=_("0° lies flat, 90° stands upright; empty means 30°."),
    )
    azimuth_deg = models.DecimalField(
        _("panel azimuth [°]"),
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(360))],
        help_text=_("Where the panels face: 90° east, 180° south, 270° west; empty means 180°."),
    )
    planned_extension_kw = power_field(
        _("planned extension [kW]"),
        null=True,
        blank=True,
        help_text=_("Power the owner plans to add to this plant, if any."),
    )
    eligibility_status = models.CharField(
        _("eligibility"),
        max_length=12,
        choices=EligibilityStatus.choices,
        default=EligibilityStatus.UNCHECKED,
        editable=False,
    )
    # One entry per rule: {"rule", "outcome", "variant", "values"} (eligibility.CheckResult).
    eligibility_results = models.JSONField(
        _("eligibility checks"), default=list, blank=True, editable=False
    )
    eligibility_checked_at = models.DateTimeField(
        _("checked at"), null=True, blank=True, editable=False
    )
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True, editable=False)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("verified by"),
        editable=False,
    )

    class Meta:
        ordering = ["entry_into_service_date", "pk"]
        verbose_name = _("plant")
        verbose_name_plural = _("plants")

    def __str__(self) -> str:
        return f"{self.name} ({_power(self.power_kw)})"

    @property
    def is_existing(self) -> bool:
        """True for a plant in service before D.Lgs. 199/2021 (valorisation only, no TIP).

        The cutoff is the engine's `existing_plant_cutoff_date` (REGULATION.md §3.6); a plant
        under DM 16/9/2020 keeps that regime and is never existing (§1).
        """
        return is_existing_plant(
            self.entry_into_service_date, parameters=default_parameters(), regime=self.regime
        )

    def is_active_on(self, day: dt.date) -> bool:
        return self.entry_into_service_date <= day

    def clean(self) -> None:
        errors: dict[str, ValidationError] = {}
        try:
            validate_not_in_future(self.entry_into_service_date, today=timezone.localdate())
        except ValidationError as error:
            errors["entry_into_service_date"] = error
        self.primary_substation = normalise_substation_code(self.primary_substation or "")
        self._clean_place(errors)
        if (self.latitude is None) != (self.longitude is None):
            missing = "longitude" if self.longitude is None else "latitude"
            errors[missing] = ValidationError(
                _("Give both the latitude and the longitude, or neither.")
            )
        if self.power_kw is not None:
            if self.power_kw <= 0:
                errors["power_kw"] = ValidationError(_("The power must be greater than zero."))
            elif (self.superbonus_kw or 0) + (self.obligation_kw or 0) > self.power_kw:
                errors["superbonus_kw"] = ValidationError(
                    _("The Superbonus and obligation shares exceed the plant's power.")
                )
        if errors:
            raise ValidationError(errors)

    def take_region_from_municipality(self) -> None:
        """Set the region to the municipality's: a region typed by hand cannot contradict it."""
        if self.municipality is not None:
            self.region = region_of_municipality(self.municipality.region) or self.region

    def _clean_place(self, errors: dict[str, ValidationError]) -> None:
        """Take the region from the municipality; check the code against an imported list.

        The regional correction of the tariff is the plant's own region's (REGULATION.md
        §4.2): where the plant stands, never where its configuration is declared.
        """
        self.take_region_from_municipality()
        if self.primary_substation and self.connection_point_id is not None:
            listed = self.connection_point.configuration.community.primary_substations
            if listed.exists() and not listed.filter(code=self.primary_substation).exists():
                errors["primary_substation"] = ValidationError(
                    _(
                        "%(code)s is not in the distributor's list of primary substations "
                        "imported for this community."
                    ),
                    code="substation_not_listed",
                    params={"code": self.primary_substation},
                )


def _power(power_kw: Decimal | None) -> str:
    """A power for a reader ("150 kW", "4,5 kW"); an unsaved form may not have one yet."""
    return "—" if power_kw is None else formatting.kw(power_kw)


class PlantSection(models.Model):
    """A section of a plant, e.g. an upgrade: only the added section counts as new."""

    plant = models.ForeignKey(
        Plant, on_delete=models.CASCADE, related_name="sections", verbose_name=_("plant")
    )
    power_kw = power_field(_("power [kW]"))
    entry_into_service_date = models.DateField(_("entry into service"))
    description = models.CharField(_("description"), max_length=200, blank=True)

    class Meta:
        ordering = ["plant", "entry_into_service_date"]
        verbose_name = _("plant section")
        verbose_name_plural = _("plant sections")

    def __str__(self) -> str:
        return f"{self.plant.name}: {_power(self.power_kw)}"

    def clean(self) -> None:
        if self.power_kw is not None and self.power_kw <= 0:
            raise ValidationError({"power_kw": _("The power must be greater than zero.")})
        try:
            validate_not_in_future(self.entry_into_service_date, today=timezone.localdate())
        except ValidationError as error:
            raise ValidationError({"entry_into_service_date": error}) from error


class PodChange(models.Model):
    """A connection point's POD code replaced by another, from a date: the point's history.

    The point keeps its readings, plants and devices (they hang on the point, not on the
    code); this row says which code the distributor used before `valid_from`, so files
    and letters naming the old code can still be matched to the point.
    """

    connection_point = models.ForeignKey(
        ConnectionPoint,
        on_delete=models.CASCADE,
        related_name="pod_changes",
        verbose_name=_("connection point"),
    )
    old_pod = models.CharField(_("previous POD code"), max_length=15)
    new_pod = models.CharField(_("new POD code"), max_length=15)
    valid_from = models.DateField(
        _("valid from"), help_text=_("First day the distributor uses the new code.")
    )
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    changed_at = models.DateTimeField(_("changed at"))
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("changed by"),
    )

    class Meta:
        ordering = ["connection_point", "-valid_from", "-pk"]
        verbose_name = _("POD change")
        verbose_name_plural = _("POD changes")

    def __str__(self) -> str:
        return f"{self.old_pod} → {self.new_pod} ({self.valid_from})"
