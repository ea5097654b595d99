"""Collections: a community's payment requests and SEPA mandates. Managers only.

Creating calls cer.collections.requests.create_request and
cer.collections.mandates.create_mandate, the functions the web pages call; a refusal is
a 400 naming the field and the reason.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response

from cer.access import visibility
from cer.api.permissions import TOKENS_REFUSED, on_object
from cer.api.serializers.collections import (
    MandateCreateSerializer,
    MandateSerializer,
    PaymentRequestCreateSerializer,
    PaymentRequestSerializer,
)
from cer.api.views.base import ApiView
from cer.collections.errors import CollectionError
from cer.collections.mandates import create_mandate
from cer.collections.requests import create_request
from cer.communities.models import Community
from cer.members.models import Member

_RULE = on_object(
    Community,
    view="communities.view_community",
    read="collections.manage",
    change="collections.manage",
)


def _refusal(error: CollectionError) -> exceptions.ValidationError:
    return exceptions.ValidationError({error.field or "non_field_errors": [str(error)]})


def _member(community: Community, pk: int) -> Member:
    member = Member.objects.filter(pk=pk, memberships__community=community).first()
    if member is None:
        raise exceptions.ValidationError({"member": ["No such member in this community."]})
    return member


class CommunityPaymentRequests(ApiView):
    access_rule = _RULE
    serializer_class = PaymentRequestSerializer
    # Money asked of members is asked by people: not by a personal token.
    token_scope = TOKENS_REFUSED

    def get_queryset(self) -> Any:
        return visibility.communities(self.request.user, today=self.today())

    @extend_schema(
        tags=["collections"],
        responses={200: PaymentRequestSerializer(many=True)},
        description="The community's payment requests, latest due date first. Managers only.",
    )
    def get(self, request: Request, pk: int) -> Response:
        community = self.get_object()
        page = self.paginate_queryset(community.payment_requests.all())
        return self.get_paginated_response(PaymentRequestSerializer(page, many=True).data)

    @extend_schema(
        tags=["collections"],
        request=PaymentRequestCreateSerializer,
        responses={201: PaymentRequestSerializer},
        description="Ask one member to pay an amount (euro, at most two decimals).",
    )
    def post(self, request: Request, pk: int) -> Response:
        community = self.get_object()
        body = PaymentRequestCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        try:
            created = create_request(
                community=community,
                member=_member(community, data["member"]),
                kind=data["kind"],
                amount_eur=data["amount_eur"],
                due_date=data["due_date"],
                description=data["description"],
                actor=request.user,
                now=self.now(),
            )
        except CollectionError as error:
            raise _refusal(error) from error
        return Response(PaymentRequestSerializer(created).data, status=status.HTTP_201_CREATED)


class CommunityMandates(ApiView):
    access_rule = _RULE
    serializer_class = MandateSerializer
    token_scope = TOKENS_REFUSED

    def get_queryset(self) -> Any:
        return visibility.communities(self.request.user, today=self.today())

    @extend_schema(
        tags=["collections"],
        responses={200: MandateSerializer(many=True)},
        description="The community's SEPA mandates (the IBAN's last four characters only).",
    )
    def get(self, request: Request, pk: int) -> Response:
        community = self.get_object()
        page = self.paginate_queryset(community.mandates.all())
        return self.get_paginated_response(MandateSerializer(page, many=True).data)

    @extend_schema(
        tags=["collections"],
        request=MandateCreateSerializer,
        responses={201: MandateSerializer},
        description="Record a signed SEPA CORE mandate; the signature date is required.",
    )
    def post(self, request: Request, pk: int) -> Response:
        community = self.get_object()
        body = MandateCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        try:
            mandate = create_mandate(
                community=community,
                member=_member(community, data["member"]),
                signed_date=data["signed_date"],
                debtor_name=data["debtor_name"],
                iban=data["iban"],
                bic=data["bic"],
                actor=request.user,
                now=self.now(),
            )
        except CollectionError as error:
            raise _refusal(error) from error
        return Response(MandateSerializer(mandate).data, status=status.HTTP_201_CREATED)
