"""A CIE OpenID provider run inside the test: an HTTP server on 127.0.0.1 serving
discovery, JWKS, authorize, token and userinfo, signing with joserfc.

It checks what a real provider checks of us (PKCE S256, acr_values, nonce, state,
the client assertion signed by our key) and can be told to misbehave (sign with another
key, answer another nonce or audience, send no `iss`) for the refusal tests.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

FISCAL_NUMBER = "https://attributes.eid.gov.it/fiscal_number"


@dataclass
class Person:
    tax_code: str
    given_name: str = "Lucia"
    family_name: str = "Verdi"
    email: str = "lucia.verdi@example.org"
    acr: str = "https://www.spid.gov.it/SpidL2"


@dataclass
class LocalOpenIdProvider:
    client_id: str
    client_public_pem: bytes
    person: Person | None = None
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": "op"}))
    # Misbehaviour switches for the refusal tests.
    signing_key: RSAKey | None = None
    nonce_override: str | None = None
    audience_override: str | None = None
    send_iss: bool = True
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    seen_authorize: list[dict[str, str]] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def issuer(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_port}"

    def start(self) -> None:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                return

            def _send(self, status: int, body: Any = None, headers: dict[str, str] | None = None):
                data = json.dumps(body).encode() if body is not None else b""
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                if body is not None:
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                url = urlparse(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                if url.path == "/.well-known/openid-configuration":
                    self._send(200, provider.discovery())
                elif url.path == "/jwks":
                    self._send(200, KeySet([provider.key]).as_dict(private=False))
                elif url.path == "/authorize":
                    status, location = provider.authorize(query)
                    self._send(
                        status,
                        None if location else {"error": "invalid_request"},
                        {"Location": location} if location else None,
                    )
                elif url.path == "/userinfo":
                    token = self.headers.get("Authorization", "").removeprefix("Bearer ")
                    found = provider.tokens.get(token)
                    if found is None:
                        self._send(401, {"error": "invalid_token"})
                    else:
                        self._send(200, provider.userinfo(found))
                else:
                    self._send(404, {"error": "not_found"})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                if urlparse(self.path).path == "/token":
                    status, body = provider.token(form)
                    self._send(status, body)
                else:
                    self._send(404, {"error": "not_found"})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "userinfo_endpoint": f"{self.issuer}/userinfo",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            "acr_values_supported": [f"https://www.spid.gov.it/SpidL{n}" for n in (1, 2, 3)],
        }

    def authorize(self, query: dict[str, str]) -> tuple[int, str]:
        self.seen_authorize.append(query)
        required = {"client_id", "redirect_uri", "state", "nonce", "code_challenge", "acr_values"}
        if (
            not required <= query.keys()
            or query["client_id"] != self.client_id
            or query.get("response_type") != "code"
            or query.get("code_challenge_method") != "S256"
            or "openid" not in query.get("scope", "").split()
        ):
            return 400, ""
        code = secrets.token_urlsafe(16)
        self.codes[code] = query
        answer = {"code": code, "state": query["state"]}
        if self.send_iss:
            answer["iss"] = self.issuer
        return 302, f"{query['redirect_uri']}?{urlencode(answer)}"

    def token(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        asked = self.codes.pop(form.get("code", ""), None)
        if asked is None or form.get("grant_type") != "authorization_code":
            return 400, {"error": "invalid_grant"}
        verifier = form.get("code_verifier", "")
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        if challenge.decode().rstrip("=") != asked["code_challenge"]:
            return 400, {"error": "invalid_grant", "error_description": "PKCE"}
        if form.get("redirect_uri") != asked["redirect_uri"]:
            return 400, {"error": "invalid_grant"}
        if not self._client_assertion_ok(form):
            return 401, {"error": "invalid_client"}
        assert self.person is not None
        access = secrets.token_urlsafe(24)
        self.tokens[access] = asked["nonce"]
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": "cie-subject-1",
            "aud": self.audience_override or self.client_id,
            "iat": now,
            "exp": now + 300,
            "nonce": self.nonce_override or asked["nonce"],
            "acr": self.person.acr,
        }
        key = self.signing_key or self.key
        id_token = jwt.encode({"alg": "RS256", "kid": "op"}, claims, key)
        return 200, {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": 300,
            "id_token": id_token,
        }

    def _client_assertion_ok(self, form: dict[str, str]) -> bool:
        if form.get("client_assertion_type") != (
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
        ):
            return False
        try:
            decoded = jwt.decode(
                form.get("client_assertion", ""), RSAKey.import_key(self.client_public_pem)
            )
            jwt.JWTClaimsRegistry(
                iss={"essential": True, "value": self.client_id},
                sub={"essential": True, "value": self.client_id},
                aud={"essential": True, "value": f"{self.issuer}/token"},
                exp={"essential": True},
            ).validate(decoded.claims)
        except Exception:
            return False
        return True

    def userinfo(self, _nonce: str) -> dict[str, Any]:
        assert self.person is not None
        return {
            "sub": "cie-subject-1",
            "given_name": self.person.given_name,
            "family_name": self.person.family_name,
            "email": self.person.email,
            FISCAL_NUMBER: f"TINIT-{self.person.tax_code}",
        }
