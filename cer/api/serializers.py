"""Translating API bodies to and from the models; the rules stay in models and services."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import exceptions, serializers
from rest_framework.fields import get_error_detail

from cer.accounts.models import PersonalAccessToken, TokenScope
from cer.api import visibility
from cer.api.fields import AwareDateTimeField, CodeField, KwhField, StrictFieldsMixin
from cer.audit.models import AuditEntry
from cer.communities.models import Community, Configuration
from cer.communities.uniqueness import pod_problem, tax_code_problem
from cer.core.validators import validate_fiscal_code, validate_iban, validate_pod
from cer.documents.models import Document, DocumentKind, DocumentVersion
from cer.incentives.models import ZonalPrice
from cer.members.models import Member, Membership, MembershipKind, MembershipRole
from cer.metering.models import Device, DeviceKind, HourlyReading, ReadingQuality, ReadingSource
from cer.plants.models import ConnectionPoint, Plant
from cer.privacy.models import Consent, ConsentPurpose

MAX_READINGS_PER_REQUEST = 10_000


def run_model_clean(model: type[models.Model], attrs: dict[str, Any], instance: Any) -> None:
    """Run the model's own `clean()` on the merged values; its errors name the fields."""
    candidate = model() if instance is None else instance
    values = {}
    for name, value in attrs.items():
        if hasattr(candidate, name):
            values[name] = getattr(candidate, name, None)
            setattr(candidate, name, value)
    try:
        candidate.clean()
    except DjangoValidationError as error:
        raise serializers.ValidationError(get_error_detail(error)) from error
    finally:
        if instance is not None:
            for name, value in values.items():
                setattr(instance, name, value)
    for name in attrs:
        # clean() normalises codes; keep the normalised value.
        if hasattr(candidate, name) and instance is None:
            attrs[name] = getattr(candidate, name)


class StrictModelSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    """A model serializer that refuses unknown fields and runs the model's clean().

    `scopes` maps a related field to the cer.api.visibility function that limits its
    choices to what the requesting user may see: another community's id is then
    "does not exist", exactly as if it did not.
    """

    scopes: dict[str, Callable[..., Any]] = {}

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        request = self.context.get("request")
        for name, scope in self.scopes.items():
            field = fields.get(name)
            if field is None or field.read_only:
                continue
            if request is None:
                field.queryset = field.queryset.none()  # type: ignore[attr-defined]
            else:
                field.queryset = scope(request.user, today=timezone.localdate())  # type: ignore[attr-defined]
        return fields

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        run_model_clean(self.Meta.model, attrs, self.instance)
        return attrs


class StrictSerializer(StrictFieldsMixin, serializers.Serializer):
    pass


def request_user(serializer: serializers.Serializer) -> Any:
    """Return the user of the serializer's request, or an anonymous one without a request."""
    request = serializer.context.get("request")
    return getattr(request, "user", None) or AnonymousUser()


# --- communities ------------------------------------------------------------------------


class CommunitySerializer(serializers.ModelSerializer):
    seat_municipality = serializers.CharField(source="seat_municipality_id", read_only=True)

    class Meta:
        model = Community
        fields = [
            "id",
            "name",
            "kind",
            "legal_form",
            "fiscal_code",
            "vat_number",
            "seat_address",
            "seat_municipality",
            "founding_date",
            "pec",
            "reading_source_order",
            "created_at",
        ]
        read_only_fields = fields


class ConfigurationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Configuration
        fields = [
            "id",
            "community",
            "name",
            "primary_substation",
            "market_zone",
            "region",
            "status",
            "gse_request_date",
            "gse_contract_start_date",
            "gse_contract_end_date",
        ]
        read_only_fields = fields


# --- members ----------------------------------------------------------------------------


class MembershipIbanSerializer(serializers.ModelSerializer):
    iban = serializers.CharField(read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "community", "role", "valid_from", "valid_to", "iban"]
        read_only_fields = fields


