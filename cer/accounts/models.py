"""What access to the platform keeps: refused logins, personal tokens, API login families.

LoginFailure and PersonalAccessToken keep their original table names: they moved here
from the API app, which now only reads them.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class LoginFailure(models.Model):
    """One refused login (password or code); enough of them lock an account or an address."""

    username = models.CharField(_("username"), max_length=150)
    ip_address = models.GenericIPAddressField(_("IP address"))
    at = models.DateTimeField(_("at"))

    class Meta:
        db_table = "api_loginfailure"
        verbose_name = _("failed login")
        verbose_name_plural = _("failed logins")
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(
                fields=["username", "ip_address", "at"], name="api_loginfa_usernam_228eac_idx"
            ),
            models.Index(fields=["ip_address", "at"], name="accounts_failure_address_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.username} from {self.ip_address} at {self.at:%Y-%m-%d %H:%M:%S}"


class TokenScope(models.TextChoices):
    """What a personal access token may do; every API operation maps onto one of these.

    Reads cover every GET the owner may make; each write scope covers creating,
    changing and deleting its objects. Codes are stable: integrations store them.
    """

    READ = "read", _("Read everything you may see")
    READINGS_WRITE = "readings:write", _("Post hourly readings")
    PLANTS_WRITE = "plants:write", _("Change connection points, plants and devices")
    MEMBERS_WRITE = "members:write", _("Change members and memberships")
    DOCUMENTS_WRITE = "documents:write", _("Upload documents")
    INVOICES_WRITE = "invoices:write", _("Create, issue and credit invoices")
    SETTLEMENT_WRITE = "settlement:write", _("Compute and finalise settlement runs")


class PersonalAccessToken(models.Model):
    """A user's token for an integration: only its SHA-256 hash is kept, never the secret.

    A SHA-256 of a 256-bit random secret needs no salt or slow hash: guessing the
    secret is as hard as guessing the hash's preimage.
    """

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="personal_access_tokens",
        verbose_name=_("owner"),
    )
    name = models.CharField(_("name"), max_length=100)
    scopes = models.JSONField(_("scopes"), default=list)
    prefix = models.CharField(_("prefix"), max_length=16, db_index=True)
    secret_hash = models.CharField(_("secret hash"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"))
    expires_at = models.DateTimeField(_("expires at"))
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        db_table = "api_personalaccesstoken"
        verbose_name = _("personal access token")
        verbose_name_plural = _("personal access tokens")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def is_usable_at(self, moment: dt.datetime) -> bool:
        """Return whether the token is neither revoked nor expired at `moment`."""
        return self.revoked_at is None and moment < self.expires_at

    def allows(self, scope: str) -> bool:
        return scope in self.scopes


class TokenFamily(models.Model):
    """Every access and refresh token descending from one API login carries its id.

    Revoking the family (logout, a replayed refresh token, a password change) ends
    all of them at once, including access tokens the client no longer presents.
    """

    id = models.CharField(_("id"), max_length=32, primary_key=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="token_families",
        verbose_name=_("user"),
    )
    created_at = models.DateTimeField(_("created at"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_because = models.CharField(_("revoked because"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("API login")
        verbose_name_plural = _("API logins")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.id[:8]}"


class KnownDevice(models.Model):
    """A browser a staff person has logged in from: a long-lived signed cookie's id and the
    browser's family, hashed together (cer/accounts/known_devices.py).

    A login from a device not listed here tells the person (a security notice), except
    their very first one: with nothing known yet, nothing is new.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="known_devices",
        verbose_name=_("user"),
    )
    fingerprint = models.CharField(_("fingerprint"), max_length=64)
    label = models.CharField(_("browser"), max_length=100, blank=True)
    first_seen_at = models.DateTimeField(_("first seen at"))
    last_seen_at = models.DateTimeField(_("last seen at"))
    last_ip_address = models.GenericIPAddressField(_("last IP address"), null=True, blank=True)

    class Meta:
        verbose_name = _("known device")
        verbose_name_plural = _("known devices")
        ordering = ["user", "-last_seen_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "fingerprint"], name="known_device_once")
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.label}"
