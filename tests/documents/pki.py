"""A local test PKI for the signature tests: CAs, signers, a CRL and a timestamp authority.

Made with `cryptography` in the test run; nothing here is trusted outside the tests.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from asn1crypto import cms, keys
from asn1crypto import crl as asn1_crl
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.ades.qualified_asn1 import QcStatements
from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes
from pyhanko.sign.timestamps import DummyTimeStamper
from pyhanko_certvalidator.registry import SimpleCertificateStore

NOW = dt.datetime.now(dt.UTC)
DAY = dt.timedelta(days=1)
TAX_CODE = "RSSMRA80A01H501U"


@dataclass
class Party:
    cert: x509.Certificate
    key: Any

    @property
    def asn1_cert(self) -> asn1_x509.Certificate:
        return asn1_x509.Certificate.load(self.cert.public_bytes(serialization.Encoding.DER))

    @property
    def asn1_key(self) -> keys.PrivateKeyInfo:
        return keys.PrivateKeyInfo.load(
            self.key.private_bytes(
                serialization.Encoding.DER,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )

    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)


def _name(**attributes: str) -> x509.Name:
    oids = {
        "cn": NameOID.COMMON_NAME,
        "given": NameOID.GIVEN_NAME,
        "surname": NameOID.SURNAME,
        "serial": NameOID.SERIAL_NUMBER,
        "org": NameOID.ORGANIZATION_NAME,
    }
    parts = [x509.NameAttribute(NameOID.COUNTRY_NAME, "IT")]
    parts += [x509.NameAttribute(oids[k], v) for k, v in attributes.items()]
    return x509.Name(parts)


def issue(
    subject: x509.Name,
    issuer: Party | None,
    *,
    ca: bool = False,
    not_before: dt.datetime = NOW - 365 * DAY,
    not_after: dt.datetime = NOW + 365 * DAY,
    qualified: bool = False,
    tsa: bool = False,
) -> Party:
    """Issue a certificate (self-signed when `issuer` is None).

    A TSA gets an RSA key: pyHanko's test timestamper signs with RSA only.
    """
    key: Any = (
        rsa.generate_private_key(65537, 2048) if tsa else ec.generate_private_key(ec.SECP256R1())
    )
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.cert.subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
    else:
        builder = builder.add_extension(
            x509.KeyUsage(True, True, False, False, False, False, False, False, False),
            critical=True,
        )
    if issuer is not None and not ca:
        # Where the CA publishes its CRL; the tests never fetch it, the CRL is embedded.
        point = x509.DistributionPoint(
            [x509.UniformResourceIdentifier("http://crl.prova.invalid/ca.crl")], None, None, None
        )
        builder = builder.add_extension(x509.CRLDistributionPoints([point]), critical=False)
    if issuer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()),
            critical=False,
        )
    if qualified:
        statements = QcStatements([{"statement_id": "qc_compliance"}]).dump()
        builder = builder.add_extension(
            x509.UnrecognizedExtension(x509.ObjectIdentifier("1.3.6.1.5.5.7.1.3"), statements),
            critical=False,
        )
    if tsa:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True
        )
    signing_key = issuer.key if issuer else key
    return Party(builder.sign(signing_key, hashes.SHA256()), key)


@dataclass
class TestPKI:
    root: Party
    intermediate: Party
    signer: Party  # qualified, with the tax code in serialNumber
    plain: Party  # not qualified, tax code in the common name
    expired: Party
    revoked: Party
    stranger_root: Party
    stranger: Party
    tsa: Party
    crl: asn1_crl.CertificateList

    def write_anchors(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "root.pem").write_bytes(self.root.pem())
        return folder

    def pyhanko_signer(self, party: Party) -> signers.SimpleSigner:
        return signers.SimpleSigner(
            signing_cert=party.asn1_cert,
            signing_key=party.asn1_key,
            cert_registry=SimpleCertificateStore.from_certs(
                [self.intermediate.asn1_cert, self.root.asn1_cert]
            ),
        )

    def timestamper(self) -> DummyTimeStamper:
        return DummyTimeStamper(
            tsa_cert=self.tsa.asn1_cert,
            tsa_key=self.tsa.asn1_key,
            certs_to_embed=SimpleCertificateStore.from_certs(
                [self.intermediate.asn1_cert, self.root.asn1_cert]
            ),
        )


def make_pki() -> TestPKI:
    root = issue(_name(cn="CA radice di prova", org="Prova"), None, ca=True)
    intermediate = issue(_name(cn="CA qualificata di prova", org="Prova"), root, ca=True)
    signer = issue(
        _name(cn="Mario Rossi", given="Mario", surname="Rossi", serial=f"TINIT-{TAX_CODE}"),
        intermediate,
        qualified=True,
    )
    plain = issue(_name(cn="BIANCHI LUCIA/BNCLCU85M41F205Z"), intermediate)
    expired = issue(
        _name(cn="Carlo Verdi", serial="TINIT-VRDCRL70A01H501X"),
        intermediate,
        not_before=NOW - 400 * DAY,
        not_after=NOW - 30 * DAY,
    )
    revoked = issue(_name(cn="Anna Neri", serial="TINIT-NRENNA75A41H501Y"), intermediate)
    stranger_root = issue(_name(cn="CA sconosciuta"), None, ca=True)
    stranger = issue(_name(cn="Ignoto Falso", serial="TINIT-FLSGNT80A01H501Z"), stranger_root)
    tsa = issue(_name(cn="TSA di prova"), intermediate, tsa=True)
    crl = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(intermediate.cert.subject)
        .last_update(NOW - dt.timedelta(hours=1))
        .next_update(NOW + 7 * DAY)
        .add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(revoked.cert.serial_number)
            .revocation_date(NOW - 2 * DAY)
            .build()
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(intermediate.key.public_key()),
            critical=False,
        )
        .add_extension(x509.CRLNumber(1), critical=False)
        .sign(intermediate.key, hashes.SHA256())
    )
    return TestPKI(
        root=root,
        intermediate=intermediate,
        signer=signer,
        plain=plain,
        expired=expired,
        revoked=revoked,
        stranger_root=stranger_root,
        stranger=stranger,
        tsa=tsa,
        crl=asn1_crl.CertificateList.load(crl.public_bytes(serialization.Encoding.DER)),
    )


def sign_p7m(pki: TestPKI, party: Party, content: bytes, *, crl: bool = False) -> bytes:
    """Wrap `content` in a CAdES envelope (DER) signed by `party`."""
    signer = pki.pyhanko_signer(party)
    if party is pki.stranger:
        signer = signers.SimpleSigner(
            signing_cert=party.asn1_cert,
            signing_key=party.asn1_key,
            cert_registry=SimpleCertificateStore.from_certs([pki.stranger_root.asn1_cert]),
        )
    info = asyncio.run(
        signer.async_sign_general_data(
            content,
            "sha256",
            detached=False,
            signed_attr_settings=PdfCMSSignedAttributes(signing_time=NOW),
        )
    )
    if crl:
        # The CRL rides in the SignedData's (unsigned) crls field.
        info["content"]["crls"] = cms.RevocationInfoChoices(
            [cms.RevocationInfoChoice(name="crl", value=pki.crl)]
        )
    return info.dump(force=True)


def sign_pdf(pki: TestPKI, party: Party, pdf: bytes, *, field: str = "Firma1") -> bytes:
    """Sign `pdf` with a PAdES signature of `party`."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    metadata = signers.PdfSignatureMetadata(
        field_name=field, subfilter=fields.SigSeedSubFilter.PADES, md_algorithm="sha256"
    )
    return signers.sign_pdf(writer, metadata, signer=pki.pyhanko_signer(party)).getvalue()
