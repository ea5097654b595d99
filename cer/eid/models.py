"""What a login with a digital identity keeps: who is linked to which identity, and the
SAML messages already used (a message seen twice is a replay).

The tax code is a personal identifier: encrypted at rest, looked up through a blind
index, like `Member.fiscal_code` (docs/security.md).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from cer.core.crypto import EncryptedTextField, blind_index

TAX_CODE_PURPOSE = "eid.tax_code"


def tax_code_index(tax_code: str) -> str:
    return blind_index(tax_code.strip().upper(), purpose=TAX_CODE_PURPOSE)


class Provider(models.TextChoices):
    SPID = "spid", _("SPID")
    CIE = "cie", _("CIE")


class IdentityLink(models.Model):
    """One digital identity (a provider and a tax code) and the account it opens."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="identity_links",
        verbose_name=_("user"),
    )
    provider = models.CharField(_("provider"), max_length=8, choices=Provider.choices)
    # The identity provider that vouched last (a SPID IdP's entity ID, the CIE issuer).
    issuer = models.CharField(_("identity provider"), max_length=300)
    # The subject as the provider names it (SAML NameID, OpenID `sub`): informative only,
    # a SPID NameID is transient and changes at every login.
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    tax_code = EncryptedTextField(_("tax code"), max_length=16)
    tax_code_index = models.CharField(_("tax code lookup key"), max_length=64, editable=False)
    level = models.PositiveSmallIntegerField(_("level of assurance"))
    first_login_at = models.DateTimeField(_("first login"))
    last_login_at = models.DateTimeField(_("last login"))

    class Meta:
        verbose_name = _("digital identity link")
        verbose_name_plural = _("digital identity links")
        ordering = ["-last_login_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "tax_code_index"], name="eid_one_link_per_identity"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_provider_display()} → {self.user}"

    def save(self, *args: object, **kwargs: object) -> None:
        self.tax_code = self.tax_code.strip().upper()
        self.tax_code_index = tax_code_index(self.tax_code)
        super().save(*args, **kwargs)  # type: ignore[arg-type]


class UsedSamlMessage(models.Model):
    """The ID of a SAML response or assertion accepted once; the same ID again is a replay.

    Kept past the message's own NotOnOrAfter (the job `eid.forget_used_messages` deletes
    the ones whose lifetime ended, after which pysaml2 refuses them as expired anyway).
    """

    message_id = models.CharField(_("message ID"), max_length=200, unique=True)
    issuer = models.CharField(_("identity provider"), max_length=300)
    used_at = models.DateTimeField(_("used at"))
    expires_at = models.DateTimeField(_("valid until"))

    class Meta:
        verbose_name = _("used SAML message")
        verbose_name_plural = _("used SAML messages")

    def __str__(self) -> str:
        return self.message_id