class MemberSerializer(StrictModelSerializer):
    # Unique through its blind index (the column is encrypted): the method below checks it.
    fiscal_code = CodeField(max_length=16, validators=[validate_fiscal_code])
    vat_number = CodeField(max_length=11, required=False, allow_blank=True)
    # The IBAN is the memberships', not the person's: written here, it goes to the
    # memberships the requester may change (cer.members.changes); read it in `memberships`.
    iban = CodeField(
        max_length=34,
        required=False,
        allow_blank=True,
        write_only=True,
        help_text=_(
            "Sets the IBAN of the memberships you may change: all of your own, or those of "
            "the communities you manage."
        ),
    )
    municipality = serializers.CharField(
        source="municipality_id", help_text=_("ISTAT code, e.g. 027038.")
    )
    user = serializers.PrimaryKeyRelatedField(read_only=True)
    memberships = serializers.SerializerMethodField(
        help_text=_("The memberships you may see, each with the IBAN its community pays to.")
    )

    class Meta:
        model = Member
        fields = [
            "id",
            "kind",
            "category",
            "first_name",
            "last_name",
            "company_name",
            "fiscal_code",
            "vat_number",
            "email",
            "pec",
            "phone",
            "address",
            "municipality",
            "iban",
            "memberships",
            "user",
            "created_at",
        ]
        read_only_fields = ["id", "user", "created_at"]

    @extend_schema_field(MembershipIbanSerializer(many=True))
    def get_memberships(self, member: Member) -> list[dict[str, Any]]:
        # Lists prefetch them (with_visible_memberships); without a request nobody is known
        # to look: none are shown rather than all.
        visible = getattr(member, "visible_memberships", None)
        if visible is None:
            user = request_user(self)
            visible = visibility.memberships(user, today=timezone.localdate()).filter(member=member)
            visible = visible.order_by("community_id", "valid_from")
        return MembershipIbanSerializer(visible, many=True).data

    # The community the member joins, which decides how plainly a taken tax code is refused.
    joining_community: Community | None = None

    def _refuse_a_taken_tax_code(self, attrs: dict[str, Any]) -> None:
        code = attrs.get("fiscal_code")
        if not code:
            return
        problem = tax_code_problem(
            code,
            user=request_user(self),
            community=self.joining_community,
            exclude_pk=getattr(self.instance, "pk", None),
        )
        if problem is not None:
            raise serializers.ValidationError({"fiscal_code": problem.messages}, code="unique")

    def validate_municipality(self, value: str) -> str:
        from cer.core.models import Municipality

        if not Municipality.objects.filter(pk=value).exists():
            raise serializers.ValidationError(_("Unknown ISTAT code."))
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        from cer.core.validators import validate_iban, validate_vat_number

        errors = {}
        for name, check in (("vat_number", validate_vat_number), ("iban", validate_iban)):
            if attrs.get(name):
                try:
                    check(attrs[name])
                except DjangoValidationError as error:
                    errors[name] = error.messages
        if errors:
            raise serializers.ValidationError(errors)
        self._refuse_a_taken_tax_code(attrs)
        return super().validate(attrs)


