"""Dispute pages: contesting a statement line, one dispute and its steps, the list.

Each view parses its input, calls one service and renders; the clock is read here.
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from cer.billing.disputes import DisputeError, act_on_dispute, eligible_mediators, open_dispute
from cer.billing.forms import DisputeActionForm, DisputeOpenForm
from cer.billing.models import Dispute, StatementLine
from cer.core.access import login_only, object_permission


@object_permission("settlement.contest_line", StatementLine)
def dispute_open(request: HttpRequest, line: StatementLine) -> HttpResponse:
    form = DisputeOpenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            dispute = open_dispute(
                line=line,
                actor=request.user,
                message=form.cleaned_data["message"],
                now=timezone.now(),
            )
            return redirect("billing:dispute", pk=dispute.pk)
        except DisputeError as error:
            form.add_error(None, str(error))
    return render(request, "billing/dispute_open.html", {"line": line, "form": form})


@object_permission("settlement.view_dispute", Dispute)
def dispute_detail(request: HttpRequest, dispute: Dispute) -> HttpResponse:
    can_answer = request.user.has_perm("settlement.answer_dispute", dispute)
    is_member = request.user.pk == dispute.member.user_id
    form = DisputeActionForm(
        request.POST or None,
        mediators=eligible_mediators(dispute, today=timezone.localdate()),
    )
    status = 200
    if request.method == "POST" and form.is_valid():
        action = form.cleaned_data["action"]
        member_actions = {"escalate", "reopen"}
        if not (can_answer or (is_member and action in member_actions)):
            raise PermissionDenied
        mediator = form.cleaned_data["mediator"] if action == "escalate" else None
        amount = form.cleaned_data.get("amount_eur") or Decimal(0)
        if action == "resolve" and amount and request.user.pk == dispute.mediator_id:
            # A mediator recommends; the community's managers decide on money.
            raise PermissionDenied
        try:
            act_on_dispute(
                dispute=dispute,
                action=action,
                actor=request.user,
                message=form.cleaned_data["message"],
                now=timezone.now(),
                mediator=mediator,
                amount_eur=amount,
            )
        except DisputeError as error:
            messages.error(request, str(error))
        return redirect("billing:dispute", pk=dispute.pk)
    if request.method == "POST":
        status = 400
    return render(
        request,
        "billing/dispute.html",
        {
            "dispute": dispute,
            "events": dispute.events.select_related("actor"),
            "form": form,
            "can_answer": can_answer,
            "is_member": is_member,
        },
        status=status,
    )


@login_only
def dispute_list(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    from cer.access.rules import MANAGER_ROLES
    from cer.members.models import Membership

    managed = (
        Membership.objects.active_on(today)
        .filter(member__user_id=request.user.pk or 0, role__in=MANAGER_ROLES)
        .values("community_id")
    )
    disputes = Dispute.objects.filter(
        Q(member__user_id=request.user.pk or 0)
        | Q(mediator_id=request.user.pk)
        | Q(line__statement__configuration__community_id__in=managed)
    ).select_related("member", "line__statement")
    return render(request, "billing/dispute_list.html", {"disputes": disputes})
