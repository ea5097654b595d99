"""Verification of signed uploads against a local test CA: upload page and service."""

from __future__ import annotations

import base64
import hashlib
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone, translation
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation.dss import DocumentSecurityStore

from cer.audit.models import AuditEntry
from cer.core import formatting
from cer.documents import drafting
from cer.documents.models import DocumentVersion, SignatureCheck
from cer.documents.signatures import (
    INDETERMINATE,
    INVALID,
    VALID,
    NotSigned,
    describe,
    verify,
)
from tests.documents import pki as test_pki

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def pki():
    return test_pki.make_pki()


@pytest.fixture(autouse=True)
def anchors(pki, settings, tmp_path):
    settings.SIGNATURE_TRUST_ANCHORS_DIR = str(pki.write_anchors(tmp_path / "anchors"))
    settings.SIGNATURE_ALLOW_FETCHING = False


@pytest.fixture(scope="module")
def pdf():
    return drafting.to_pdf([drafting.Block("paragraph", "Verbale di prova")], title="Verbale")


def upload(client, community, content, name, **fields):
    data = {
        "kind": "MINUTES",
        "title": "Verbale firmato",
        "document_date": "2026-03-03",
        "file": SimpleUploadedFile(name, content),
        **fields,
    }
    return client.post(reverse("documents:upload", args=[community.pk]), data)


def modified(pdf_bytes: bytes) -> bytes:
    """Change one byte inside the first stream: same length, same offsets, other content."""
    start = pdf_bytes.index(b"stream") + 20
    flipped = bytes([pdf_bytes[start] ^ 0x01])
    return pdf_bytes[:start] + flipped + pdf_bytes[start + 1 :]


# -- Through the upload page ------------------------------------------------------------


def test_a_valid_p7m_is_stored_as_its_pdf_with_the_result_in_words(
    client, referente, community, pki, pdf
):
    client.force_login(referente)
    envelope = test_pki.sign_p7m(pki, pki.signer, pdf)

    response = upload(client, community, envelope, "verbale.pdf.p7m")

    assert response.status_code == 302
    version = DocumentVersion.objects.get()
    assert version.content_type == "application/pdf"
    assert version.original_name == "verbale.pdf"
    assert version.file.read() == pdf
    check = SignatureCheck.objects.get(version=version)
    assert check.status == VALID
    assert (check.format, check.signer_name, check.tax_code) == (
        "CADES",
        "Mario Rossi",
        test_pki.TAX_CODE,
    )
    assert check.qualified
    assert check.content_sha256 == hashlib.sha256(pdf).hexdigest()
    assert check.envelope.read() == envelope
    assert AuditEntry.objects.filter(code="documents.signature.checked").exists()

    with translation.override("en"):
        page = client.get(reverse("documents:archive", args=[community.pk]))
        text = page.content.decode()
    assert 'data-signature="VALID"' in text
    signed_on = formatting.day(timezone.localtime(check.signing_time), lang="en")
    assert (
        f"Signed by Mario Rossi (RSSMRA80A01H501U) on {signed_on}; valid; qualified certificate"
        in text
    )


def test_the_result_follows_the_reader_language(client, referente, community, pki, pdf):
    client.force_login(referente)
    upload(client, community, test_pki.sign_pdf(pki, pki.signer, pdf), "verbale.pdf")
    check = SignatureCheck.objects.get()
    months = {
        "it": [
            "gennaio",
            "febbraio",
            "marzo",
            "aprile",
            "maggio",
            "giugno",
            "luglio",
            "agosto",
            "settembre",
            "ottobre",
            "novembre",
            "dicembre",
        ],
        "en": [
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ],
    }
    month = timezone.localtime(check.signing_time).month - 1
    with translation.override("it"):
        italian = check.summary
    with translation.override("en"):
        english = check.summary
    assert f" {months['it'][month]} " in italian
    assert f" {months['en'][month]} " in english
    assert "Mario Rossi (RSSMRA80A01H501U)" in italian


