"""How a community shares out its amount (a dated policy) and each month's result.

A policy is valid from a date (history kept: a change closes the previous one with valid_to).
Its pots and components are rows, checked together by cercalc.distribution.check_plan before
anything is stored. A Distribution applies the policy valid at a run's month to that run. A
YearTrueUp applies the 55 %/45 % rule to a settlement year, once its months are distributed.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


def percent_field(verbose_name: Any, **options: Any) -> models.DecimalField:
    """A decimal field with 5 digits, 2 decimals."""
    return models.DecimalField(verbose_name, max_digits=5, decimal_places=2, **options)


def amount_field(verbose_name: Any, **options: Any) -> models.DecimalField:
    """A decimal field with 12 digits, 2 decimals."""
    return models.DecimalField(verbose_name, max_digits=12, decimal_places=2, **options)


class ExcessPolicy(models.TextChoices):
    """What the yearly true-up does when enterprises received more than the 55 %/45 % rule
    allows (docs/algorithms/excess.md); months are never cut nor refused for it."""

    REFUSE = "REFUSE", _("Refuse the yearly true-up and let the assembly decide")
    CORRECT = (
        "CORRECT",
        _("At the yearly true-up, move the excess to households and the social pot"),
    )


class MissingDataPolicy(models.TextChoices):
    PROVISIONAL = "PROVISIONAL", _("Settle with the gaps listed, amounts provisional")
    REFUSE = "REFUSE", _("Refuse to settle a month with gaps")


class DistributionBasis(models.TextChoices):
    CONTRIBUTION = "CONTRIBUTION", _("In proportion to each member's part of shared energy")
    EQUAL = "EQUAL", _("Equal parts per member (per hour of membership)")
    PRODUCERS_CONSUMERS = "PRODUCERS_CONSUMERS", _("Producers and consumers by percentage")
    CUSTOM = "CUSTOM", _("Custom weights per member")


class DistributionPolicy(models.Model):
    """The statute's rule for sharing out a configuration's amount, from a date on."""

    community = models.ForeignKey(
        "communities.Community",
        on_delete=models.CASCADE,
        related_name="distribution_policies",
        verbose_name=_("community"),
    )
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    excess_policy = models.CharField(
        _("55 %/45 % rule"),
        max_length=7,
        choices=ExcessPolicy.choices,
        default=ExcessPolicy.CORRECT,
    )
    excess_to_social_percent = percent_field(
        _("share of a correction to the social pot [%]"), default=Decimal(0)
    )
    missing_data = models.CharField(
        _("missing readings or prices"),
        max_length=11,
        choices=MissingDataPolicy.choices,
        default=MissingDataPolicy.PROVISIONAL,
    )
    created_at = models.DateTimeField(_("created at"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )

    class Meta:
        ordering = ["community", "-valid_from"]
        verbose_name = _("distribution policy")
        verbose_name_plural = _("distribution policies")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "valid_from"], name="distribution_policy_one_per_start"
            ),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gt=models.F("valid_from")),
                name="distribution_policy_period_not_empty",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.community} from {self.valid_from}"


class PolicyPot(models.Model):
    """A pot the statute sets aside: a percentage of the amount or a fixed sum per month."""

    policy = models.ForeignKey(
        DistributionPolicy, on_delete=models.CASCADE, related_name="pots", verbose_name=_("policy")
    )
    code = models.SlugField(_("code"), max_length=30)
    label = models.CharField(_("label"), max_length=100)
    percent = percent_field(_("percentage [%]"), null=True, blank=True)
    fixed_eur = amount_field(_("fixed amount [EUR]"), null=True, blank=True)
    social = models.BooleanField(
        _("social purposes"), default=False, help_text=_("May receive the 55 %/45 % excess.")
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["policy", "position", "pk"]
        verbose_name = _("pot")
        verbose_name_plural = _("pots")
        constraints = [
            models.UniqueConstraint(fields=["policy", "code"], name="policy_pot_code_once"),
        ]

    def __str__(self) -> str:
        return self.label


class PolicyComponent(models.Model):
    """A part of the rest [%] shared out by one basis."""

    policy = models.ForeignKey(
        DistributionPolicy,
        on_delete=models.CASCADE,
        related_name="components",
        verbose_name=_("policy"),
    )
    basis = models.CharField(_("basis"), max_length=20, choices=DistributionBasis.choices)
    percent = percent_field(_("share of the rest [%]"))
    producers_percent = percent_field(_("producers' side [%]"), default=Decimal(0))
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["policy", "position", "pk"]
        verbose_name = _("component")
        verbose_name_plural = _("components")


class CustomWeight(models.Model):
    """A member's weight for the CUSTOM basis."""

    policy = models.ForeignKey(
        DistributionPolicy,
        on_delete=models.CASCADE,
        related_name="weights",
        verbose_name=_("policy"),
    )
    member = models.ForeignKey(
        "members.Member", on_delete=models.CASCADE, related_name="+", verbose_name=_("member")
    )
    weight = models.DecimalField(_("weight"), max_digits=9, decimal_places=4)

    class Meta:
        verbose_name = _("custom weight")
        verbose_name_plural = _("custom weights")
        constraints = [
            models.UniqueConstraint(fields=["policy", "member"], name="custom_weight_once"),
        ]


