"""Communities, members, connection points, plants, readings, prices, devices and the audit log."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any, ClassVar

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import OuterRef, Prefetch, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, generics, status
from rest_framework.request import Request
from rest_framework.response import Response

from cer.access import readings as readings_visibility
from cer.access import visibility
from cer.access.rules import community_of
from cer.accounts.models import TokenScope
from cer.api import serializers as s
from cer.api.errors import ServiceUnavailable
from cer.api.fields import AwareDateTimeField
from cer.api.permissions import LOGGED_IN, on_object
from cer.api.views.base import ApiView, AuditedWrites
from cer.audit.services import record
from cer.communities.models import Community, Configuration, MarketZone
from cer.incentives.models import ZonalPrice
from cer.members import changes
from cer.members import services as member_services
from cer.members.models import Member, Membership
from cer.metering import broker, recording, series
from cer.metering import devices as device_accounts
from cer.metering.models import Device, ReadingSource
from cer.plants import services as plant_services
from cer.plants.models import ConnectionPoint, Plant
from cer.plants.points import change_pod
from cer.settlement.models import RunPlant, RunStatus, SettlementRun

ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)
PERIOD = [
    OpenApiParameter(
        "from",
        OpenApiTypes.DATETIME,
        required=True,
        description="Start of the period, ISO 8601 with offset (included).",
    ),
    OpenApiParameter(
        "to",
        OpenApiTypes.DATETIME,
        required=True,
        description="End of the period, ISO 8601 with offset (excluded).",
    ),
]
OPTIONAL_PERIOD = [
    OpenApiParameter(p.name, OpenApiTypes.DATETIME, required=False, description=p.description)
    for p in PERIOD
]


def parse_period(request: Request, *, required: bool) -> tuple[Any, Any]:
    """Return the aware (from, to) of the query string; 400 naming the parameter otherwise."""
    given = {
        key: request.query_params[key] for key in ("from", "to") if key in request.query_params
    }
    if not given and not required:
        return None, None
    period = s.PeriodQuerySerializer(data=given)
    period.is_valid(raise_exception=True)
    return period.validated_data["from"], period.validated_data["to"]


def _int_param(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    if not raw.isdigit() or len(raw) > 18:
        raise exceptions.ValidationError({name: [_("A whole number is required.")]})
    return int(raw)


def require(user: Any, permission: str, obj: Any) -> None:
    """Raise 403 unless the user holds `permission` on `obj` (which the user can see)."""
    if not user.has_perm(permission, obj):
        raise exceptions.PermissionDenied()


class ScopedList(ApiView):
    """A list of what the user may see: `scope` is a cer.access.visibility function."""

    scope: ClassVar[Any]
    access_rule = LOGGED_IN

    def get_queryset(self) -> QuerySet:
        return type(self).scope(self.request.user, today=self.today())


class ScopedDetail(ApiView):
    """One object, looked up among those the user may see (404 otherwise)."""

    scope: ClassVar[Any]

    def get_queryset(self) -> QuerySet:
        return type(self).scope(self.request.user, today=self.today())


# --- communities ------------------------------------------------------------------------


@extend_schema(tags=["communities"])
class CommunityList(ScopedList, generics.ListAPIView):
    scope = visibility.communities
    serializer_class = s.CommunitySerializer


@extend_schema(tags=["communities"])
class CommunityDetail(ScopedDetail, generics.RetrieveAPIView):
    access_rule = on_object(Community, view="communities.view_community")
    scope = visibility.communities
    serializer_class = s.CommunitySerializer


@extend_schema(
    tags=["communities"],
    parameters=[OpenApiParameter("community", OpenApiTypes.INT, required=False)],
)
class ConfigurationList(ScopedList, generics.ListAPIView):
    scope = visibility.configurations
    serializer_class = s.ConfigurationSerializer

    def get_queryset(self) -> QuerySet:
        community = _int_param(self.request, "community")
        queryset = super().get_queryset()
        return queryset if community is None else queryset.filter(community_id=community)


@extend_schema(tags=["communities"])
class ConfigurationDetail(ScopedDetail, generics.RetrieveAPIView):
    access_rule = on_object(Configuration, view="communities.view_community")
    scope = visibility.configurations
    serializer_class = s.ConfigurationSerializer


# --- members ----------------------------------------------------------------------------


@extend_schema_view(
    get=extend_schema(tags=["members"], responses={200: s.MemberSerializer(many=True)}),
    post=extend_schema(
        tags=["members"],
        request=s.MemberCreateSerializer,
        responses={201: s.MemberSerializer},
        description="Register a member and their membership of a community you manage.",
    ),
)
class MemberList(ScopedList, AuditedWrites, generics.ListCreateAPIView):
    token_scope = TokenScope.MEMBERS_WRITE
    scope = visibility.members
    audit_code = "members.member"

    def get_queryset(self) -> QuerySet:
        # Each member shows the memberships (and IBANs) the user may see: one query for all.
        visible = visibility.memberships(self.request.user, today=self.today()).order_by(
            "community_id", "valid_from"
        )
        return (
            super()
            .get_queryset()
            .prefetch_related(Prefetch("memberships", visible, to_attr="visible_memberships"))
        )

    def get_serializer_class(self) -> Any:
        return s.MemberCreateSerializer if self.request.method == "POST" else s.MemberSerializer

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = s.MemberCreateSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        person = dict(serializer.validated_data)
        membership = person.pop("_membership")
        # The IBAN given with a new member is the new membership's.
        iban = person.pop("iban", "")
        require(request.user, "communities.manage_community", membership["community"])
        joined = member_services.register_member(
            member=Member(**person),
            community=membership["community"],
            role=membership["role"],
            kind=membership["participation"],
            valid_from=membership["valid_from"],
            iban=iban,
            actor=request.user,
            now=self.now(),
        )
        answer = s.MemberSerializer(joined.member, context={"request": request}).data
        return Response(answer, status=status.HTTP_201_CREATED)


@extend_schema(tags=["members"])
class MemberDetail(ScopedDetail, AuditedWrites, generics.RetrieveUpdateAPIView):
    """The person's shared data, and the IBAN of the memberships the requester may change.

    A community's manager changes the shared data only while the person belongs to no
    community the manager does not manage (400 naming each field otherwise), and sets
    the IBAN of their own community's membership only.
    """

    access_rule = on_object(
        Member, view="members.view_member_details", change="members.change_member_details"
    )
    token_scope = TokenScope.MEMBERS_WRITE
    scope = visibility.members
    serializer_class = s.MemberSerializer
    audit_code = "members.member"

    def perform_update(self, serializer: Any) -> None:
        member = serializer.instance
        data = serializer.validated_data
        iban = data.pop("iban", None)
        user, now, today = self.request.user, self.now(), self.today()
        changed = [name for name, value in data.items() if getattr(member, name) != value]
        try:
            changes.check_shared_changes(member=member, actor=user, changed=changed, today=today)
        except changes.SharedWithAnotherCommunity as refusal:
            raise exceptions.ValidationError(
                {_API_NAMES.get(name, name): [changes.SHARED_REFUSAL] for name in refusal.fields}
            ) from refusal
        memberships = []
        if iban is not None:
            memberships = changes.memberships_for_iban(member=member, actor=user, today=today)
            if not memberships:
                raise exceptions.ValidationError(
                    {"iban": [_("The person has no membership whose IBAN you may change.")]}
                )
        before = {name: getattr(member, name) for name in changed}
        with transaction.atomic():
            instance = serializer.save()
            diff = {
                name: [before[name], getattr(instance, name)]
                for name in changed
                if before[name] != getattr(instance, name)
            }
            if diff:
                changes.record_member_change(member=instance, actor=user, now=now, changes=diff)
            for membership in memberships:
                changes.set_iban(membership=membership, iban=iban or "", actor=user, now=now)


# Fields whose serializer source differs from their name in the API.
_API_NAMES = {"municipality_id": "municipality"}


@extend_schema(tags=["members"])
class MembershipList(ScopedList, AuditedWrites, generics.ListCreateAPIView):
    token_scope = TokenScope.MEMBERS_WRITE
    scope = visibility.memberships
    serializer_class = s.MembershipSerializer
    audit_code = "members.membership"

    def perform_create(self, serializer: Any) -> None:
        require(
            self.request.user,
            "members.change_membership",
            serializer.validated_data["community"],
        )
        super().perform_create(serializer)


@extend_schema(tags=["members"])
class MembershipDetail(ScopedDetail, AuditedWrites, generics.RetrieveUpdateAPIView):
    access_rule = on_object(
        Membership, view="members.view_membership", change="members.change_membership"
    )
    token_scope = TokenScope.MEMBERS_WRITE
    scope = visibility.memberships
    serializer_class = s.MembershipSerializer
    audit_code = "members.membership"

    def perform_update(self, serializer: Any) -> None:
        # The IBAN goes through its own service: logged masked, and the person is told.
        iban = serializer.validated_data.pop("iban", None)
        with transaction.atomic():
            super().perform_update(serializer)
            if iban is not None:
                changes.set_iban(
                    membership=serializer.instance,
                    iban=iban,
                    actor=self.request.user,
                    now=self.now(),
                )


# --- connection points and plants --------------------------------------------------------


class _RegisteredUnder(AuditedWrites):
    """Creating or moving the object needs `parent_permission` on its new parent."""

    parent_field: ClassVar[str]
    parent_permission: ClassVar[str]

    def _check_parent(self, serializer: Any) -> None:
        parent = serializer.validated_data.get(self.parent_field)
        if parent is not None:
            require(self.request.user, self.parent_permission, parent)  # type: ignore[attr-defined]

    def perform_create(self, serializer: Any) -> None:
        self._check_parent(serializer)
        super().perform_create(serializer)

    def perform_update(self, serializer: Any) -> None:
        self._check_parent(serializer)
        super().perform_update(serializer)


@extend_schema(tags=["plants"])
class ConnectionPointList(ScopedList, _RegisteredUnder, generics.ListCreateAPIView):
    token_scope = TokenScope.PLANTS_WRITE
    scope = visibility.connection_points
    serializer_class = s.ConnectionPointSerializer
    audit_code = "plants.connection_point"
    parent_field = "configuration"
    parent_permission = "plants.register_plant"


@extend_schema(tags=["plants"])
class ConnectionPointDetail(ScopedDetail, _RegisteredUnder, generics.RetrieveUpdateAPIView):
    access_rule = on_object(
        ConnectionPoint,
        view="plants.view_connection_point",
        change="plants.change_connection_point",
    )
    token_scope = TokenScope.PLANTS_WRITE
    scope = visibility.connection_points
    serializer_class = s.ConnectionPointSerializer
    audit_code = "plants.connection_point"
    parent_field = "configuration"
    parent_permission = "plants.register_plant"

    def perform_update(self, serializer: Any) -> None:
        # A new POD code goes through change_pod, as on the web page: the old code stays on
        # record (PodChange) with today (Europe/Rome) as the first day of the new one.
        new_pod = serializer.validated_data.pop("pod", None)
        now = ApiView.now()
        with transaction.atomic():
            if new_pod is not None and new_pod != serializer.instance.pod:
                try:
                    change_pod(
                        point=serializer.instance,
                        new_pod=new_pod,
                        valid_from=timezone.localdate(now),
                        reason=_("changed through the API"),
                        actor=self.request.user,
                        now=now,
                    )
                except DjangoValidationError as error:
                    # The service names its own fields (new_pod, valid_from): here both
                    # are about the `pod` the request sent.
                    messages = [m for ms in error.message_dict.values() for m in ms]
                    raise exceptions.ValidationError({"pod": messages}) from error
            super().perform_update(serializer)


class _PlantWrites(_RegisteredUnder):
    """Plants are registered and changed by the plant services, as on the web pages.

    So the owner must be a member of the plant's community, the eligibility checks run
    on the plant and its community, and the audit codes are the web's.
    """

    parent_field = "connection_point"
    parent_permission = "plants.register_plant"

    def perform_create(self, serializer: Any) -> None:
        self._check_parent(serializer)
        with _owner_must_be_a_member():
            serializer.instance = plant_services.register_plant(
                plant=Plant(**serializer.validated_data),
                actor=self.request.user,  # type: ignore[attr-defined]
                now=ApiView.now(),
            )

    def perform_update(self, serializer: Any) -> None:
        self._check_parent(serializer)
        with _owner_must_be_a_member():
            serializer.instance = plant_services.change_plant(
                plant=serializer.instance,
                values=dict(serializer.validated_data),
                actor=self.request.user,  # type: ignore[attr-defined]
                now=ApiView.now(),
            )


@contextmanager
def _owner_must_be_a_member() -> Iterator[None]:
    try:
        yield
    except plant_services.PlantNotInCommunity as error:
        raise exceptions.ValidationError(
            {"owner": [_("The owner is not a member of the plant's community.")]}
        ) from error


@extend_schema(tags=["plants"])
class PlantList(ScopedList, _PlantWrites, generics.ListCreateAPIView):
    token_scope = TokenScope.PLANTS_WRITE
    scope = visibility.plants
    serializer_class = s.PlantSerializer

    def get_queryset(self) -> QuerySet:
        return super().get_queryset().order_by("pk")


@extend_schema(tags=["plants"])
class PlantDetail(ScopedDetail, _PlantWrites, generics.RetrieveUpdateAPIView):
    access_rule = on_object(Plant, view="plants.view_plant", change="plants.change_plant")
    token_scope = TokenScope.PLANTS_WRITE
    scope = visibility.plants
    serializer_class = s.PlantSerializer


@extend_schema(
    tags=["plants"],
    responses={200: s.IncentiveStatusSerializer},
    description=(
        "The plant's incentive as the settlement computed it: the sum over each settled "
        "month of the month's latest run, with the data it depends on. `status` is FINAL "
        "when every one of those runs is final, DRAFT when one is not yet, and "
        "NOT_COMPUTED (with `amount_eur` null) while no run includes the plant."
    ),
)
class PlantIncentive(ScopedDetail):
    access_rule = on_object(Plant, view="plants.view_plant")
    scope = visibility.plants

    def get(self, request: Request, pk: int) -> Response:
        plant = self.get_object()
        configuration = plant.connection_point.configuration
        rows = list(_latest_run_rows(plant))
        if not rows:
            status_code, message, amount = (
                "NOT_COMPUTED",
                _("No settlement run includes this plant yet."),
                None,
            )
        else:
            final = all(row.run.status == RunStatus.FINAL for row in rows)
            status_code = "FINAL" if final else "DRAFT"
            message = (
                _("The sum of the final settlement of each month.")
                if final
                else _("The sum of the latest settlement of each month; some are not final.")
            )
            amount = sum((row.incentive_eur for row in rows), Decimal("0.00"))
        return Response(
            s.IncentiveStatusSerializer(
                {
                    "plant": plant.pk,
                    "status": status_code,
                    "message": message,
                    "regime": plant.regime,
                    "is_existing": plant.is_existing,
                    "power_kw": plant.power_kw,
                    "entry_into_service_date": plant.entry_into_service_date,
                    "market_zone": configuration.market_zone,
                    "amount_eur": amount,
                    "months": [row.run.month.strftime("%Y-%m") for row in rows],
                }
            ).data
        )


def _latest_run_rows(plant: Plant) -> QuerySet[RunPlant]:
    """The plant's rows in the latest run (highest version) of each settled month."""
    latest = (
        SettlementRun.objects.filter(
            configuration_id=OuterRef("run__configuration_id"), month=OuterRef("run__month")
        )
        .order_by("-version")
        .values("pk")[:1]
    )
    return (
        RunPlant.objects.filter(plant=plant, run_id=Subquery(latest))
        .select_related("run")
        .order_by("run__month", "run__configuration_id")
    )


