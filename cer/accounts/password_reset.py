"""Forgotten passwords: a link by e-mail, then a new password that ends every session,
API login and personal token held before (cer.accounts.signals).

The request page answers the same whether the e-mail belongs to someone or not, and
each client address may ask a few times an hour, so it neither tells who is registered
nor sends a flood of mail. The second factor is untouched: the next login asks for it.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse_lazy
from django.utils import timezone

from cer.audit.services import record
from cer.core.access import public
from cer.core.net import client_ip
from cer.core.rate_limits import Window

# Requests for a link per client address per hour.
REQUESTS_PER_HOUR = 5
_requests = Window("password-reset", REQUESTS_PER_HOUR, 3600)


class ResetRequest(auth_views.PasswordResetView):
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"
    success_url = reverse_lazy("password-reset-done")

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        now = timezone.now()
        if _requests.exceeded(client_ip(request), now=now):
            response = render(
                request,
                "registration/password_reset_form.html",
                {"form": self.get_form(), "too_many": True},
                status=429,
            )
            response["Retry-After"] = str(_requests.retry_after(now=now))
            return response
        return super().post(request, *args, **kwargs)


class ResetConfirm(auth_views.PasswordResetConfirmView):
    success_url = reverse_lazy("password-reset-complete")

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)  # saves the password: the signal revokes the rest
        record(actor=None, code="accounts.password.reset", now=timezone.now(), target=form.user)
        return response


request_view = public(ResetRequest.as_view())
done_view = public(auth_views.PasswordResetDoneView.as_view())
confirm_view = public(ResetConfirm.as_view())
complete_view = public(auth_views.PasswordResetCompleteView.as_view())
