"""Serializer fields for the API's conventions: aware instants, kWh from Wh, strict bodies."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cer.core.validators import normalise_code
from cercalc.money import UnitError, format_kwh, parse_scaled

# 10**12 kWh: no connection point exchanges that much energy in an hour.
MAX_WH = 10**15
KWH_PATTERN = r"^[0-9]{1,12}(\.[0-9]{1,3})?$"


class AwareDateTimeField(serializers.DateTimeField):
    """An ISO 8601 instant with its offset (`2025-03-30T02:00:00+01:00`); naive ones are refused."""

    default_error_messages = {
        "naive": _("Give the time with its UTC offset, e.g. 2025-03-30T03:00:00+02:00 or ...Z."),
        "invalid": _("Not an ISO 8601 date and time, e.g. 2025-03-30T03:00:00+02:00."),
    }

    def to_internal_value(self, value: Any) -> dt.datetime:
        try:
            moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            moment = None
        if moment is None or len(value) > 40:
            raise serializers.ValidationError(self.error_messages["invalid"], code="invalid")
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise serializers.ValidationError(self.error_messages["naive"], code="naive")
        return moment.astimezone(dt.UTC)


@extend_schema_field(
    {"type": "string", "pattern": KWH_PATTERN, "example": "1.234", "description": "kWh"}
)
class KwhField(serializers.Field):
    """Energy shown as a kWh string with three decimals, stored as integer Wh."""

    default_error_messages = {
        "invalid": _('Send the energy in kWh as a string with at most 3 decimals, e.g. "1.234".'),
        "negative": _("The energy cannot be negative."),
        "too_large": _("The energy is implausibly large."),
    }

    def to_representation(self, value: int) -> str:
        return format_kwh(value)

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, (str, int)):
            self.fail("invalid")
        try:
            energy_wh = parse_scaled(str(data).strip(), 3, allow_negative=True)
        except UnitError:
            self.fail("invalid")
        if energy_wh < 0:
            self.fail("negative")
        if energy_wh >= MAX_WH:
            self.fail("too_large")
        return energy_wh


class CodeField(serializers.CharField):
    """An identifier normalised as registries print it: no spaces, upper case."""

    def to_internal_value(self, data: Any) -> str:
        return normalise_code(super().to_internal_value(data))


class StrictFieldsMixin:
    """Refuse a body that names a field the serializer does not know (400 naming it)."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            known = set(self.fields)  # type: ignore[attr-defined]
            unknown = sorted(str(key) for key in data if key not in known)
            if unknown:
                raise serializers.ValidationError(
                    {name: [str(_("Unknown field."))] for name in unknown}
                )
        return super().to_internal_value(data)  # type: ignore[misc]
