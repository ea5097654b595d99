"""Members and their memberships, with the IBAN each community pays to."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import exceptions, serializers

from cer.access import visibility
from cer.api.fields import CodeField
from cer.api.serializers.base import StrictModelSerializer, request_user
from cer.communities.models import Community
from cer.communities.uniqueness import tax_code_problem
from cer.core.validators import validate_fiscal_code, validate_iban
from cer.members.models import Member, Membership, MembershipKind, MembershipRole
from cer.members.phones import normalise_phone


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
            *Member.PERSONAL_FIELDS,
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

    def validate_phone(self, value: str) -> str:
        # The same check and E.164 form as the profile form (cer.members.phones).
        try:
            return normalise_phone(value)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages) from error

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
