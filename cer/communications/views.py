"""Pages: the managers' list, compose (preview, confirm, send) and answers; the member's messages.

Every write calls cer.communications.services, as the API does.
"""

from __future__ import annotations

import csv
import io

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cer.communications import recipients, services
from cer.communications.forms import ComposeForm, ReplyForm
from cer.communications.models import Communication, CommunicationRecipient, ReplyKind
from cer.communications.ready_made import READY_MADE
from cer.communities.models import Community
from cer.core import formatting
from cer.core.access import login_only, object_permission
from cer.core.confirm import confirmation_page, is_confirmed
from cer.core.downloads import attachment_response
from cer.members.changes import mask_iban
from cer.members.models import Membership


@object_permission("communities.manage_community", Community)
def communication_list(request: HttpRequest, community: Community) -> HttpResponse:
    sent = Communication.objects.filter(community=community).prefetch_related("recipients")
    rows = [(c, services.answered_counts(c)) for c in sent[:200]]
    return render(
        request,
        "communications/list.html",
        {"community": community, "rows": rows, "ready_made": READY_MADE},
    )


@object_permission("communities.manage_community", Community)
def compose(request: HttpRequest, community: Community) -> HttpResponse:
    now = timezone.now()
    today = timezone.localdate(now)
    memberships = recipients.active_memberships(community, today)
    if request.method != "POST":
        initial = ComposeForm.initial_from(request.GET.get("template", ""))
        form = ComposeForm(initial=initial, community=community, memberships=memberships)
        return _compose_page(request, community, form)
    form = ComposeForm(request.POST, community=community, memberships=memberships)
    if not form.is_valid():
        return _compose_page(request, community, form, status=400)
    draft = form.draft()
    try:
        chosen = services.recipients_of(community=community, draft=draft, day=today)
    except ValidationError as error:
        for key, errors in error.message_dict.items():
            form.add_error(key if key in form.fields else None, errors)
        return _compose_page(request, community, form, status=400)
    if request.POST.get("action") != "send":
        return _compose_page(request, community, form, chosen=chosen, draft=draft)
    if not chosen:
        form.add_error("recipient_filter", _("This filter picks no member today."))
        return _compose_page(request, community, form, status=400)
    key = form.cleaned_data["idempotency_key"]
    already = Communication.objects.filter(idempotency_key=key, community=community).first()
    if already is None and not is_confirmed(request):
        return confirmation_page(
            request,
            title=_("Send this message?"),
            consequences=[
                _('"%(subject)s" will be sent to %(count)s members, %(channels)s.')
                % {
                    "subject": draft.subject_it,
                    "count": formatting.number(len(chosen)),
                    "channels": services.channels_label(draft),
                },
                _("A message that has been sent cannot be withdrawn or changed."),
            ],
            action_label=_("Send to %(count)s members") % {"count": len(chosen)},
            cancel_url=reverse("communications:compose", args=[community.pk]),
        )
    try:
        communication, sent_now = services.send(
            community=community, draft=draft, author=request.user, idempotency_key=key, now=now
        )
    except ValidationError as error:
        for field_name, errors in error.message_dict.items():
            form.add_error(field_name if field_name in form.fields else None, errors)
        return _compose_page(request, community, form, status=400)
    if communication.community_id != community.pk:
        raise PermissionDenied
    if sent_now:
        messages.success(
            request,
            _("The message was sent to %(count)s members.")
            % {"count": communication.recipients.count()},
        )
    else:
        messages.info(request, _("This message had already been sent: it was not sent again."))
    return redirect("communications:detail", communication.pk)


def _compose_page(
    request: HttpRequest,
    community: Community,
    form: ComposeForm,
    *,
    status: int = 200,
    chosen: list | None = None,
    draft: services.Draft | None = None,
) -> HttpResponse:
    preview = None
    if chosen and draft is not None:
        picked = form.cleaned_data.get("preview_as")
        target: Membership = picked if picked is not None and picked in chosen else chosen[0]
        language, subject, body = services.preview(
            community=community, draft=draft, membership=target
        )
        preview = {"member": target.member, "language": language, "subject": subject, "body": body}
    context = {
        "community": community,
        "form": form,
        "chosen": chosen,
        "preview": preview,
        "ready_made": READY_MADE,
    }
    return render(request, "communications/compose.html", context, status=status)


