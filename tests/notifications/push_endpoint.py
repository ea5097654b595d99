"""A local push service endpoint: checks VAPID, decrypts with the browser's keys, records.

`new_browser()` makes what a browser makes when it subscribes: a P-256 key pair and a
16-byte auth secret, and an endpoint on this server; it returns the subscription JSON the
browser would post. A push POSTed to that endpoint must carry `Authorization: vapid
t=<jwt>,k=<key>` whose ES256 signature verifies with `k`, `k` must be the server's VAPID
public key (when `vapid_key` is set), the token's `aud` this server's origin and `exp`
in the future; then the body is decrypted with http_ece (aes128gcm) using the browser's
private key and secret, and the JSON payload kept in `received`. `answer_next(status)`
makes the next push answer with that status (410 for a subscription gone).
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def check_vapid(header: str, *, audience: str, expected_key: str | None) -> dict[str, Any]:
    """Return the token's claims if the VAPID header is valid. Raises ValueError."""
    scheme, _space, params = header.partition(" ")
    if scheme != "vapid":
        raise ValueError(f"scheme {scheme!r}")
    values = dict(part.strip().split("=", 1) for part in params.split(","))
    token, key = values["t"], values["k"]
    if expected_key is not None and key != expected_key:
        raise ValueError("not the server's VAPID key")
    head, body, signature = token.split(".")
    raw = unb64url(signature)
    if len(raw) != 64:
        raise ValueError("signature length")
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(key))
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    try:
        public.verify(der, f"{head}.{body}".encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature as error:
        raise ValueError("bad signature") from error
    if json.loads(unb64url(head)).get("alg") != "ES256":
        raise ValueError("alg")
    claims = json.loads(unb64url(body))
    if claims.get("aud") != audience or int(claims.get("exp", 0)) <= time.time():
        raise ValueError(f"claims {claims}")
    if not str(claims.get("sub", "")).startswith(("mailto:", "https:")):
        raise ValueError("sub")
    return claims


@dataclass
class Browser:
    """One subscribed browser: its private key and auth secret, known only to it (and us)."""

    name: str
    private_key: ec.EllipticCurvePrivateKey
    auth: bytes

    def p256dh(self) -> str:
        point = self.private_key.public_key().public_bytes(
            Encoding.X962, PublicFormat.UncompressedPoint
        )
        return b64url(point)


@dataclass
class PushEndpoint:
    vapid_key: str | None = None
    browsers: dict[str, Browser] = field(default_factory=dict)
    received: list[dict[str, Any]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def origin(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def new_browser(self, name: str | None = None) -> dict[str, Any]:
        name = name or secrets.token_hex(4)
        browser = Browser(name, ec.generate_private_key(ec.SECP256R1()), secrets.token_bytes(16))
        self.browsers[name] = browser
        return {
            "endpoint": f"{self.origin}/push/{name}",
            "keys": {"p256dh": browser.p256dh(), "auth": b64url(browser.auth)},
        }

    def add_browser(self, name: str, private_key: ec.EllipticCurvePrivateKey, auth: bytes) -> str:
        """Take a browser made elsewhere (a page's WebCrypto keys); return its endpoint."""
        self.browsers[name] = Browser(name, private_key, auth)
        return f"{self.origin}/push/{name}"

    def answer_next(self, status: int) -> None:
        self.answers.append(status)

    def start(self) -> PushEndpoint:
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def _answer(self, status: int, text: str = "") -> None:
                data = text.encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                name = self.path.rsplit("/", 1)[-1]
                browser = endpoint.browsers.get(name)
                if browser is None:
                    return self._answer(404, "no such subscription")
                if endpoint.answers:
                    return self._answer(endpoint.answers.pop(0), "as asked")
                try:
                    check_vapid(
                        self.headers.get("Authorization", ""),
                        audience=endpoint.origin,
                        expected_key=endpoint.vapid_key,
                    )
                    assert self.headers.get("Content-Encoding") == "aes128gcm"
                    assert int(self.headers.get("TTL", "-1")) >= 0
                    assert self.headers.get("Urgency") in {"very-low", "low", "normal", "high"}
                    plain = http_ece.decrypt(
                        body,
                        private_key=browser.private_key,
                        auth_secret=browser.auth,
                        version="aes128gcm",
                    )
                    message = json.loads(plain)
                except Exception as error:  # anything wrong is a refusal, recorded
                    endpoint.refused.append(f"{type(error).__name__}: {error}")
                    return self._answer(400, "refused")
                endpoint.received.append(
                    {"browser": name, "urgency": self.headers["Urgency"], **message}
                )
                return self._answer(201)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
