"""The signature pages: send for signature, a request's status, a signer's own page.

Every write calls cer.signing.services (or cer.signing.otp), the functions the API calls.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from cer.communities.models import Community
from cer.core.access import login_only, object_permission
from cer.core.confirm import confirmation_page, is_confirmed
from cer.core.downloads import attachment_response, safe_filename
from cer.core.net import client_ip
from cer.documents import services as documents
from cer.signing import otp, services
from cer.signing.forms import CancelForm, CodeForm, SendForm, SignedUploadForm
from cer.signing.models import SignatureKind, SignatureRequest, Signer
from cer.signing.verification import refusal_text


@object_permission("signing.manage_request", Community)
def request_list(request: HttpRequest, community: Community) -> HttpResponse:
    """The community's signature requests, with who is missing."""
    return render(
        request,
        "signing/list.html",
        {"community": community, "requests": services.requests_of(community)},
    )


@require_http_methods(["GET", "POST"])
@object_permission("signing.manage_request", Community)
def send(request: HttpRequest, community: Community) -> HttpResponse:
    today = timezone.localdate()
    members = services.members_of(community, today)
    initial = {"version": request.GET.get("version")} if request.GET.get("version") else None
    form = SendForm(request.POST or None, initial=initial, community=community, members=members)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                recipients = services.resolve_recipients(
                    community=community,
                    version=data["version"],
                    who=data["who"],
                    members=list(data["members"]),
                    people=data["people"],
                    today=today,
                )
                sent = services.send_for_signature(
                    version=data["version"],
                    kind=data["kind"],
                    recipients=recipients,
                    message=data["message"],
                    actor=request.user,
                    now=timezone.now(),
                )
            except services.RequestRefused as refusal:
                field = refusal.field if refusal.field in form.fields else None
                form.add_error(field, refusal.message)
            else:
                messages.success(
                    request,
                    _("The document was sent for signature to %(n)s people.")
                    % {"n": sent.signers.count()},
                )
                return redirect("signing:request", sent.pk)
        status = 400
    return render(
        request, "signing/send.html", {"community": community, "form": form}, status=status
    )


def _signer_rows(signature_request: SignatureRequest) -> list[dict[str, object]]:
    rows = []
    for signer in signature_request.signers.all():
        last = signer.files.first()
        rows.append(
            {
                "signer": signer,
                "evidence": getattr(signer, "evidence", None) if signer.has_signed else None,
                "last_refusals": (
                    [refusal_text(r) for r in last.refusals] if last and not last.accepted else []
                ),
            }
        )
    return rows


@object_permission("signing.view_request", SignatureRequest)
def request_detail(request: HttpRequest, signature_request: SignatureRequest) -> HttpResponse:
    manager = request.user.has_perm("signing.manage_request", signature_request)
    own = signature_request.signers.filter(user_id=request.user.pk or 0).first()
    context = {
        "signature_request": signature_request,
        "document": signature_request.document,
        "community": signature_request.community,
        "rows": _signer_rows(signature_request),
        "manager": manager,
        "own": own,
        "cancel_form": CancelForm() if manager and signature_request.is_open else None,
    }
    return render(request, "signing/request.html", context)


@object_permission("signing.manage_request", SignatureRequest)
@require_POST
def cancel(request: HttpRequest, signature_request: SignatureRequest) -> HttpResponse:
    form = CancelForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Reason for cancelling: this field is required."))
        return redirect("signing:request", signature_request.pk)
    if not is_confirmed(request):
        pending = signature_request.signers.filter(status="PENDING").count()
        return confirmation_page(
            request,
            title=_("Cancel the signature request"),
            consequences=[
                _(
                    "The request for “%(title)s” will be cancelled: the %(n)s people who have "
                    "not signed yet can no longer sign it, and the signatures already given "
                    "will not make it executed. This cannot be undone; a new request can be sent."
                )
                % {"title": signature_request.document.title, "n": pending}
            ],
            action_label=_("Cancel the request"),
            cancel_url=reverse("signing:request", args=[signature_request.pk]),
        )
    try:
        services.cancel(
            request=signature_request,
            reason=form.cleaned_data["reason"],
            actor=request.user,
            now=timezone.now(),
        )
    except services.SigningClosed as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(request, _("The signature request was cancelled."))
    return redirect("signing:request", signature_request.pk)


@object_permission("signing.view_request", SignatureRequest)
def sent_file(request: HttpRequest, signature_request: SignatureRequest) -> HttpResponse:
    """The file sent for signature, exactly the bytes whose SHA-256 the request keeps."""
    content, name = services.sent_file(signature_request)
    file_type = documents.sniff_type(content) if content else None
    content_type = file_type.content_type if file_type else "application/octet-stream"
    return attachment_response(
        content, filename_stem=name.rsplit(".", 1)[0], content_type=content_type
    )