class MemberCreateSerializer(MemberSerializer):
    """A new member joins a community at once: the membership is created with them."""

    community = serializers.PrimaryKeyRelatedField(
        queryset=Community.objects.none(), write_only=True
    )
    scopes = {"community": visibility.communities}
    role = serializers.ChoiceField(
        choices=MembershipRole.choices, default=MembershipRole.MEMBER, write_only=True
    )
    participation = serializers.ChoiceField(
        choices=MembershipKind.choices, default=MembershipKind.CONSUMER, write_only=True
    )
    valid_from = serializers.DateField(write_only=True)

    class Meta(MemberSerializer.Meta):
        fields = [*MemberSerializer.Meta.fields, "community", "role", "participation", "valid_from"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        membership = {
            key: attrs.pop(key) for key in ("community", "role", "participation", "valid_from")
        }
        # Refused before the tax code is looked up: whether it is taken is no business of
        # someone who may not register members here.
        if not request_user(self).has_perm("communities.manage_community", membership["community"]):
            raise exceptions.PermissionDenied()
        self.joining_community = membership["community"]
        attrs = super().validate(attrs)
        attrs["_membership"] = membership
        return attrs


class MembershipSerializer(StrictModelSerializer):
    scopes = {"member": visibility.members, "community": visibility.communities}
    iban = CodeField(
        max_length=34,
        required=False,
        allow_blank=True,
        validators=[validate_iban],
        help_text=_("The account this community pays the member to."),
    )

    class Meta:
        model = Membership
        fields = ["id", "member", "community", "role", "kind", "valid_from", "valid_to", "iban"]

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        if self.instance is not None:
            # Member, community and start are history: end the membership, start a new one.
            for name in ("member", "community", "valid_from"):
                fields[name].read_only = True
        return fields

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start = attrs.get("valid_from", getattr(self.instance, "valid_from", None))
        end = attrs.get("valid_to", getattr(self.instance, "valid_to", None))
        if start and end and end <= start:
            raise serializers.ValidationError(
                {"valid_to": [_("The end of a membership must come after its start.")]}
            )
        return attrs


# --- plants -----------------------------------------------------------------------------


class ConnectionPointSerializer(StrictModelSerializer):
    scopes = {"configuration": visibility.configurations, "holder": visibility.members}

    # Unique on the platform: validate() refuses a taken POD without revealing where it is.
    pod = CodeField(max_length=15, validators=[validate_pod])

    class Meta:
        model = ConnectionPoint
        fields = [
            "id",
            "pod",
            "configuration",
            "holder",
            "voltage_level",
            "contracted_power_kw",
            "has_withdrawal",
            "has_injection",
            "address",
        ]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        configuration = attrs.get("configuration", getattr(self.instance, "configuration", None))
        pod = attrs.get("pod")
        if pod and configuration is not None:
            user = request_user(self)
            if "configuration" in attrs and not user.has_perm(
                "plants.register_plant", configuration
            ):
                # As for members: no answer about the POD to someone who may not register it.
                raise exceptions.PermissionDenied()
            problem = pod_problem(
                pod,
                user=user,
                community=configuration.community,
                exclude_pk=getattr(self.instance, "pk", None),
            )
            if problem is not None:
                raise serializers.ValidationError({"pod": problem.messages}, code="unique")
        return super().validate(attrs)


class PlantSerializer(StrictModelSerializer):
    scopes = {"connection_point": visibility.connection_points, "owner": visibility.members}

    is_existing = serializers.BooleanField(read_only=True)

    class Meta:
        model = Plant
        fields = [
            "id",
            "connection_point",
            "owner",
            "name",
            "source",
            "power_kw",
            "entry_into_service_date",
            "regime",
            "storage_power_kw",
            "storage_capacity_kwh",
            "cadastral_sheet",
            "cadastral_parcel",
            "cadastral_subunit",
            "censimp_code",
            "superbonus_kw",
            "obligation_kw",
            "capital_grant_pct",
            "investment_eur",
            "is_existing",
        ]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        point = attrs.get("connection_point", getattr(self.instance, "connection_point", None))
        owner = attrs.get("owner", getattr(self.instance, "owner", None))
        if point is not None and owner is not None:
            # The owner must be a member of the point's community, not just anyone visible.
            community_id = point.configuration.community_id
            if not Membership.objects.filter(member=owner, community_id=community_id).exists():
                raise serializers.ValidationError(
                    {"owner": [_("The owner is not a member of the plant's community.")]}
                )
        return super().validate(attrs)


class IncentiveStatusSerializer(serializers.Serializer):
    plant = serializers.IntegerField()
    status = serializers.CharField()
    message = serializers.CharField()
    regime = serializers.CharField()
    is_existing = serializers.BooleanField()
    power_kw = serializers.DecimalField(max_digits=10, decimal_places=3)
    entry_into_service_date = serializers.DateField()
    market_zone = serializers.CharField()
    amount_eur = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)


