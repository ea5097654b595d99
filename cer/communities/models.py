"""Energy communities (the legal entity) and their configurations (one per primary substation)."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cer.communities.substation_codes import normalise_substation_code, validate_substation_code
from cer.communities.zones import zone_matches, zones_of
from cer.core.choices import Region
from cer.core.reading_sources import DEFAULT_ORDER_TEXT, validate_order_text
from cer.core.validators import (
    normalise_code,
    validate_fiscal_code,
    validate_not_in_future,
    validate_vat_number,
)


class CommunityKind(models.TextChoices):
    CER = "CER", _("Renewable energy community (CER)")
    CEC = "CEC", _("Citizens' energy community (CEC)")
    AUC = "AUC", _("Group of jointly acting self-consumers (AUC)")
    AID = "AID", _("Remote individual self-consumer")


class LegalForm(models.TextChoices):
    ASSOCIATION = "ASSOCIATION", _("Unrecognised association")
    RECOGNISED_ASSOCIATION = "RECOGNISED_ASSOCIATION", _("Recognised association")
    THIRD_SECTOR = "THIRD_SECTOR", _("Third-sector entity (ETS)")
    COOPERATIVE = "COOPERATIVE", _("Cooperative")
    FOUNDATION = "FOUNDATION", _("Foundation")
    CONSORTIUM = "CONSORTIUM", _("Consortium")
    CONDOMINIUM = "CONDOMINIUM", _("Condominium")
    NONE = "NONE", _("No separate legal entity")


class MarketZone(models.TextChoices):
    NORD = "NORD", _("North")
    CNOR = "CNOR", _("Centre-North")
    CSUD = "CSUD", _("Centre-South")
    SUD = "SUD", _("South")
    CALA = "CALA", _("Calabria")
    SICI = "SICI", _("Sicily")
    SARD = "SARD", _("Sardinia")


class Community(models.Model):
    """A community as a legal entity: CER, CEC, group of self-consumers or remote self-consumer."""

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("type"), max_length=3, choices=CommunityKind.choices)
    legal_form = models.CharField(_("legal form"), max_length=30, choices=LegalForm.choices)
    fiscal_code = models.CharField(
        _("tax code"), max_length=16, unique=True, validators=[validate_fiscal_code]
    )
    vat_number = models.CharField(
        _("VAT number"), max_length=11, blank=True, validators=[validate_vat_number]
    )
    seat_address = models.CharField(_("registered office address"), max_length=200)
    seat_municipality = models.ForeignKey(
        "core.Municipality",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("registered office municipality"),
    )
    founding_date = models.DateField(_("founding date"), null=True, blank=True)
    pec = models.EmailField(_("certified email (PEC)"), blank=True)
    reading_source_order = models.CharField(
        _("reading source precedence"),
        max_length=20,
        default=DEFAULT_ORDER_TEXT,
        validators=[validate_order_text],
        help_text=_(
            "When a point has readings from several sources for the same hour, the first "
            "source in this list wins."
        ),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("community")
        verbose_name_plural = _("communities")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        self.fiscal_code = normalise_code(self.fiscal_code)
        self.vat_number = normalise_code(self.vat_number)
        try:
            # A deed cannot be signed in the future: a typo such as 2030 for 2023.
            validate_not_in_future(self.founding_date, today=timezone.localdate())
        except ValidationError as error:
            raise ValidationError({"founding_date": error}) from error


class ConfigurationStatus(models.TextChoices):
    DRAFT = "DRAFT", _("Being prepared")
    SUBMITTED = "SUBMITTED", _("Submitted to GSE")
    ACTIVE = "ACTIVE", _("Active (GSE contract signed)")
    SUSPENDED = "SUSPENDED", _("Suspended")
    CLOSED = "CLOSED", _("Closed")


class Configuration(models.Model):
    """The part of a community under one primary substation: GSE settles each one separately."""

    community = models.ForeignKey(
        Community,
        on_delete=models.CASCADE,
        related_name="configurations",
        verbose_name=_("community"),
    )
    name = models.CharField(_("name"), max_length=200)
    primary_substation = models.CharField(
        _("primary substation code"),
        max_length=20,
        validators=[validate_substation_code],
        help_text=_("The code of the cabina primaria on the GSE map, e.g. AC001E01234."),
    )
    market_zone = models.CharField(_("market zone"), max_length=4, choices=MarketZone.choices)
    region = models.CharField(_("region"), max_length=30, choices=Region.choices)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=ConfigurationStatus.choices,
        default=ConfigurationStatus.DRAFT,
    )
    gse_request_date = models.DateField(_("GSE request date"), null=True, blank=True)
    gse_contract_start_date = models.DateField(_("GSE contract start"), null=True, blank=True)
    gse_contract_end_date = models.DateField(_("GSE contract end"), null=True, blank=True)

    class Meta:
        ordering = ["community", "name"]
        verbose_name = _("configuration")
        verbose_name_plural = _("configurations")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "primary_substation"],
                name="configuration_one_per_substation",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.primary_substation})"

    def clean(self) -> None:
        errors: dict[str, ValidationError] = {}
        self.primary_substation = normalise_substation_code(self.primary_substation or "")
        if self.region and self.market_zone and not zone_matches(self.region, self.market_zone):
            # The zonal price of the wrong zone would value every hour wrongly (§4.1).
            errors["market_zone"] = ValidationError(
                _("%(region)s lies in market zone %(zones)s, not %(zone)s."),
                code="zone_region",
                params={
                    "region": self.region,
                    "zones": ", ".join(
                        str(MarketZone(zone).label) for zone in sorted(zones_of(self.region))
                    ),
                    "zone": str(MarketZone(self.market_zone).label),
                },
            )
        if self.community_id and self.primary_substation:
            listed = PrimarySubstation.objects.filter(community_id=self.community_id)
            if listed.exists() and not listed.filter(code=self.primary_substation).exists():
                errors["primary_substation"] = ValidationError(
                    _(
                        "%(code)s is not in the distributor's list of primary substations "
                        "imported for this community."
                    ),
                    code="substation_not_listed",
                    params={"code": self.primary_substation},
                )
        if errors:
            raise ValidationError(errors)


class PrimarySubstation(models.Model):
    """A primary substation of the distributor's list a community imported, with its area."""

    community = models.ForeignKey(
        Community,
        on_delete=models.CASCADE,
        related_name="primary_substations",
        verbose_name=_("community"),
    )
    code = models.CharField(
        _("primary substation code"), max_length=20, validators=[validate_substation_code]
    )
    name = models.CharField(_("name"), max_length=200)
    # The municipalities the substation's area covers; empty when the list did not say.
    municipalities = models.ManyToManyField(
        "core.Municipality",
        blank=True,
        related_name="+",
        verbose_name=_("municipalities served"),
    )
    imported_at = models.DateTimeField(_("imported at"))

    class Meta:
        ordering = ["community", "code"]
        verbose_name = _("primary substation")
        verbose_name_plural = _("primary substations")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "code"], name="primary_substation_once_per_community"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class DistributionModel(models.TextChoices):
    """How the community shares out the incentives it receives (a choice of its statute)."""

    WITHDRAWAL_SHARE = "WITHDRAWAL_SHARE", _("Consumers in proportion to their withdrawals")
    EQUAL_SHARE = "EQUAL_SHARE", _("Equal shares among consumers")
    SOCIAL_FUND = "SOCIAL_FUND", _("Mostly to a fund for social and local projects")


