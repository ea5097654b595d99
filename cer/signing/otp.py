"""The simple electronic signature ("firma elettronica semplice") by a one-time code.

A signer asks for a code; it goes by e-mail to the signer's address and, when their
account has a mobile number, by SMS too. The code is six digits, valid 10 minutes, and
allows 5 attempts; only a keyed hash of it is kept (salted HMAC with the site's secret
key), and a new code retires the older ones. The message is sent here and now, not
through the notification inbox, so the code is never stored in clear anywhere. The right
code signs: an evidence record (who, when, IP, browser, the document's SHA-256, channel,
when the code was sent) and its PDF, sealed by the platform when a seal is configured.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.mail import send_mail
from django.db import transaction
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _

from cer.audit.services import record
from cer.core import formatting
from cer.notifications import hooks
from cer.notifications.channels.base import DeliveryFailed
from cer.notifications.channels.sms import provider as sms_provider
from cer.signing import evidence
from cer.signing.models import OneTimeCode, SignatureKind, Signer, SimpleSignatureEvidence
from cer.signing.services import SigningClosed, _open_signer, mark_signed

logger = logging.getLogger(__name__)

CODE_VALIDITY = dt.timedelta(minutes=10)
MAX_ATTEMPTS = 5
# A new code at most this often: a mailbox is not to be flooded.
RESEND_AFTER = dt.timedelta(seconds=30)
EMAIL, SMS = "email", "sms"


class CodeRefused(Exception):
    """Raised when a code is wrong, expired or used up; `message` says which."""

    def __init__(self, message: Any) -> None:
        super().__init__(str(message))
        self.message = message


def code_hash(code_id: int, code: str) -> str:
    """The keyed hash a code is kept as (the code row's id salts it)."""
    return salted_hmac(f"cer.signing.otp.{code_id}", code.strip(), algorithm="sha256").hexdigest()


def _check_simple(signer: Signer) -> None:
    if signer.request.kind != SignatureKind.SIMPLE:
        raise SigningClosed(_("This document needs a qualified signature uploaded as a file."))
    _open_signer(signer)


def send_code(*, signer: Signer, actor: Any, now: dt.datetime) -> OneTimeCode:
    """Make a new code for `signer`, send it by e-mail (and SMS with a mobile number).

    Raises SigningClosed when the request is not open, not a simple one, or already
    signed; CodeRefused when a code was sent less than RESEND_AFTER ago.
    """
    _check_simple(signer)
    latest = signer.codes.filter(retired=False).first()
    if latest is not None and now - latest.sent_at < RESEND_AFTER:
        raise CodeRefused(_("A code was just sent: wait half a minute before asking again."))
    code = f"{secrets.randbelow(10**6):06d}"
    phone = hooks.phone_of(signer.user)
    channels = [EMAIL] + ([SMS] if phone else [])
    with transaction.atomic():
        signer.codes.filter(retired=False).update(retired=True)
        row = OneTimeCode.objects.create(
            signer=signer,
            code_hash="",
            channels=",".join(channels),
            sent_at=now,
            expires_at=now + CODE_VALIDITY,
        )
        row.code_hash = code_hash(row.pk, code)
        row.save(update_fields=["code_hash"])
        record(
            actor=actor,
            code="signing.code.sent",
            now=now,
            target=signer,
            community=signer.request.community,
            changes={"channels": channels},
        )
    _deliver(signer, code, phone, now)
    return row


def _deliver(signer: Signer, code: str, phone: str | None, now: dt.datetime) -> None:
    document = signer.request.document
    until = formatting.moment(now + CODE_VALIDITY)
    subject = _("Your code to sign “%(title)s”") % {"title": document.title}
    body = _(
        "Your code for the simple electronic signature (firma elettronica semplice) of "
        "“%(title)s” (%(community)s) is %(code)s. It is valid until %(until)s. If you did "
        "not ask for it, ignore this message and tell the community."
    ) % {
        "title": document.title,
        "community": signer.request.community.name,
        "code": code,
        "until": until,
    }
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [signer.email])
    if phone:
        carrier = sms_provider()
        text = _("Code %(code)s: firma elettronica semplice of “%(title)s”, valid 10 minutes.") % {
            "code": code,
            "title": document.title[:60],
        }
        try:
            if carrier is None:
                raise DeliveryFailed("no SMS provider is configured", permanent=True)
            carrier.send(phone, text, settings.SMS_SENDER)
        except DeliveryFailed as failure:
            # The e-mail went: the signer still has the code; the SMS is a second way only.
            logger.warning("signing: SMS code to signer %s not sent: %s", signer.pk, failure)


def confirm_code(
    *,
    signer: Signer,
    code: str,
    ip_address: str,
    user_agent: str,
    actor: Any,
    now: dt.datetime,
) -> SimpleSignatureEvidence:
    """Sign with `code`: on the right one, store the evidence and mark the signer signed.

    Raises CodeRefused (no code, expired, too many attempts, wrong code, saying how many
    attempts are left) and SigningClosed (see `send_code`).
    """
    _check_simple(signer)
    with transaction.atomic():
        row = signer.codes.select_for_update().filter(retired=False).first()
        refusal = _refusal(row, now)
        if refusal is None and row is not None:
            row.attempts += 1
            if not constant_time_compare(row.code_hash, code_hash(row.pk, code)):
                row.save(update_fields=["attempts"])
                left = MAX_ATTEMPTS - row.attempts
                refusal = (
                    _("The code is wrong; %(n)s attempts left.") % {"n": left}
                    if left
                    else _("The code is wrong and no attempts are left: ask for a new code.")
                )
        # A refused attempt still commits: its count must survive the refusal.
        if refusal is not None or row is None:
            record(
                actor=actor,
                code="signing.code.refused",
                now=now,
                target=signer,
                community=signer.request.community,
                changes={"ip": ip_address},
            )
        else:
            row.used_at = now
            row.retired = True
            row.save(update_fields=["attempts", "used_at", "retired"])
            proof = _store_evidence(signer, row, ip_address, user_agent, now)
            record(
                actor=actor,
                code="signing.simple.signed",
                now=now,
                target=signer,
                community=signer.request.community,
                changes={"ip": ip_address, "sha256": proof.document_sha256, "sealed": proof.sealed},
            )
            mark_signed(signer=signer, actor=actor, now=now)
            return proof
    raise CodeRefused(refusal)


def _refusal(row: OneTimeCode | None, now: dt.datetime) -> str | None:
    if row is None:
        return _("Ask for a code first.")
    if row.attempts >= MAX_ATTEMPTS:
        return _("Too many wrong attempts: ask for a new code.")
    if now >= row.expires_at:
        return _("The code has expired: ask for a new one.")
    return None


def _store_evidence(
    signer: Signer, row: OneTimeCode, ip_address: str, user_agent: str, now: dt.datetime
) -> SimpleSignatureEvidence:
    proof = SimpleSignatureEvidence(
        signer=signer,
        signed_at=now,
        name=signer.name,
        tax_code=signer.tax_code,
        username=signer.user.get_username(),
        ip_address=ip_address[:45],
        user_agent=user_agent[:400],
        document_sha256=signer.request.sent_sha256,
        channels=row.channels,
        code_sent_at=row.sent_at,
    )
    pdf, sealed = evidence.signer_evidence_pdf(proof, signer.request)
    proof.sealed = sealed
    proof.pdf.save("x.pdf", ContentFile(pdf), save=False)
    proof.save()
    return proof
