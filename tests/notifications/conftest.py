"""Builders for the notification tests: users with an address, test topics, a fixed clock."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.contrib.auth.models import User
from django.utils.translation import gettext_lazy as _

from cer.notifications import topics

_numbers = itertools.count(1)

# Sunday 6 December 2026, 10:00 in Rome (UTC+1).
NOW = dt.datetime(2026, 12, 6, 9, 0, tzinfo=dt.UTC)

PLAIN = topics.register(
    topics.Topic(
        code="tests.plain",
        title=_("A test topic"),
        subject=_("Hello {name}"),
        body=_("Amount {amount} on {day}."),
    )
)
MONEY = topics.register(
    topics.Topic(
        code="tests.money",
        title=_("A money topic"),
        subject=_("Payout of {amount}"),
        body=_("{amount} paid."),
        mandatory=True,
    )
)


def make_user(*, email: str | None = None, **fields: object) -> User:
    number = next(_numbers)
    return User.objects.create_user(
        username=f"utente{number}",
        email=f"utente{number}@example.org" if email is None else email,
        password="prova-password-2025",
        **fields,
    )


@pytest.fixture
def user(db):
    return make_user()