# --- readings ---------------------------------------------------------------------------


@extend_schema_view(
    get=extend_schema(
        tags=["readings"],
        parameters=[
            *PERIOD,
            OpenApiParameter("source", OpenApiTypes.STR, enum=list(ReadingSource.values)),
        ],
        responses={200: s.HourlyReadingSerializer(many=True)},
        description="Hourly readings of the point whose hour starts in [from, to).",
    ),
    post=extend_schema(
        tags=["readings"],
        request=s.ReadingsBulkSerializer,
        responses={200: s.ReadingsWrittenSerializer},
        description=(
            "Create or replace hourly readings of one source in one request (up to 10 000 "
            "hours). Each `hour_start` carries its UTC offset; energy is kWh as a string."
        ),
    ),
)
class PointReadings(ScopedDetail, generics.ListAPIView):
    access_rule = on_object(
        ConnectionPoint, view="plants.view_point_readings", change="metering.add_readings"
    )
    token_scope = TokenScope.READINGS_WRITE
    scope = visibility.points_with_readings
    serializer_class = s.HourlyReadingSerializer
    lookup_url_kwarg = "pk"

    def get_queryset(self) -> QuerySet:
        if getattr(self, "swagger_fake_view", False):
            return s.HourlyReadingSerializer.Meta.model.objects.none()
        return super().get_queryset()

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        point = self.get_object()
        start, end = parse_period(request, required=True)
        source = request.query_params.get("source")
        if source is not None and source not in ReadingSource.values:
            raise exceptions.ValidationError({"source": [_("Unknown source.")]})
        readings = series.point_readings(point_id=point.pk, start=start, end=end, source=source)
        page = self.paginate_queryset(readings)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def post(self, request: Request, pk: int) -> Response:
        point = self.get_object()
        body = s.ReadingsBulkSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        written = recording.write_point_readings(
            point=point,
            source=body.validated_data["source"],
            readings=body.validated_data["readings"],
            actor=request.user,
            now=self.now(),
        )
        return Response({"written": written})


