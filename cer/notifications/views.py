"""The inbox, its read marks, the preferences page and the unsubscribe link's page."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from cer.core.access import login_only, public
from cer.notifications import channels, links, services
from cer.notifications.forms import PreferencesForm
from cer.notifications.models import Notification

PER_PAGE = 30


@login_only
def inbox(request: HttpRequest) -> HttpResponse:
    items = Notification.objects.filter(user_id=request.user.pk or 0)
    page = Paginator(items, PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "notifications/inbox.html", {"page": page})


@login_only
def open_notification(request: HttpRequest, notification_id: int) -> HttpResponse:
    """Mark the notification read and go to what it is about.

    Someone else's notification (or none) leads back to the inbox: it says nothing about
    whether it exists.
    """
    notification = Notification.objects.filter(
        pk=notification_id, user_id=request.user.pk or 0
    ).first()
    if notification is None:
        return redirect("notifications:inbox")
    services.mark_read(user=request.user, notification_id=notification.pk, now=timezone.now())
    if notification.link and links.is_site_path(notification.link):
        # Stored in the default language; the reader goes on in the language they read in.
        return redirect(links.localised(notification.link, translation.get_language()))
    return redirect("notifications:inbox")


@login_only
@require_POST
def mark_one_read(request: HttpRequest, notification_id: int) -> HttpResponse:
    notification = get_object_or_404(Notification, pk=notification_id, user_id=request.user.pk or 0)
    services.mark_read(user=request.user, notification_id=notification.pk, now=timezone.now())
    return redirect("notifications:inbox")


@login_only
@require_POST
def mark_all_read(request: HttpRequest) -> HttpResponse:
    count = services.mark_read(user=request.user, now=timezone.now())
    if count:
        messages.success(request, _("All notifications marked as read."))
    return redirect("notifications:inbox")


@login_only
def preferences(request: HttpRequest) -> HttpResponse:
    current = services.settings_of(request.user)
    initial = {
        # Never chosen: the language the user reads the site in.
        "language": current.language if current.pk else translation.get_language(),
        "quiet_from": current.quiet_from,
        "quiet_to": current.quiet_to,
    }
    form = PreferencesForm(
        request.POST if request.method == "POST" else None, user=request.user, initial=initial
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            services.save_preferences(
                user=request.user,
                enabled=form.choices(),
                quiet_from=form.cleaned_data["quiet_from"],
                quiet_to=form.cleaned_data["quiet_to"],
                language=form.cleaned_data["language"],
                now=timezone.now(),
            )
            messages.success(request, _("Your notification preferences were saved."))
            return redirect("notifications:preferences")
        status = 400
    return render(
        request,
        "notifications/preferences.html",
        {"form": form, "channels": channels.all_channels()},
        status=status,
    )


@public
@csrf_exempt  # The signed token is the credential; mail clients post here (RFC 8058).
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """Show what the link turns off; a POST (the page's button, or one click) does it."""
    try:
        _user, topic, _channel = services.unsubscribe_target(token)
    except services.BadUnsubscribeToken:
        return render(request, "notifications/unsubscribe.html", {"invalid": True}, status=400)
    done = False
    if request.method == "POST":
        services.unsubscribe(token=token, now=timezone.now())
        done = True
    return render(
        request,
        "notifications/unsubscribe.html",
        {"topic": topic, "done": done, "mandatory": topic.mandatory},
    )
