"""The notification topics of communications: a message from the community, a reminder."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from cer.notifications import topics

# The subject and body are the referente's own, rendered per member before notify: the
# topic only carries them through.
MESSAGE = topics.register(
    topics.Topic(
        code="communications.message",
        title=_("Messages from your community"),
        subject=_("{subject}"),
        body=_("{body}"),
    )
)
REMINDER = topics.register(
    topics.Topic(
        code="communications.reminder",
        title=_("Reminders to answer your community"),
        subject=_("Reminder: {subject}"),
        body=_("Your community is still waiting for your answer to this message.\n\n{body}"),
    )
)
