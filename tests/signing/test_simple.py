"""The simple electronic signature: a one-time code by e-mail, evidence, limits.

The code is read from a real SMTP server on localhost, as a person reads their mail.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse as django_reverse
from django.utils import timezone, translation

from cer.audit.models import AuditEntry
from cer.documents.models import DocumentVersion
from cer.signing import otp, services
from cer.signing.models import OneTimeCode, RequestStatus, SignatureRequest
from cer.signing.privacy import member_signatures
from tests import factories
from tests.members.smtp import body_of

pytestmark = pytest.mark.django_db


def reverse(name, args=()):
    with translation.override("en"):
        return django_reverse(name, args=args)


@pytest.fixture
def mandate(founded):
    return factories.make_document(founded, kind="CONTRACT").versions.get()


def send_simple(client, manager, community, version: DocumentVersion, anna):
    client.force_login(manager)
    member = anna.user.member
    response = client.post(
        reverse("signing:send", args=[community.pk]),
        {"version": version.pk, "kind": "SIMPLE", "who": "CHOSEN", "members": [member.pk]},
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    return SignatureRequest.objects.get()


def code_in(mailbox) -> str:
    text = body_of(mailbox.messages[-1])
    assert "firma elettronica semplice" in text
    return re.search(r"\b(\d{6})\b", text).group(1)


def test_a_member_signs_a_mandate_with_the_code_sent_by_email(
    client, manager, founded, mandate, anna, smtp_server
):
    request = send_simple(client, manager, founded, mandate, anna)
    signer = request.signers.get()
    client.force_login(anna.user)

    client.post(reverse("signing:send_code", args=[signer.pk]))
    code = code_in(smtp_server)
    wrong = "000000" if code != "000000" else "111111"
    refused = client.post(reverse("signing:confirm_code", args=[signer.pk]), {"code": wrong})
    assert refused.status_code == 400 and "4 attempts left" in refused.content.decode()
    signed = client.post(
        reverse("signing:confirm_code", args=[signer.pk]),
        {"code": code},
        HTTP_USER_AGENT="Firefox di prova",
        REMOTE_ADDR="192.0.2.7",
    )

    assert signed.status_code == 302
    signer.refresh_from_db()
    proof = signer.evidence
    assert (proof.user_agent, proof.ip_address) == ("Firefox di prova", "192.0.2.7")
    assert proof.document_sha256 == request.sent_sha256
    assert proof.channels == "email" and proof.sealed is False
    assert proof.pdf.read().startswith(b"%PDF-")
    request.refresh_from_db()
    assert request.status == RequestStatus.EXECUTED
    assert "firme-elettroniche-semplici" in request.executed_version.original_name
    page = client.get(reverse("signing:request", args=[request.pk])).content.decode()
    assert "firma elettronica semplice" in page
    evidence = client.get(reverse("signing:evidence", args=[signer.pk]))
    assert evidence["Content-Type"] == "application/pdf"
    assert AuditEntry.objects.filter(code="signing.simple.signed").count() == 1
    (exported,) = member_signatures(anna.user.member)
    assert exported["evidence"]["ip_address"] == "192.0.2.7"


def test_the_code_is_kept_only_as_a_hash(client, manager, founded, mandate, anna, smtp_server):
    request = send_simple(client, manager, founded, mandate, anna)
    client.force_login(anna.user)

    client.post(reverse("signing:send_code", args=[request.signers.get().pk]))

    code = code_in(smtp_server)
    row = OneTimeCode.objects.get()
    assert row.code_hash != code and len(row.code_hash) == 64
    assert row.code_hash == otp.code_hash(row.pk, code)


def test_a_code_expires_after_ten_minutes(client, manager, founded, mandate, anna, smtp_server):
    request = send_simple(client, manager, founded, mandate, anna)
    signer = request.signers.get()
    sent_at = timezone.now()
    otp.send_code(signer=signer, actor=anna.user, now=sent_at)
    code = code_in(smtp_server)

    with pytest.raises(otp.CodeRefused, match="expired"):
        otp.confirm_code(
            signer=signer,
            code=code,
            ip_address="127.0.0.1",
            user_agent="x",
            actor=anna.user,
            now=sent_at + dt.timedelta(minutes=10),
        )
    assert not hasattr(signer, "evidence") or signer.status == "PENDING"


def test_five_wrong_codes_use_the_code_up(client, manager, founded, mandate, anna, smtp_server):
    request = send_simple(client, manager, founded, mandate, anna)
    signer = request.signers.get()
    now = timezone.now()
    otp.send_code(signer=signer, actor=anna.user, now=now)
    code = code_in(smtp_server)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        with pytest.raises(otp.CodeRefused):
            otp.confirm_code(
                signer=signer, code=wrong, ip_address="", user_agent="", actor=None, now=now
            )

    with pytest.raises(otp.CodeRefused, match="Too many"):
        otp.confirm_code(
            signer=signer, code=code, ip_address="", user_agent="", actor=None, now=now
        )
    assert OneTimeCode.objects.get().attempts == 5


def test_a_new_code_retires_the_old_one(client, manager, founded, mandate, anna, smtp_server):
    request = send_simple(client, manager, founded, mandate, anna)
    signer = request.signers.get()
    now = timezone.now()
    otp.send_code(signer=signer, actor=anna.user, now=now)
    old = code_in(smtp_server)
    otp.send_code(signer=signer, actor=anna.user, now=now + dt.timedelta(minutes=1))
    new = code_in(smtp_server)

    if old != new:
        with pytest.raises(otp.CodeRefused, match="wrong"):
            otp.confirm_code(
                signer=signer, code=old, ip_address="", user_agent="", actor=None, now=now
            )
    otp.confirm_code(signer=signer, code=new, ip_address="", user_agent="", actor=None, now=now)
    signer.refresh_from_db()
    assert signer.has_signed


def test_a_statute_cannot_be_sent_for_a_simple_signature(
    client, manager, founded, statute, anna, bruno
):
    client.force_login(manager)

    response = client.post(
        reverse("signing:send", args=[founded.pk]),
        {"version": statute.versions.get().pk, "kind": "SIMPLE", "who": "FOUNDERS"},
    )

    assert response.status_code == 400
    assert "needs a qualified electronic signature" in response.content.decode()
    assert SignatureRequest.objects.count() == 0


def test_a_qualified_request_takes_no_code(founded, statute, anna, bruno):
    recipients = services.resolve_recipients(
        community=founded,
        version=statute.versions.get(),
        who="AUTO",
        members=[],
        people=[],
        today=timezone.localdate(),
    )
    request = services.send_for_signature(
        version=statute.versions.get(),
        kind="QUALIFIED",
        recipients=recipients,
        message="",
        actor=None,
        now=timezone.now(),
    )

    with pytest.raises(services.SigningClosed):
        otp.send_code(signer=request.signers.first(), actor=None, now=timezone.now())
