"""CIE login: the whole code flow against a local OpenID provider through the test client."""

from __future__ import annotations

from urllib.parse import urlparse

import requests
from joserfc.jwk import RSAKey

from cer.audit.models import AuditEntry
from cer.eid.models import IdentityLink
from tests import factories
from tests.eid.oidc_provider import Person


def _round_trip(client, provider, next_url="/members/profile/"):
    """Our login page → the provider's authorize → back to our callback."""
    answer = client.get("/eid/cie/login/", {"next": next_url})
    assert answer.status_code == 302, answer.content
    assert answer["Location"].startswith(f"{provider.issuer}/authorize?")
    at_provider = requests.get(answer["Location"], allow_redirects=False, timeout=10)
    assert at_provider.status_code == 302, at_provider.text
    back = urlparse(at_provider.headers["Location"])
    assert back.path == "/eid/cie/callback/"
    return client.get(f"{back.path}?{back.query}")


def _refusals(reason):
    return AuditEntry.objects.filter(code="eid.login.refused", changes__reason=reason).count()


def test_a_member_logs_in_with_cie(client, cie_provider):
    member = factories.make_member()
    cie_provider.person = Person(tax_code=member.fiscal_code)
    answer = _round_trip(client, cie_provider)
    assert answer.status_code == 302, answer.content
    assert answer["Location"] == "/members/profile/"
    member.refresh_from_db()
    assert client.session["_auth_user_id"] == str(member.user.pk)
    assert (client.session["eid.method"], client.session["eid.level"]) == ("cie", 2)
    link = IdentityLink.objects.get(user=member.user)
    assert (link.provider, link.subject, link.issuer) == (
        "cie",
        "cie-subject-1",
        cie_provider.issuer,
    )
    asked = cie_provider.seen_authorize[0]
    assert asked["code_challenge_method"] == "S256"
    assert asked["acr_values"] == "https://www.spid.gov.it/SpidL2"
    assert len(asked["nonce"]) >= 32 and len(asked["state"]) >= 32


def test_an_id_token_signed_by_another_key_is_refused(client, cie_provider):
    member = factories.make_member()
    cie_provider.person = Person(tax_code=member.fiscal_code)
    cie_provider.signing_key = RSAKey.generate_key(2048, parameters={"kid": "op"})
    answer = _round_trip(client, cie_provider)
    assert answer.status_code == 400
    assert _refusals("bad_id_token") == 1
    assert "_auth_user_id" not in client.session


def test_a_wrong_nonce_or_audience_is_refused(client, cie_provider):
    member = factories.make_member()
    cie_provider.person = Person(tax_code=member.fiscal_code)
    cie_provider.nonce_override = "someone-elses-nonce"
    assert _round_trip(client, cie_provider).status_code == 400
    cie_provider.nonce_override = None
    cie_provider.audience_override = "https://other.example/"
    assert _round_trip(client, cie_provider).status_code == 400
    assert _refusals("bad_id_token") == 2
    assert not IdentityLink.objects.exists()


def test_an_answer_without_the_providers_name_is_refused(client, cie_provider):
    member = factories.make_member()
    cie_provider.person = Person(tax_code=member.fiscal_code)
    cie_provider.send_iss = False
    assert _round_trip(client, cie_provider).status_code == 400
    assert _refusals("wrong_issuer") == 1


def test_a_callback_with_another_state_is_refused(client, cie_provider):
    member = factories.make_member()
    cie_provider.person = Person(tax_code=member.fiscal_code)
    client.get("/eid/cie/login/")
    answer = client.get(
        "/eid/cie/callback/", {"code": "x", "state": "forged", "iss": cie_provider.issuer}
    )
    assert answer.status_code == 400
    assert _refusals("wrong_state") == 1


def test_a_lower_level_than_asked_is_refused(client, cie_provider):
    member = factories.make_member()
    cie_provider.person = Person(tax_code=member.fiscal_code, acr="https://www.spid.gov.it/SpidL1")
    assert _round_trip(client, cie_provider).status_code == 400
    assert _refusals("level_too_low") == 1
