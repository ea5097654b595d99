from __future__ import annotations

import datetime as dt

import pytest

from tests import factories
from tests.documents import pki as test_pki
from tests.signing.helpers import make_founder, make_statute


@pytest.fixture(scope="session")
def pki():
    return test_pki.make_pki()


@pytest.fixture(autouse=True)
def anchors(pki, settings, tmp_path):
    settings.SIGNATURE_TRUST_ANCHORS_DIR = str(pki.write_anchors(tmp_path / "anchors"))
    settings.SIGNATURE_ALLOW_FETCHING = False


@pytest.fixture
def founded(community):
    community.founding_date = dt.date(2024, 9, 12)
    community.save(update_fields=["founding_date"])
    return community


@pytest.fixture
def anna(founded, pki):
    return make_founder(founded, pki, "anna", "Anna", "Bianchi")


@pytest.fixture
def bruno(founded, pki):
    return make_founder(founded, pki, "bruno", "Bruno", "Verdi")


@pytest.fixture
def statute(founded):
    return make_statute(founded)


@pytest.fixture
def manager(founded):
    """The referente, who joined after the founding: not a founder."""
    user = factories.make_user_with_role(founded, role="REFERENTE", username="referente")
    user.member.memberships.update(valid_from=dt.date(2025, 1, 10))
    return user
