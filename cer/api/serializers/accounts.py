"""Logging in, tokens of a session, the password, the second factor and the user's own record."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from cer.api.serializers.base import StrictSerializer
from cer.api.serializers.members import MemberSerializer


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