# --- readings ---------------------------------------------------------------------------


class HourlyReadingSerializer(serializers.ModelSerializer):
    hour_start = serializers.DateTimeField()
    injected_kwh = KwhField(source="injected_wh")
    withdrawn_kwh = KwhField(source="withdrawn_wh")

    class Meta:
        model = HourlyReading
        fields = ["hour_start", "injected_kwh", "withdrawn_kwh", "source", "quality"]
        read_only_fields = fields


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


# --- prices -----------------------------------------------------------------------------


class ZonalPriceSerializer(serializers.ModelSerializer):
    class Meta:
        model = ZonalPrice
        fields = [
            "market_zone",
            "interval_start",
            "interval_minutes",
            "price_eur_per_mwh",
            "source",
        ]
        read_only_fields = fields


# --- device accounts --------------------------------------------------------------------


class DeviceSerializer(StrictModelSerializer):
    connection_point = serializers.PrimaryKeyRelatedField(queryset=ConnectionPoint.objects.none())
    kind = serializers.ChoiceField(choices=DeviceKind.choices)
    topic_prefix = serializers.CharField(read_only=True)
    scopes = {"connection_point": visibility.connection_points}

    class Meta:
        model = Device
        fields = [
            "id",
            "connection_point",
            "name",
            "serial_number",
            "kind",
            "meter_channel",
            "counter_rollover_wh",
            "mqtt_username",
            "status",
            "topic_prefix",
            "created_at",
            "rotated_at",
        ]
        read_only_fields = ["id", "mqtt_username", "status", "created_at", "rotated_at"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        return attrs


class DeviceSecretSerializer(DeviceSerializer):
    secret = serializers.CharField(
        read_only=True, help_text=_("Shown once: store it in the device now.")
    )

    class Meta(DeviceSerializer.Meta):
        fields = [*DeviceSerializer.Meta.fields, "secret"]


# --- audit and privacy ------------------------------------------------------------------


class AuditEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEntry
        fields = [
            "id",
            "at",
            "actor_name",
            "community",
            "code",
            "target_type",
            "target_id",
            "target_repr",
            "changes",
        ]
        read_only_fields = fields


class ConsentSerializer(serializers.ModelSerializer):
    notice = serializers.CharField(source="notice.version", read_only=True)

    class Meta:
        model = Consent
        fields = ["id", "purpose", "notice", "given_at", "withdrawn_at"]
        read_only_fields = fields


class GiveConsentSerializer(StrictSerializer):
    purpose = serializers.ChoiceField(choices=ConsentPurpose.choices)


class PrivacyNoticeSerializer(serializers.Serializer):
    version = serializers.CharField()
    published_at = serializers.DateTimeField()
    text = serializers.CharField()


class ErasureRequestSerializer(StrictSerializer):
    password = serializers.CharField(write_only=True, style={"input_type": "password"})
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True)


class ErasureOutcomeSerializer(serializers.Serializer):
    erased = serializers.ListField(child=serializers.CharField())
    kept = serializers.ListField(child=serializers.DictField())
    completed_at = serializers.DateTimeField()


class ProcessingActivitySerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    purpose = serializers.CharField()
    legal_basis = serializers.CharField()
    data_subjects = serializers.CharField()
    data_categories = serializers.CharField()
    recipients = serializers.CharField()
    transfers = serializers.CharField()
    retention = serializers.CharField()
    security = serializers.CharField()


class ProcessingRegisterSerializer(serializers.Serializer):
    controller = serializers.DictField()
    generated_at = serializers.DateTimeField()
    activities = ProcessingActivitySerializer(many=True)


class ReportSerializer(serializers.Serializer):
    code = serializers.CharField()
    title = serializers.CharField()
    community = serializers.IntegerField()
    formats = serializers.ListField(child=serializers.CharField())
    url = serializers.CharField()


