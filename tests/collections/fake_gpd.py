"""A local stand-in for pagoPA's GPD: the same paths, bodies and answers, in memory.

POST /organizations/{ofc}/debtpositions (201, 400 on a missing field, 409 when the IUPD
exists), POST …/debtpositions/{iupd}/publish, GET …/debtpositions/{iupd}; `fail_next`
makes the next calls answer 500 (a ProblemJson), `pay(iupd)` records a payment.
"""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

REQUIRED = ("iupd", "type", "fiscalCode", "fullName", "companyName", "switchToExpired")
OPTION_REQUIRED = ("iuv", "amount", "description", "isPartialPayment", "dueDate")
_PATH = re.compile(r"^/organizations/(\w+)/debtpositions(?:/([\w-]+))?(/publish)?$")


class FakeGpd:
    def __init__(self) -> None:
        self.positions: dict[str, dict[str, Any]] = {}
        self.calls: list[tuple[str, str]] = []
        self.fail_next = 0
        self.keys: set[str] = set()
        handler = self._handler()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeGpd:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def pay(self, iupd: str, when: str = "2025-04-02T10:15:00") -> None:
        position = self.positions[iupd]
        position["status"] = "PAID"
        position["paymentDate"] = when
        option = position["paymentOption"][0]
        option.update(status="PO_PAID", paymentDate=when, idReceipt=f"R-{iupd}")

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def _send(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _route(self, method: str) -> None:
                fake.calls.append((method, self.path.split("?")[0]))
                fake.keys.add(self.headers.get("Ocp-Apim-Subscription-Key", ""))
                if fake.fail_next:
                    fake.fail_next -= 1
                    self._send(500, {"title": "Internal Server Error", "status": 500})
                    return
                match = _PATH.match(self.path.split("?")[0])
                if match is None:
                    self._send(404, {"title": "Not Found", "status": 404})
                    return
                _org, iupd, publish = match.groups()
                if method == "POST" and iupd is None:
                    length = int(self.headers.get("Content-Length", 0))
                    self._create(json.loads(self.rfile.read(length) or b"{}"))
                elif iupd not in fake.positions:
                    self._send(404, {"title": "Not Found", "status": 404, "detail": iupd})
                elif method == "POST" and publish:
                    position = fake.positions[iupd]
                    if position["status"] != "DRAFT":
                        self._send(409, {"title": "Conflict", "status": 409})
                        return
                    position["status"] = "PUBLISHED"
                    self._send(200, position)
                elif method == "GET":
                    self._send(200, fake.positions[iupd])
                else:
                    self._send(405, {"title": "Method Not Allowed", "status": 405})

            def _create(self, body: dict[str, Any]) -> None:
                missing = [k for k in REQUIRED if k not in body]
                options = body.get("paymentOption") or [{}]
                missing += [f"paymentOption.{k}" for k in OPTION_REQUIRED if k not in options[0]]
                if missing or not isinstance(options[0].get("amount"), int):
                    self._send(
                        400,
                        {"title": "Bad Request", "status": 400, "detail": f"missing {missing}"},
                    )
                    return
                if body["iupd"] in fake.positions:
                    self._send(409, {"title": "Conflict", "status": 409})
                    return
                for option in options:
                    option["nav"] = f"3{option['iuv']}"
                    option["status"] = "PO_UNPAID"
                fake.positions[body["iupd"]] = {**body, "status": "DRAFT"}
                self._send(201, fake.positions[body["iupd"]])

            def do_POST(self) -> None:
                self._route("POST")

            def do_GET(self) -> None:
                self._route("GET")

        return Handler
