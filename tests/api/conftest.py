"""Personas and two communities with one of everything, for the API tests."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from rest_framework.test import APIClient

from cer.access.rules import BACK_OFFICE_GROUP
from cer.api.authentication import issue_tokens
from cer.communities.models import Community
from cer.incentives.models import ZonalPrice
from cer.members.models import Membership
from tests import factories
from tests.factories.worlds import build_world

PASSWORD = "prova-password-2025"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Argon2 is deliberately slow; tests that are about hashing ask for it themselves.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _member_of_both(community: Community, other: Community) -> User:
    user = factories.make_user_with_role(other, role="REFERENTE", username="a-both")
    Membership.objects.create(
        member=user.member,
        community=community,
        role="MEMBER",
        valid_from=dt.date(2024, 9, 12),
        iban=factories.IBAN,
    )
    return user


@pytest.fixture
def personas(community):
    back_office = User.objects.create_user("api-backoffice", password=PASSWORD)
    back_office.groups.add(Group.objects.get(name=BACK_OFFICE_GROUP))
    other = factories.make_community(name="CER Altrove", fiscal_code="00743110157")
    return {
        "referente": factories.make_user_with_role(community, role="REFERENTE", username="a-ref"),
        "administrator": factories.make_user_with_role(
            community, role="ADMINISTRATOR", username="a-adm"
        ),
        "member": factories.make_user_with_role(community, role="MEMBER", username="a-mem"),
        "outsider": factories.make_user_with_role(other, role="REFERENTE", username="a-out"),
        # One person: a plain member here, the referente of the other community.
        "two_communities": _member_of_both(community, other),
        "back_office": back_office,
        "superuser": User.objects.create_superuser("a-root", "root@example.org", PASSWORD),
        "anonymous": None,
    }


@pytest.fixture
def world(community, personas):
    return build_world(community, "a")


@pytest.fixture
def other_world(personas):
    other = Community.objects.get(name="CER Altrove")
    return build_world(other, "b")


@pytest.fixture
def zonal_price(db):
    return ZonalPrice.objects.create(
        market_zone="NORD",
        interval_start=dt.datetime(2025, 3, 30, 0, tzinfo=dt.UTC),
        interval_minutes=60,
        price_eur_per_mwh=Decimal("118.500000"),
        source="CSV",
    )


def client_for(user: User | None) -> APIClient:
    """An API client that sends the user's bearer token (no session, so no CSRF)."""
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_tokens(user=user)['access']}")
    return client


@pytest.fixture
def api():
    return client_for


def assert_error(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    """Check the status and the documented error shape; return the error object."""
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert isinstance(error["code"], str) and isinstance(error["message"], str)
    if code is not None:
        assert error["code"] == code, error
    return error
