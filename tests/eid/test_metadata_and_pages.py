"""The SP metadata AgID registers, the login page's buttons, and the module being off."""

from __future__ import annotations

import subprocess

from lxml import etree

from tests.eid.conftest import SP_ENTITY_ID

MD = "urn:oasis:names:tc:SAML:2.0:metadata"
DS = "http://www.w3.org/2000/09/xmldsig#"
SPID = "https://spid.gov.it/saml-extensions"


def test_the_metadata_is_signed_and_carries_what_spid_asks(client, spid_idp, settings, tmp_path):
    answer = client.get("/eid/spid/metadata/")
    assert answer.status_code == 200
    assert answer["Content-Type"] == "application/samlmetadata+xml"
    root = etree.fromstring(answer.content)
    assert root.get("entityID") == SP_ENTITY_ID
    sp = root.find(f"{{{MD}}}SPSSODescriptor")
    assert sp.get("AuthnRequestsSigned") == "true"
    assert sp.get("WantAssertionsSigned") == "true"
    acs = sp.find(f"{{{MD}}}AssertionConsumerService")
    assert acs.get("Location") == "http://testserver/eid/spid/acs/"
    assert (acs.get("index"), acs.get("isDefault")) == ("0", "true")
    service = sp.find(f"{{{MD}}}AttributeConsumingService")
    asked = [item.get("Name") for item in service.findall(f"{{{MD}}}RequestedAttribute")]
    assert asked == ["fiscalNumber", "name", "familyName", "email"]
    contact = root.find(f"{{{MD}}}ContactPerson")
    assert contact.get("contactType") == "other"
    assert contact.findtext(f"{{{MD}}}Extensions/{{{SPID}}}VATNumber") == "IT12345670017"
    assert contact.find(f"{{{MD}}}Extensions/{{{SPID}}}Private") is not None
    assert contact.findtext(f"{{{MD}}}EmailAddress") == "spid@cer.example.org"
    assert root.find(f"{{{MD}}}Organization/{{{MD}}}OrganizationName").text == "CER di prova"
    # The signature verifies with the SP certificate (xmlsec1, as AgID's tools do).
    assert root.find(f"{{{DS}}}Signature") is not None
    document = tmp_path / "metadata.xml"
    document.write_bytes(answer.content)
    verified = subprocess.run(  # noqa: S603 (fixed arguments)
        [
            "/usr/bin/xmlsec1",
            "--verify",
            "--pubkey-cert-pem",
            settings.SPID_CERT_FILE,
            "--id-attr:ID",
            "urn:oasis:names:tc:SAML:2.0:metadata:EntityDescriptor",
            str(document),
        ],
        capture_output=True,
        check=False,
    )
    assert verified.returncode == 0, verified.stderr
    document.write_bytes(answer.content.replace(b"CER di prova", b"CER di altri"))
    tampered = subprocess.run(  # noqa: S603 (fixed arguments)
        [
            "/usr/bin/xmlsec1",
            "--verify",
            "--pubkey-cert-pem",
            settings.SPID_CERT_FILE,
            "--id-attr:ID",
            "urn:oasis:names:tc:SAML:2.0:metadata:EntityDescriptor",
            str(document),
        ],
        capture_output=True,
        check=False,
    )
    assert tampered.returncode != 0


def test_the_login_page_offers_spid_with_the_idp_list(client, spid_idp):
    page = client.get("/login/", {"next": "/members/profile/"}).content.decode()
    assert "Accedi con SPID" in page
    assert "IdP di prova" in page
    assert "/eid/spid/login/?idp=https%3A//idp.test.example/" in page
    assert "next=/members/profile/" in page
    assert "Accedi con CIE" not in page


def test_the_login_page_offers_cie_when_it_is_on(client, cie_provider):
    page = client.get("/login/").content.decode()
    assert "Accedi con CIE" in page
    assert "Accedi con SPID" not in page


def test_everything_is_off_by_default(client, db):
    page = client.get("/login/").content.decode()
    assert "SPID" not in page and "CIE" not in page
    for url in ("/eid/spid/metadata/", "/eid/spid/login/", "/eid/cie/login/"):
        assert client.get(url).status_code == 404
    assert client.post("/eid/spid/acs/", {"SAMLResponse": "x"}).status_code == 404
