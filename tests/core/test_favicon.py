"""Browsers ask every site for /favicon.ico; it answers with the icon, and pages link it."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

ICON = Path(settings.BASE_DIR) / "static" / "favicon.ico"


def test_favicon_is_answered_at_the_root(client):
    response = client.get("/favicon.ico")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/x-icon"
    assert b"".join(response) == ICON.read_bytes()
    # An ICO file starts with a reserved zero word and the type 1 (icon).
    assert ICON.read_bytes()[:4] == b"\x00\x00\x01\x00"


def test_favicon_refuses_a_post(client):
    assert client.post("/favicon.ico").status_code == 405


def test_every_page_links_the_icon(client):
    response = client.get("/login/")

    assert b'rel="icon"' in response.content
    assert b"favicon.ico" in response.content
