"""Dispute pages: contesting a statement line, one dispute and its steps, the list.

Each view parses its input, calls one service and renders; the clock is read here. The
dispute page offers each user only the steps of their role (member, referente, mediator);
withdrawing and an award ask for a confirmation first.
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from cer.billing.disputes import (
    DisputeError,
    DisputeRefused,
    act_on_dispute,
    available_actions,
    award_eur,
    dispute_roles,
    eligible_mediators,
    open_dispute,
    timeline,
)
from cer.billing.forms import DisputeActionForm, DisputeOpenForm
from cer.billing.models import Dispute, StatementLine
from cer.core import formatting
from cer.core.access import login_only, object_permission
from cer.core.confirm import confirmation_page, is_confirmed


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
    today = timezone.localdate()
    actions = available_actions(dispute, request.user, today=today)
    form = DisputeActionForm(
        request.POST or None,
        actions=actions,
        mediators=eligible_mediators(dispute, today=today),
    )
    status = 200
    if request.method == "POST" and form.is_valid():
        action = form.cleaned_data["action"]
        amount = form.cleaned_data.get("amount_eur") or Decimal(0)
        url = reverse("billing:dispute", kwargs={"pk": dispute.pk})
        if action in actions and not is_confirmed(request):
            confirmation = _confirmation(request, dispute, action, amount, url)
            if confirmation is not None:
                return confirmation
        try:
            act_on_dispute(
                dispute=dispute,
                action=action,
                actor=request.user,
                message=form.cleaned_data["message"],
                now=timezone.now(),
                mediator=form.cleaned_data.get("mediator") if action == "escalate" else None,
                amount_eur=amount,
            )
        except DisputeRefused as refusal:
            # A step outside the user's role: a page that says so, in their language, and
            # leads back to the dispute (never a bare 403).
            return render(
                request, "403.html", {"exception": str(refusal), "back_url": url}, status=403
            )
        except DisputeError as error:
            messages.error(request, str(error))
        return redirect(url)
    if request.method == "POST":
        status = 400
    return render(
        request,
        "billing/dispute.html",
        {
            "dispute": dispute,
            "timeline": timeline(dispute),
            "award_eur": award_eur(dispute),
            "form": form,
            "actions": actions,
            "roles": dispute_roles(dispute, request.user, today=today),
        },
        status=status,
    )


def _confirmation(
    request: HttpRequest, dispute: Dispute, action: str, amount: Decimal, url: str
) -> HttpResponse | None:
    """The confirmation page of the steps that cannot be undone, None for the others."""
    if action == "withdraw":
        return confirmation_page(
            request,
            title=_("Withdraw dispute no. %(id)s") % {"id": dispute.pk},
            consequences=[
                _(
                    "The dispute on the line “%(line)s” will be closed as withdrawn; it "
                    "cannot be reopened, and the community will be told."
                )
                % {"line": dispute.line.shown_description}
            ],
            action_label=_("Withdraw the dispute"),
            cancel_url=url,
        )
    if action == "resolve" and amount:
        return confirmation_page(
            request,
            title=_("Resolve dispute no. %(id)s in the member's favour") % {"id": dispute.pk},
            consequences=[
                _(
                    "A new version of %(member)s's statement of %(month)s will add an "
                    "adjustment line of %(amount)s; the current version is kept as history "
                    "and the dispute is closed as resolved."
                )
                % {
                    "member": dispute.member.display_name,
                    "month": formatting.month(dispute.line.statement.month),
                    "amount": formatting.eur(amount),
                }
            ],
            action_label=_("Resolve and award %(amount)s") % {"amount": formatting.eur(amount)},
            cancel_url=url,
        )
    return None


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
