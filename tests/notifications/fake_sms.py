"""A local stand-in for Skebby's REST API v1.0, speaking its endpoints, codes and bodies.

`GET /API/v1.0/REST/login?username=&password=` answers 200 "user_key;session_key", or
404 for wrong credentials; `POST /API/v1.0/REST/sms` with the user_key and Session_key
headers and a JSON body answers 201 {"result": "OK", "order_id": ..., "total_sent": n},
401 for unknown keys, 400 for a malformed body or recipient. `fail_next(status, body)`
makes the next send answer with that status instead (a 503, a 400 for a refused number).
Every accepted message is kept in `messages`.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

PREFIX = "/API/v1.0/REST/"
USER_KEY, SESSION_KEY = "USER_KEY_1", "SESSION_KEY_1"


@dataclass
class FakeSkebby:
    username: str = "cer-test"
    password: str = "segreto"
    messages: list[dict[str, Any]] = field(default_factory=list)
    failures: list[tuple[int, str]] = field(default_factory=list)
    logins: int = 0
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}{PREFIX}"

    def fail_next(self, status: int, body: dict[str, Any] | str, *, times: int = 1) -> None:
        text = body if isinstance(body, str) else json.dumps(body)
        self.failures.extend([(status, text)] * times)

    def start(self) -> FakeSkebby:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def _answer(self, status: int, body: str, kind: str = "application/json") -> None:
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                if parts.path != PREFIX + "login":
                    return self._answer(404, "")
                query = parse_qs(parts.query)
                if query.get("username") != [fake.username] or query.get("password") != [
                    fake.password
                ]:
                    return self._answer(404, "")
                fake.logins += 1
                return self._answer(200, f"{USER_KEY};{SESSION_KEY}", "text/plain")

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                if urlsplit(self.path).path != PREFIX + "sms":
                    return self._answer(404, "")
                if (
                    self.headers.get("user_key") != USER_KEY
                    or self.headers.get("Session_key") != SESSION_KEY
                ):
                    return self._answer(401, "")
                if fake.failures:
                    status, text = fake.failures.pop(0)
                    return self._answer(status, text)
                try:
                    body = json.loads(raw)
                    recipients = body["recipient"]
                    assert body["message_type"] in {"GP", "TI", "SI"}
                    assert isinstance(body["message"], str) and body["message"]
                    assert all(str(number).startswith("+") for number in recipients)
                except (ValueError, KeyError, AssertionError, TypeError):
                    return self._answer(400, json.dumps({"result": "KO", "error": "bad request"}))
                fake.messages.append(body)
                order = f"ORDER{len(fake.messages)}"
                answer = {
                    "result": "OK",
                    "order_id": order,
                    "total_sent": len(recipients),
                    "internal_order_id": order,
                }
                return self._answer(201, json.dumps(answer))

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