def test_a_signed_pdf_is_detected_without_the_mark(client, referente, community, pki, pdf):
    client.force_login(referente)

    response = upload(client, community, test_pki.sign_pdf(pki, pki.signer, pdf), "verbale.pdf")

    assert response.status_code == 302
    check = SignatureCheck.objects.get()
    assert (check.format, check.status, check.tax_code) == ("PADES", VALID, test_pki.TAX_CODE)
    assert check.signing_time is not None


def test_a_pdf_modified_after_signing_is_stored_never_valid(client, referente, community, pki, pdf):
    client.force_login(referente)
    signed = modified(test_pki.sign_pdf(pki, pki.signer, pdf))

    response = upload(client, community, signed, "verbale.pdf", signed="on")

    assert response.status_code == 302
    check = SignatureCheck.objects.get()
    assert check.status == INVALID
    assert [r["code"] for r in check.signers[0]["reasons"]] == ["modified"]
    with translation.override("en"):
        page = client.get(reverse("documents:archive", args=[community.pk])).content.decode()
    assert 'data-signature="INVALID"' in page
    assert "the document was modified after signing" in page


def test_a_p7m_that_is_not_cms_is_refused_with_the_reason(client, referente, community):
    client.force_login(referente)

    with translation.override("en"):
        response = upload(client, community, b"%PDF-1.7 not an envelope", "statuto.pdf.p7m")

    assert response.status_code == 400
    assert "not a CMS signed envelope" in str(response.context["form"].errors["file"])
    assert not DocumentVersion.objects.exists()
    assert not SignatureCheck.objects.exists()


def test_a_pdf_declared_signed_without_signatures_is_stored_invalid(
    client, referente, community, pdf
):
    client.force_login(referente)

    response = upload(client, community, pdf, "verbale.pdf", signed="on")

    assert response.status_code == 302
    check = SignatureCheck.objects.get()
    assert check.status == INVALID
    assert check.reasons == [{"code": "no_signature", "when": None}]


def test_an_unsigned_upload_carries_no_check(client, referente, community, pdf):
    client.force_login(referente)

    upload(client, community, pdf, "verbale.pdf")

    assert DocumentVersion.objects.exists()
    assert not SignatureCheck.objects.exists()


def test_signed_over_another_version_through_the_page(client, referente, community, pki, pdf):
    client.force_login(referente)
    sent = hashlib.sha256(b"the version sent for signature").hexdigest()

    upload(
        client,
        community,
        test_pki.sign_p7m(pki, pki.signer, pdf),
        "verbale.pdf.p7m",
        expected_sha256=sent,
    )

    check = SignatureCheck.objects.get()
    assert check.status == INVALID
    assert check.reasons == [{"code": "other_version", "when": None}]


# -- Service level ----------------------------------------------------------------------


def test_expired_certificate_is_not_valid(pki, pdf):
    report = verify(test_pki.sign_p7m(pki, pki.expired, pdf), "x.pdf.p7m")

    assert report.status == INVALID
    (signer,) = report.signers
    assert [r.code for r in signer.reasons] == ["expired"]
    assert signer.reasons[0].when == pki.expired.cert.not_valid_after_utc


def test_revoked_certificate_with_an_embedded_crl_is_not_valid(pki, pdf):
    report = verify(test_pki.sign_p7m(pki, pki.revoked, pdf, crl=True), "x.pdf.p7m")

    assert report.status == INVALID
    (signer,) = report.signers
    assert [r.code for r in signer.reasons] == ["revoked"]
    assert signer.reasons[0].when == (test_pki.NOW - 2 * test_pki.DAY).replace(microsecond=0)
    with translation.override("en"):
        text = describe([signer.as_json()], [], report.status)
    assert "the certificate was revoked on " in text


def test_a_signer_from_an_untrusted_root_cannot_be_told_valid(pki, pdf):
    report = verify(test_pki.sign_p7m(pki, pki.stranger, pdf), "x.p7m")

    assert report.status == INDETERMINATE
    assert [r.code for r in report.signers[0].reasons] == ["untrusted_chain"]


def test_without_trust_anchors_nothing_is_valid(pki, pdf, settings, tmp_path):
    settings.SIGNATURE_TRUST_ANCHORS_DIR = str(tmp_path / "empty")

    assert verify(test_pki.sign_p7m(pki, pki.signer, pdf), "x.p7m").status == INDETERMINATE


