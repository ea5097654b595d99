"""A SPID identity provider run inside the test: pysaml2's `saml2.server.Server` with a key
made in the test; it reads the AuthnRequests our login page sends and issues responses
the test posts to our ACS."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import saml2
from saml2 import saml
from saml2.config import IdPConfig
from saml2.metadata import entity_descriptor
from saml2.saml import NAME_FORMAT_BASIC, NAMEID_FORMAT_TRANSIENT
from saml2.server import Server
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

from tests.eid.keys import key_and_certificate

IDP_ENTITY_ID = "https://idp.test.example/"
IDP_SSO_URL = "https://idp.test.example/sso"
LEVEL_URI = "https://www.spid.gov.it/SpidL{}"


def _config(folder: Path, key: Path, cert: Path, sp_metadata: list[Path]) -> IdPConfig:
    conf: dict[str, Any] = {
        "entityid": IDP_ENTITY_ID,
        "key_file": str(key),
        "cert_file": str(cert),
        "allow_unknown_attributes": True,
        "organization": {
            "display_name": ["IdP di prova"],
            "name": ["IdP di prova"],
            "url": ["https://idp.test.example/"],
        },
        "service": {
            "idp": {
                "name": "IdP di prova",
                "endpoints": {
                    "single_sign_on_service": [(IDP_SSO_URL, saml2.BINDING_HTTP_REDIRECT)],
                },
                "want_authn_requests_signed": True,
                "name_id_format": [NAMEID_FORMAT_TRANSIENT],
                "policy": {
                    "default": {
                        "lifetime": {"minutes": 5},
                        "attribute_restrictions": None,
                        "name_form": NAME_FORMAT_BASIC,
                    }
                },
                "signing_algorithm": SIG_RSA_SHA256,
                "digest_algorithm": DIGEST_SHA256,
            }
        },
        "metadata": {"local": [str(path) for path in sp_metadata]} if sp_metadata else {},
    }
    config = IdPConfig()
    config.load(conf)
    return config


@dataclass
class LocalIdp:
    folder: Path
    key: Path
    cert: Path
    metadata_file: Path
    server: Server | None = None

    def trust_sp(self, *sp_metadata: str) -> None:
        """Read the metadata of the service providers this IdP serves (ours first)."""
        paths = []
        for number, text in enumerate(sp_metadata):
            path = self.folder / ("sp-metadata.xml" if number == 0 else f"sp-{number}.xml")
            path.write_text(text)
            paths.append(path)
        self.server = Server(config=_config(self.folder, self.key, self.cert, paths))

    def read_request(self, location: str) -> Any:
        """The AuthnRequest in the redirect URL our login page answered with."""
        assert location.startswith(IDP_SSO_URL), location
        query = parse_qs(urlparse(location).query)
        assert self.server is not None
        assert query["SigAlg"] == [SIG_RSA_SHA256], "the request is signed with RSA-SHA256"
        parsed = self.server.parse_authn_request(
            query["SAMLRequest"][0],
            saml2.BINDING_HTTP_REDIRECT,
            relay_state=query.get("RelayState", [None])[0],
            sigalg=query["SigAlg"][0],
            signature=query["Signature"][0],
        )
        return parsed.message

    def response(
        self,
        request: Any,
        *,
        tax_code: str,
        level: int = 2,
        audience: str | None = None,
        destination: str | None = None,
        first_name: str = "Maria",
        last_name: str = "Bianchi",
    ) -> str:
        """A signed response (response and assertion signed), base64 as posted."""
        assert self.server is not None
        identity = {
            "fiscalNumber": [f"TINIT-{tax_code}"],
            "name": [first_name],
            "familyName": [last_name],
            "email": ["maria.bianchi@example.org"],
        }
        response = self.server.create_authn_response(
            identity,
            in_response_to=request.id,
            destination=destination or request.assertion_consumer_service_url,
            sp_entity_id=audience or request.issuer.text,
            name_id=saml.NameID(
                format=NAMEID_FORMAT_TRANSIENT, text="_transient-1", name_qualifier=IDP_ENTITY_ID
            ),
            authn={"class_ref": LEVEL_URI.format(level), "authn_auth": IDP_ENTITY_ID},
            sign_response=True,
            sign_assertion=True,
            sign_alg=SIG_RSA_SHA256,
            digest_alg=DIGEST_SHA256,
        )
        return base64.b64encode(str(response).encode()).decode()


def make_idp(folder: Path) -> LocalIdp:
    key, cert, _private = key_and_certificate(folder, "idp")
    descriptor = entity_descriptor(_config(folder, key, cert, []))
    metadata_file = folder / "idp-metadata.xml"
    metadata_file.write_text(str(descriptor))
    return LocalIdp(folder=folder, key=key, cert=cert, metadata_file=metadata_file)
