"""The platform's PAdES seal: operator's key files or PKCS#12, a local RFC 3161 TSA over HTTP."""

from __future__ import annotations

import datetime as dt
import io
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from asn1crypto import tsp
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from pyhanko.pdf_utils.reader import PdfFileReader

from cer.documents import drafting, sealing
from cer.documents.services import founding_context
from cer.documents.signatures import VALID, verify
from tests.documents import pki as test_pki

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def pki():
    return test_pki.make_pki()


@pytest.fixture(scope="module")
def seal_party(pki):
    return test_pki.issue(
        test_pki._name(cn="Sigillo CER di prova", org="CER di prova"), pki.intermediate
    )


@pytest.fixture
def statute_pdf(community):
    blocks = drafting.draft(
        "STATUTE", founding_context(community=community, today=dt.date(2026, 3, 3))
    )
    return drafting.to_pdf(blocks, title=blocks[0].text)


@pytest.fixture
def key_files(pki, seal_party, settings, tmp_path):
    key = tmp_path / "seal.key"
    key.write_bytes(
        seal_party.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    cert = tmp_path / "seal.pem"
    cert.write_bytes(seal_party.pem())
    chain = tmp_path / "chain.pem"
    chain.write_bytes(pki.intermediate.pem())
    settings.PLATFORM_SIGNING_KEY_FILE = str(key)
    settings.PLATFORM_SIGNING_CERT_FILE = str(cert)
    settings.PLATFORM_SIGNING_CHAIN_FILES = [str(chain)]
    settings.PLATFORM_SIGNING_PKCS12_FILE = ""
    settings.PLATFORM_TSA_URL = ""
    settings.SIGNATURE_TRUST_ANCHORS_DIR = str(pki.write_anchors(tmp_path / "anchors"))


@pytest.fixture
def tsa_url(pki):
    """A local RFC 3161 timestamp authority over HTTP, answering with the test TSA's tokens."""
    stamper = pki.timestamper()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            request = tsp.TimeStampReq.load(body)
            answer = stamper.request_tsa_response(request).dump()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/tsa"
    server.shutdown()
    server.server_close()


def test_a_statute_sealed_with_key_files_verifies_valid(key_files, statute_pdf):
    sealed = sealing.seal_pdf(statute_pdf, "Copia della comunità")

    report = verify(sealed, "statuto.pdf")

    assert report.status == VALID
    (signer,) = report.signers
    assert signer.name == "Sigillo CER di prova"
    reader = PdfFileReader(io.BytesIO(sealed))
    (signature,) = reader.embedded_signatures
    assert signature.field_name == sealing.FIELD_NAME
    assert signature.sig_object["/Reason"] == "Copia della comunità"


def test_the_seal_carries_a_timestamp_from_the_configured_tsa(
    key_files, statute_pdf, tsa_url, settings
):
    settings.PLATFORM_TSA_URL = tsa_url

    sealed = sealing.seal_pdf(statute_pdf, "Copia della comunità")

    (signature,) = PdfFileReader(io.BytesIO(sealed)).embedded_signatures
    (token,) = [
        attribute["values"][0]
        for attribute in signature.signer_info["unsigned_attrs"]
        if attribute["type"].native == "signature_time_stamp_token"
    ]
    tst_info = token["content"]["encap_content_info"]["content"].parsed
    assert abs(tst_info["gen_time"].native - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=5)
    assert verify(sealed, "statuto.pdf").status == VALID


def test_a_pkcs12_file_with_a_passphrase_from_the_environment(
    pki, seal_party, statute_pdf, settings, tmp_path, monkeypatch
):
    bundle = tmp_path / "seal.p12"
    bundle.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"seal",
            seal_party.key,
            seal_party.cert,
            [pki.intermediate.cert],
            serialization.BestAvailableEncryption(b"segreto"),
        )
    )
    settings.PLATFORM_SIGNING_PKCS12_FILE = str(bundle)
    settings.PLATFORM_SIGNING_KEY_FILE = settings.PLATFORM_SIGNING_CERT_FILE = ""
    settings.PLATFORM_SIGNING_CHAIN_FILES = []
    settings.PLATFORM_TSA_URL = ""
    settings.SIGNATURE_TRUST_ANCHORS_DIR = str(pki.write_anchors(tmp_path / "anchors"))
    monkeypatch.setenv(settings.PLATFORM_SIGNING_KEY_PASSPHRASE_ENV, "segreto")

    assert verify(sealing.seal_pdf(statute_pdf, "Sigillo"), "x.pdf").status == VALID


def test_sealing_off_says_so_and_returns_nothing(statute_pdf, settings):
    settings.PLATFORM_SIGNING_PKCS12_FILE = ""
    settings.PLATFORM_SIGNING_KEY_FILE = settings.PLATFORM_SIGNING_CERT_FILE = ""

    assert not sealing.is_configured()
    with pytest.raises(sealing.SealingOff, match="PLATFORM_SIGNING_KEY_FILE"):
        sealing.seal_pdf(statute_pdf, "Sigillo")


def test_a_sealed_pdf_changed_afterwards_is_not_valid(key_files, statute_pdf):
    sealed = sealing.seal_pdf(statute_pdf, "Sigillo")
    start = sealed.index(b"stream") + 20
    tampered = sealed[:start] + bytes([sealed[start] ^ 1]) + sealed[start + 1 :]

    assert verify(tampered, "x.pdf").status != VALID
