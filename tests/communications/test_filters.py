"""Each recipient filter picks exactly the right members of the small community."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from cer.communications import recipients, services
from cer.communications.models import RecipientFilter

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 12, 7)


def _names(world, recipient_filter, **options):
    chosen = recipients.select(
        community=world.community, recipient_filter=recipient_filter, day=TODAY, **options
    )
    return [m.member.first_name for m in chosen]


def test_all_is_every_active_member_and_not_the_one_who_left(world):
    assert _names(world, RecipientFilter.ALL) == ["Anna", "Bruno", "Carla", "Dario", "Mario"]


def test_a_configuration_is_the_members_with_a_point_in_it(world):
    assert _names(world, RecipientFilter.CONFIGURATION, configuration=world.first) == [
        "Anna",
        "Bruno",
    ]
    assert _names(world, RecipientFilter.CONFIGURATION, configuration=world.second) == ["Carla"]


def test_producers_are_the_members_who_own_a_plant(world):
    assert _names(world, RecipientFilter.PRODUCERS) == ["Bruno"]


def test_no_iban_is_the_members_whose_membership_has_none(world):
    assert _names(world, RecipientFilter.NO_IBAN) == ["Carla"]


def test_missing_data_is_no_email_phone_iban_or_membership_consent(world):
    # Carla: no phone, no IBAN, no consent; Dario: no account, so no consent.
    assert _names(world, RecipientFilter.MISSING_DATA) == ["Carla", "Dario"]
    carla = world.membership(world.carla)
    with translation.override("en"):
        labels = [str(label) for label in recipients.missing_data(carla, set())]
    assert labels == [
        "phone",
        "IBAN",
        "consent to the membership processing",
    ]


def test_hand_picked_keeps_only_active_members_of_the_community(world):
    picked = [world.anna.pk, world.ezio.pk]

    assert _names(world, RecipientFilter.HAND_PICKED, member_ids=picked) == ["Anna"]


def test_a_configuration_filter_without_configuration_is_refused_naming_it(world):
    draft = services.Draft(
        subject_it="x", body_it="y", recipient_filter=RecipientFilter.CONFIGURATION
    )

    with pytest.raises(ValidationError) as raised:
        services.recipients_of(community=world.community, draft=draft, day=TODAY)

    assert list(raised.value.message_dict) == ["configuration"]
