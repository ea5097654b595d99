"""Personal access tokens; the secret is shown once."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from cer.accounts.models import PersonalAccessToken, TokenScope
from cer.api.fields import AwareDateTimeField
from cer.api.serializers.base import StrictSerializer


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
