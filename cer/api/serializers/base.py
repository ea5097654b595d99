"""What every serializer of the API shares: unknown fields refused, the model's clean() run."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.utils import timezone
from rest_framework import serializers
from rest_framework.fields import get_error_detail

from cer.api.fields import StrictFieldsMixin


def run_model_clean(model: type[models.Model], attrs: dict[str, Any], instance: Any) -> None:
    """Run the model's own `clean()` on the merged values; its errors name the fields."""
    candidate = model() if instance is None else instance
    values = {}
    for name, value in attrs.items():
        # Asked of the class: an unsaved instance has no related object yet, and
        # hasattr() on it would hide the relation from clean().
        if hasattr(type(candidate), name):
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

    `scopes` maps a related field to the cer.access.visibility function that limits its
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
