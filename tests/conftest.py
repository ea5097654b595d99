"""Fixtures shared by the Django tests: the named personas and a small community."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from pytest_django.plugin import blocking_manager_key

from tests import factories

# Modules whose tests run on one worker, one after another, when the suite runs on
# several (pytest -n): the broker tests share the one Mosquitto of the run, and tests
# that list its accounts or subscribe to every device topic would see the devices of
# tests running beside them; the demo loader's tests read one demo loaded per module.
SAME_WORKER = {
    "tests/metering/test_broker.py": "mosquitto",
    "tests/metering/test_reconcile_broker.py": "mosquitto",
    "tests/metering/test_worker_restart.py": "mosquitto",
    "tests/metering/test_device_matrix.py": "mosquitto",
    "tests/e2e/test_device_installer.py": "mosquitto",
    "tests/e2e/test_live_view.py": "mosquitto",
    "tests/metering/test_shared_workers.py": "mosquitto",
    # Its ingestion workers take every device message of the broker, its meters publish.
    "tests/topology/test_production_smoke.py": "mosquitto",
    "tests/demo/test_loader.py": "demo",
}


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """With `-n` (--dist load, the default, or loadgroup), hand out tests as xdist's load
    scheduling does, except that the first test of a SAME_WORKER group to go out takes
    the rest of its group along to the same worker.

    pytest-xdist's own xdist_group marks do not work under pytest 9.2 (the group reaches
    its scheduler through a renamed item id, which pytest now ignores), and its scope
    schedulers track tests by id, which would run only one of the schemathesis tests
    of tests/api/test_schema.py: they all carry the same id. This one tracks indices.
    """
    if config.getvalue("dist") not in ("load", "loadgroup"):
        return None
    from xdist.scheduler import LoadScheduling

    class SameWorkerScheduling(LoadScheduling):
        def _group(self, index: int) -> str | None:
            return SAME_WORKER.get(self.collection[index].split("::", 1)[0])

        def _send_tests(self, node, num: int) -> None:
            batch = self.pending[:num]
            groups = {self._group(index) for index in batch} - {None}
            if groups:
                # In collection order, so that a module's tests stay together and its
                # module-scoped fixtures are set up once.
                batch = sorted(batch + [i for i in self.pending[num:] if self._group(i) in groups])
            if batch:
                sent = set(batch)
                self.pending[:] = [index for index in self.pending if index not in sent]
                self.node2pending[node].extend(batch)
                node.send_runtest_some(batch)

    return SameWorkerScheduling(config, log)


# Whether a transactional test without serialized rollback ran last on this process: its
# teardown flushed the database and post_migrate created content types and permissions
# again, under new keys.
_flushed_with_post_migrate = False


def _transactional_kind(item: pytest.Item) -> tuple[bool, bool]:
    """Return whether the test is transactional, and whether it rolls back serialized."""
    marker = item.get_closest_marker("django_db")
    options = marker.kwargs if marker else {}
    fixtures = set(getattr(item, "fixturenames", ()))
    transactional = bool(options.get("transaction")) or bool(
        {"transactional_db", "live_server"} & fixtures
    )
    serialized = bool(options.get("serialized_rollback")) or (
        "django_db_serialized_rollback" in fixtures
    )
    return transactional, serialized


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Empty the database before a serialized-rollback test that follows such a test.

    The serialized-rollback test loads the rows serialized when the test database was
    made, content types and permissions included, with their first keys: on top of the
    ones post_migrate made again, they break the unique (app_label, model). Django skips
    post_migrate only after serialized-rollback tests; pytest-django orders transactional
    tests by file, and xdist deals them out, so the two kinds meet in any order.
    """
    global _flushed_with_post_migrate
    if _flushed_with_post_migrate and _transactional_kind(item)[1]:
        with item.config.stash[blocking_manager_key].unblock():
            call_command("flush", interactive=False, inhibit_post_migrate=True, verbosity=0)
        _flushed_with_post_migrate = False


@pytest.fixture(autouse=True)
def _note_a_flush_with_post_migrate(request: pytest.FixtureRequest):
    yield
    global _flushed_with_post_migrate
    transactional, serialized = _transactional_kind(request.node)
    # Only once the test database was set up for it (never flush another database).
    if transactional and not serialized and "django_db_setup" in request.fixturenames:
        _flushed_with_post_migrate = True


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


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hashing():
    """Argon2 costs a tenth of a second and 100 MiB per hash by design, and the tests hash
    thousands of passwords: they use MD5, from the session's start so that data loaded
    once for a module (the demo) has MD5 hashes too. tests/test_settings.py checks that
    the settings keep Argon2 first, tests/api/test_auth.py that it stores a password."""
    from django.test import override_settings

    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


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


@pytest.fixture(autouse=True)
def _empty_shared_cache(request):
    """Throttling counters live in the shared cache (a table a flush does not empty):
    each test that has a database starts with none, so one test's requests never
    throttle the next."""
    marker = request.node.get_closest_marker("django_db")
    if marker is not None:
        request.getfixturevalue("transactional_db" if marker.kwargs.get("transaction") else "db")
    elif "transactional_db" in request.fixturenames or "live_server" in request.fixturenames:
        request.getfixturevalue("transactional_db")
    elif "db" in request.fixturenames:
        request.getfixturevalue("db")
    else:
        return
    from django.core.cache import caches

    for alias in caches:
        caches[alias].clear()


@pytest.fixture(autouse=True)
def _test_logins_pass_the_second_factor(monkeypatch):
    """`client.login()` and `client.force_login()` act as a person who has passed the
    second factor where one is required, as the real login would leave them; the
    tests of tests/accounts/ go through the real two-step login instead."""
    from django.test import Client

    from tests.accounts.helpers import mark_verified

    original_force_login = Client.force_login
    original_login = Client.login

    def force_login(self, user, backend=None):
        original_force_login(self, user, backend)
        mark_verified(self, user)

    def login(self, **credentials):
        logged_in = original_login(self, **credentials)
        if logged_in:
            from django.contrib.auth import get_user_model

            user = get_user_model().objects.get(pk=self.session["_auth_user_id"])
            mark_verified(self, user)
        return logged_in

    monkeypatch.setattr(Client, "force_login", force_login)
    monkeypatch.setattr(Client, "login", login)