@object_permission("signing.view_request", SignatureRequest)
def signed_copy(request: HttpRequest, signature_request: SignatureRequest) -> HttpResponse:
    """The latest accepted signed file, for the next signer to add their signature to."""
    latest = services.latest_signed_file(signature_request)
    if latest is None:
        messages.error(request, _("Nobody has signed yet: sign the document sent."))
        return redirect("signing:request", signature_request.pk)
    if latest.format == "PADES":
        return attachment_response(
            latest.file.open("rb"),
            filename_stem=latest.original_name.split(".")[0],
            content_type="application/pdf",
        )
    response = attachment_response(
        latest.file.open("rb"),
        filename_stem=latest.original_name.split(".")[0],
        content_type="application/octet-stream",
    )
    # A CAdES envelope keeps its .p7m name, which signing tools look for.
    stem = safe_filename(latest.original_name.split(".")[0], "application/pdf")[:-4]
    response["Content-Disposition"] = f'attachment; filename="{stem}.pdf.p7m"'
    return response


@require_http_methods(["GET", "POST"])
@object_permission("signing.sign", Signer)
def signer_page(request: HttpRequest, signer: Signer) -> HttpResponse:
    """The signer's own page: download, then upload the signed file or type the code."""
    upload_form = SignedUploadForm(request.POST or None, request.FILES or None)
    code_form = CodeForm()
    status = 200
    if request.method == "POST":
        if upload_form.is_valid():
            upload = upload_form.cleaned_data["file"]
            try:
                content = services.read_upload(upload)
                signed = services.upload_signed(
                    signer=signer,
                    content=content,
                    filename=upload.name or "",
                    actor=request.user,
                    now=timezone.now(),
                )
            except (services.SigningClosed, services.FileRefused) as refusal:
                upload_form.add_error("file", refusal.message)
            else:
                if signed.accepted:
                    messages.success(request, _("Your signature was verified and recorded."))
                    return redirect("signing:signer", signer.pk)
                for text in (refusal_text(r) for r in signed.refusals):
                    upload_form.add_error("file", text)
        status = 400
    return _render_signer(request, signer, upload_form, code_form, status)


def _render_signer(
    request: HttpRequest,
    signer: Signer,
    upload_form: SignedUploadForm,
    code_form: CodeForm,
    status: int = 200,
) -> HttpResponse:
    files = [
        {"file": f, "refusals": [refusal_text(r) for r in f.refusals]} for f in signer.files.all()
    ]
    context = {
        "signer": signer,
        "signature_request": signer.request,
        "document": signer.request.document,
        "community": signer.request.community,
        "simple": signer.request.kind == SignatureKind.SIMPLE,
        "upload_form": upload_form,
        "code_form": code_form,
        "files": files,
        "code_sent": signer.codes.filter(retired=False).first(),
        "signed_copy": services.latest_signed_file(signer.request),
    }
    return render(request, "signing/signer.html", context, status=status)


@object_permission("signing.sign", Signer)
@require_POST
def send_code(request: HttpRequest, signer: Signer) -> HttpResponse:
    try:
        sent = otp.send_code(signer=signer, actor=request.user, now=timezone.now())
    except (services.SigningClosed, otp.CodeRefused) as refusal:
        messages.error(request, refusal.message)
    else:
        if "sms" in sent.channels:
            messages.success(request, _("A code was sent to your e-mail and by SMS."))
        else:
            messages.success(request, _("A code was sent to your e-mail."))
    return redirect("signing:signer", signer.pk)


@object_permission("signing.sign", Signer)
@require_POST
def confirm_code(request: HttpRequest, signer: Signer) -> HttpResponse:
    form = CodeForm(request.POST)
    if form.is_valid():
        try:
            otp.confirm_code(
                signer=signer,
                code=form.cleaned_data["code"].strip(),
                ip_address=client_ip(request),
                user_agent=request.META.get("HTTP_USER_AGENT", ""),
                actor=request.user,
                now=timezone.now(),
            )
        except (services.SigningClosed, otp.CodeRefused) as refusal:
            form.add_error("code", refusal.message)
        else:
            messages.success(
                request,
                _("You signed with a simple electronic signature (firma elettronica semplice)."),
            )
            return redirect("signing:signer", signer.pk)
    return _render_signer(request, signer, SignedUploadForm(), form, status=400)


@object_permission("signing.view_signer", Signer)
def evidence_pdf(request: HttpRequest, signer: Signer) -> HttpResponse:
    """The evidence PDF of a signer's simple electronic signature."""
    proof = getattr(signer, "evidence", None) if signer.has_signed else None
    if proof is None:
        messages.error(request, _("There is no evidence of a simple electronic signature here."))
        return redirect("signing:request", signer.request_id)
    return attachment_response(
        proof.pdf.open("rb"),
        filename_stem=f"firma-elettronica-semplice-{signer.pk}",
        content_type="application/pdf",
    )


@login_only
def my_signatures(request: HttpRequest) -> HttpResponse:
    """The documents waiting for the user's signature."""
    return render(request, "signing/mine.html", {"pending": services.pending_for(request.user)})