# --- prices -----------------------------------------------------------------------------


@extend_schema(
    tags=["prices"],
    parameters=[
        OpenApiParameter("market_zone", OpenApiTypes.STR, enum=list(MarketZone.values)),
        *OPTIONAL_PERIOD,
    ],
    description="Day-ahead zonal prices [EUR/MWh] by market interval (public market data).",
)
class ZonalPriceList(ApiView, generics.ListAPIView):
    access_rule = LOGGED_IN
    serializer_class = s.ZonalPriceSerializer

    def get_queryset(self) -> QuerySet:
        prices = ZonalPrice.objects.order_by("market_zone", "interval_start")
        if getattr(self, "swagger_fake_view", False):
            return prices
        zone = self.request.query_params.get("market_zone")
        if zone is not None:
            if zone not in MarketZone.values:
                raise exceptions.ValidationError({"market_zone": [_("Unknown market zone.")]})
            prices = prices.filter(market_zone=zone)
        for name, lookup in (("from", "interval_start__gte"), ("to", "interval_start__lt")):
            if name in self.request.query_params:
                moment = _aware_param(self.request, name)
                prices = prices.filter(**{lookup: moment})
        return prices


def _aware_param(request: Request, name: str) -> Any:
    field = AwareDateTimeField()
    try:
        return field.run_validation(request.query_params[name])
    except exceptions.ValidationError as error:
        raise exceptions.ValidationError({name: error.detail}) from error


