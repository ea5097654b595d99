"""CIE login: an OpenID Connect relying party (authorization code flow) on Authlib.

Following the SPID/CIE OpenID Connect rules (docs/spid-cie.md lists the sources):
PKCE (S256) and `acr_values` are required; `state` and `nonce` are random per login;
the client authenticates at the token endpoint with a JWT signed by its own key
(`private_key_jwt`); the authorization response must name the provider in `iss`
(CIE requires it, against mix-up attacks); the ID token is checked against the
provider's JWKS and its `iss`, `aud`, `exp` and `nonce`; the tax code is the claim
`https://attributes.eid.gov.it/fiscal_number` ("TINIT-<tax code>"), read from the
userinfo response or, failing that, the ID token.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from dataclasses import dataclass
from typing import Any

import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from django.conf import settings
from django.urls import reverse
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, RSAKey

from cer.eid.spid import LEVEL_OF, LEVELS, site_url

FISCAL_NUMBER = "https://attributes.eid.gov.it/fiscal_number"
SCOPE = "openid profile email"
HTTP_TIMEOUT = 10  # seconds for each call to the provider
# A login must come back within this time.
PENDING_LIFETIME = dt.timedelta(minutes=10)


class CieRefused(Exception):
    """An answer we do not accept; `reason` is a short code for the log and the audit."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class CieIdentity:
    issuer: str
    subject: str
    tax_code: str
    first_name: str
    last_name: str
    email: str
    level: int


def configured() -> bool:
    return bool(
        settings.CIE_ENABLED
        and settings.CIE_ISSUER
        and settings.CIE_CLIENT_ID
        and settings.CIE_CLIENT_KEY_FILE
    )


def redirect_uri() -> str:
    return site_url(reverse("eid:cie-callback"))


def discovery() -> dict[str, Any]:
    url = settings.CIE_ISSUER.rstrip("/") + "/.well-known/openid-configuration"
    answer = requests.get(url, timeout=HTTP_TIMEOUT)
    answer.raise_for_status()
    found: dict[str, Any] = answer.json()
    if found.get("issuer") != settings.CIE_ISSUER:
        raise CieRefused("wrong_issuer", str(found.get("issuer")))
    return found


def _session(**kwargs: Any) -> OAuth2Session:
    with open(settings.CIE_CLIENT_KEY_FILE, "rb") as handle:
        private_key = RSAKey.import_key(handle.read())
    session = OAuth2Session(
        settings.CIE_CLIENT_ID,
        private_key,
        token_endpoint_auth_method="private_key_jwt",  # noqa: S106 (a method name)
        scope=SCOPE,
        redirect_uri=redirect_uri(),
        code_challenge_method="S256",
        **kwargs,
    )
    return session


def start(*, level: int) -> tuple[str, dict[str, Any]]:
    """Return the URL to send the browser to and what the session must keep."""
    provider = discovery()
    state = secrets.token_urlsafe(32)
    nonce = secrets.token_urlsafe(32)
    verifier = secrets.token_urlsafe(64)
    session = _session()
    claims = {
        "userinfo": {
            FISCAL_NUMBER: {"essential": True},
            "given_name": None,
            "family_name": None,
            "email": None,
        }
    }
    url, _state = session.create_authorization_url(
        provider["authorization_endpoint"],
        state=state,
        nonce=nonce,
        code_verifier=verifier,
        acr_values=LEVELS[level],
        prompt="consent login",
        claims=json.dumps(claims),
    )
    keep = {"state": state, "nonce": nonce, "verifier": verifier, "level": level}
    return url, keep


def finish(*, params: dict[str, str], kept: dict[str, Any]) -> CieIdentity:
    """Check the authorization response, exchange the code, check the ID token and read
    the identity. Raises CieRefused."""
    if params.get("error"):
        raise CieRefused("provider_error", params.get("error_description") or params["error"])
    if not kept or not secrets.compare_digest(params.get("state", ""), kept.get("state", "")):
        raise CieRefused("wrong_state")
    if params.get("iss") != settings.CIE_ISSUER:
        raise CieRefused("wrong_issuer", params.get("iss", ""))
    code = params.get("code", "")
    if not code:
        raise CieRefused("no_code")
    provider = discovery()
    session = _session()
    session.register_client_auth_method(PrivateKeyJWT(provider["token_endpoint"]))
    try:
        token = session.fetch_token(
            provider["token_endpoint"],
            code=code,
            code_verifier=kept["verifier"],
            grant_type="authorization_code",
            timeout=HTTP_TIMEOUT,
        )
    except Exception as error:  # Authlib raises OAuthError, requests its own errors
        raise CieRefused("token_refused", f"{type(error).__name__}: {error}") from error
    keys = KeySet.import_key_set(requests.get(provider["jwks_uri"], timeout=HTTP_TIMEOUT).json())
    claims = _id_token_claims(token.get("id_token", ""), keys=keys, nonce=kept["nonce"])
    userinfo = _userinfo(session, provider, keys)
    if userinfo.get("sub", claims["sub"]) != claims["sub"]:
        raise CieRefused("wrong_subject")
    raw = str(userinfo.get(FISCAL_NUMBER) or claims.get(FISCAL_NUMBER) or "")
    tax_code = raw.removeprefix("TINIT-").strip().upper()
    if not tax_code:
        raise CieRefused("no_tax_code")
    level = LEVEL_OF.get(str(claims.get("acr", "")), 0)
    if level < int(kept["level"]):
        raise CieRefused("level_too_low", f"asked L{kept['level']}, got L{level}")

    def pick(name: str) -> str:
        return str(userinfo.get(name) or claims.get(name) or "")

    return CieIdentity(
        issuer=settings.CIE_ISSUER,
        subject=str(claims["sub"]),
        tax_code=tax_code,
        first_name=pick("given_name"),
        last_name=pick("family_name"),
        email=pick("email"),
        level=level,
    )


def _id_token_claims(id_token: str, *, keys: KeySet, nonce: str) -> dict[str, Any]:
    if not id_token:
        raise CieRefused("no_id_token")
    try:
        decoded = jwt.decode(id_token, keys, algorithms=["RS256", "RS512", "ES256"])
        jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": settings.CIE_ISSUER},
            aud={"essential": True, "value": settings.CIE_CLIENT_ID},
            exp={"essential": True},
            sub={"essential": True},
            nonce={"essential": True, "value": nonce},
        ).validate(decoded.claims)
    except (JoseError, ValueError) as error:
        raise CieRefused("bad_id_token", f"{type(error).__name__}: {error}") from error
    return dict(decoded.claims)


def _userinfo(session: OAuth2Session, provider: dict[str, Any], keys: KeySet) -> dict[str, Any]:
    """The userinfo claims: plain JSON, or a JWT signed by the provider."""
    endpoint = provider.get("userinfo_endpoint")
    if not endpoint:
        return {}
    answer = session.get(endpoint, timeout=HTTP_TIMEOUT)
    if answer.status_code != 200:
        raise CieRefused("userinfo_refused", str(answer.status_code))
    if answer.headers.get("Content-Type", "").startswith("application/json"):
        found: dict[str, Any] = answer.json()
        return found
    try:
        decoded = jwt.decode(answer.text.strip(), keys, algorithms=["RS256", "RS512", "ES256"])
    except (JoseError, ValueError) as error:
        raise CieRefused("bad_userinfo", f"{type(error).__name__}: {error}") from error
    return dict(decoded.claims)
