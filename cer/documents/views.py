"""The archive of a community's documents: list, upload, download through a permission check."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from cer.communities.models import Community
from cer.core.access import object_permission
from cer.core.downloads import attachment_response
from cer.documents.forms import UploadForm
from cer.documents.models import Document, DocumentKind, DocumentVersion
from cer.documents.services import UploadRefused, check_upload, download_stem, store_upload


@object_permission("communities.view_community", Community)
def archive(request: HttpRequest, community: Community) -> HttpResponse:
    manager = request.user.has_perm("communities.manage_community", community)
    documents = Document.objects.filter(community=community).prefetch_related("versions")
    if not manager:
        documents = documents.filter(kind__in=DocumentKind.open_to_members())
    context = {
        "community": community,
        "documents": documents,
        "manager": manager,
        "form": UploadForm(community=community) if manager else None,
    }
    return render(request, "documents/archive.html", context)


@object_permission("communities.manage_community", Community)
def upload(request: HttpRequest, community: Community) -> HttpResponse:
    form = UploadForm(request.POST or None, request.FILES or None, community=community)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                content, file_type = check_upload(form.cleaned_data["file"])
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