# --- device accounts --------------------------------------------------------------------


@extend_schema_view(
    get=extend_schema(tags=["devices"]),
    post=extend_schema(
        tags=["devices"],
        request=s.DeviceSerializer,
        responses={201: s.DeviceSecretSerializer},
        description=(
            "Create a device and its MQTT account, limited to the device's own topic. "
            "The secret is in the answer and never again."
        ),
    ),
)
class DeviceList(ScopedList, generics.ListCreateAPIView):
    token_scope = TokenScope.PLANTS_WRITE
    scope = readings_visibility.devices
    serializer_class = s.DeviceSerializer

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        point = data["connection_point"]
        require(request.user, "metering.manage_devices", point)
        now = self.now()
        try:
            with transaction.atomic():
                created = device_accounts.register_device(
                    point=point,
                    name=data["name"],
                    kind=data["kind"],
                    now=now,
                    serial_number=data.get("serial_number", ""),
                    meter_channel=data.get("meter_channel", 0),
                    counter_rollover_wh=data.get("counter_rollover_wh"),
                )
                record(
                    actor=request.user,
                    code="metering.device.created",
                    now=now,
                    target=created.device,
                    community=community_of(point),
                    changes={"name": ["", created.device.name], "kind": ["", created.device.kind]},
                )
        except device_accounts.DeviceNameTaken as error:
            raise exceptions.ValidationError(
                {"name": [_("Another device of this connection point uses this name.")]}
            ) from error
        except DjangoValidationError as error:
            raise exceptions.ValidationError(error.message_dict) from error
        except broker.BrokerError as error:
            raise ServiceUnavailable(_("The MQTT broker did not answer; retry later.")) from error
        answer = s.DeviceSecretSerializer(created.device).data
        answer["secret"] = created.secret
        return Response(answer, status=status.HTTP_201_CREATED)


