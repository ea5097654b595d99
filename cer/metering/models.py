"""Hourly energy readings per connection point: the series everything else is computed from."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class ReadingSource(models.TextChoices):
    """Where a reading came from; codes are short because the table holds millions of rows."""

    DEVICE = "DEV", _("Device (MQTT or HTTP)")
    GRID_OPERATOR = "DSO", _("Grid operator")
    MANUAL = "MAN", _("Manual entry")
    ESTIMATED = "EST", _("Estimate")


class ReadingQuality(models.TextChoices):
    """How far an hour's energy was measured; EST and INT make a settlement provisional."""

    VALID = "OK", _("Valid")
    ESTIMATED = "EST", _("Estimated")
    SUSPECT = "SUS", _("Suspect")
    # Device energy spread across a gap longer than one reporting interval: the total is
    # measured, its split over the hours is not (docs/metering.md, Gaps).
    INTERPOLATED = "INT", _("Interpolated across a gap")


# Qualities whose hours are not measured hour by hour: a settlement using them is provisional.
NOT_MEASURED_QUALITIES = (ReadingQuality.ESTIMATED.value, ReadingQuality.INTERPOLATED.value)


class HourlyReadingQuerySet(models.QuerySet["HourlyReading"]):
    def between(self, start: dt.datetime, end: dt.datetime) -> HourlyReadingQuerySet:
        """Readings whose hour starts in [start, end) (aware datetimes)."""
        return self.filter(hour_start__gte=start, hour_start__lt=end)


class HourlyReading(models.Model):
    """Energy injected and withdrawn at one connection point in one UTC hour [Wh].

    One row per (point, hour start, source): several sources may coexist and a
    precedence rule chooses between them. The unique index on
    (connection_point, hour_start, source) also serves range scans per point.
    """

    connection_point = models.ForeignKey(
        "plants.ConnectionPoint",
        on_delete=models.PROTECT,
        related_name="hourly_readings",
        verbose_name=_("connection point"),
        db_index=False,  # the unique index below starts with this column
    )
    hour_start = models.DateTimeField(_("hour start (UTC)"))
    injected_wh = models.BigIntegerField(_("injected [Wh]"), default=0)
    withdrawn_wh = models.BigIntegerField(_("withdrawn [Wh]"), default=0)
    source = models.CharField(_("source"), max_length=3, choices=ReadingSource.choices)
    quality = models.CharField(
        _("quality"), max_length=3, choices=ReadingQuality.choices, default=ReadingQuality.VALID
    )

    objects = HourlyReadingQuerySet.as_manager()

    class Meta:
        verbose_name = _("hourly reading")
        verbose_name_plural = _("hourly readings")
        constraints = [
            models.UniqueConstraint(
                fields=["connection_point", "hour_start", "source"],
                name="hourly_reading_one_per_point_hour_source",
            ),
            models.CheckConstraint(
                condition=models.Q(injected_wh__gte=0) & models.Q(withdrawn_wh__gte=0),
                name="hourly_reading_energy_not_negative",
            ),
        ]
        indexes = [models.Index(fields=["hour_start"], name="hourly_reading_hour_idx")]

    def __str__(self) -> str:
        return f"{self.connection_point_id} {self.hour_start:%Y-%m-%d %H:%M}Z"


class ReadingsVersion(models.Model):
    """Bumped whenever readings of the community change; part of every cache key.

    Owned by metering, which writes the readings (cer.metering.versions); the table keeps
    the name it had when the dashboards owned it.
    """

    community = models.OneToOneField(
        "communities.Community",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("community"),
    )
    version = models.PositiveBigIntegerField(_("version"), default=0)
    bumped_at = models.DateTimeField(_("bumped at"), null=True, blank=True)

    class Meta:
        db_table = "dashboards_readingsversion"
        verbose_name = _("readings version")
        verbose_name_plural = _("readings versions")

    def __str__(self) -> str:
        return f"{self.community_id} v{self.version}"


