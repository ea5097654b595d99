"""Local identity providers for the SPID and CIE login tests: never a real one."""

from __future__ import annotations

import pytest

from tests.eid.keys import key_and_certificate
from tests.eid.saml_idp import LocalIdp
from tests.eid.switch import SP_ENTITY_ID, turn_eid_on

__all__ = ["SP_ENTITY_ID"]


@pytest.fixture
def spid_idp(tmp_path, settings, db) -> LocalIdp:
    """SPID on, with one local IdP that trusts our SP metadata (CIE stays off)."""
    idp = turn_eid_on(settings, tmp_path / "spid")
    settings.CIE_ENABLED = False
    from cer.eid import spid

    idp.trust_sp(spid.signed_metadata())
    return idp


CIE_CLIENT_ID = "http://testserver/eid/cie/"


@pytest.fixture
def cie_provider(tmp_path, settings, db):
    """CIE on, with a local OpenID provider on 127.0.0.1 that knows our client key (SPID
    stays off)."""
    from cryptography.hazmat.primitives import serialization

    from tests.eid.oidc_provider import LocalOpenIdProvider

    folder = tmp_path / "cie"
    folder.mkdir()
    key_file, _cert, private = key_and_certificate(folder, "rp")
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    provider = LocalOpenIdProvider(client_id=CIE_CLIENT_ID, client_public_pem=public_pem)
    provider.start()
    settings.SPID_ENABLED = False
    settings.SITE_URL = "http://testserver"
    settings.CIE_ENABLED = True
    settings.CIE_ISSUER = provider.issuer
    settings.CIE_CLIENT_ID = CIE_CLIENT_ID
    settings.CIE_CLIENT_KEY_FILE = str(key_file)
    settings.CIE_LEVEL = 2
    yield provider
    provider.stop()
