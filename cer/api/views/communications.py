"""Communications: a community's managers list and send them; a member reads and answers.

Sending and answering call cer.communications.services, the functions the web pages call.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from cer.access import visibility
from cer.api.permissions import LOGGED_IN, TOKENS_REFUSED, on_object
from cer.api.serializers.communications import (
    CommunicationCreateSerializer,
    CommunicationSerializer,
    MessageSerializer,
    ReplySerializer,
    SentSerializer,
)
from cer.api.views.base import ApiView
from cer.communications import services
from cer.communications.models import Communication, CommunicationRecipient
from cer.communities.models import Community


def _refusal(error: DjangoValidationError) -> exceptions.ValidationError:
    if hasattr(error, "error_dict"):
        return exceptions.ValidationError(
            {
                ("non_field_errors" if key == "__all__" else key): messages
                for key, messages in error.message_dict.items()
            }
        )
    return exceptions.ValidationError({"non_field_errors": error.messages})


class CommunityCommunications(ApiView):
    access_rule = on_object(
        Community,
        view="communities.view_community",
        read="communities.manage_community",
        change="communities.manage_community",
    )
    serializer_class = CommunicationSerializer
    # Messages to members are sent, and answered, by people: not by a personal token.
    token_scope = TOKENS_REFUSED

    def get_queryset(self) -> Any:
        return visibility.communities(self.request.user, today=self.today())

    @extend_schema(
        tags=["communications"],
        responses={200: CommunicationSerializer(many=True)},
        description="The messages the community sent its members, newest first. Managers only.",
    )
    def get(self, request: Request, pk: int) -> Response:
        community = self.get_object()
        sent = Communication.objects.filter(community=community).order_by("-sent_at", "-pk")
        page = self.paginate_queryset(sent)
        return self.get_paginated_response(CommunicationSerializer(page, many=True).data)

    @extend_schema(
        tags=["communications"],
        request=CommunicationCreateSerializer,
        responses={201: SentSerializer, 200: SentSerializer},
        description=(
            "Send a message to the members a filter picks, as the web page does; "
            "201 when sent, 200 when this idempotency key had already been sent. Managers only."
        ),
    )
    def post(self, request: Request, pk: int) -> Response:
        community = self.get_object()
        body = CommunicationCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        configuration = None
        if data.get("configuration"):
            configuration = community.configurations.filter(pk=data["configuration"]).first()
            if configuration is None:
                raise exceptions.ValidationError(
                    {"configuration": [_("No such configuration in this community.")]}
                )
        draft = services.Draft(
            subject_it=data["subject_it"],
            body_it=data["body_it"],
            subject_en=data["subject_en"],
            body_en=data["body_en"],
            recipient_filter=data["recipient_filter"],
            configuration=configuration,
            member_ids=tuple(data["members"]),
            urgent=data["urgent"],
            reply_kind=data["reply_kind"],
            reply_due_date=data.get("reply_due_date"),
        )
        try:
            communication, sent = services.send(
                community=community,
                draft=draft,
                author=request.user,
                idempotency_key=data["idempotency_key"],
                now=self.now(),
            )
        except DjangoValidationError as error:
            raise _refusal(error) from error
        if communication.community_id != community.pk:
            raise exceptions.ValidationError(
                {"idempotency_key": [_("This key was used for another community.")]}
            )
        return Response(
            {"communication": CommunicationSerializer(communication).data, "sent": sent},
            status=status.HTTP_201_CREATED if sent else status.HTTP_200_OK,
        )


class MyMessages(ApiView):
    access_rule = LOGGED_IN
    serializer_class = MessageSerializer

    @extend_schema(
        tags=["communications"],
        responses={200: MessageSerializer(many=True)},
        description="The messages your communities sent you, newest first.",
    )
    def get(self, request: Request) -> Response:
        copies = (
            CommunicationRecipient.objects.filter(member__user_id=request.user.pk or 0)
            .select_related("communication__community")
            .order_by("-communication__sent_at", "-pk")
        )
        page = self.paginate_queryset(copies)
        return self.get_paginated_response(MessageSerializer(page, many=True).data)


class MyMessageReply(ApiView):
    access_rule = LOGGED_IN
    token_scope = TOKENS_REFUSED
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(
        tags=["communications"],
        request={"multipart/form-data": ReplySerializer, "application/json": ReplySerializer},
        responses={201: MessageSerializer},
        description=(
            "Answer one of your messages that asks for a reply: `text`, a `file` (PDF, JPEG "
            "or PNG, multipart) or your `iban` (the same confirms it, another changes it)."
        ),
    )
    def post(self, request: Request) -> Response:
        body = ReplySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        copy = (
            CommunicationRecipient.objects.filter(
                pk=data["id"], member__user_id=request.user.pk or 0
            )
            .select_related("communication__community", "membership", "member")
            .first()
        )
        if copy is None:
            raise exceptions.ValidationError({"id": [_("No such message among yours.")]})
        try:
            answered = services.reply(
                copy=copy,
                actor=request.user,
                now=self.now(),
                text=data.get("text", ""),
                upload=data.get("file"),
                iban=data.get("iban"),
            )
        except services.AlreadyReplied as error:
            raise exceptions.ValidationError(
                {"id": [_("You had already answered this message.")]}
            ) from error
        except DjangoValidationError as error:
            raise _refusal(error) from error
        return Response(MessageSerializer(answered).data, status=status.HTTP_201_CREATED)