class DeviceKind(models.TextChoices):
    """Payload format a device speaks; see docs/metering.md."""

    OWN_JSON = "OWN_JSON", _("CerCollettiva JSON")
    # One ingestion path per device: the kind decides which Shelly topics count.
    SHELLY_EM = "SHELLY_EM", _("Shelly Gen2/Gen3, RPC notifications (events/rpc)")
    SHELLY_STATUS = "SHELLY_STS", _("Shelly Gen2/Gen3, generic status only (status/...)")
    TASMOTA = "TASMOTA", _("Tasmota (energy or SML)")


class DeviceStatus(models.TextChoices):
    ACTIVE = "ACTIVE", _("Active")
    DISABLED = "DISABLED", _("Disabled")
    DELETED = "DELETED", _("Deleted")


DEVICE_NAME_VALIDATOR = RegexValidator(
    r"^[a-z0-9][a-z0-9_-]{0,39}$",
    _("Use 1 to 40 lower-case letters, digits, '-' or '_' (the name becomes an MQTT topic level)."),
)


class Device(models.Model):
    """A meter that publishes readings of one connection point over MQTT or HTTP.

    The broker holds the MQTT account (dynamic-security plugin); we keep only a
    hash of the secret, made with Django's password hashers, for HTTP Basic auth.
    Devices are never removed: a deleted device keeps its samples and rejections.
    """

    connection_point = models.ForeignKey(
        "plants.ConnectionPoint",
        on_delete=models.PROTECT,
        related_name="devices",
        verbose_name=_("connection point"),
    )
    name = models.CharField(_("name"), max_length=40, validators=[DEVICE_NAME_VALIDATOR])
    serial_number = models.CharField(_("serial number"), max_length=64, blank=True)
    kind = models.CharField(_("payload format"), max_length=10, choices=DeviceKind.choices)
    meter_channel = models.PositiveSmallIntegerField(
        _("meter channel"),
        default=0,
        help_text=_("For meters with several channels (Shelly Pro EM): the one at the POD."),
    )
    counter_rollover_wh = models.BigIntegerField(
        _("counter rollover [Wh]"),
        null=True,
        blank=True,
        help_text=_("Value at which the device's energy counters wrap to zero, if they do."),
    )
    mqtt_username = models.CharField(_("MQTT username"), max_length=80, unique=True)
    secret_hash = models.CharField(_("secret hash"), max_length=256)
    status = models.CharField(
        _("status"), max_length=8, choices=DeviceStatus.choices, default=DeviceStatus.ACTIVE
    )
    created_at = models.DateTimeField(_("created at"))
    rotated_at = models.DateTimeField(_("secret rotated at"), null=True, blank=True)
    status_changed_at = models.DateTimeField(_("status changed at"), null=True, blank=True)

    class Meta:
        ordering = ["connection_point", "name"]
        verbose_name = _("device")
        verbose_name_plural = _("devices")
        constraints = [
            # A deleted device frees its name: the replacement may publish on the same topic.
            models.UniqueConstraint(
                fields=["connection_point", "name"],
                condition=~models.Q(status="DELETED"),
                name="device_name_unique_per_point",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.connection_point_id}/{self.name}"

    @property
    def topic_prefix(self) -> str:
        """The only topic subtree the device may publish to: cer/<configuration>/<pod>/<name>."""
        point = self.connection_point
        return f"cer/{point.configuration_id}/{point.pod}/{self.name}"

    @property
    def broker_role(self) -> str:
        return f"device-{self.mqtt_username}"


class IntervalEnergy(models.Model):
    """Energy of one connection point in one reported interval [start_at, end_at) [Wh].

    An interval is keyed by its span: a replayed one (same span, same energy) adds
    nothing, one overlapping an accepted span is rejected, and one with the same span and
    other energy replaces it only when it says `"correction": true`
    (cer.metering.intervals). Accepted spans never overlap, so (point, start) stays unique.
    """

    connection_point = models.ForeignKey(
        "plants.ConnectionPoint",
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        verbose_name=_("connection point"),
    )
    device = models.ForeignKey(
        Device, on_delete=models.PROTECT, null=True, related_name="+", verbose_name=_("device")
    )
    start_at = models.DateTimeField(_("start (UTC)"))
    end_at = models.DateTimeField(_("end (UTC)"))
    injected_wh = models.BigIntegerField(_("injected [Wh]"))
    withdrawn_wh = models.BigIntegerField(_("withdrawn [Wh]"))
    received_at = models.DateTimeField(_("received at"))

    class Meta:
        verbose_name = _("interval energy")
        verbose_name_plural = _("interval energies")
        constraints = [
            models.UniqueConstraint(
                fields=["connection_point", "start_at"], name="interval_energy_one_per_start"
            ),
        ]


class CounterChannel(models.TextChoices):
    INJECTED = "INJ", pgettext_lazy("energy", "Injected")
    WITHDRAWN = "WDR", pgettext_lazy("energy", "Withdrawn")


class CounterState(models.TextChoices):
    """What the counter rules made of a value (cer.metering.counter_rules); codes equal theirs."""

    ACCEPTED = "OK", _("Accepted")
    QUARANTINED = "QUA", _("In quarantine")
    RELEASED = "REL", _("Released")
    DISCARDED = "DIS", _("Discarded")
    START = "NEW", _("New meter's start reading")


class CounterSample(models.Model):
    """One value of a device's cumulative energy counter [Wh], the baseline of the next delta.

    `delta_wh` is the energy booked over [booked_from, measured_at); keeping it lets a
    late sample that lands between two others split that interval exactly. A value the
    counter rules refuse stays here in quarantine (state QUA, with its reason), so that a
    value arriving later can still change the verdict; a person releases or discards it.
    """

    device = models.ForeignKey(
        Device, on_delete=models.PROTECT, related_name="+", db_index=False, verbose_name=_("device")
    )
    channel = models.CharField(_("channel"), max_length=3, choices=CounterChannel.choices)
    measured_at = models.DateTimeField(_("measured at (UTC)"))
    value_wh = models.BigIntegerField(_("counter [Wh]"))
    delta_wh = models.BigIntegerField(_("energy since previous sample [Wh]"), default=0)
    received_at = models.DateTimeField(_("received at"))
    state = models.CharField(
        _("state"), max_length=3, choices=CounterState.choices, default=CounterState.ACCEPTED
    )
    booked_from = models.DateTimeField(_("energy booked from (UTC)"), null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    stamped_on_arrival = models.BooleanField(
        _("stamped on arrival"),
        default=False,
        help_text=_("The message carried no time: the value is dated by its arrival."),
    )
    epoch = models.CharField(
        _("counter epoch"),
        max_length=40,
        blank=True,
        help_text=_("What the device says about when its counter started (e.g. TotalStartTime)."),
    )
    resolved_at = models.DateTimeField(_("released or discarded at"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("released or discarded by"),
    )

    class Meta:
        verbose_name = _("counter sample")
        verbose_name_plural = _("counter samples")
        constraints = [
            models.UniqueConstraint(
                fields=["device", "channel", "measured_at"], name="counter_sample_one_per_instant"
            ),
        ]
        indexes = [
            # The quarantine list of a device, and its retention, read only these rows.
            models.Index(
                fields=["device", "measured_at"],
                condition=~models.Q(state="OK"),
                name="counter_sample_not_accepted",
            ),
        ]


class IngestedMessage(models.Model):
    """Digest of an accepted message whose readings are stamped with the arrival time.

    Shelly status messages carry no timestamp: a redelivered copy would arrive at a
    new time, so the bytes themselves are the idempotency key.
    """

    device = models.ForeignKey(
        Device, on_delete=models.PROTECT, related_name="+", db_index=False, verbose_name=_("device")
    )
    digest = models.CharField(_("SHA-256 of topic and payload"), max_length=64)
    received_at = models.DateTimeField(_("received at"))

    class Meta:
        verbose_name = _("ingested message")
        verbose_name_plural = _("ingested messages")
        constraints = [
            models.UniqueConstraint(fields=["device", "digest"], name="ingested_message_once"),
        ]
        # The daily retention run deletes by age (cer.metering.retention).
        indexes = [models.Index(fields=["received_at"], name="ingested_message_received")]


class IngestChannel(models.TextChoices):
    MQTT = "MQTT", _("MQTT")
    HTTP = "HTTP", _("HTTP")


class RejectedMessage(models.Model):
    """A message we could not accept, kept byte for byte with the precise reason."""

    channel = models.CharField(_("channel"), max_length=4, choices=IngestChannel.choices)
    topic = models.CharField(_("topic or path"), max_length=500)
    payload = models.BinaryField(_("payload"))
    received_at = models.DateTimeField(_("received at"))
    field = models.CharField(_("field"), max_length=200, blank=True)
    reason = models.TextField(_("reason"))
    configuration = models.ForeignKey(
        "communities.Configuration",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("configuration"),
    )
    device = models.ForeignKey(
        Device,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("device"),
    )

    class Meta:
        ordering = ["-received_at", "-pk"]
        verbose_name = _("rejected message")
        verbose_name_plural = _("rejected messages")
        indexes = [
            models.Index(
                fields=["configuration", "-received_at"], name="rejected_by_configuration"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.topic} ({self.received_at:%Y-%m-%d %H:%M:%S})"

    @property
    def payload_preview(self) -> str:
        """The first 200 bytes, decoded leniently for display."""
        return bytes(self.payload[:200]).decode("utf-8", errors="replace")


class PackedMonth(models.Model):
    """One point's hourly readings of one source over a closed month, packed: the record.

    Once a month is packed (and the copy checked equal to the rows) its hourly rows are
    deleted: closed months live only here, one row per point and source instead of 744 per
    point (cer/metering/packed.py). Every reader of readings in cer/metering/series.py reads
    these with the rows. A write into a packed month first unpacks that point's month back
    into rows, in the same transaction, and the packer packs it again later. A point packed
    for a month with no reading at all keeps one row with an empty source, so that it is
    not read again.

    The series are the month's hours from `month_start` (Europe/Rome month, stored as its
    first UTC instant): `present` and `not_measured` are bit masks (NumPy packbits), the
    energies little-endian int64 compressed with zlib, `quality` one byte per hour (the
    index of its code in `packed.QUALITY_CODES`) compressed with zlib.
    """

    connection_point = models.ForeignKey(
        "plants.ConnectionPoint",
        on_delete=models.PROTECT,  # readings are a record, as the rows are
        related_name="+",
        verbose_name=_("connection point"),
        db_index=False,  # the unique index below starts with this column
    )
    month_start = models.DateTimeField(_("month start (UTC)"))
    hour_count = models.PositiveSmallIntegerField(_("hours"))
    source = models.CharField(_("source"), max_length=3, blank=True)
    present = models.BinaryField(_("hours with a reading"))
    not_measured = models.BinaryField(_("hours not measured"))
    injected = models.BinaryField(_("injected [Wh], packed"))
    withdrawn = models.BinaryField(_("withdrawn [Wh], packed"))
    quality = models.BinaryField(_("quality per hour, packed"), default=b"")
    packed_at = models.DateTimeField(_("packed at"))

    class Meta:
        verbose_name = _("packed month of readings")
        verbose_name_plural = _("packed months of readings")
        constraints = [
            models.UniqueConstraint(
                fields=["connection_point", "month_start", "source"],
                name="packed_month_one_per_point_month_source",
            )
        ]

    def __str__(self) -> str:
        return f"{self.connection_point_id} {self.month_start:%Y-%m} {self.source}"
