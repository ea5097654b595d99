"""The user's inbox: the notifications the web header counts, and their read marks."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from cer.api.permissions import LOGGED_IN, TOKENS_REFUSED
from cer.api.serializers.notifications import (
    MarkedReadSerializer,
    MarkReadSerializer,
    NotificationSerializer,
)
from cer.api.views.base import ApiView
from cer.notifications import services
from cer.notifications.models import Notification

UNREAD = OpenApiParameter(
    "unread", OpenApiTypes.BOOL, OpenApiParameter.QUERY, description="Only the unread ones."
)


class NotificationList(ApiView):
    access_rule = LOGGED_IN
    serializer_class = NotificationSerializer

    @extend_schema(
        tags=["notifications"],
        parameters=[UNREAD],
        responses={200: NotificationSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        notifications = Notification.objects.filter(user_id=request.user.pk or 0)
        if _unread_only(request):
            notifications = notifications.filter(read_at__isnull=True)
        page = self.paginate_queryset(notifications.order_by("-created_at", "-pk"))
        return self.get_paginated_response(NotificationSerializer(page, many=True).data)


def _unread_only(request: Request) -> bool:
    values = request.query_params.getlist("unread")
    if not values:
        return False
    if len(values) > 1 or values[0] not in ("true", "false"):
        raise ValidationError({"unread": [_("Use true or false, once.")]})
    return values[0] == "true"


class NotificationsRead(ApiView):
    access_rule = LOGGED_IN
    # Marks are made from the user's own session or app login, not by integrations.
    token_scope = TOKENS_REFUSED

    @extend_schema(
        tags=["notifications"],
        request=MarkReadSerializer,
        responses={200: MarkedReadSerializer},
        description="Mark one notification read, or all of them; returns how many changed.",
    )
    def post(self, request: Request) -> Response:
        body = MarkReadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        marked = services.mark_read(
            user=request.user, notification_id=body.validated_data.get("id"), now=self.now()
        )
        return Response({"marked": marked})
