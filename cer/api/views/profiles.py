"""A connection point's average days of a year: 24 local-hour values per month and day type."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from cer.access import visibility
from cer.api.permissions import on_object
from cer.api.views.resources import ScopedDetail
from cer.metering.profiles import point_profiles
from cer.plants.models import ConnectionPoint
from cercalc import periods
from cercalc.periods import FIRST_YEAR, LAST_YEAR, ROME
from cercalc.profiles import DayType


class AverageDaySerializer(serializers.Serializer):
    month = serializers.CharField(help_text="Europe/Rome month, YYYY-MM.")
    day_type = serializers.ChoiceField(
        choices=[(t.value, t.value) for t in DayType],
        help_text="WEEKDAY (Monday-Friday) or WEEKEND (Saturday, Sunday, national holidays).",
    )
    injected_wh = serializers.ListField(
        child=serializers.IntegerField(allow_null=True),
        min_length=24,
        max_length=24,
        help_text="Average injected energy per local hour 0-23 [Wh, integer, rounded half up]; "
        "null where no day had that hour read.",
    )
    withdrawn_wh = serializers.ListField(
        child=serializers.IntegerField(allow_null=True),
        min_length=24,
        max_length=24,
        help_text="Average withdrawn energy per local hour 0-23 [Wh], as injected_wh.",
    )
    days = serializers.ListField(
        child=serializers.IntegerField(),
        min_length=24,
        max_length=24,
        help_text="How many days stand behind each hour's average.",
    )


class PointProfilesSerializer(serializers.Serializer):
    connection_point = serializers.IntegerField()
    year = serializers.IntegerField()
    average_days = AverageDaySerializer(many=True)


def _year(request: Request, *, default: int) -> int:
    raw = request.query_params.get("year")
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not FIRST_YEAR <= int(raw) <= LAST_YEAR:
        raise exceptions.ValidationError(
            {"year": [_("Give a year between 2000 and 2100, e.g. 2025.")]}
        )
    return int(raw)


def _values(values: Any, days: Any) -> list[int | None]:
    return [int(v) if d else None for v, d in zip(values, days, strict=True)]


@extend_schema(
    tags=["readings"],
    parameters=[
        OpenApiParameter(
            "year",
            OpenApiTypes.INT,
            required=False,
            description="Europe/Rome calendar year (2000-2100); the current one when omitted.",
        )
    ],
    responses={200: PointProfilesSerializer},
    description=(
        "The point's average day of each month and day type of the year, from its real "
        "readings (estimates left out): per local hour 0-23 the average energy as integer Wh "
        "(exact division rounded half up) and the number of days behind it. The two 02:00 "
        "hours of the last Sunday of October are summed into hour 2. See "
        "docs/algorithms/profiles.md."
    ),
)
class PointProfiles(ScopedDetail):
    access_rule = on_object(ConnectionPoint, view="plants.view_point_readings")
    scope = visibility.points_with_readings
    lookup_url_kwarg = "pk"

    def get(self, request: Request, pk: int) -> Response:
        point = self.get_object()
        year = _year(request, default=self.now().astimezone(ROME).year)
        profiles = point_profiles(point=point, period=periods.year(year))
        rows = [
            {
                "month": f"{average.year:04d}-{average.month:02d}",
                "day_type": average.day_type,
                "injected_wh": _values(average.injected_wh, average.days),
                "withdrawn_wh": _values(average.withdrawn_wh, average.days),
                "days": average.days.tolist(),
            }
            for average in profiles.average_days.values()
        ]
        payload = {"connection_point": point.pk, "year": year, "average_days": rows}
        return Response(PointProfilesSerializer(payload).data)
