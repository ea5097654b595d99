"""SPID login: a SAML2 service provider on pysaml2, following AgID's technical rules
(Regole tecniche SPID and the later "avvisi"; docs/spid-cie.md lists them).

- The metadata is signed and carries the entity ID, the assertion consumer service, an
  AttributeConsumingService naming the attributes asked, the organisation and the
  "other" contact person with the SPID extensions (VAT number or tax code, Private).
- The AuthnRequest is signed (HTTP-Redirect binding: the signature travels in the query),
  asks the configured level as AuthnContextClassRef with comparison "minimum", and sets
  ForceAuthn from level 2 up.
- A response is accepted only when pysaml2 finds the response and the assertion signed by
  the chosen IdP, the Destination our ACS, the Audience our entity ID, InResponseTo a
  request of this session, and the time conditions met; we then check the level returned
  is at least the level asked, and that neither the response nor the assertion ID was
  used before (replay).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

import saml2
from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from lxml import etree
from saml2 import ExtensionElement, md, saml
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.metadata import entity_descriptor, sign_entity_descriptor
from saml2.saml import NAME_FORMAT_BASIC, NAMEID_FORMAT_TRANSIENT
from saml2.samlp import RequestedAuthnContext
from saml2.sigver import SignatureError, security_context
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

from cer.eid.models import UsedSamlMessage

log = logging.getLogger("cer.eid")

LEVELS = {
    1: "https://www.spid.gov.it/SpidL1",
    2: "https://www.spid.gov.it/SpidL2",
    3: "https://www.spid.gov.it/SpidL3",
}
LEVEL_OF = {uri: level for level, uri in LEVELS.items()}
# The attributes asked (names from the SPID attribute table); fiscalNumber reads
# "TINIT-<tax code>".
REQUESTED_ATTRIBUTES = ["fiscalNumber", "name", "familyName", "email"]
SPID_NS = "https://spid.gov.it/saml-extensions"
ATTRIBUTE_SERVICE_INDEX = 0
ACS_INDEX = 0


class SpidRefused(Exception):
    """A response we do not accept; `reason` is a short code for the log and the audit."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class SpidIdentity:
    issuer: str
    subject: str
    tax_code: str
    first_name: str
    last_name: str
    email: str
    level: int


@dataclass(frozen=True)
class IdentityProvider:
    entity_id: str
    name: str


