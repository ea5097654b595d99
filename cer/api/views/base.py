"""What every API view shares: authentication, the access rule, errors, audit on writes."""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import generics
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.renderers import JSONRenderer
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from cer.access.rules import community_of
from cer.api.authentication import (
    ApiJWTAuthentication,
    PersonalTokenAuthentication,
    VerifiedSessionAuthentication,
)
from cer.api.errors import api_exception_handler
from cer.api.parsers import LimitedJSONParser
from cer.api.permissions import ApiRule, FollowsAccessRule, TokenScopes
from cer.audit.services import record
from cer.members.changes import mask_iban

# Values never copied into the audit log: the log outlives erasure requests.
SECRET_FIELDS = frozenset({"iban", "fiscal_code", "vat_number", "phone", "email", "pec"})


class ApiPagination(LimitOffsetPagination):
    """`limit` (1-1000, default 100) and `offset`; a malformed value is a 400 naming it."""

    default_limit = 100
    max_limit = 1000

    def get_limit(self, request: Any) -> int:
        raw = request.query_params.get(self.limit_query_param)
        if raw is None:
            return self.default_limit
        return min(_whole_number(self.limit_query_param, raw, minimum=1), self.max_limit)

    def get_offset(self, request: Any) -> int:
        raw = request.query_params.get(self.offset_query_param)
        return 0 if raw is None else _whole_number(self.offset_query_param, raw, minimum=0)


def _whole_number(name: str, raw: str, *, minimum: int) -> int:
    if not raw.isascii() or not raw.isdigit() or len(raw) > 12 or int(raw) < minimum:
        raise ValidationError(
            {name: [_("A whole number of at least %(min)d is required.") % {"min": minimum}]}
        )
    return int(raw)


class ApiMixin:
    """Session (web app, with CSRF), JWT or personal access token; the declared access rule
    and token scope; the one error shape.

    `token_scope` is left undeclared here on purpose: a view that does not name the
    scope of its writes refuses them to tokens (cer.api.permissions.required_scope).
    """

    access_rule: ClassVar[ApiRule]
    # The personal token class first: it claims only `cer_pat_` bearer tokens.
    authentication_classes = [
        PersonalTokenAuthentication,
        ApiJWTAuthentication,
        VerifiedSessionAuthentication,
    ]
    permission_classes = [FollowsAccessRule, TokenScopes]
    parser_classes = [LimitedJSONParser]
    renderer_classes = [JSONRenderer]
    throttle_classes = [AnonRateThrottle, UserRateThrottle]
    # OPTIONS describes nothing the schema does not: answer it with 405.
    metadata_class = None

    def get_exception_handler(self) -> Any:
        return api_exception_handler

    def initial(self, request: Any, *args: Any, **kwargs: Any) -> None:
        # PostgreSQL text cannot hold NUL: refuse it before any query sees it.
        bad = sorted(
            name
            for name, values in request.query_params.lists()
            if "\x00" in name or any("\x00" in value for value in values)
        )
        if bad:
            raise ValidationError({name: [_("Null characters are not allowed.")] for name in bad})
        super().initial(request, *args, **kwargs)  # type: ignore[misc]

    @staticmethod
    def now() -> dt.datetime:
        return timezone.now()

    @staticmethod
    def today() -> dt.date:
        return timezone.localdate()


class ApiView(ApiMixin, generics.GenericAPIView):
    pagination_class = ApiPagination


def audit_values(instance: models.Model, fields: list[str]) -> dict[str, Any]:
    return {
        name: ["", _logged(instance, name)] for name in fields if name not in {"id", "created_at"}
    }


def _logged(instance: models.Model, name: str) -> str:
    # A bank account shows as IT60…3456: enough to tell two apart, not to pay into one.
    if name == "iban":
        return mask_iban(getattr(instance, name))
    return "[set]" if name in SECRET_FIELDS else str(getattr(instance, name))


class AuditedWrites:
    """Record creations and changes made through the API in the audit log."""

    audit_code: ClassVar[str] = ""  # e.g. "plants.plant"

    def perform_create(self, serializer: Any) -> None:
        with transaction.atomic():
            instance = serializer.save()
            self.audit(instance, "created", audit_values(instance, list(serializer.validated_data)))

    def perform_update(self, serializer: Any) -> None:
        names = list(serializer.validated_data)
        before = {name: getattr(serializer.instance, name, None) for name in names}
        with transaction.atomic():
            instance = serializer.save()
            changes = {
                name: ["[old]", "[new]"]
                if name in SECRET_FIELDS
                else [str(before[name]), str(getattr(instance, name, None))]
                for name in names
                if before[name] != getattr(instance, name, None)
            }
            if changes:
                self.audit(instance, "changed", changes)

    def audit(self, instance: models.Model, verb: str, changes: dict[str, Any]) -> None:
        record(
            actor=self.request.user,  # type: ignore[attr-defined]
            code=f"{self.audit_code}.{verb}",
            now=timezone.now(),
            target=instance,
            community=community_of(instance),
            changes=changes,
        )
