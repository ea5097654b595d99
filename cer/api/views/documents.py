"""A community's document archive: list, upload (multipart) and permission-checked download.

Uploads go through the web archive's own form and cer.documents.services, so both
paths refuse the same files (too large, not a PDF, DOCX, ODT, PNG or JPEG by content).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from cer.access import visibility
from cer.accounts.models import TokenScope
from cer.api import serializers as s
from cer.api.permissions import LOGGED_IN, on_object
from cer.api.views.base import ApiView
from cer.communities.models import Community
from cer.core.downloads import attachment_response
from cer.documents import services as archive
from cer.documents.forms import SearchForm, UploadForm
from cer.documents.models import Document
from cer.documents.search import search_documents
from cer.documents.services import ACCEPTED, DOCX, UploadRefused, check_signed_upload
from cer.members.models import Membership

FILE_RESPONSES = {
    (200, file_type.content_type): OpenApiResponse(OpenApiTypes.BINARY)
    for file_type in ACCEPTED.values()
}


def store_upload(*, request: Request, community: Community, now: Any) -> Document:
    """Validate a multipart upload like the web archive does and store it.

    Raises ValidationError naming the field at fault.
    """
    fields = {
        name: request.data.get(name, "")
        for name in ("document", "kind", "title", "document_date", "note", "expected_sha256")
    }
    # A multipart boolean arrives as text; the form reads "true", "on" and "1" alike.
    signed = str(request.data.get("signed", "")).strip().lower()
    if signed in ("true", "on", "1", "yes"):
        fields["signed"] = "on"
    form = UploadForm(fields, request.FILES, community=community)
    if not form.is_valid():
        raise exceptions.ValidationError(
            {
                "non_field_errors" if name == "__all__" else name: list(problems)
                for name, problems in form.errors.items()
            }
        )
    cleaned = form.cleaned_data
    # The same check as the upload page: a .p7m or a signed PDF is always verified.
    try:
        content, file_type, signed_upload = check_signed_upload(
            cleaned["file"],
            signed=cleaned["signed"],
            expected_sha256=cleaned["expected_sha256"] or None,
        )
    except UploadRefused as refusal:
        raise exceptions.ValidationError({"file": [str(refusal.message)]}) from refusal
    return archive.store_upload(
        community=community,
        cleaned=cleaned,
        content=content,
        file_type=file_type,
        actor=request.user,
        now=now,
        signed=signed_upload,
    )


def _created(document: Document) -> Response:
    document.refresh_from_db()
    document = Document.objects.prefetch_related("versions__signature_checks").get(pk=document.pk)
    return Response(s.DocumentSerializer(document).data, status=status.HTTP_201_CREATED)


class CommunityDocuments(ApiView):
    access_rule = on_object(
        Community, view="communities.view_community", change="communities.manage_community"
    )
    parser_classes = [MultiPartParser, FormParser]
    serializer_class = s.DocumentSerializer
    token_scope = TokenScope.DOCUMENTS_WRITE

    def get_queryset(self) -> Any:
        return visibility.communities(self.request.user, today=self.today())

    @extend_schema(
        tags=["documents"],
        responses={200: s.DocumentSerializer(many=True)},
        description=(
            "The community's documents you may read: every kind for its managers; "
            "statute, regulation and minutes for its members."
        ),
    )
    def get(self, request: Request, pk: int) -> Response:
        community = self.get_object()
        documents = (
            visibility.documents(request.user, today=self.today())
            .filter(community=community)
            .prefetch_related("versions__signature_checks")
        )
        page = self.paginate_queryset(documents)
        return self.get_paginated_response(s.DocumentSerializer(page, many=True).data)

    @extend_schema(
        tags=["documents"],
        request={"multipart/form-data": s.DocumentUploadSerializer},
        responses={201: s.DocumentSerializer},
        description=(
            "Upload a new document (kind, title and document_date required) or, with "
            "`document`, a new version of one. Managers only."
        ),
    )
    def post(self, request: Request, pk: int) -> Response:
        community = self.get_object()
        return _created(store_upload(request=request, community=community, now=self.now()))


@extend_schema(
    tags=["documents"],
    parameters=[s.DocumentSearchQuerySerializer],
    responses={200: s.DocumentSearchHitSerializer(many=True)},
    description=(
        "Search the community's documents you may read: every word of `q` in the title or "
        "the text extracted from the file (PostgreSQL: Italian full-text search with "
        "stemming), with optional filters; best matches first, at most 50. The same "
        "search as the archive page."
    ),
)
class CommunityDocumentSearch(ApiView):
    access_rule = on_object(Community, view="communities.view_community")
    pagination_class = None  # type: ignore[assignment]  # at most MAX_RESULTS hits

    def get_queryset(self) -> Any:
        return visibility.communities(self.request.user, today=self.today())

    def get(self, request: Request, pk: int) -> Response:
        community = self.get_object()
        manager = request.user.has_perm("communities.manage_community", community)
        form = SearchForm(request.query_params, community=community, manager=manager)
        if not form.is_valid():
            raise exceptions.ValidationError(
                {
                    "non_field_errors" if name == "__all__" else name: list(problems)
                    for name, problems in form.errors.items()
                }
            )
        hits = search_documents(
            request.user, community, form.cleaned_data["q"], form.filters(), today=self.today()
        )
        return Response(s.DocumentSearchHitSerializer(hits, many=True).data)


@extend_schema(
    tags=["documents"],
    request={"multipart/form-data": s.SeedDocumentUploadSerializer},
    responses={201: s.DocumentSerializer},
    description=(
        "The first API's upload, with the community as a form field; "
        "same as POST /api/v1/communities/{id}/documents."
    ),
)
class SeedDocumentCreate(ApiView):
    access_rule = LOGGED_IN
    parser_classes = [MultiPartParser, FormParser]
    token_scope = TokenScope.DOCUMENTS_WRITE

    def post(self, request: Request) -> Response:
        raw = str(request.data.get("community", ""))
        visible = visibility.communities(request.user, today=self.today())
        whole = raw.isascii() and raw.isdigit() and len(raw) <= 12
        community = visible.filter(pk=int(raw)).first() if whole else None
        if community is None:
            raise exceptions.ValidationError(
                {"community": [_("No such community among those you may see.")]}
            )
        if not request.user.has_perm("communities.manage_community", community):
            raise exceptions.PermissionDenied()
        return _created(store_upload(request=request, community=community, now=self.now()))


@extend_schema(
    tags=["documents"],
    responses=FILE_RESPONSES,
    description=(
        "The latest version of a document, as an attachment: the original name's stem, "
        "with the extension of the type found in its content."
    ),
)
class DocumentDownload(ApiView):
    access_rule = on_object(Document, view="documents.view_document")

    def get_queryset(self) -> Any:
        return visibility.documents(self.request.user, today=self.today())

    def get(self, request: Request, pk: int) -> HttpResponse:
        version = self.get_object().latest_version
        if version is None:
            raise exceptions.NotFound()
        return attachment_response(
            version.file.open("rb"),
            filename_stem=archive.download_stem(version),
            content_type=version.content_type,
        )


@extend_schema(
    tags=["documents"],
    request=None,
    responses={201: s.DocumentSerializer(many=True)},
    description=(
        "Draft the statute and the internal regulation again from the community's current "
        "data and distribution policy, as new versions of the drafted documents (earlier "
        "versions stay). Managers only; the same service as the archive page's button."
    ),
)
class FoundingDocumentsRedraft(ApiView):
    access_rule = on_object(
        Community, view="communities.view_community", change="communities.manage_community"
    )
    token_scope = TokenScope.DOCUMENTS_WRITE

    def get_queryset(self) -> Any:
        return visibility.communities(self.request.user, today=self.today())

    def post(self, request: Request, pk: int) -> Response:
        community = self.get_object()
        documents = archive.redraft_founding_documents(
            community=community, actor=request.user, now=self.now(), today=self.today()
        )
        for document in documents:
            document.refresh_from_db()
        return Response(
            s.DocumentSerializer(documents, many=True).data, status=status.HTTP_201_CREATED
        )


class _MandateDownload(ApiView):
    """A member's mandate contract to the referente, drafted with today's data."""

    access_rule = on_object(Membership, view="members.view_membership")
    as_pdf = False

    def get_queryset(self) -> Any:
        return visibility.memberships(self.request.user, today=self.today())

    def get(self, request: Request, pk: int) -> HttpResponse:
        content, content_type, stem = archive.mandate_file(
            membership=self.get_object(), as_pdf=self.as_pdf, today=self.today()
        )
        return attachment_response(content, filename_stem=stem, content_type=content_type)


@extend_schema(
    tags=["documents"],
    responses={(200, DOCX): OpenApiResponse(OpenApiTypes.BINARY)},
    description=(
        "The mandate contract of the membership's member to the referente, filled in, as "
        "DOCX. For the community's managers and the member themself."
    ),
)
class MandateDocx(_MandateDownload):
    as_pdf = False


@extend_schema(
    tags=["documents"],
    responses={(200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY)},
    description=(
        "The mandate contract of the membership's member to the referente, filled in, as "
        "PDF. For the community's managers and the member themself."
    ),
)
class MandatePdf(_MandateDownload):
    as_pdf = True
