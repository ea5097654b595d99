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
