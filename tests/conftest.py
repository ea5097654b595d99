"""Fixtures shared by the Django tests: the named personas and a small community."""

from __future__ import annotations

import pytest

from tests import factories


@pytest.fixture
def community(db):
    return factories.make_community()


@pytest.fixture
def referente(community):
    return factories.make_user_with_role(community, role="REFERENTE", username="referente")


@pytest.fixture
def member_user(community):
    return factories.make_user_with_role(community, role="MEMBER", username="socio")


@pytest.fixture
def outsider(db):
    other = factories.make_community(name="CER Altrove", fiscal_code="00743110157")
    return factories.make_user_with_role(other, role="MEMBER", username="estraneo")


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the default language: a request to an /en/ page leaves English
    active in the thread, which would otherwise leak into the next test."""
    from django.conf import settings as django_settings
    from django.utils import translation

    translation.activate(django_settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _media_in_a_temporary_directory(settings, tmp_path):
    """Uploaded and generated files go to a directory of the test, never to var/media."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server on localhost that Django's SMTP backend sends to; yields its mailbox."""
    from tests.members.smtp import start_smtp_server

    controller, mailbox = start_smtp_server(settings)
    try:
        yield mailbox
    finally:
        controller.stop()


# Data that migrations put in the database. A transactional test empties every table
# when it ends, so the next one would find none of it: it is put back before each.
DATA_MIGRATIONS = [
    ("cer.core.migrations.0002_load_municipalities", "load"),
    ("cer.core.migrations.0003_back_office_group", "create"),
    ("cer.privacy.migrations.0002_publish_notice_1_0", "publish"),
]


@pytest.fixture(autouse=True)
def _reference_data_in_transactional_tests(request):
    marker = request.node.get_closest_marker("django_db")
    if marker is None or not marker.kwargs.get("transaction"):
        return
    import importlib

    from django.apps import apps

    request.getfixturevalue("transactional_db")
    for module, function in DATA_MIGRATIONS:
        getattr(importlib.import_module(module), function)(apps, None)