def test_a_modified_p7m_content_is_not_valid(pki, pdf):
    envelope = test_pki.sign_p7m(pki, pki.signer, pdf)
    position = envelope.index(b"Verbale")
    tampered = envelope[:position] + b"Xerbale" + envelope[position + 7 :]

    report = verify(tampered, "x.p7m")

    assert report.status == INVALID
    assert "modified" in [r.code for r in report.signers[0].reasons]


def test_nested_envelopes_are_unwrapped_with_every_signer(pki, pdf):
    inner = test_pki.sign_p7m(pki, pki.signer, pdf)
    outer = test_pki.sign_p7m(pki, pki.plain, inner)

    report = verify(outer, "x.pdf.p7m.p7m")

    assert report.status == VALID
    assert report.content == pdf
    assert sorted((s.name, s.tax_code, s.qualified) for s in report.signers) == [
        ("BIANCHI LUCIA", "BNCLCU85M41F205Z", False),
        ("Mario Rossi", test_pki.TAX_CODE, True),
    ]


def test_a_nested_envelope_with_one_bad_signer_is_not_valid(pki, pdf):
    outer = test_pki.sign_p7m(pki, pki.expired, test_pki.sign_p7m(pki, pki.signer, pdf))

    assert verify(outer, "x.p7m").status == INVALID


def test_base64_and_pem_envelopes_are_read(pki, pdf):
    der = test_pki.sign_p7m(pki, pki.signer, pdf)
    armored = b"-----BEGIN PKCS7-----\n" + base64.encodebytes(der) + b"-----END PKCS7-----\n"

    assert verify(base64.encodebytes(der), "x.p7m").content == pdf
    assert verify(armored, "x.p7m").status == VALID


def test_not_cms_is_refused(pdf):
    with pytest.raises(NotSigned):
        verify(b"0\x82garbage", "x.p7m")
    with pytest.raises(NotSigned):
        verify(pdf, "x.pdf.p7m")


def test_matching_expected_hash_keeps_it_valid(pki, pdf):
    report = verify(
        test_pki.sign_pdf(pki, pki.signer, pdf),
        "x.pdf",
        expected_sha256="0" * 64,
    )
    assert [r.code for r in report.reasons] == ["other_version"]

    envelope = test_pki.sign_p7m(pki, pki.signer, pdf)
    report = verify(envelope, "x.p7m", expected_sha256=hashlib.sha256(pdf).hexdigest())
    assert report.status == VALID


def test_a_pdf_signed_twice_reports_both_signers(pki, pdf):
    twice = test_pki.sign_pdf(
        pki, pki.plain, test_pki.sign_pdf(pki, pki.signer, pdf), field="Firma2"
    )

    report = verify(twice, "x.pdf")

    assert report.status == VALID
    assert [s.name for s in report.signers] == ["Mario Rossi", "BIANCHI LUCIA"]


def test_a_page_replaced_after_signing_is_not_valid(pki, pdf):
    writer = IncrementalPdfFileWriter(io.BytesIO(test_pki.sign_pdf(pki, pki.signer, pdf)))
    page = writer.root["/Pages"]["/Kids"][0].get_object()
    page["/Contents"] = writer.add_object(
        generic.StreamObject(stream_data=b"BT /F1 24 Tf 100 700 Td (Falso) Tj ET")
    )
    writer.update_container(page)
    changed = io.BytesIO()
    writer.write(changed)

    report = verify(changed.getvalue(), "x.pdf")

    assert report.status == INVALID
    assert [r.code for r in report.signers[0].reasons] == ["not_covered"]


def test_a_revoked_signer_with_the_crl_in_the_pdf_dss_is_not_valid(pki, pdf):
    signed = io.BytesIO(test_pki.sign_pdf(pki, pki.revoked, pdf))
    (signature,) = PdfFileReader(signed).embedded_signatures
    DocumentSecurityStore.add_dss(signed, signature.pkcs7_content, crls=[pki.crl])

    report = verify(signed.getvalue(), "x.pdf")

    assert report.status == INVALID
    assert [r.code for r in report.signers[0].reasons] == ["revoked"]
