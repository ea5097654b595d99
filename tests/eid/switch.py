"""SPID and CIE turned on in a test's settings, with local keys and a local IdP."""

from __future__ import annotations

from pathlib import Path

from tests.eid.keys import key_and_certificate
from tests.eid.saml_idp import LocalIdp, make_idp

SP_ENTITY_ID = "http://testserver/eid/spid/metadata/"
# Nobody listens there: a CIE login started against it is refused at once.
NOBODY = "http://127.0.0.1:9"


def turn_eid_on(settings, folder: Path) -> LocalIdp:
    """SPID on with one local IdP (not yet trusting our metadata: `idp.trust_sp`), and CIE
    on with a provider that does not answer (the CIE tests start their own)."""
    folder.mkdir(exist_ok=True)
    idp = make_idp(folder)
    sp_key, sp_cert, _private = key_and_certificate(folder, "sp")
    settings.SITE_URL = "http://testserver"
    settings.SPID_ENABLED = True
    settings.SPID_ENTITY_ID = SP_ENTITY_ID
    settings.SPID_KEY_FILE = str(sp_key)
    settings.SPID_CERT_FILE = str(sp_cert)
    settings.SPID_IDP_METADATA_FILES = [str(idp.metadata_file)]
    settings.SPID_LEVEL = 2
    settings.SPID_ORGANIZATION_NAME = "CER di prova"
    settings.SPID_ORGANIZATION_URL = "https://cer.example.org/"
    settings.SPID_CONTACT_EMAIL = "spid@cer.example.org"
    settings.SPID_CONTACT_PHONE = "+390415555555"
    settings.SPID_CONTACT_VAT_NUMBER = "IT12345670017"
    settings.CIE_ENABLED = True
    settings.CIE_ISSUER = NOBODY
    settings.CIE_CLIENT_ID = "http://testserver/eid/cie/"
    settings.CIE_CLIENT_KEY_FILE = str(sp_key)
    settings.CIE_LEVEL = 2
    return idp
