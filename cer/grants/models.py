"""The PNRR grant file of a plant (DM 414/2023 Part III as amended by DM 127/2025).

A plant has at most one application (`GrantApplication`) with its eligible cost items; once
granted, the grant is paid in phases (`DisbursementRequest`), each relying on expense
documents (`ExpenseDocument`). Other public grants on the plant (`OtherGrant`) are recorded
so that no cost is funded twice. The rules live in cer/grants/checks.py and the grant's
arithmetic in cercalc/pnrr.py; see docs/grants.md.
"""

from __future__ import annotations

import secrets
from decimal import Decimal
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from cer.core.validators import validate_not_negative, validate_vat_number


def amount_field(verbose_name: Any, **options: Any) -> models.DecimalField:
    """An amount in EUR, to the cent, not negative."""
    return models.DecimalField(
        verbose_name,
        max_digits=12,
        decimal_places=2,
        validators=[validate_not_negative],
        **options,
    )


def stored_name(instance: Any, filename: str) -> str:
    """Return a random storage name: the user's file name is kept only as data."""
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"grants/{secrets.token_hex(16)}.{extension}"


class Applicant(models.TextChoices):
    COMMUNITY = "COMMUNITY", _("The community")
    OWNER = "OWNER", _("The plant's owner (a member)")


class ApplicationState(models.TextChoices):
    DRAFT = "DRAFT", _("Draft")
    READY = "READY", _("Ready to submit")
    SUBMITTED = "SUBMITTED", _("Submitted")
    GRANTED = "GRANTED", _("Granted")
    REFUSED = "REFUSED", _("Refused")


class GrantApplication(models.Model):
    """The data the GSE portal asks for one plant's PNRR capital grant."""

    plant = models.OneToOneField(
        "plants.Plant",
        on_delete=models.PROTECT,
        related_name="grant_application",
        verbose_name=_("plant"),
    )
    applicant = models.CharField(
        _("applicant"), max_length=10, choices=Applicant.choices, default=Applicant.COMMUNITY
    )
    municipality = models.ForeignKey(
        "core.Municipality",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("municipality"),
    )
    # The ISTAT list carries the 2011 census; the operator may record the current official
    # figure, which the population check then uses (DM 127/2025, REGULATION.md §8 [S]).
    current_population = models.PositiveIntegerField(
        _("current official population"), null=True, blank=True
    )
    population_source = models.CharField(_("source of the population"), max_length=200, blank=True)
    population_date = models.DateField(_("population on"), null=True, blank=True)
    works_start_date = models.DateField(_("start of works"), null=True, blank=True)
    works_end_date = models.DateField(_("end of works"), null=True, blank=True)
    expected_service_date = models.DateField(
        _("expected entry into service"), null=True, blank=True
    )
    requested_grant_eur = amount_field(_("requested grant [EUR]"), null=True, blank=True)
    state = models.CharField(
        _("state"),
        max_length=10,
        choices=ApplicationState.choices,
        default=ApplicationState.DRAFT,
        editable=False,
    )
    gse_reference = models.CharField(_("GSE application number"), max_length=60, blank=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True, editable=False)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True, editable=False)
    granted_eur = amount_field(_("granted [EUR]"), null=True, blank=True, editable=False)
    refusal_reason = models.TextField(_("reason of the refusal"), blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), editable=False)

    class Meta:
        ordering = ["plant__name", "pk"]
        verbose_name = _("PNRR grant application")
        verbose_name_plural = _("PNRR grant applications")

    def __str__(self) -> str:
        return f"PNRR — {self.plant.name}"

    @property
    def community(self) -> Any:
        return self.plant.connection_point.configuration.community

    @property
    def census_population(self) -> int | None:
        """The ISTAT list's figure: the 2011 census."""
        return self.municipality.population if self.municipality is not None else None

    @property
    def checked_population(self) -> int | None:
        """The figure the population check uses: the recorded official one, else 2011's."""
        if self.current_population is not None:
            return self.current_population
        return self.census_population

    @property
    def cost_total_eur(self) -> Decimal:
        """Every cost item of the plant [EUR], claimed or not."""
        return sum((item.amount_eur for item in self.cost_items.all()), Decimal("0.00"))

    @property
    def claimed_eur(self) -> Decimal:
        """The cost items the application claims [EUR]."""
        return sum(
            (item.amount_eur for item in self.cost_items.all() if item.claimed), Decimal("0.00")
        )

    @property
    def investment_eur(self) -> Decimal:
        """The plant's investment [EUR]: as recorded on the plant, else every cost item."""
        return self.plant.investment_eur or self.cost_total_eur

    @property
    def editable(self) -> bool:
        return self.state in (ApplicationState.DRAFT, ApplicationState.READY)


class CostCategory(models.TextChoices):
    """Eligible cost categories (REGULATION.md §8 [S]/[U]); only the whole plant has a cap."""

    PLANT = "PLANT", _("Plant and components")
    STORAGE = "STORAGE", _("Storage")
    CONNECTION = "CONNECTION", _("Connection works")
    WORKS = "WORKS", _("Building and installation works")
    DESIGN = "DESIGN", _("Design, studies and technical fees")