@object_permission("communications.manage_communication", Communication)
def detail(request: HttpRequest, communication: Communication) -> HttpResponse:
    copies = list(
        communication.recipients.select_related("member").order_by("member__last_name", "pk")
    )
    if request.GET.get("format") == "csv":
        return _answers_csv(communication, copies)
    return render(
        request,
        "communications/detail.html",
        {
            "communication": communication,
            "community": communication.community,
            "copies": copies,
            "answered": [c for c in copies if c.has_replied],
            "waiting": [c for c in copies if not c.has_replied],
            "counts": services.answered_counts(communication),
        },
    )


def _answers_csv(communication: Communication, copies: list) -> HttpResponse:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow([_("Member"), _("E-mail"), _("Read"), _("Answered"), _("Answer"), _("File")])
    for copy in copies:
        writer.writerow(
            [
                copy.member.display_name,
                copy.member.email,
                formatting.moment(copy.read_at) if copy.read_at else "",
                formatting.moment(copy.replied_at) if copy.replied_at else "",
                copy.reply_text,
                copy.reply_file_name,
            ]
        )
    return attachment_response(
        out.getvalue(),
        filename_stem=f"answers-{communication.pk}",
        content_type="text/csv",
    )


@object_permission("communications.manage_communication", Communication)
@require_POST
def remind(request: HttpRequest, communication: Communication) -> HttpResponse:
    try:
        told = services.remind(communication=communication, actor=request.user, now=timezone.now())
    except services.ReminderTooSoon:
        messages.error(request, _("A reminder already went out today: try again tomorrow."))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("A reminder was sent to %(count)s members.") % {"count": told})
    return redirect("communications:detail", communication.pk)


@object_permission("communications.view_message", CommunicationRecipient)
def reply_file(request: HttpRequest, copy: CommunicationRecipient) -> HttpResponse:
    if not copy.reply_file:
        raise Http404
    return attachment_response(
        copy.reply_file.open("rb"),
        filename_stem=f"reply-{copy.communication_id}-{copy.member_id}",
        content_type=copy.reply_content_type,
    )


@login_only
def my_messages(request: HttpRequest) -> HttpResponse:
    member = getattr(request.user, "member", None)
    copies = (
        CommunicationRecipient.objects.filter(member=member)
        .select_related("communication__community")
        .order_by("-communication__sent_at", "-pk")
        if member is not None
        else CommunicationRecipient.objects.none()
    )
    return render(request, "communications/my_messages.html", {"copies": copies})


@object_permission("communications.view_message", CommunicationRecipient)
def message(request: HttpRequest, copy: CommunicationRecipient) -> HttpResponse:
    now = timezone.now()
    own = request.user.has_perm("communications.reply_message", copy)
    if own and request.method != "POST":
        services.mark_read(copy=copy, now=now)
    communication = copy.communication
    asks = communication.asks_reply and copy.replied_at is None
    form = None
    status = 200
    if asks:
        form = ReplyForm(
            request.POST or None,
            request.FILES or None,
            kind=communication.reply_kind,
            current_iban=copy.membership.iban,
        )
    if request.method == "POST":
        if not own:
            raise PermissionDenied
        if form is None:
            messages.info(request, _("This message takes no answer now."))
            return redirect("communications:message", copy.pk)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.reply(
                    copy=copy,
                    actor=request.user,
                    now=now,
                    text=data.get("text", ""),
                    upload=data.get("file"),
                    iban=data.get("iban") if communication.reply_kind == ReplyKind.IBAN else None,
                )
            except services.AlreadyReplied:
                messages.info(request, _("You had already answered this message."))
                return redirect("communications:message", copy.pk)
            except ValidationError as error:
                for key, errors in error.message_dict.items():
                    form.add_error(key if key in form.fields else None, errors)
            else:
                messages.success(request, _("Thank you: your answer was sent."))
                return redirect("communications:message", copy.pk)
        status = 400
    return render(
        request,
        "communications/message.html",
        {
            "copy": copy,
            "communication": communication,
            "form": form if own else None,
            "own": own,
            "iban": mask_iban(copy.membership.iban),
        },
        status=status,
    )
