"""Privacy notices and the consents members give to them, per purpose, with version and time."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class PrivacyNotice(models.Model):
    """A published version of the privacy notice; never edited once published."""

    version = models.CharField(_("version"), max_length=20, unique=True)
    published_at = models.DateTimeField(_("published at"))
    text = models.TextField(_("text"))

    class Meta:
        ordering = ["-published_at"]
        verbose_name = _("privacy notice")
        verbose_name_plural = _("privacy notices")

    def __str__(self) -> str:
        return self.version


class ConsentPurpose(models.TextChoices):
    """Why personal data are processed (GDPR art. 6 and 7)."""

    MEMBERSHIP = "MEMBERSHIP", _("Running the membership and sharing energy (contract)")
    GSE_REPORTING = "GSE_REPORTING", _("Sending data to GSE and the grid operator (legal duty)")
    METERING_DETAIL = "METERING_DETAIL", _("Hourly metering data from my devices")
    NEWSLETTER = "NEWSLETTER", _("News and invitations from the community")


class Consent(models.Model):
    """A user's consent to a purpose under a notice version; withdrawing keeps the row."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="consents",
        verbose_name=_("user"),
    )
    purpose = models.CharField(_("purpose"), max_length=20, choices=ConsentPurpose.choices)
    notice = models.ForeignKey(
        PrivacyNotice, on_delete=models.PROTECT, related_name="consents", verbose_name=_("notice")
    )
    given_at = models.DateTimeField(_("given at"))
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)

    class Meta:
        ordering = ["user", "purpose", "-given_at"]
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "purpose"],
                condition=Q(withdrawn_at__isnull=True),
                name="consent_one_active_per_purpose",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.purpose} ({self.notice})"


class Erasure(models.Model):
    """A completed erasure (GDPR art. 17): what was anonymised, what was kept and why.

    The member row stays, anonymised: memberships, readings and invoices refer to it
    and the law requires keeping them (accounting: 10 years, art. 2220 c.c.).
    """

    member = models.ForeignKey(
        "members.Member",
        on_delete=models.PROTECT,
        related_name="erasures",
        verbose_name=_("member"),
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("requested by"),
    )
    reason = models.TextField(_("reason"), blank=True)
    completed_at = models.DateTimeField(_("completed at"))
    erased = models.JSONField(_("erased data"), default=list)
    kept = models.JSONField(_("kept data, with the legal reason"), default=list)

    class Meta:
        ordering = ["-completed_at"]
        verbose_name = _("erasure")
        verbose_name_plural = _("erasures")

    def __str__(self) -> str:
        return f"member {self.member_id} erased at {self.completed_at:%Y-%m-%d}"
