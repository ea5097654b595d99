"""Signature requests: a community's managers list them; a signer uploads a signed file.

A signer's upload calls cer.signing.services.upload_signed, the function the signer's page calls.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from cer.access import visibility
from cer.api.permissions import LOGGED_IN, TOKENS_REFUSED, on_object
from cer.api.serializers.signing import (
    SignatureRequestSerializer,
    SignedFileSerializer,
    SignedFileUploadSerializer,
    SignerSerializer,
)
from cer.api.views.base import ApiView
from cer.communities.models import Community
from cer.signing import services
from cer.signing.models import Signer


class CommunitySignatureRequests(ApiView):
    access_rule = on_object(
        Community, view="communities.view_community", read="signing.manage_request"
    )
    serializer_class = SignatureRequestSerializer

    def get_queryset(self) -> Any:
        return visibility.communities(self.request.user, today=self.today())

    @extend_schema(
        tags=["signing"],
        responses={200: SignatureRequestSerializer(many=True)},
        description=(
            "The community's signature requests, newest first, with each signer's status "
            "(who signed, who is missing). Managers only."
        ),
    )
    def get(self, request: Request, pk: int) -> Response:
        community = self.get_object()
        page = self.paginate_queryset(services.requests_of(community))
        return self.get_paginated_response(SignatureRequestSerializer(page, many=True).data)


class MySignatures(ApiView):
    access_rule = LOGGED_IN
    parser_classes = [MultiPartParser, FormParser]
    serializer_class = SignerSerializer
    # A signature is given by the person, in a session or with their login token: not by
    # a personal access token.
    token_scope = TOKENS_REFUSED

    @extend_schema(
        tags=["signing"],
        responses={200: SignerSerializer(many=True)},
        description="Your signatures still to give, on open requests (the signer ids).",
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(services.pending_for(request.user))
        return self.get_paginated_response(SignerSerializer(page, many=True).data)

    @extend_schema(
        tags=["signing"],
        request={"multipart/form-data": SignedFileUploadSerializer},
        responses={201: SignedFileSerializer, 422: SignedFileSerializer},
        description=(
            "Upload your signed file (PAdES PDF or CAdES .p7m) for one of your signatures "
            "(`signer`, an id from GET). 201 when accepted; 422 with the refusals in words "
            "when the file was read but refused (it is kept with its check); 400 for a "
            "request that names no signature of yours or sends no readable file."
        ),
    )
    def post(self, request: Request) -> Response:
        body = SignedFileUploadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        signer = Signer.objects.filter(
            pk=body.validated_data["signer"], user_id=request.user.pk
        ).first()
        if signer is None:
            raise exceptions.ValidationError({"signer": [_("No such signature of yours.")]})
        upload = body.validated_data["file"]
        try:
            content = services.read_upload(upload)
            signed = services.upload_signed(
                signer=signer,
                content=content,
                filename=upload.name or "",
                actor=request.user,
                now=self.now(),
            )
        except (services.SigningClosed, services.FileRefused) as refusal:
            raise exceptions.ValidationError({"file": [str(refusal.message)]}) from refusal
        return Response(
            SignedFileSerializer(signed).data,
            status=(
                status.HTTP_201_CREATED if signed.accepted else status.HTTP_422_UNPROCESSABLE_ENTITY
            ),
        )