class AmountBasis(models.TextChoices):
    SHADOW = "SHADOW", _("Our shadow settlement")
    GSE = "GSE", _("Amounts certified by GSE")
    MIXED = "MIXED", _("Amounts certified by GSE where they exist, our settlement otherwise")


class Distribution(models.Model):
    """A run's amount shared out by a policy: pots and members' shares, to the cent."""

    run = models.OneToOneField(
        "settlement.SettlementRun",
        on_delete=models.PROTECT,
        related_name="distribution",
        verbose_name=_("run"),
    )
    policy = models.ForeignKey(
        DistributionPolicy, on_delete=models.PROTECT, related_name="+", verbose_name=_("policy")
    )
    amount_basis = models.CharField(_("amount from"), max_length=6, choices=AmountBasis.choices)
    amount_eur = amount_field(_("amount distributed [EUR]"))
    excess_eur = amount_field(_("excess above 55 %/45 % [EUR]"))
    enterprise_ceiling_eur = amount_field(_("ceiling for enterprises [EUR]"))
    enterprise_before_eur = amount_field(_("enterprises before correction"))
    enterprise_eur = amount_field(_("enterprises [EUR]"))
    moved_to_social_eur = amount_field(_("moved to the social pot [EUR]"))
    moved_to_members_eur = amount_field(_("moved to households [EUR]"))
    # [{"code", "label", "amount_eur", "social"}]
    pots = models.JSONField(_("pots"), default=list)
    # The plan as applied: {"pots": [...], "components": [...], ...}
    plan = models.JSONField(_("plan"), default=dict)
    # Where each kind of the amount came from: [{"kind", "source", "amount_eur"}], signed
    # (fees negative), source GSE or SHADOW (cer.distribution.services.month_amount).
    amount_parts = models.JSONField(_("amount by kind and source"), default=list, blank=True)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        ordering = ["-run__month"]
        verbose_name = _("distribution")
        verbose_name_plural = _("distributions")

    def __str__(self) -> str:
        return f"{self.run}: {self.amount_eur} EUR"


class MemberShare(models.Model):
    """A member's share of a distribution, with the arithmetic that gave it."""

    # No index of its own: member_share_once (distribution, member) serves lookups by it.
    distribution = models.ForeignKey(
        Distribution,
        on_delete=models.CASCADE,
        related_name="shares",
        verbose_name=_("distribution"),
        db_index=False,
    )
    member = models.ForeignKey(
        "members.Member", on_delete=models.PROTECT, related_name="+", verbose_name=_("member")
    )
    amount_eur = amount_field(_("share [EUR]"))
    exact_eur = models.CharField(_("exact share [EUR]"), max_length=60)
    correction_eur = amount_field(_("55 %/45 % correction [EUR]"), default=0)
    # [{"basis", "side", "weight", "total_weight", "component_eur", "exact_eur"}] as strings
    parts = models.JSONField(_("arithmetic"), default=list)

    class Meta:
        ordering = ["distribution", "member"]
        verbose_name = _("member share")
        verbose_name_plural = _("member shares")
        constraints = [
            models.UniqueConstraint(fields=["distribution", "member"], name="member_share_once"),
        ]