class IncentiveDistribution(models.Model):
    """The rule for distributing incentives: a model and how the total splits, in percent."""

    community = models.OneToOneField(
        Community,
        on_delete=models.CASCADE,
        related_name="incentive_distribution",
        verbose_name=_("community"),
    )
    model = models.CharField(_("model"), max_length=20, choices=DistributionModel.choices)
    producers_pct = models.DecimalField(_("to producers [%]"), max_digits=5, decimal_places=2)
    consumers_pct = models.DecimalField(_("to consumers [%]"), max_digits=5, decimal_places=2)
    community_fund_pct = models.DecimalField(
        _("to the community fund [%]"), max_digits=5, decimal_places=2
    )

    class Meta:
        verbose_name = _("incentive distribution")
        verbose_name_plural = _("incentive distributions")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    producers_pct__gte=0, consumers_pct__gte=0, community_fund_pct__gte=0
                ),
                name="incentive_distribution_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.community}: {self.get_model_display()}"


class ConstitutionDraft(models.Model):
    """A constitution wizard in progress: one per user, resumable, never a community yet."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="constitution_draft",
        verbose_name=_("user"),
    )
    step = models.CharField(_("step"), max_length=20)
    # {step: {"raw": {field: [values]}, "valid": bool}}: what was typed, as typed.
    data = models.JSONField(_("data"), default=dict, blank=True)
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        verbose_name = _("constitution draft")
        verbose_name_plural = _("constitution drafts")

    def __str__(self) -> str:
        return f"{self.user} ({self.step})"
