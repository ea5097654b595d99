"""The inbox, its read marks, the preferences page, the unsubscribe link's page, and
the web push subscriptions (subscribe and remove, the service worker at the root)."""

from __future__ import annotations

import json

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from cer.core.access import login_only, public
from cer.notifications import channels, links, services, webpush
from cer.notifications.forms import PreferencesForm
from cer.notifications.models import Notification, PushSubscription

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
    context = {
        "form": form,
        "channels": channels.all_channels(),
        "subscriptions": PushSubscription.objects.filter(user_id=request.user.pk or 0),
        "vapid_public_key": webpush.public_key(),
    }
    return render(request, "notifications/preferences.html", context, status=status)


@login_only
@require_POST
def push_subscribe(request: HttpRequest) -> JsonResponse:
    """Store this browser's subscription: JSON as PushSubscription.toJSON() gives it.

    Answers 201 with its id, or 400 naming the field that is wrong.
    """
    try:
        data = json.loads(request.body or b"{}")
        keys = data.get("keys") or {}
        endpoint, p256dh, auth = data.get("endpoint"), keys.get("p256dh"), keys.get("auth")
    except (ValueError, AttributeError):
        return JsonResponse({"errors": {"body": _("Not a push subscription (JSON).")}}, status=400)
    try:
        subscription = webpush.subscribe(
            user=request.user,
            endpoint=str(endpoint or ""),
            p256dh=str(p256dh or ""),
            auth=str(auth or ""),
            user_agent=request.headers.get("User-Agent", ""),
            now=timezone.now(),
        )
    except webpush.BadSubscription as error:
        return JsonResponse({"errors": {error.field: str(error.message)}}, status=400)
    return JsonResponse({"id": subscription.pk}, status=201)


@login_only
@require_POST
def push_unsubscribe(request: HttpRequest) -> HttpResponse:
    """Remove a subscription: the page's "remove" (its id) or the script (its endpoint)."""
    if request.content_type == "application/json":
        try:
            endpoint = str(json.loads(request.body or b"{}").get("endpoint") or "")
        except (ValueError, AttributeError):
            endpoint = ""
        removed = webpush.unsubscribe(user=request.user, endpoint=endpoint)
        return JsonResponse({"removed": removed})
    try:
        subscription_id = int(request.POST.get("subscription", ""))
    except ValueError:
        subscription_id = 0
    if webpush.unsubscribe(user=request.user, subscription_id=subscription_id):
        messages.success(request, _("This device will no longer receive notifications."))
    return redirect("notifications:preferences")


@public
def service_worker(request: HttpRequest) -> FileResponse:
    """The push service worker, served from the root so that it may control every page."""
    path = settings.BASE_DIR / "static" / "js" / "sw.js"
    if not path.exists():
        raise Http404
    response = FileResponse(path.open("rb"), content_type="text/javascript")
    response["Service-Worker-Allowed"] = "/"
    response["Cache-Control"] = "no-cache"
    return response


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