class GseAdjustment(models.Model):
    """A change of a distributed month's amount by GSE amounts imported afterwards.

    The month's policy is applied again to the new amount with the same participants; each
    member's difference from what the distribution and earlier adjustments gave became a GSE
    line on the statement (cer.distribution.gse_adjustments). Never edited: a later import
    adds another adjustment from this one's figures.
    """

    distribution = models.ForeignKey(
        Distribution,
        on_delete=models.PROTECT,
        related_name="gse_adjustments",
        verbose_name=_("distribution"),
    )
    amount_before_eur = amount_field(_("amount before [EUR]"))
    amount_after_eur = amount_field(_("amount after [EUR]"))
    # [{"kind", "source", "amount_eur"}] after the import, as Distribution.amount_parts.
    amount_parts = models.JSONField(_("amount by kind and source"), default=list)
    # [{"code", "label", "social", "before_eur", "after_eur"}]
    pots = models.JSONField(_("pots"), default=list)
    # [{"member_id", "before_eur", "after_eur", "difference_eur"}], in member id order.
    shares = models.JSONField(_("members' shares"), default=list)
    source_name = models.CharField(_("file"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )

    class Meta:
        ordering = ["distribution", "created_at", "pk"]
        verbose_name = _("adjustment from GSE amounts")
        verbose_name_plural = _("adjustments from GSE amounts")

    def __str__(self) -> str:
        return f"{self.distribution.run}: {self.amount_before_eur} -> {self.amount_after_eur} EUR"

    @property
    def difference_eur(self) -> Decimal:
        return self.amount_after_eur - self.amount_before_eur


class YearTrueUp(models.Model):
    """The 55 %/45 % rule applied to a settlement year: who lost and who gained what.

    Its lines are added to the members' December statements (kind YEAR_EXCESS), so the next
    payout nets them. A later true-up of the same year, after a month changed, records only
    the difference (docs/algorithms/excess.md).
    """

    configuration = models.ForeignKey(
        "communities.Configuration",
        on_delete=models.PROTECT,
        related_name="year_true_ups",
        verbose_name=_("configuration"),
    )
    year = models.PositiveSmallIntegerField(_("year"))
    sequence = models.PositiveSmallIntegerField(_("true-up number in the year"), default=1)
    policy = models.ForeignKey(
        DistributionPolicy, on_delete=models.PROTECT, related_name="+", verbose_name=_("policy")
    )
    excess_policy = models.CharField(
        _("55 %/45 % rule"), max_length=7, choices=ExcessPolicy.choices
    )
    december = models.ForeignKey(
        Distribution,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("December distribution the lines were added to"),
    )
    amount_eur = amount_field(_("amounts distributed in the year [EUR]"))
    excess_eur = amount_field(_("excess of the year [EUR]"))
    ceiling_eur = amount_field(_("ceiling for enterprises [EUR]"))
    enterprise_eur = amount_field(_("enterprises received [EUR]"))
    moved_eur = amount_field(_("moved from enterprises [EUR]"))
    moved_to_social_eur = amount_field(_("moved to the social pot [EUR]"))
    moved_to_members_eur = amount_field(_("moved to households [EUR]"))
    social_pot = models.CharField(_("social pot"), max_length=30, blank=True)
    # The engine's inputs over the whole year and the runs whose distributions were read:
    # {"2025-01": {"run": id, "version": n, "distribution": id}, ...}.
    inputs_hash = models.CharField(_("inputs hash of the year"), max_length=64)
    runs = models.JSONField(_("runs of the year"), default=dict)
    created_at = models.DateTimeField(_("created at"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )

    class Meta:
        ordering = ["configuration", "-year", "-sequence"]
        verbose_name = _("yearly true-up")
        verbose_name_plural = _("yearly true-ups")
        constraints = [
            models.UniqueConstraint(
                fields=["configuration", "year", "sequence"], name="year_true_up_sequence_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.configuration} {self.year} #{self.sequence}: {self.moved_eur} EUR"


class YearTrueUpLine(models.Model):
    """A member's part of a yearly true-up: the year's change and what this true-up added."""

    true_up = models.ForeignKey(
        YearTrueUp, on_delete=models.CASCADE, related_name="lines", verbose_name=_("true-up")
    )
    member = models.ForeignKey(
        "members.Member", on_delete=models.PROTECT, related_name="+", verbose_name=_("member")
    )
    enterprise = models.BooleanField(_("enterprise"))
    received_eur = amount_field(_("received in the year [EUR]"))
    year_change_eur = amount_field(_("change for the year [EUR]"))
    added_eur = amount_field(_("added by this true-up [EUR]"))

    class Meta:
        ordering = ["true_up", "member"]
        verbose_name = _("yearly true-up line")
        verbose_name_plural = _("yearly true-up lines")
        constraints = [
            models.UniqueConstraint(fields=["true_up", "member"], name="year_true_up_line_once"),
        ]
