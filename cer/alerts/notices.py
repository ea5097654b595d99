"""The notice a community's managers get when an alert opens (never on re-evaluation)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from cer.notifications import topics

ALERT_OPENED = topics.register(
    topics.Topic(
        code="alerts.opened",
        title=_("An alert about the community opened"),
        subject=_("Alert in {community}: {rule}"),
        body=_("{explanation} See the community's alerts for the details."),
    )
)
