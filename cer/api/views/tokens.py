"""The current user's personal access tokens: list, create (secret shown once), revoke.

Only a session or a JWT may call these: a token that could mint tokens would outlive
its own revocation.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, generics, status
from rest_framework.request import Request
from rest_framework.response import Response

from cer.accounts import tokens
from cer.accounts.models import PersonalAccessToken
from cer.api import serializers as s
from cer.api.permissions import LOGGED_IN, TOKENS_REFUSED, on_object
from cer.api.views.base import ApiView


@extend_schema_view(
    get=extend_schema(
        tags=["me"],
        responses={200: s.PersonalAccessTokenSerializer(many=True)},
        description="Your personal access tokens, newest first, revoked and expired ones too.",
    ),
    post=extend_schema(
        tags=["me"],
        request=s.PersonalAccessTokenCreateSerializer,
        responses={201: s.PersonalAccessTokenSecretSerializer},
        description=(
            "Create a personal access token with the given scopes. The secret is in the "
            "answer and never again. Not callable with a personal access token."
        ),
    ),
)
class PersonalTokenList(ApiView, generics.ListAPIView):
    access_rule = LOGGED_IN
    token_scope = TOKENS_REFUSED
    serializer_class = s.PersonalAccessTokenSerializer

    def get_queryset(self) -> QuerySet:
        return PersonalAccessToken.objects.filter(owner_id=self.request.user.pk or 0)

    def post(self, request: Request) -> Response:
        body = s.PersonalAccessTokenCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            created = tokens.create_token(
                owner=request.user,
                name=body.validated_data["name"],
                scopes=body.validated_data["scopes"],
                now=self.now(),
                expires_at=body.validated_data.get("expires_at"),
            )
        except tokens.LifetimeRefused as refused:
            raise exceptions.ValidationError(
                {"expires_at": [_("Choose a moment in the future, at most a year away.")]}
            ) from refused
        answer: dict[str, Any] = dict(s.PersonalAccessTokenSerializer(created.token).data)
        answer["secret"] = created.secret
        return Response(answer, status=status.HTTP_201_CREATED)


@extend_schema(
    tags=["me"],
    responses={204: None},
    description=(
        "Revoke the token: it stops working at once. Revoking a revoked token changes "
        "nothing. Not callable with a personal access token."
    ),
)
class PersonalTokenDetail(ApiView):
    access_rule = on_object(
        PersonalAccessToken,
        view="accounts.manage_personal_token",
        change="accounts.manage_personal_token",
    )
    token_scope = TOKENS_REFUSED

    def get_queryset(self) -> QuerySet:
        return tokens.tokens_visible_to(self.request.user)

    def delete(self, request: Request, pk: int) -> Response:
        token = self.get_object()
        tokens.revoke_token(token=token, actor=request.user, now=self.now())
        return Response(status=status.HTTP_204_NO_CONTENT)
