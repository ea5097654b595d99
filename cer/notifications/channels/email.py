"""The e-mail channel: HTML and text over SMTP with Django's mail, in the reader's language.

The sender's display name is the community's name (the address stays DEFAULT_FROM_EMAIL,
the platform's own). Every e-mail about a topic one may switch off carries an
unsubscribe link for that topic, in the body and as List-Unsubscribe headers (RFC 2369,
with the one-click POST of RFC 8058). SMTP answers decide the failure's kind: a 5xx reply
(a recipient refused for good) is permanent; a connection problem or a 4xx reply is
retried.
"""

from __future__ import annotations

import smtplib
from email.utils import formataddr, parseaddr
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cer.notifications import links, topics
from cer.notifications.channels.base import Channel, DeliveryFailed, Envelope

PLATFORM_NAME = "CerCollettiva"


class EmailChannel(Channel):
    code = topics.EMAIL
    label = gettext_lazy("E-mail")

    def send(self, envelope: Envelope) -> None:
        address = (getattr(envelope.user, "email", "") or "").strip()
        if not address:
            raise DeliveryFailed("the user has no e-mail address", permanent=True)
        message = self.compose(envelope, address)
        try:
            message.send()
        except smtplib.SMTPRecipientsRefused as error:
            # 4xx is "not now" (a full mailbox, greylisting); only a 5xx is for good.
            codes = [code for code, _text in error.recipients.values()]
            refused = f"recipient refused: {error.recipients}"
            raise DeliveryFailed(refused, permanent=all(code >= 500 for code in codes)) from error
        except smtplib.SMTPResponseException as error:
            raise DeliveryFailed(
                f"SMTP {error.smtp_code}: {error.smtp_error!r}", permanent=error.smtp_code >= 500
            ) from error
        except (smtplib.SMTPException, OSError) as error:
            raise DeliveryFailed(f"{type(error).__name__}: {error}") from error

    def compose(self, envelope: Envelope, address: str) -> EmailMultiAlternatives:
        """Build the message (HTML and text parts) in the envelope's language."""
        with translation.override(envelope.language):
            context = self._context(envelope)
            if envelope.digest:
                subject = _("%(sender)s: %(count)d new notifications") % {
                    "sender": context["sender_name"],
                    "count": len(envelope.notifications),
                }
            else:
                subject = envelope.notifications[0].subject
            text = render_to_string("notifications/email/message.txt", context)
            html = render_to_string("notifications/email/message.html", context)
        address_from = parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
        sender = formataddr((envelope.sender_name or PLATFORM_NAME, address_from))
        headers: dict[str, str] = {}
        unsubscribe = context["unsubscribe"]
        if len(unsubscribe) == 1:
            headers["List-Unsubscribe"] = f"<{unsubscribe[0]['url']}>"
            headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        message = EmailMultiAlternatives(
            subject=subject, body=text, from_email=sender, to=[address], headers=headers
        )
        message.attach_alternative(html, "text/html")
        return message

    def _context(self, envelope: Envelope) -> dict[str, Any]:
        items = []
        unsubscribe: dict[str, dict[str, str]] = {}
        for notification in envelope.notifications:
            link = notification.link and links.absolute(
                notification.link, language=envelope.language
            )
            items.append({"subject": notification.subject, "body": notification.body, "link": link})
            try:
                topic = topics.get(notification.topic)
            except topics.UnknownTopic:
                continue
            if not topic.mandatory and topic.code not in unsubscribe:
                unsubscribe[topic.code] = {
                    "title": str(topic.title),
                    "url": links.unsubscribe_url(
                        user_id=envelope.user.pk,
                        topic=topic.code,
                        channel=self.code,
                        language=envelope.language,
                    ),
                }
        return {
            "items": items,
            "digest": envelope.digest,
            "sender_name": envelope.sender_name or PLATFORM_NAME,
            "inbox_url": links.absolute(
                links.site_path("notifications:inbox"), language=envelope.language
            ),
            "preferences_url": links.absolute(
                links.site_path("notifications:preferences"), language=envelope.language
            ),
            "unsubscribe": list(unsubscribe.values()),
        }
