"""`{% alert_badge community %}`: the community's live alerts, a link for its managers only."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import ngettext

from cer.alerts.models import LIVE_STATES, Alert
from cer.core import formatting

register = template.Library()


@register.simple_tag(takes_context=True)
def alert_badge(context: dict[str, Any], community: Any) -> str:
    """A link to the alerts page with the count of open alerts; nothing for other readers."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.has_perm("communities.manage_community", community):
        return ""
    count = Alert.objects.filter(community=community, state__in=LIVE_STATES).count()
    text = ngettext("%(count)s alert open", "%(count)s alerts open", count) % {
        "count": formatting.number(count)
    }
    return format_html(
        '<a class="badge" href="{}">{}</a>', reverse("alerts:list", args=[community.pk]), text
    )
