"""One confirmation step for irreversible actions (finalise, distribute, payout file, void).

An irreversible POST first renders a page naming what will happen; only a second POST that
carries `confirmed=yes` performs it. Views do:

    if not is_confirmed(request):
        return confirmation_page(request, title=..., consequences=[...], action_label=...,
                                 cancel_url=...)
    ...perform the action, audit it...

The page re-posts the same URL with every field of the first POST, so forms keep their
values (a payout batch's dates, an override reason).
"""

from __future__ import annotations

from collections.abc import Sequence

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

CONFIRM_FIELD = "confirmed"


def is_confirmed(request: HttpRequest) -> bool:
    """Return whether the POST is the second one, sent from the confirmation page."""
    return request.method == "POST" and request.POST.get(CONFIRM_FIELD) == "yes"


def confirmation_page(
    request: HttpRequest,
    *,
    title: str,
    consequences: Sequence[str],
    action_label: str,
    cancel_url: str,
    danger: bool = True,
) -> HttpResponse:
    """Render the page that says what the action will do and asks to confirm it.

    `consequences` are whole sentences a person reads before agreeing ("A SEPA file paying
    12 members 163,86 EUR for June 2025 will be issued; it cannot be edited afterwards.").
    """
    carried = [
        (name, value)
        for name, values in request.POST.lists()
        if name not in ("csrfmiddlewaretoken", CONFIRM_FIELD)
        for value in values
    ]
    return render(
        request,
        "core/confirm.html",
        {
            "title": title,
            "consequences": list(consequences),
            "action_label": action_label,
            "cancel_url": cancel_url,
            "carried": carried,
            "danger": danger,
        },
    )
