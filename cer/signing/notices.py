"""What the signature workflow tells people: reminders to signers, the managers when done.

The first notice to a signer is the documents app's `document_to_sign`, sent when the
request is made (cer.signing.services). Reminders follow every REMIND_EVERY, at most
MAX_REMINDERS times, from the periodic job in periodic_jobs.py.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from cer.notifications import hooks, links, topics
from cer.notifications.services import notify
from cer.signing.models import RequestStatus, SignatureRequest, Signer, SignerStatus

REMIND_EVERY = dt.timedelta(days=3)
MAX_REMINDERS = 3

SIGNATURE_REMINDER = topics.register(
    topics.Topic(
        code="signing.signature.reminder",
        title=_("A reminder of a document waiting for your signature"),
        subject=_("{community}: “{title}” still waits for your signature"),
        body=_(
            "{community} sent you “{title}” to sign on {sent_on} ({signature}). Open your "
            "signatures page to sign it."
        ),
    )
)
REQUEST_EXECUTED = topics.register(
    topics.Topic(
        code="signing.request.executed",
        title=_("A document signed by everyone"),
        subject=_("{community}: “{title}” is signed by everyone"),
        body=_(
            "Everyone asked has signed “{title}” ({signature}); the signed copy is in the "
            "community's archive."
        ),
    )
)


def remind_due(now: dt.datetime) -> int:
    """Remind each pending signer told more than REMIND_EVERY ago, MAX_REMINDERS times.

    The dedupe key names the signer and the reminder's number, so a job run twice tells
    nobody twice. Returns how many reminders were sent.
    """
    due = Signer.objects.filter(
        status=SignerStatus.PENDING,
        request__status=RequestStatus.OPEN,
        reminders_sent__lt=MAX_REMINDERS,
        last_told_at__lte=now - REMIND_EVERY,
    ).select_related("request__version__document", "request__community", "user")
    sent = 0
    for signer in due:
        request = signer.request
        document = request.document
        number = signer.reminders_sent + 1
        with transaction.atomic():
            notify(
                [signer.user],
                SIGNATURE_REMINDER.code,
                {
                    "community": request.community.name,
                    "title": document.title,
                    "sent_on": request.created_at,
                    "signature": request.get_kind_display(),
                },
                link=links.site_path("signing:signer", signer.pk),
                now=now,
                community=request.community,
                dedupe_key=f"signing-reminder:{signer.pk}:{number}",
            )
            signer.reminders_sent = number
            signer.last_told_at = now
            signer.save(update_fields=["reminders_sent", "last_told_at"])
        sent += 1
    return sent


def request_executed(request: SignatureRequest, now: dt.datetime) -> None:
    """Tell the community's managers that everyone signed (call it after the commit)."""
    notify(
        hooks.managers_of(request.community_id, now),
        REQUEST_EXECUTED.code,
        {
            "community": request.community.name,
            "title": request.document.title,
            "signature": request.get_kind_display(),
        },
        link=links.site_path("signing:request", request.pk),
        now=now,
        community=request.community,
        dedupe_key=f"signing-executed:{request.pk}",
    )
