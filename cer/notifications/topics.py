"""The topics the platform tells people about: a small registry.

A topic is what a notification is about (an application submitted, a device gone silent).
It carries the subject and body written for a person, with `{field}` placeholders filled
from the context the caller passes, the channels a user gets it on unless they chose
otherwise, and whether it is mandatory. Mandatory topics (security and money) always go
by e-mail and cannot be switched off; the rest reach the inbox and the daily e-mail
digest, and each user may turn their e-mail off per topic.

Apps register their own topics from their AppConfig.ready or at import (`register`); the
topics that belong to no higher app are registered here.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

INBOX = "inbox"
EMAIL = "email"


@dataclass(frozen=True)
class Topic:
    """One kind of notification.

    `subject` and `body` are lazy translations with `{field}` placeholders; `channels` the
    delivery channels it goes to by default (the inbox always keeps every notification);
    `mandatory` topics ignore opt-outs and are e-mailed at once, never in the digest;
    `urgent` topics ignore quiet hours too.
    """

    code: str
    title: str | Promise
    subject: str | Promise
    body: str | Promise
    channels: frozenset[str] = frozenset({EMAIL})
    mandatory: bool = False
    urgent: bool = False


class UnknownTopic(KeyError):
    """Raised when notifying about a topic nobody registered."""


_topics: dict[str, Topic] = {}


def register(topic: Topic) -> Topic:
    """Add `topic` to the registry (registering the same code again replaces it)."""
    _topics[topic.code] = topic
    return topic


def get(code: str) -> Topic:
    """Return the topic registered under `code`. Raises UnknownTopic."""
    try:
        return _topics[code]
    except KeyError as error:
        raise UnknownTopic(code) from error


def all_topics() -> list[Topic]:
    """Every registered topic, in the order of registration."""
    return list(_topics.values())


APPLICATION_SUBMITTED = register(
    Topic(
        code="members.application.submitted",
        title=_("A membership application to review"),
        subject=_("{applicant} applied to join {community}"),
        body=_(
            "{applicant} has completed an application to join {community} and waits for "
            "your decision."
        ),
    )
)
APPLICATION_APPROVED = register(
    Topic(
        code="members.application.approved",
        title=_("Your membership application approved"),
        subject=_("Welcome to {community}"),
        body=_(
            "Your application to join {community} was approved: you are a member from {valid_from}."
        ),
    )
)
APPLICATION_REJECTED = register(
    Topic(
        code="members.application.rejected",
        title=_("Your membership application refused"),
        subject=_("Your application to {community}"),
        body=_(
            "Your application to join {community} was not accepted. The community's "
            "referente can tell you why."
        ),
    )
)
DEVICE_SILENT = register(
    Topic(
        code="metering.device.silent",
        title=_("A meter that stopped reporting"),
        subject=_("Device {device} has been silent since {since}"),
        body=_(
            "Device {device} of connection point {pod} in {community} has sent no reading "
            "since {since}. Check its power supply and network."
        ),
    )
)
DELIVERY_FAILED = register(
    Topic(
        code="notifications.delivery.failed",
        title=_("A message that could not be delivered"),
        subject=_("A message to {recipient} could not be delivered"),
        body=_(
            'The {channel} message "{subject}" to {recipient} could not be delivered after '
            "{attempts} attempts: {error}. Check their contact details."
        ),
        # Shown in the inbox only: e-mailing about a failed e-mail rarely helps.
        channels=frozenset(),
    )
)
SECURITY_NOTICE = register(
    Topic(
        code="accounts.security.notice",
        title=_("Security notices about your account"),
        subject=_("Security notice: {event}"),
        body=_("{event}. If this was not you, change your password and tell the referente."),
        mandatory=True,
        urgent=True,
    )
)