def _device_change(request: Request, device: Device, action: Any, code: str) -> Any:
    now = ApiView.now()
    try:
        with transaction.atomic():
            outcome = action(device=device, now=now)
            record(
                actor=request.user,
                code=code,
                now=now,
                target=device,
                community=community_of(device),
            )
    except device_accounts.DeviceDeleted as error:
        raise exceptions.NotFound() from error
    except broker.BrokerError as error:
        raise ServiceUnavailable(_("The MQTT broker did not answer; retry later.")) from error
    return outcome


@extend_schema(tags=["devices"])
class DeviceDetail(ScopedDetail, generics.RetrieveDestroyAPIView):
    access_rule = on_object(
        Device, view="metering.manage_devices", change="metering.manage_devices"
    )
    token_scope = TokenScope.PLANTS_WRITE
    scope = readings_visibility.devices
    serializer_class = s.DeviceSerializer

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        device = self.get_object()
        _device_change(request, device, device_accounts.delete_device, "metering.device.deleted")
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(
    tags=["devices"],
    request=None,
    responses={200: s.DeviceSecretSerializer},
    description="Give the device a new secret; the old one stops working at once.",
)
class DeviceRotateSecret(ScopedDetail):
    access_rule = on_object(
        Device, view="metering.manage_devices", change="metering.manage_devices"
    )
    token_scope = TokenScope.PLANTS_WRITE
    scope = readings_visibility.devices

    def post(self, request: Request, pk: int) -> Response:
        device = self.get_object()
        rotated = _device_change(
            request, device, device_accounts.rotate_device_secret, "metering.device.rotated"
        )
        answer = s.DeviceSecretSerializer(rotated.device).data
        answer["secret"] = rotated.secret
        return Response(answer)


# --- audit log --------------------------------------------------------------------------


@extend_schema(
    tags=["audit"],
    parameters=[
        OpenApiParameter("community", OpenApiTypes.INT),
        OpenApiParameter("code", OpenApiTypes.STR, description="Prefix of the action code."),
        *OPTIONAL_PERIOD,
    ],
    description="Who created, changed or deleted what, newest first (managers only).",
)
class AuditEntryList(ScopedList, generics.ListAPIView):
    scope = visibility.audit_entries
    serializer_class = s.AuditEntrySerializer

    def get_queryset(self) -> QuerySet:
        entries = super().get_queryset()
        if getattr(self, "swagger_fake_view", False):
            return entries
        community = _int_param(self.request, "community")
        if community is not None:
            entries = entries.filter(community_id=community)
        code = self.request.query_params.get("code")
        if code:
            entries = entries.filter(code__startswith=code[:80])
        if "from" in self.request.query_params:
            entries = entries.filter(at__gte=_aware_param(self.request, "from"))
        if "to" in self.request.query_params:
            entries = entries.filter(at__lt=_aware_param(self.request, "to"))
        return entries.order_by("-at", "-pk")
