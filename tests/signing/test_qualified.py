"""The qualified path: each founder signs the statute sent, verified by the platform.

Through the pages (Django test client): the referente sends the statute to the founders;
each uploads a signed file; refusals (wrong person, other version, invalid, expired, not
qualified, not signed) are stored with their check and said in words; the second founder
counter-signs the first one's copy (PAdES) or wraps it (CAdES); the statute is executed.
"""

from __future__ import annotations

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse as django_reverse
from django.utils import translation

from cer.audit.models import AuditEntry
from cer.documents.models import SignatureCheck
from cer.signing.models import RequestStatus, SignatureRequest, SignedFile
from tests.documents.pki import sign_p7m, sign_pdf
from tests.signing.helpers import statute_pdf

pytestmark = pytest.mark.django_db


def reverse(name, args=()):
    """The English page: the workflow's own texts are not translated yet."""
    with translation.override("en"):
        return django_reverse(name, args=args)


def send_statute(client, manager, community, statute) -> SignatureRequest:
    client.force_login(manager)
    response = client.post(
        reverse("signing:send", args=[community.pk]),
        {"version": statute.versions.get().pk, "kind": "QUALIFIED", "who": "AUTO"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    return SignatureRequest.objects.get()


def upload(client, user, request, content: bytes, name: str):
    client.force_login(user)
    signer = request.signers.get(user=user)
    return client.post(
        reverse("signing:signer", args=[signer.pk]),
        {"file": SimpleUploadedFile(name, content)},
    )


def sent_bytes(client, request) -> bytes:
    response = client.get(reverse("signing:sent_file", args=[request.pk]))
    assert response.status_code == 200
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_the_statute_goes_to_the_founders_with_the_hash_of_the_file_sent(
    client, manager, founded, statute, anna, bruno
):
    request = send_statute(client, manager, founded, statute)

    assert [s.tax_code for s in request.signers.all()] == [anna.tax_code, bruno.tax_code]
    content = statute.versions.get().file.read()
    assert request.sent_sha256 == hashlib.sha256(content).hexdigest()
    assert request.status == RequestStatus.OPEN
    assert AuditEntry.objects.filter(code="signing.request.sent").count() == 1


def test_founders_sign_in_turn_and_the_statute_is_executed(
    client, manager, founded, statute, anna, bruno, pki
):
    request = send_statute(client, manager, founded, statute)
    client.force_login(anna.user)
    original = sent_bytes(client, request)

    first = sign_pdf(pki, anna.party, original, field="FirmaAnna")
    assert upload(client, anna.user, request, first, "statuto.pdf").status_code == 302
    client.force_login(bruno.user)
    copy = client.get(reverse("signing:signed_copy", args=[request.pk]))
    both = sign_pdf(pki, bruno.party, b"".join(copy.streaming_content), field="FirmaBruno")
    assert upload(client, bruno.user, request, both, "statuto.pdf").status_code == 302

    request.refresh_from_db()
    assert request.status == RequestStatus.EXECUTED
    executed = request.executed_version
    assert executed.number == 2
    check = SignatureCheck.objects.get(version=executed)
    assert check.status == "VALID"
    assert {s["tax_code"] for s in check.signers} == {anna.tax_code, bruno.tax_code}
    archive = client.get(reverse("documents:archive", args=[founded.pk])).content.decode()
    assert "executed: signed by everyone" in archive


def test_cades_signers_wrap_each_other_and_the_content_is_checked_by_hash(
    client, manager, founded, statute, anna, bruno, pki
):
    request = send_statute(client, manager, founded, statute)
    original = statute.versions.get().file.read()

    inner = sign_p7m(pki, anna.party, original)
    assert upload(client, anna.user, request, inner, "statuto.pdf.p7m").status_code == 302
    outer = sign_p7m(pki, bruno.party, inner)
    assert upload(client, bruno.user, request, outer, "statuto.pdf.p7m.p7m").status_code == 302

    request.refresh_from_db()
    assert request.status == RequestStatus.EXECUTED
    version = request.executed_version
    assert version.original_name == "statuto.pdf"
    assert version.file.read() == original
    assert SignatureCheck.objects.get(version=version).envelope


WRONG = "not signed by the expected"


@pytest.mark.parametrize(
    ("who", "content_of", "reason"),
    [
        (
            "stranger",
            lambda pki, f, pdf: sign_pdf(pki, pki.signer, pdf),
            WRONG,
        ),
        (
            "expired",
            lambda pki, f, pdf: sign_p7m(pki, pki.expired, pdf),
            WRONG,
        ),
        (
            "other",
            lambda pki, f, pdf: sign_pdf(pki, f.party, statute_pdf() + b"\n% altro"),
            "not the version sent",
        ),
        ("unsigned", lambda pki, f, pdf: pdf, "carries no signature"),
        ("garbage", lambda pki, f, pdf: b"0\x82 not cms", "not a signed envelope"),
    ],
)
def test_a_wrong_upload_is_refused_with_its_reason_and_kept(
    client, manager, founded, statute, anna, bruno, pki, who, content_of, reason
):
    request = send_statute(client, manager, founded, statute)
    original = statute.versions.get().file.read()
    name = "statuto.pdf.p7m" if who in ("expired", "garbage") else "statuto.pdf"

    response = upload(client, anna.user, request, content_of(pki, anna, original), name)

    assert response.status_code == 400
    assert reason in response.content.decode()
    stored = SignedFile.objects.get()
    assert stored.accepted is False and stored.refusals
    assert request.signers.get(user=anna.user).status == "PENDING"
    assert AuditEntry.objects.filter(code="signing.file.refused").count() == 1


def _expired_founder(pki, founder):
    from tests.documents import pki as test_pki

    return test_pki.issue(
        test_pki._name(cn="Anna Bianchi", serial=f"TINIT-{founder.tax_code}"),
        pki.intermediate,
        not_before=test_pki.NOW - 400 * test_pki.DAY,
        not_after=test_pki.NOW - 30 * test_pki.DAY,
        qualified=True,
    )


def test_the_right_person_with_an_expired_certificate_is_refused(
    client, manager, founded, statute, anna, bruno, pki
):
    request = send_statute(client, manager, founded, statute)
    original = statute.versions.get().file.read()
    expired = _expired_founder(pki, anna)

    response = upload(client, anna.user, request, sign_p7m(pki, expired, original), "s.pdf.p7m")

    text = response.content.decode()
    assert response.status_code == 400
    assert "The signature is not valid" in text and "had expired on" in text, (
        SignedFile.objects.get().refusals
    )
    assert SignedFile.objects.get().refusals[0]["code"] == "not_valid"


def test_a_signature_whose_certificate_is_not_qualified_is_refused(
    client, manager, founded, statute, anna, bruno, pki
):
    from tests.documents import pki as test_pki

    request = send_statute(client, manager, founded, statute)
    plain = test_pki.issue(
        test_pki._name(cn="Anna Bianchi", serial=f"TINIT-{anna.tax_code}"), pki.intermediate
    )

    response = upload(
        client,
        anna.user,
        request,
        sign_pdf(pki, plain, statute.versions.get().file.read()),
        "s.pdf",
    )

    assert response.status_code == 400
    assert "not qualified" in response.content.decode()


def test_a_pdf_modified_after_signing_is_refused(client, manager, founded, statute, anna, pki):
    request = send_statute(client, manager, founded, statute)
    signed = sign_pdf(pki, anna.party, statute.versions.get().file.read())
    tampered = (
        signed.replace(b"Costituzione", b"Costituziome")
        if b"Costituzione" in signed
        else (signed[:200] + bytes([signed[200] ^ 1]) + signed[201:])
    )

    response = upload(client, anna.user, request, tampered, "s.pdf")

    assert response.status_code == 400
    assert SignedFile.objects.get().accepted is False


def test_nobody_signs_a_cancelled_request_and_cancelling_asks_first(
    client, manager, founded, statute, anna, bruno, pki
):
    request = send_statute(client, manager, founded, statute)
    url = reverse("signing:cancel", args=[request.pk])

    asked = client.post(url, {"reason": "Testo da rivedere"})
    assert "cannot be undone" in asked.content.decode()
    request.refresh_from_db()
    assert request.status == RequestStatus.OPEN
    client.post(url, {"reason": "Testo da rivedere", "confirmed": "yes"})
    request.refresh_from_db()
    assert request.status == RequestStatus.CANCELLED
    assert AuditEntry.objects.filter(code="signing.request.cancelled").count() == 1

    signed = sign_pdf(pki, anna.party, statute.versions.get().file.read())
    response = upload(client, anna.user, request, signed, "s.pdf")
    assert response.status_code == 400
    assert "nothing more can be signed" in response.content.decode()
    assert SignedFile.objects.count() == 0


def test_a_member_who_is_not_a_signer_cannot_open_a_signers_page(
    client, manager, founded, statute, anna, bruno
):
    request = send_statute(client, manager, founded, statute)
    client.force_login(bruno.user)

    response = client.get(reverse("signing:signer", args=[request.signers.get(user=anna.user).pk]))

    assert response.status_code == 403


def test_a_founder_sees_what_waits_for_their_signature(client, manager, founded, statute, anna):
    send_statute(client, manager, founded, statute)
    client.force_login(anna.user)

    page = client.get(reverse("signing:mine")).content.decode()

    assert "Statuto della CER" in page
