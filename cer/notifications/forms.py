"""The preferences form: one checkbox per topic and channel, quiet hours, language.

SMS and push are chosen per topic; their column is locked, with a hint, while the user
has no mobile number on their profile or no browser subscribed.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from cer.notifications import channels, hooks, topics
from cer.notifications.channels.push import PUSH
from cer.notifications.channels.sms import SMS
from cer.notifications.models import PushSubscription
from cer.notifications.services import channel_enabled


def field_name(topic: str, channel: str) -> str:
    return f"{topic}:{channel}"


class PreferencesForm(forms.Form):
    language = forms.ChoiceField(label=_("Language of your messages"), choices=settings.LANGUAGES)
    quiet_from = forms.TimeField(
        label=_("Quiet hours from"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    quiet_to = forms.TimeField(
        label=_("Quiet hours to"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rows: list[dict[str, Any]] = []
        # Channels the user cannot be reached on yet, and what to do about it.
        self.hints: dict[str, Any] = {}
        if hooks.phone_of(user) is None:
            self.hints[SMS] = _("Add a mobile number to your profile to receive SMS.")
        if not PushSubscription.objects.filter(user_id=user.pk or 0).exists():
            self.hints[PUSH] = _("Enable notifications on this device (below) to receive them.")
        for topic in topics.all_topics():
            cells = []
            for channel in channels.all_channels():
                name = field_name(topic.code, channel.code)
                self.fields[name] = forms.BooleanField(
                    label=f"{topic.title} — {channel.label}",
                    required=False,
                    initial=channel_enabled(user, topic, channel.code),
                    disabled=topic.mandatory or channel.code in self.hints,
                )
                cells.append(name)
            self.rows.append({"topic": topic, "cells": cells})

    def table(self) -> list[dict[str, Any]]:
        """The rows of the topic x channel table, with their bound checkboxes."""
        return [
            {"topic": row["topic"], "cells": [self[name] for name in row["cells"]]}
            for row in self.rows
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (data.get("quiet_from") is None) != (data.get("quiet_to") is None):
            missing = "quiet_to" if data.get("quiet_to") is None else "quiet_from"
            self.add_error(missing, _("Give both the start and the end of the quiet hours."))
        return data

    def choices(self) -> dict[tuple[str, str], bool]:
        """The (topic, channel) choices the user may make, as ticked."""
        chosen = {}
        for row in self.rows:
            if row["topic"].mandatory:
                continue
            for name in row["cells"]:
                topic, channel = name.split(":", 1)
                chosen[(topic, channel)] = bool(self.cleaned_data.get(name))
        return chosen
