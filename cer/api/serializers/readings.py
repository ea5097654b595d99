"""Hourly readings of a connection point, in and out, and the period of a query.

Energy is a kWh string with three decimals; the model is named only by cer.metering.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from cer.api.fields import AwareDateTimeField, KwhField
from cer.api.serializers.base import StrictSerializer
from cer.metering.models import ReadingQuality, ReadingSource

MAX_READINGS_PER_REQUEST = 10_000


# One stored hour of one source, as the API shows it. A plain serializer, so that only
# cer.metering names the readings model; fields, labels and OpenAPI output are those the
# model serializer it replaces gave (a comment, not a docstring: that would enter the schema).
class HourlyReadingSerializer(serializers.Serializer):
    hour_start = serializers.DateTimeField()
    injected_kwh = KwhField(source="injected_wh")
    withdrawn_kwh = KwhField(source="withdrawn_wh")
    source = serializers.ChoiceField(
        label=capfirst(_("source")), choices=ReadingSource.choices, read_only=True
    )
    quality = serializers.ChoiceField(
        label=capfirst(_("quality")), choices=ReadingQuality.choices, read_only=True
    )


class ReadingInputSerializer(StrictSerializer):
    hour_start = AwareDateTimeField(help_text=_("Start of the hour, with its UTC offset."))
    injected_kwh = KwhField(source="injected_wh")
    withdrawn_kwh = KwhField(source="withdrawn_wh")
    quality = serializers.ChoiceField(choices=ReadingQuality.choices, default=ReadingQuality.VALID)

    def validate_hour_start(self, value: dt.datetime) -> dt.datetime:
        if value.minute or value.second or value.microsecond:
            raise serializers.ValidationError(_("An hour starts at minute 0, second 0."))
        if value > timezone.now():
            raise serializers.ValidationError(_("The hour has not started yet."))
        if value.year < 2000:
            raise serializers.ValidationError(_("The hour is before the year 2000."))
        return value


class ReadingsBulkSerializer(StrictSerializer):
    source = serializers.ChoiceField(
        choices=[
            (ReadingSource.GRID_OPERATOR, ReadingSource.GRID_OPERATOR.label),
            (ReadingSource.MANUAL, ReadingSource.MANUAL.label),
            (ReadingSource.ESTIMATED, ReadingSource.ESTIMATED.label),
        ],
        default=ReadingSource.MANUAL,
    )
    readings = ReadingInputSerializer(
        many=True, allow_empty=False, max_length=MAX_READINGS_PER_REQUEST
    )

    def validate_readings(self, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        seen: dict[dt.datetime, int] = {}
        errors: list[dict[str, list[str]]] = [{} for _item in value]
        for index, item in enumerate(value):
            if item["hour_start"] in seen:
                errors[index] = {"hour_start": [str(_("The same hour appears twice."))]}
            seen[item["hour_start"]] = index
        if any(errors):
            raise serializers.ValidationError(errors)
        return value


class ReadingsWrittenSerializer(serializers.Serializer):
    written = serializers.IntegerField(help_text=_("Hours created or replaced."))


class PeriodQuerySerializer(StrictSerializer):
    """`from` and `to`: an ISO 8601 instant with offset each; the period is [from, to)."""

    max_days = 400

    def get_fields(self) -> dict[str, serializers.Field]:
        return {"from": AwareDateTimeField(), "to": AwareDateTimeField()}

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["to"] <= attrs["from"]:
            raise serializers.ValidationError({"to": [_("`to` must come after `from`.")]})
        if attrs["to"] - attrs["from"] > dt.timedelta(days=self.max_days):
            raise serializers.ValidationError(
                {"to": [_("The period may span at most %(days)d days.") % {"days": self.max_days}]}
            )
        return attrs
