"""The archive of a community's documents: list, upload, download through a permission check."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from cer.communities.models import Community
from cer.core.access import object_permission
from cer.core.downloads import attachment_response
from cer.documents.forms import LinksForm, SearchForm, UploadForm
from cer.documents.models import Document, DocumentKind, DocumentVersion
from cer.documents.search import search_documents
from cer.documents.services import (
    UploadRefused,
    check_signed_upload,
    download_stem,
    mandate_file,
    redraft_founding_documents,
    set_links,
    store_upload,
)
from cer.members.models import Membership


@object_permission("communities.view_community", Community)
def archive(request: HttpRequest, community: Community) -> HttpResponse:
    manager = request.user.has_perm("communities.manage_community", community)
    documents = Document.objects.filter(community=community).prefetch_related(
        "versions__signature_checks"
    )
    if not manager:
        documents = documents.filter(kind__in=DocumentKind.open_to_members())
    # The referente downloads every member's mandate, a member only their own.
    memberships = Membership.objects.filter(community=community).select_related("member")
    if not manager:
        memberships = memberships.filter(member__user_id=request.user.pk or 0)
    search_form = SearchForm(request.GET or None, community=community, manager=manager)
    hits = None
    if search_form.is_bound and search_form.is_valid():
        hits = search_documents(
            request.user,
            community,
            search_form.cleaned_data["q"],
            search_form.filters(),
            today=timezone.localdate(),
        )
    context = {
        "community": community,
        "documents": documents,
        "mandates": memberships.order_by("member__pk", "-valid_from"),
        "manager": manager,
        "form": UploadForm(community=community) if manager else None,
        "search_form": search_form,
        "hits": hits,
    }
    return render(
        request,
        "documents/archive.html",
        context,
        status=400 if search_form.is_bound and not search_form.is_valid() else 200,
    )


@object_permission("communities.manage_community", Community)
def upload(request: HttpRequest, community: Community) -> HttpResponse:
    form = UploadForm(request.POST or None, request.FILES or None, community=community)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                content, file_type, signed = check_signed_upload(
                    form.cleaned_data["file"],
                    signed=form.cleaned_data["signed"],
                    expected_sha256=form.cleaned_data["expected_sha256"] or None,
                )
            except UploadRefused as refusal:
                form.add_error("file", refusal.message)
            else:
                store_upload(
                    community=community,
                    cleaned=form.cleaned_data,
                    content=content,
                    file_type=file_type,
                    actor=request.user,
                    now=timezone.now(),
                    signed=signed,
                )
                messages.success(request, _("The document was stored in the archive."))
                return redirect("documents:archive", community.pk)
        status = 400
    return render(
        request, "documents/upload.html", {"community": community, "form": form}, status=status
    )


@object_permission("documents.view_document", DocumentVersion)
def download(request: HttpRequest, version: DocumentVersion) -> HttpResponse:
    return attachment_response(
        version.file.open("rb"),
        filename_stem=download_stem(version),
        content_type=version.content_type,
    )


@object_permission("documents.view_document", DocumentVersion)
def download_pdf(request: HttpRequest, version: DocumentVersion) -> HttpResponse:
    if not version.pdf_file:
        return redirect("documents:download", version.pk)
    return attachment_response(
        version.pdf_file.open("rb"),
        filename_stem=download_stem(version),
        content_type="application/pdf",
    )


@require_http_methods(["GET", "POST"])
@object_permission("communities.manage_community", Community)
def redraft(request: HttpRequest, community: Community) -> HttpResponse:
    """Draft the statute and regulation again (POST); a GET goes back to the archive."""
    if request.method == "POST":
        redraft_founding_documents(
            community=community,
            actor=request.user,
            now=timezone.now(),
            today=timezone.localdate(),
        )
        messages.success(
            request,
            _(
                "The statute and the regulation were drafted again from the current data "
                "and distribution policy, as new versions."
            ),
        )
    return redirect("documents:archive", community.pk)


def _mandate(membership: Membership, *, as_pdf: bool) -> HttpResponse:
    content, content_type, stem = mandate_file(
        membership=membership, as_pdf=as_pdf, today=timezone.localdate()
    )
    return attachment_response(content, filename_stem=stem, content_type=content_type)


@object_permission("members.view_membership", Membership)
def mandate_docx(request: HttpRequest, membership: Membership) -> HttpResponse:
    """The member's mandate contract to the referente, filled in, as DOCX."""
    return _mandate(membership, as_pdf=False)


@object_permission("members.view_membership", Membership)
def mandate_pdf(request: HttpRequest, membership: Membership) -> HttpResponse:
    """The member's mandate contract to the referente, filled in, as PDF."""
    return _mandate(membership, as_pdf=True)


@require_http_methods(["GET", "POST"])
@object_permission("documents.view_document", Document)
def document_page(request: HttpRequest, document: Document) -> HttpResponse:
    """One document: its versions, their text extraction and signatures; the member and
    plant it concerns, editable by the community's managers."""
    manager = request.user.has_perm("communities.manage_community", document.community)
    form = LinksForm(request.POST or None, instance=document) if manager else None
    if request.method == "POST":
        if form is None:
            raise PermissionDenied
        if form.is_valid():
            set_links(
                document=document,
                member=form.cleaned_data["member"],
                plant=form.cleaned_data["plant"],
                actor=request.user,
                now=timezone.now(),
            )
            messages.success(request, _("The links of the document were saved."))
            return redirect("documents:document", document.pk)
    context = {
        "document": document,
        "community": document.community,
        "versions": document.versions.prefetch_related("signature_checks"),
        "manager": manager,
        "form": form,
    }
    status = 400 if form is not None and form.is_bound and not form.is_valid() else 200
    return render(request, "documents/document.html", context, status=status)
