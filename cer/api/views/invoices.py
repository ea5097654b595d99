"""Invoices issued by a community: list, draft, read, issue (and send), FatturaPA file.

Only the community's managers see its invoices: an invoice id of another community is a
404, exactly like one that never existed.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response

from cer.access import visibility
from cer.accounts.models import TokenScope
from cer.api.errors import Conflict
from cer.api.permissions import LOGGED_IN, on_object
from cer.api.serializers.invoices import (
    InvoiceCreateSerializer,
    InvoiceSerializer,
    SeedInvoiceCreateSerializer,
)
from cer.api.views.base import ApiView
from cer.billing.invoices import InvoiceAlreadyIssued, InvoiceError, create_draft, issue_and_send
from cer.billing.models import Invoice
from cer.communities.models import Community
from cer.core.downloads import attachment_response

MANAGE = "communities.manage_community"


def managed_invoices(user: Any, *, today: Any) -> QuerySet[Invoice]:
    """communities.manage_community, applied to an invoice."""
    return Invoice.objects.filter(
        community__in=visibility.managed_communities(user, today=today)
    ).prefetch_related("lines")


def _draft(view: ApiView, community: Community, body: InvoiceCreateSerializer) -> Response:
    try:
        invoice = create_draft(
            community=community,
            customer=body.customer(),
            lines=body.validated_data["lines"],
            actor=view.request.user,
            now=view.now(),
        )
    except InvoiceError as error:
        raise exceptions.ValidationError(
            error.fields or {"non_field_errors": [error.message]}
        ) from error
    return Response(InvoiceSerializer(invoice).data, status=status.HTTP_201_CREATED)


class CommunityInvoices(ApiView):
    access_rule = on_object(
        Community, view="communities.view_community", read=MANAGE, change=MANAGE
    )
    token_scope = TokenScope.INVOICES_WRITE
    serializer_class = InvoiceSerializer

    def get_queryset(self) -> Any:
        return visibility.communities(self.request.user, today=self.today())

    @extend_schema(
        tags=["billing"],
        responses={200: InvoiceSerializer(many=True)},
        description="The community's invoices, drafts included; for its managers.",
    )
    def get(self, request: Request, pk: int) -> Response:
        community = self.get_object()
        invoices = managed_invoices(request.user, today=self.today()).filter(community=community)
        page = self.paginate_queryset(invoices)
        return self.get_paginated_response(InvoiceSerializer(page, many=True).data)

    @extend_schema(
        tags=["billing"],
        request=InvoiceCreateSerializer,
        responses={201: InvoiceSerializer},
        description=(
            "Write a draft invoice: to a member (`member`) or to a third party named in full; "
            "each line has a VAT rate (22, 10, 5, 4) or, at 0, the Natura you choose."
        ),
    )
    def post(self, request: Request, pk: int) -> Response:
        community = self.get_object()
        body = InvoiceCreateSerializer(data=request.data, community=community)
        body.is_valid(raise_exception=True)
        return _draft(self, community, body)


@extend_schema(
    tags=["billing"],
    request=SeedInvoiceCreateSerializer,
    responses={201: InvoiceSerializer},
    description=(
        "The first API's path, with the community in the body; "
        "same as POST /api/v1/communities/{id}/invoices."
    ),
)
class SeedInvoiceCreate(ApiView):
    access_rule = LOGGED_IN
    token_scope = TokenScope.INVOICES_WRITE

    def post(self, request: Request) -> Response:
        raw = request.data.get("community") if isinstance(request.data, dict) else None
        text = str(raw) if isinstance(raw, (int, str)) and not isinstance(raw, bool) else ""
        visible = visibility.communities(request.user, today=self.today())
        whole = text.isascii() and text.isdigit() and len(text) <= 12
        community = visible.filter(pk=int(text)).first() if whole else None
        if community is None:
            raise exceptions.ValidationError(
                {"community": [_("No such community among those you may see.")]}
            )
        if not request.user.has_perm(MANAGE, community):
            raise exceptions.PermissionDenied()
        body = SeedInvoiceCreateSerializer(data=request.data, community=community)
        body.is_valid(raise_exception=True)
        return _draft(self, community, body)


class _OneInvoice(ApiView):
    access_rule = on_object(Invoice, view=MANAGE, change=MANAGE)

    def get_queryset(self) -> Any:
        return managed_invoices(self.request.user, today=self.today())


@extend_schema(tags=["billing"], responses={200: InvoiceSerializer})
class InvoiceDetail(_OneInvoice):
    def get(self, request: Request, pk: int) -> Response:
        return Response(InvoiceSerializer(self.get_object()).data)


@extend_schema(
    tags=["billing"],
    request=None,
    responses={200: InvoiceSerializer},
    description=(
        "Give the draft its number (next of the year, without gaps) and date, build its "
        "FatturaPA file and put it in the outbox for the intermediary. 409 when already issued."
    ),
)
class InvoiceIssue(_OneInvoice):
    token_scope = TokenScope.INVOICES_WRITE

    def post(self, request: Request, pk: int) -> Response:
        invoice = self.get_object()
        try:
            issued = issue_and_send(invoice=invoice, actor=request.user, now=self.now())
        except InvoiceAlreadyIssued as error:
            raise Conflict(error.message) from error
        except InvoiceError as error:
            raise exceptions.ValidationError(
                error.fields or {"non_field_errors": [error.message]}
            ) from error
        issued = managed_invoices(request.user, today=self.today()).get(pk=issued.pk)
        return Response(InvoiceSerializer(issued).data)


@extend_schema(
    tags=["billing"],
    responses={(200, "application/xml"): OpenApiResponse(OpenApiTypes.BINARY)},
    description="The FatturaPA file of an issued invoice; 409 for a draft.",
)
class InvoiceXml(_OneInvoice):
    def get(self, request: Request, pk: int) -> HttpResponse:
        invoice = self.get_object()
        if not invoice.xml:
            raise Conflict(_("A draft has no FatturaPA file yet: issue it first."))
        return attachment_response(
            invoice.xml.encode("utf-8"),
            filename_stem=invoice.file_name.rsplit(".", 1)[0],
            content_type="application/xml",
        )