# --- accounts ---------------------------------------------------------------------------


class LoginSerializer(StrictSerializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, style={"input_type": "password"})
    otp = serializers.CharField(
        max_length=12,
        required=False,
        allow_blank=True,
        help_text=_("The 6-digit code of the authenticator app, when the user has one."),
    )


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class RefreshSerializer(StrictSerializer):
    refresh = serializers.CharField(max_length=4096)


class PasswordChangeSerializer(StrictSerializer):
    current_password = serializers.CharField(max_length=4096)
    new_password = serializers.CharField(max_length=4096)


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    email = serializers.EmailField(allow_blank=True)
    member = MemberSerializer(allow_null=True)
    has_second_factor = serializers.BooleanField()


class TotpEnrolmentSerializer(serializers.Serializer):
    config_url = serializers.CharField(help_text=_("otpauth:// URL to show as a QR code."))


class TotpConfirmSerializer(StrictSerializer):
    otp = serializers.CharField(max_length=12)


class RecoveryCodesSerializer(serializers.Serializer):
    recovery_codes = serializers.ListField(
        child=serializers.CharField(),
        help_text=_("One-time codes for logging in without the phone; shown only now."),
    )


# --- documents --------------------------------------------------------------------------


class DocumentVersionSerializer(serializers.ModelSerializer):
    class Meta:
        model = DocumentVersion
        fields = [
            "id",
            "number",
            "original_name",
            "content_type",
            "size_bytes",
            "uploaded_at",
            "note",
        ]
        read_only_fields = fields


class DocumentSerializer(serializers.ModelSerializer):
    versions = DocumentVersionSerializer(many=True, read_only=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Document
        fields = [
            "id",
            "community",
            "kind",
            "title",
            "document_date",
            "created_at",
            "download_url",
            "versions",
        ]
        read_only_fields = fields

    def get_download_url(self, document: Document) -> str:
        return f"/api/v1/documents/{document.pk}/download"


class DocumentUploadSerializer(serializers.Serializer):
    """The multipart body of an upload; validated by the web archive's own form."""

    document = serializers.IntegerField(
        required=False, help_text="Id of the document this file is a new version of."
    )
    kind = serializers.ChoiceField(choices=DocumentKind.choices, required=False)
    title = serializers.CharField(max_length=200, required=False)
    document_date = serializers.DateField(required=False)
    file = serializers.FileField(help_text="PDF, DOCX, ODT, PNG or JPEG, by content.")
    note = serializers.CharField(max_length=200, required=False)


class SeedDocumentUploadSerializer(DocumentUploadSerializer):
    community = serializers.IntegerField()


# --- personal access tokens -------------------------------------------------------------


class PersonalAccessTokenSerializer(serializers.ModelSerializer):
    scopes = serializers.ListField(child=serializers.ChoiceField(choices=TokenScope.choices))

    class Meta:
        model = PersonalAccessToken
        fields = [
            "id",
            "name",
            "scopes",
            "prefix",
            "created_at",
            "expires_at",
            "last_used_at",
            "revoked_at",
        ]
        read_only_fields = fields


class PersonalAccessTokenCreateSerializer(StrictSerializer):
    name = serializers.CharField(max_length=100)
    scopes = serializers.ListField(
        child=serializers.ChoiceField(choices=TokenScope.choices),
        min_length=1,
        max_length=len(TokenScope.values),
    )
    expires_at = AwareDateTimeField(
        required=False,
        help_text=_("When the token stops working: at most a year away; 90 days if not given."),
    )


class PersonalAccessTokenSecretSerializer(PersonalAccessTokenSerializer):
    secret = serializers.CharField(
        read_only=True, help_text=_("Shown once: store it in the integration now.")
    )

    class Meta(PersonalAccessTokenSerializer.Meta):
        fields = [*PersonalAccessTokenSerializer.Meta.fields, "secret"]
        read_only_fields = fields