def site_url(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def acs_url() -> str:
    return site_url(reverse("eid:spid-acs"))


def metadata_url() -> str:
    return site_url(reverse("eid:spid-metadata"))


def sp_config() -> SPConfig:
    """The pysaml2 configuration, built from settings at each use (tests change them)."""
    conf: dict[str, Any] = {
        "entityid": settings.SPID_ENTITY_ID,
        "key_file": settings.SPID_KEY_FILE,
        "cert_file": settings.SPID_CERT_FILE,
        "metadata": {"local": list(settings.SPID_IDP_METADATA_FILES)},
        # Clocks may differ by a little; SPID's own validator allows a few minutes.
        "accepted_time_diff": 60,
        "allow_unknown_attributes": True,
        "service": {
            "sp": {
                "name": settings.SPID_ORGANIZATION_NAME or "CerCollettiva",
                "endpoints": {
                    "assertion_consumer_service": [(acs_url(), saml2.BINDING_HTTP_POST)],
                },
                "authn_requests_signed": True,
                "want_response_signed": True,
                "want_assertions_signed": True,
                "allow_unsolicited": False,
                "name_id_format": NAMEID_FORMAT_TRANSIENT,
                "signing_algorithm": SIG_RSA_SHA256,
                "digest_algorithm": DIGEST_SHA256,
            }
        },
    }
    config = SPConfig()
    config.load(conf)
    return config


def identity_providers() -> list[IdentityProvider]:
    """The IdPs of the configured metadata files, by display name."""
    found = []
    for entity_id, entity in sp_config().metadata.with_descriptor("idpsso").items():
        name = entity_id
        organization = entity.get("organization") or {}
        for item in organization.get("organization_display_name", []):
            name = item.get("text") or name
        found.append(IdentityProvider(entity_id=entity_id, name=name))
    return sorted(found, key=lambda idp: idp.name.lower())


def authn_request(*, idp: str, level: int, relay_state: str) -> tuple[str, str]:
    """Return (request ID, URL to send the browser to) for a signed AuthnRequest."""
    if idp not in {known.entity_id for known in identity_providers()}:
        raise SpidRefused("unknown_idp", idp)
    client = Saml2Client(config=sp_config())
    issuer = saml.Issuer(
        text=settings.SPID_ENTITY_ID,
        format=saml.NAMEID_FORMAT_ENTITY,
        name_qualifier=settings.SPID_ENTITY_ID,
    )
    request_id, info = client.prepare_for_authenticate(
        entityid=idp,
        relay_state=relay_state,
        binding=saml2.BINDING_HTTP_REDIRECT,
        sign=True,
        sigalg=SIG_RSA_SHA256,
        digest_alg=DIGEST_SHA256,
        issuer=issuer,
        nameid_format=NAMEID_FORMAT_TRANSIENT,
        force_authn="true" if level >= 2 else None,
        attribute_consuming_service_index=str(ATTRIBUTE_SERVICE_INDEX),
        requested_authn_context=RequestedAuthnContext(
            authn_context_class_ref=[saml.AuthnContextClassRef(text=LEVELS[level])],
            comparison="minimum",
        ),
    )
    location = dict(info["headers"])["Location"]
    return request_id, location


def _message_ids(xml: str) -> tuple[str, list[str], str, str]:
    """The response ID, its assertion IDs, its issuer and Destination, read before any
    check: used only to refuse early (a forged value fails the signature check later)."""
    try:
        root = etree.fromstring(xml.encode(), parser=etree.XMLParser(resolve_entities=False))
    except etree.XMLSyntaxError as error:
        raise SpidRefused("malformed", str(error)) from error
    assertions = root.findall(f"{{{saml.NAMESPACE}}}Assertion")
    issuer = root.findtext(f"{{{saml.NAMESPACE}}}Issuer") or ""
    return (
        root.get("ID", ""),
        [a.get("ID", "") for a in assertions],
        issuer.strip(),
        root.get("Destination", ""),
    )


def _decode(saml_response: str) -> str:
    try:
        return base64.b64decode(saml_response, validate=False).decode()
    except (binascii.Error, UnicodeDecodeError) as error:
        raise SpidRefused("malformed", "not base64 XML") from error


def validate_response(
    *, saml_response: str, pending: dict[str, dict[str, Any]], now: dt.datetime
) -> tuple[str, SpidIdentity]:
    """Check a posted SAMLResponse; return the request ID it answers and the identity.

    `pending` maps this session's request IDs to {"idp", "level"}. Raises SpidRefused.
    """
    xml = _decode(saml_response)
    response_id, assertion_ids, issuer, destination = _message_ids(xml)
    ids = [i for i in [response_id, *assertion_ids] if i]
    if UsedSamlMessage.objects.filter(message_id__in=ids).exists():
        raise SpidRefused("replay", ", ".join(ids))
    # SPID requires the Destination; pysaml2 checks it only when present.
    if destination != acs_url():
        raise SpidRefused("wrong_destination", destination)
    client = Saml2Client(config=sp_config())
    try:
        response = client.parse_authn_request_response(
            saml_response,
            saml2.BINDING_HTTP_POST,
            outstanding={request_id: "" for request_id in pending},
        )
    except SignatureError as error:
        raise SpidRefused("bad_signature", str(error)) from error
    except Exception as error:  # pysaml2 raises a dozen types; each is a refusal
        raise SpidRefused(_reason_of(error), f"{type(error).__name__}: {error}") from error
    if response is None or response.response.destination != acs_url():
        raise SpidRefused("invalid", "no response, or not destined for our ACS")
    request_id = response.in_response_to
    asked = pending.get(request_id)
    if asked is None:
        raise SpidRefused("unsolicited", request_id or "")
    if response.issuer() != asked["idp"]:
        raise SpidRefused("wrong_issuer", response.issuer())
    identity = _identity(response)
    if identity.level < int(asked["level"]):
        raise SpidRefused("level_too_low", f"asked L{asked['level']}, got L{identity.level}")
    _remember_ids(ids, issuer=issuer, response=response, now=now)
    return request_id, identity


def _reason_of(error: Exception) -> str:
    name = type(error).__name__
    text = str(error).lower()
    if "audience" in text or name == "AudienceRestrictionFailed":
        return "wrong_audience"
    if name in {"ResponseLifetimeExceed", "ToEarly", "TimeConditionFailed"} or "too old" in text:
        return "expired"
    if "destination" in text or (name == "OtherError" and "destination" in text):
        return "wrong_destination"
    if name in {"UnsolicitedResponse"}:
        return "unsolicited"
    if "signature" in text or "signed" in text or name == "SignatureError":
        return "bad_signature"
    return "invalid"


def _identity(response: Any) -> SpidIdentity:
    attributes = response.get_identity()

    def first(name: str) -> str:
        values = attributes.get(name) or [""]
        return str(values[0]).strip()

    raw = first("fiscalNumber")
    tax_code = raw.removeprefix("TINIT-").strip().upper()
    if not tax_code:
        raise SpidRefused("no_tax_code", "the response has no fiscalNumber")
    classes = [info[0] for info in response.authn_info()]
    level = max((LEVEL_OF.get(ref, 0) for ref in classes), default=0)
    name_id = response.name_id.text if response.name_id is not None else ""
    return SpidIdentity(
        issuer=response.issuer(),
        subject=name_id or "",
        tax_code=tax_code,
        first_name=first("name"),
        last_name=first("familyName"),
        email=first("email"),
        level=level,
    )


def _remember_ids(ids: list[str], *, issuer: str, response: Any, now: dt.datetime) -> None:
    expires = now + dt.timedelta(hours=1)
    not_on_or_after = getattr(response, "not_on_or_after", 0)
    if not_on_or_after:
        expires = max(expires, dt.datetime.fromtimestamp(not_on_or_after, tz=dt.UTC))
    try:
        with transaction.atomic():
            for message_id in ids:
                UsedSamlMessage.objects.create(
                    message_id=message_id, issuer=issuer, used_at=now, expires_at=expires
                )
    except IntegrityError as error:
        # Two requests raced with the same message: only the first wins.
        raise SpidRefused("replay", ", ".join(ids)) from error


def forget_used_messages(now: dt.datetime) -> int:
    """Delete the used IDs whose messages expired long ago (they fail the time check)."""
    deleted, _kinds = UsedSamlMessage.objects.filter(
        expires_at__lt=now - dt.timedelta(days=1)
    ).delete()
    return deleted


def signed_metadata() -> str:
    """The SP metadata, signed with the SP key (AgID registers this file)."""
    config = sp_config()
    descriptor = entity_descriptor(config)
    sp = descriptor.spsso_descriptor
    sp.attribute_consuming_service = [
        md.AttributeConsumingService(
            index=str(ATTRIBUTE_SERVICE_INDEX),
            service_name=[md.ServiceName(lang="it", text=config.name)],
            requested_attribute=[
                md.RequestedAttribute(name=name, name_format=NAME_FORMAT_BASIC)
                for name in REQUESTED_ATTRIBUTES
            ],
        )
    ]
    for acs in sp.assertion_consumer_service:
        acs.index = str(ACS_INDEX)
        acs.is_default = "true"
    descriptor.organization = md.Organization(
        organization_name=[md.OrganizationName(lang="it", text=settings.SPID_ORGANIZATION_NAME)],
        organization_display_name=[
            md.OrganizationDisplayName(lang="it", text=settings.SPID_ORGANIZATION_NAME)
        ],
        organization_url=[md.OrganizationURL(lang="it", text=settings.SPID_ORGANIZATION_URL)],
    )
    descriptor.contact_person = [_contact_person()]
    security = security_context(config)
    _ident, signed = sign_entity_descriptor(
        descriptor, None, security, sign_alg=SIG_RSA_SHA256, digest_alg=DIGEST_SHA256
    )
    return str(signed)


def _contact_person() -> md.ContactPerson:
    """The "other" contact of a private service provider (AgID avviso 29 v3)."""
    extensions: list[ExtensionElement] = []
    if settings.SPID_CONTACT_VAT_NUMBER:
        extensions.append(_spid_element("VATNumber", settings.SPID_CONTACT_VAT_NUMBER))
    if settings.SPID_CONTACT_FISCAL_CODE:
        extensions.append(_spid_element("FiscalCode", settings.SPID_CONTACT_FISCAL_CODE))
    extensions.append(_spid_element("Private", None))
    contact = md.ContactPerson(
        contact_type="other",
        extensions=md.Extensions(extension_elements=extensions),
        email_address=[md.EmailAddress(text=settings.SPID_CONTACT_EMAIL)],
    )
    if settings.SPID_CONTACT_PHONE:
        contact.telephone_number = [md.TelephoneNumber(text=settings.SPID_CONTACT_PHONE)]
    return contact


def _spid_element(tag: str, text: str | None) -> ExtensionElement:
    return ExtensionElement(tag, namespace=SPID_NS, text=text)


def configured() -> bool:
    return bool(
        settings.SPID_ENABLED
        and settings.SPID_ENTITY_ID
        and settings.SPID_KEY_FILE
        and settings.SPID_CERT_FILE
        and settings.SPID_IDP_METADATA_FILES
    )
