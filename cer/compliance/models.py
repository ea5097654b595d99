"""The compliance files: who holds office in a community (and so is subject to anti-mafia
checks), the declarations they give, and a PNRR plant's DNSH and eligibility items.

The rules (thresholds, subjects, the items and their evidence, with their legal sources)
live in cer/compliance/rules.py; the workflows in antimafia.py and plant_checks.py. Files
given as evidence are documents of the community's archive (cer.documents), so their
versions and signature checks are kept there. See docs/antimafia.md and docs/compliance.md.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _


class OfficeRole(models.TextChoices):
    """Offices of a community's bodies; which of them are checked is rules.SUBJECT_ROLES."""

    LEGAL_REPRESENTATIVE = "LEGAL_REP", _("Legal representative")
    BOARD_MEMBER = "BOARD", _("Board member")
    AUDITOR = "AUDITOR", _("Statutory auditor (sindaco or revisore)")
    SUPERVISORY_BODY = "SUPERVISORY", _("Supervisory body (D.Lgs. 231/2001)")
    TECHNICAL_DIRECTOR = "TECH_DIR", _("Technical director")
    PROXY = "PROXY", _("Proxy with management powers")
    OTHER = "OTHER", _("Other office (not checked)")


class OfficeHolder(models.Model):
    """A person holding an office in the community from one day until another (exclusive)."""

    community = models.ForeignKey(
        "communities.Community",
        on_delete=models.CASCADE,
        related_name="office_holders",
        verbose_name=_("community"),
    )
    full_name = models.CharField(_("full name"), max_length=200)
    tax_code = models.CharField(_("tax code"), max_length=16)
    role = models.CharField(_("role"), max_length=12, choices=OfficeRole.choices)
    valid_from = models.DateField(_("in office from"))
    valid_to = models.DateField(_("in office until (exclusive)"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), editable=False)

    class Meta:
        ordering = ["community", "role", "full_name", "pk"]
        verbose_name = _("office holder")
        verbose_name_plural = _("office holders")

    def __str__(self) -> str:
        return f"{self.full_name} ({self.get_role_display()})"

    def in_office_on(self, day: Any) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day < self.valid_to)


class AntimafiaDeclaration(models.Model):
    """A holder's self-declaration of the adult family members living with them.

    `relatives` is a list of {"full_name", "tax_code", "birth_date" (ISO), "relation"};
    `document` the signed file in the community's archive; `valid_until` is exclusive.
    """

    holder = models.ForeignKey(
        OfficeHolder,
        on_delete=models.CASCADE,
        related_name="declarations",
        verbose_name=_("office holder"),
    )
    signed_date = models.DateField(_("signed on"))
    valid_until = models.DateField(_("valid until (exclusive)"))
    relatives = models.JSONField(_("family members living with them"), default=list)
    document = models.ForeignKey(
        "documents.Document",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("signed declaration"),
    )
    recorded_at = models.DateTimeField(_("recorded at"), editable=False)

    class Meta:
        ordering = ["holder", "-signed_date", "-pk"]
        verbose_name = _("anti-mafia declaration")
        verbose_name_plural = _("anti-mafia declarations")

    def __str__(self) -> str:
        return f"{self.holder.full_name} — {self.signed_date.isoformat()}"


class ItemStatus(models.TextChoices):
    MISSING = "MISSING", _("Missing")
    PROVIDED = "PROVIDED", _("Provided")
    ACCEPTED = "ACCEPTED", _("Accepted")


class PlantComplianceItem(models.Model):
    """The state of one item of a plant's checklist (rules.PLANT_ITEMS names it by `code`).

    A row exists once something was given for the item; no row reads as MISSING.
    `answer` holds the yes/no answer of a question (biogas and biomass criteria).
    """

    plant = models.ForeignKey(
        "plants.Plant",
        on_delete=models.CASCADE,
        related_name="compliance_items",
        verbose_name=_("plant"),
    )
    code = models.CharField(_("item"), max_length=40)
    status = models.CharField(
        _("status"), max_length=8, choices=ItemStatus.choices, default=ItemStatus.MISSING
    )
    answer = models.CharField(_("answer"), max_length=3, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    evidence = models.ManyToManyField(
        "documents.Document", related_name="+", blank=True, verbose_name=_("evidence")
    )
    changed_at = models.DateTimeField(_("changed at"))

    class Meta:
        ordering = ["plant", "code"]
        verbose_name = _("plant compliance item")
        verbose_name_plural = _("plant compliance items")
        constraints = [
            models.UniqueConstraint(fields=["plant", "code"], name="plant_compliance_item_unique")
        ]

    def __str__(self) -> str:
        return f"{self.plant_id}: {self.code} {self.status}"
