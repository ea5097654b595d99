"""The unprefixed API answers in the language the client asks for, Italian by default;
the pages keep choosing theirs by path prefix."""

from __future__ import annotations

import pytest
from django.utils import translation
from rest_framework.test import APIClient

from tests.api.conftest import assert_error

pytestmark = pytest.mark.django_db
NOT_AUTHENTICATED = "Authentication credentials were not provided."


def _message_in(lang: str) -> str:
    with translation.override(lang):
        return translation.gettext(NOT_AUTHENTICATED)


@pytest.mark.parametrize(
    ("accept_language", "expected"),
    [("en", "en"), ("en-GB,en;q=0.9", "en"), ("it-IT,it;q=0.9", "it"), ("de", "it"), (None, "it")],
)
def test_the_api_answers_in_the_language_the_client_asks_for(accept_language, expected):
    headers = {"HTTP_ACCEPT_LANGUAGE": accept_language} if accept_language else {}

    response = APIClient().get("/api/v1/statements", **headers)

    error = assert_error(response, 401)
    assert error["message"] == _message_in(expected)
    assert response["Content-Language"] == expected
    assert "Accept-Language" in response["Vary"]


def test_the_two_languages_differ_so_the_test_above_can_fail():
    assert _message_in("it") != _message_in("en")


def test_pages_still_take_their_language_from_the_path_not_the_header(client):
    italian = client.get("/login/", HTTP_ACCEPT_LANGUAGE="en")
    english = client.get("/en/login/", HTTP_ACCEPT_LANGUAGE="it")

    assert italian["Content-Language"] == "it"
    assert english["Content-Language"] == "en"