class CostItem(models.Model):
    """An eligible cost the application claims, net of recoverable VAT."""

    application = models.ForeignKey(
        GrantApplication,
        on_delete=models.CASCADE,
        related_name="cost_items",
        verbose_name=_("application"),
    )
    category = models.CharField(_("category"), max_length=10, choices=CostCategory.choices)
    description = models.CharField(_("description"), max_length=200)
    amount_eur = amount_field(_("amount [EUR]"))
    # A cost of the plant the PNRR application does not claim (covered by another public
    # grant, or beyond the cap) is kept for the investment and the no-double-funding check.
    claimed = models.BooleanField(_("claimed in the PNRR application"), default=True)

    class Meta:
        ordering = ["application", "category", "pk"]
        verbose_name = _("cost item")
        verbose_name_plural = _("cost items")

    def __str__(self) -> str:
        return f"{self.get_category_display()}: {self.description}"


class PhaseKind(models.TextChoices):
    ADVANCE = "ADVANCE", _("Advance")
    INTERMEDIATE = "INTERMEDIATE", _("Intermediate instalment")
    BALANCE = "BALANCE", _("Balance")


class PhaseState(models.TextChoices):
    DRAFT = "DRAFT", _("Draft")
    SENT = "SENT", _("Sent")
    PAID = "PAID", _("Paid")
    REJECTED = "REJECTED", _("Rejected")


class DisbursementRequest(models.Model):
    """A request for part of the grant: an advance, an instalment or the balance."""

    application = models.ForeignKey(
        GrantApplication,
        on_delete=models.PROTECT,
        related_name="disbursements",
        verbose_name=_("application"),
    )
    kind = models.CharField(_("kind"), max_length=12, choices=PhaseKind.choices)
    requested_eur = amount_field(_("requested [EUR]"))
    state = models.CharField(
        _("state"),
        max_length=8,
        choices=PhaseState.choices,
        default=PhaseState.DRAFT,
        editable=False,
    )
    # What the rules ask around an advance (a guarantee, REGULATION.md §8 states none [U]),
    # an instalment (a progress report) and the balance (the TIP contract signed, §8 [S]).
    guarantee_issuer = models.CharField(_("guarantee issued by"), max_length=200, blank=True)
    guarantee_reference = models.CharField(_("guarantee reference"), max_length=100, blank=True)
    guarantee_amount_eur = amount_field(_("guarantee amount [EUR]"), null=True, blank=True)
    progress_report = models.FileField(
        _("progress report"), upload_to=stored_name, max_length=200, blank=True
    )
    tip_contract_date = models.DateField(_("TIP contract signed on"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), editable=False)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True, editable=False)
    received_eur = amount_field(_("received [EUR]"), null=True, blank=True, editable=False)
    received_date = models.DateField(_("received on"), null=True, blank=True, editable=False)
    rejection_reason = models.TextField(_("reason of the rejection"), blank=True, editable=False)

    class Meta:
        ordering = ["application", "created_at", "pk"]
        verbose_name = _("disbursement request")
        verbose_name_plural = _("disbursement requests")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def documented_eur(self) -> Decimal:
        return sum((doc.amount_eur for doc in self.documents.all()), Decimal("0.00"))


class ExpenseDocument(models.Model):
    """An invoice a disbursement request relies on, with its proof of payment."""

    request = models.ForeignKey(
        DisbursementRequest,
        on_delete=models.CASCADE,
        related_name="documents",
        verbose_name=_("request"),
    )
    cost_item = models.ForeignKey(
        CostItem, on_delete=models.PROTECT, related_name="documents", verbose_name=_("cost item")
    )
    invoice_number = models.CharField(_("invoice number"), max_length=40)
    sdi_id = models.CharField(_("SdI identifier"), max_length=40)
    supplier_vat = models.CharField(
        _("supplier VAT number"), max_length=11, validators=[validate_vat_number]
    )
    invoice_date = models.DateField(_("invoice date"))
    amount_eur = amount_field(_("eligible amount [EUR]"))
    payment_reference = models.CharField(_("proof of payment (CRO/TRN)"), max_length=60)
    payment_date = models.DateField(_("paid on"))
    file = models.FileField(_("file"), upload_to=stored_name, max_length=200, blank=True)
    original_name = models.CharField(_("file name"), max_length=200, blank=True, editable=False)

    class Meta:
        ordering = ["request", "invoice_date", "pk"]
        verbose_name = _("expense document")
        verbose_name_plural = _("expense documents")

    def __str__(self) -> str:
        return f"{self.invoice_number} ({self.supplier_vat})"


class OtherGrant(models.Model):
    """A public grant on the plant from another source, and the cost items it covers."""

    plant = models.ForeignKey(
        "plants.Plant",
        on_delete=models.PROTECT,
        related_name="other_grants",
        verbose_name=_("plant"),
    )
    source = models.CharField(_("granted by"), max_length=200)
    amount_eur = amount_field(_("amount [EUR]"))
    grant_date = models.DateField(_("granted on"))
    cost_items = models.ManyToManyField(
        CostItem, related_name="other_grants", blank=True, verbose_name=_("cost items covered")
    )
    covered_description = models.CharField(_("costs covered"), max_length=200, blank=True)

    class Meta:
        ordering = ["plant", "grant_date", "pk"]
        verbose_name = _("other public grant")
        verbose_name_plural = _("other public grants")

    def __str__(self) -> str:
        return f"{self.source} ({self.grant_date.isoformat()})"
