"""Every error page (400, 403, 404, 500 and the refused form) is styled and in the reader's
language, with DEBUG off as in production; the 500 page needs neither the database nor
the request."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import translation
from django.views.defaults import server_error

LANGUAGES = ["it", "en"]


def _headers(lang: str) -> dict[str, str]:
    return {"HTTP_ACCEPT_LANGUAGE": lang}


def _prefix(lang: str) -> str:
    return "" if lang == settings.LANGUAGE_CODE else f"/{lang}"


def _assert_styled(html: str, lang: str) -> None:
    assert f'<html lang="{lang}">' in html
    assert "css/app.css" in html
    assert 'class="card error-page"' in html
    assert "CerCollettiva" in html


@pytest.mark.django_db
@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_missing_page_is_styled_and_translated(client, lang):
    assert not settings.DEBUG

    response = client.get(f"{_prefix(lang)}/no-such-page/", **_headers(lang))

    html = response.content.decode()
    assert response.status_code == 404
    _assert_styled(html, lang)
    assert 'class="topbar"' in html
    with translation.override(lang):
        assert str(translation.gettext("Page not found")) in html


@pytest.mark.django_db
@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_refused_page_is_styled_and_translated(client, community, outsider, lang):
    client.force_login(outsider)
    with translation.override(lang):
        url = reverse("dashboards:community", kwargs={"pk": community.pk})

    response = client.get(url, **_headers(lang))

    html = response.content.decode()
    assert response.status_code == 403
    _assert_styled(html, lang)
    assert "estraneo" in html  # the site's menu, with who is logged in
    assert "403 Forbidden" not in html
    with translation.override(lang):
        assert str(translation.gettext("This is not open to you")) in html


@pytest.mark.django_db
@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_form_refused_for_its_missing_security_token_is_styled_and_translated(lang):
    client = Client(enforce_csrf_checks=True)

    response = client.post(
        f"{_prefix(lang)}/login/", {"username": "x", "password": "y"}, **_headers(lang)
    )

    html = response.content.decode()
    assert response.status_code == 403
    _assert_styled(html, lang)
    assert "CSRF" not in html
    with translation.override(lang):
        assert str(translation.gettext("The form could not be sent")) in html


@pytest.mark.django_db
@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_request_for_a_host_not_served_gets_a_styled_translated_400(client, lang):
    response = client.get(f"{_prefix(lang)}/login/", HTTP_HOST="evil.example", **_headers(lang))

    html = response.content.decode()
    assert response.status_code == 400
    _assert_styled(html, lang)
    with translation.override(lang):
        assert str(translation.gettext("The request could not be understood")) in html


@pytest.mark.django_db
@pytest.mark.urls("tests.core.error_urls")
@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_server_error_is_styled_and_translated(lang):
    client = Client(raise_request_exception=False)

    response = client.get(f"{_prefix(lang)}/broken/", **_headers(lang))

    html = response.content.decode()
    assert response.status_code == 500
    _assert_styled(html, lang)
    assert "RuntimeError" not in html and "a bug" not in html
    with translation.override(lang):
        assert str(translation.gettext("Something went wrong on our side")) in html


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_500_page_renders_without_the_database_or_the_request_context(lang):
    # No django_db mark: any query would fail the test.
    request = RequestFactory().get("/")

    with translation.override(lang):
        response = server_error(request)

    html = response.content.decode()
    assert response.status_code == 500
    _assert_styled(html, lang)
