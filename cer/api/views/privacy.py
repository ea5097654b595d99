"""Consents, personal data export, erasure, and the register of processing activities."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response

from cer.access import visibility
from cer.api import serializers as s
from cer.api.errors import Conflict
from cer.api.permissions import LOGGED_IN, PUBLIC, TOKENS_REFUSED, on_object
from cer.api.views.base import ApiView
from cer.communities.models import Community
from cer.core.downloads import attachment_response
from cer.members.models import Member
from cer.privacy import gdpr
from cer.privacy import services as privacy
from cer.privacy.models import Consent, ConsentPurpose

PURPOSE = OpenApiParameter(
    "purpose", OpenApiTypes.STR, OpenApiParameter.PATH, enum=list(ConsentPurpose.values)
)


@extend_schema(tags=["privacy"], responses={200: s.PrivacyNoticeSerializer})
class CurrentNotice(ApiView):
    access_rule = PUBLIC
    authentication_classes: list[Any] = []

    def get(self, request: Request) -> Response:
        try:
            notice = privacy.current_notice(now=self.now())
        except privacy.NoPublishedNotice as error:
            raise exceptions.NotFound(_("No privacy notice has been published yet.")) from error
        return Response(s.PrivacyNoticeSerializer(notice).data)


class ConsentList(ApiView):
    access_rule = LOGGED_IN
    token_scope = TOKENS_REFUSED
    serializer_class = s.ConsentSerializer

    @extend_schema(tags=["privacy"], responses={200: s.ConsentSerializer(many=True)})
    def get(self, request: Request) -> Response:
        consents = Consent.objects.filter(user=request.user).select_related("notice")
        page = self.paginate_queryset(consents.order_by("purpose", "-given_at"))
        return self.get_paginated_response(s.ConsentSerializer(page, many=True).data)

    @extend_schema(
        tags=["privacy"],
        request=s.GiveConsentSerializer,
        responses={201: s.ConsentSerializer},
        description="Consent to a purpose under the current privacy notice.",
    )
    def post(self, request: Request) -> Response:
        body = s.GiveConsentSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        now = self.now()
        purpose = body.validated_data["purpose"]
        try:
            notice = privacy.current_notice(now=now)
        except privacy.NoPublishedNotice as error:
            raise Conflict(_("No privacy notice has been published yet.")) from error
        privacy.give_consents(user=request.user, notice=notice, purposes=[purpose], now=now)
        consent = Consent.objects.get(user=request.user, purpose=purpose, withdrawn_at__isnull=True)
        return Response(s.ConsentSerializer(consent).data, status=status.HTTP_201_CREATED)


@extend_schema(
    tags=["privacy"],
    parameters=[PURPOSE],
    responses={200: s.ConsentSerializer},
    description="Withdraw the consent to a purpose; the record of it is kept.",
)
class ConsentWithdraw(ApiView):
    access_rule = LOGGED_IN
    token_scope = TOKENS_REFUSED

    def delete(self, request: Request, purpose: str) -> Response:
        if purpose not in ConsentPurpose.values:
            raise exceptions.NotFound()
        if not privacy.withdraw_consent(user=request.user, purpose=purpose, now=self.now()):
            raise exceptions.NotFound(_("No active consent for this purpose."))
        consent = Consent.objects.filter(user=request.user, purpose=purpose).latest("withdrawn_at")
        return Response(s.ConsentSerializer(consent).data)


@extend_schema(
    tags=["privacy"],
    responses={(200, "application/zip"): OpenApiResponse(OpenApiTypes.BINARY)},
    description="All your data: data.json and one CSV per section, in a ZIP (GDPR art. 15, 20).",
)
class PersonalDataExport(ApiView):
    access_rule = LOGGED_IN

    def get(self, request: Request) -> HttpResponse:
        now = self.now()
        archive = gdpr.export_personal_data(user=request.user, now=now)
        return attachment_response(
            archive,
            filename_stem=f"cercollettiva-data-{now:%Y%m%d}",
            content_type="application/zip",
        )


@extend_schema(
    tags=["privacy"],
    request=s.ErasureRequestSerializer,
    responses={200: s.ErasureOutcomeSerializer},
    description=(
        "Erase your personal data (GDPR art. 17). Confirm with your password. Refused "
        "(409) while a membership is active. What the law requires is kept, with the reason."
    ),
)
class PersonalDataErasure(ApiView):
    access_rule = LOGGED_IN
    token_scope = TOKENS_REFUSED
    serializer_class = s.ErasureRequestSerializer

    def post(self, request: Request) -> Response:
        body = s.ErasureRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        if not request.user.check_password(body.validated_data["password"]):
            raise exceptions.ValidationError({"password": [_("The password is wrong.")]})
        member = Member.objects.filter(user=request.user).first()
        if member is None:
            raise Conflict(_("Your account has no member profile; ask the back office."))
        try:
            erasure = gdpr.erase_member(
                member=member,
                actor=request.user,
                reason=body.validated_data.get("reason", ""),
                now=self.now(),
            )
        except gdpr.MembershipStillActive as error:
            raise Conflict(
                _("You are still a member of a community: end the membership first.")
            ) from error
        except gdpr.AlreadyErased as error:
            raise Conflict(_("Your data were already erased.")) from error
        return Response(
            {"erased": erasure.erased, "kept": erasure.kept, "completed_at": erasure.completed_at}
        )


class _RegisterBase(ApiView):
    access_rule = on_object(
        Community, view="communities.view_community", read="communities.manage_community"
    )

    def get_queryset(self) -> Any:
        return visibility.communities(self.request.user, today=self.today())

    def register(self) -> dict[str, Any]:
        return gdpr.processing_register(community=self.get_object(), now=self.now())


@extend_schema(tags=["privacy"], responses={200: s.ProcessingRegisterSerializer})
class ProcessingRegister(_RegisterBase):
    def get(self, request: Request, pk: int) -> Response:
        return Response(s.ProcessingRegisterSerializer(self.register()).data)


@extend_schema(
    tags=["privacy"],
    responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR)},
    description="The register of processing activities as CSV.",
)
class ProcessingRegisterCsv(_RegisterBase):
    def get(self, request: Request, pk: int) -> HttpResponse:
        text = gdpr.processing_register_csv(register=self.register())
        return attachment_response(
            text, filename_stem="processing-register", content_type="text/csv"
        )


@extend_schema(
    tags=["reports"],
    responses={200: s.ReportSerializer(many=True)},
    description="The reports available to you, per community you manage.",
)
class ReportList(ApiView):
    access_rule = LOGGED_IN
    pagination_class = None  # type: ignore[assignment]

    def get(self, request: Request) -> Response:
        reports: list[dict[str, Any]] = []
        for community in visibility.managed_communities(request.user, today=self.today()):
            base = f"/api/v1/communities/{community.pk}"
            reports.append(
                {
                    "code": "processing_register",
                    "title": _("Register of processing activities"),
                    "community": community.pk,
                    "formats": ["json", "csv"],
                    "url": f"{base}/processing-register",
                }
            )
            reports.append(
                {
                    "code": "audit_log",
                    "title": _("Audit log"),
                    "community": community.pk,
                    "formats": ["json"],
                    "url": f"/api/v1/audit-entries?community={community.pk}",
                }
            )
            reports.append(
                {
                    "code": "community_report",
                    "title": _("Community report"),
                    "community": community.pk,
                    "formats": ["csv", "pdf", "xlsx"],
                    "url": f"{base}/report",
                }
            )
        return Response(s.ReportSerializer(reports, many=True).data)
