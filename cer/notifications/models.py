"""Notifications to members and administrators: the inbox, preferences and deliveries.

A `Notification` is one item of a user's inbox, written in their language when it was
made; each channel it goes out on (e-mail today) is a `Delivery` with its own state,
attempts and back-off, and every attempt leaves a `DeliveryAttempt`. A user's choices
are `Preference` rows (topic x channel on or off) and one `RecipientSettings` row (quiet
hours, the language of their messages).

This app stands on the ground floor (cer/layers.py): it keeps the community only as an
id and a name, and asks the apps above, through what they registered, who manages it.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Notification(models.Model):
    """One message in a user's inbox, with the link to what it is about."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("user"),
    )
    topic = models.CharField(_("topic"), max_length=80)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("body"))
    # A path on this site ("/members/applications/7/"), never another site's address.
    link = models.CharField(_("link"), max_length=500, blank=True)
    urgent = models.BooleanField(_("urgent"), default=False)
    # The community the message speaks for (its name is the e-mail's sender name); an id,
    # not a foreign key: communities stand on a floor above this app.
    community_id = models.PositiveBigIntegerField(_("community"), null=True, blank=True)
    sender_name = models.CharField(_("sender name"), max_length=200, blank=True)
    # The same condition (a device silent since a given hour) is told once per user.
    dedupe_key = models.CharField(_("deduplication key"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"))
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            models.Index(fields=["user", "read_at"], name="notification_unread"),
            models.Index(fields=["user", "dedupe_key"], name="notification_dedupe"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.subject}"


class RecipientSettings(models.Model):
    """A user's quiet hours and the language their messages are written in."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notification_settings",
        verbose_name=_("user"),
    )
    language = models.CharField(
        _("language"), max_length=8, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )
    # Local time (Europe/Rome); the quiet period may cross midnight (22:00 to 07:00).
    quiet_from = models.TimeField(_("quiet hours from"), null=True, blank=True)
    quiet_to = models.TimeField(_("quiet hours to"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification settings")
        verbose_name_plural = _("notification settings")

    def __str__(self) -> str:
        return f"{self.user_id} ({self.language})"

    def is_quiet_at(self, local_time: dt.time) -> bool:
        """Return whether `local_time` falls in the quiet hours [quiet_from, quiet_to)."""
        if self.quiet_from is None or self.quiet_to is None or self.quiet_from == self.quiet_to:
            return False
        if self.quiet_from < self.quiet_to:
            return self.quiet_from <= local_time < self.quiet_to
        return local_time >= self.quiet_from or local_time < self.quiet_to


class Preference(models.Model):
    """A user's choice for one topic on one channel; without a row, the topic's default."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notification_preferences",
        verbose_name=_("user"),
    )
    topic = models.CharField(_("topic"), max_length=80)
    channel = models.CharField(_("channel"), max_length=20)
    enabled = models.BooleanField(_("enabled"))

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "topic", "channel"], name="notification_preference_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.topic} {self.channel}: {self.enabled}"


class DeliveryState(models.TextChoices):
    QUEUED = "QUEUED", _("Queued")
    SENDING = "SENDING", _("Sending")
    SENT = "SENT", _("Sent")
    FAILED = "FAILED", _("Failed, will retry")
    PERMANENT_FAILURE = "PERMANENT", _("Failed for good")


class Delivery(models.Model):
    """One notification on one channel: queued, claimed by one sender, sent or failed."""

    notification = models.ForeignKey(
        Notification,
        on_delete=models.CASCADE,
        related_name="deliveries",
        verbose_name=_("notification"),
    )
    channel = models.CharField(_("channel"), max_length=20)
    state = models.CharField(
        _("state"), max_length=9, choices=DeliveryState.choices, default=DeliveryState.QUEUED
    )
    # Grouped with the user's other digest deliveries into one daily e-mail.
    digest = models.BooleanField(_("in the digest"), default=False)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"))
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        ordering = ["next_attempt_at", "pk"]
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="delivery_due")]

    def __str__(self) -> str:
        return f"{self.notification_id} {self.channel} {self.state}"


class DeliveryAttempt(models.Model):
    """The outcome of one attempt to send a delivery: the log of what happened."""

    delivery = models.ForeignKey(
        Delivery, on_delete=models.CASCADE, related_name="attempt_log", verbose_name=_("delivery")
    )
    at = models.DateTimeField(_("at"))
    outcome = models.CharField(_("outcome"), max_length=9, choices=DeliveryState.choices)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")

    def __str__(self) -> str:
        return f"{self.delivery_id} {self.at:%Y-%m-%d %H:%M} {self.outcome}"


class PushSubscription(models.Model):
    """A browser a user asked to receive web push on (RFC 8030, keys of RFC 8291).

    Checked before it is stored (cer/notifications/webpush.py); a push service that
    answers 404 or 410 has forgotten it, and it is removed.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="push_subscriptions",
        verbose_name=_("user"),
    )
    endpoint = models.URLField(_("endpoint"), max_length=1000, unique=True)
    # base64url: the browser's P-256 public key (65 bytes) and its auth secret (16 bytes).
    p256dh = models.CharField(_("public key (p256dh)"), max_length=100)
    auth = models.CharField(_("authentication secret"), max_length=40)
    user_agent = models.CharField(_("browser"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"))
    last_success_at = models.DateTimeField(_("last delivered"), null=True, blank=True)
    failures = models.PositiveIntegerField(_("failures in a row"), default=0)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("push subscription")
        verbose_name_plural = _("push subscriptions")

    def __str__(self) -> str:
        return f"{self.user_id} {self.device}"

    @property
    def device(self) -> str:
        """A short name a person recognises ("Chrome, Linux") from the browser's user agent."""
        agent = self.user_agent
        browser = next(
            (name for token, name in _BROWSERS if token in agent), agent.split("/")[0][:30]
        )
        system = next((name for token, name in _SYSTEMS if token in agent), "")
        return f"{browser}, {system}" if system else browser


# The first token found names it: Edge and Opera also say "Chrome", Chrome says "Safari".
_BROWSERS = (
    ("Edg", "Edge"),
    ("OPR", "Opera"),
    ("Firefox", "Firefox"),
    ("Chrome", "Chrome"),
    ("Safari", "Safari"),
)
_SYSTEMS = (
    ("Android", "Android"),
    ("iPhone", "iOS"),
    ("iPad", "iOS"),
    ("Windows", "Windows"),
    ("Mac OS", "macOS"),
    ("Linux", "Linux"),
)
