"""Phone numbers on the profile: Italian or E.164, stored in E.164, refused naming the field."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cer.members.phones import mobile_number, mobile_number_of, normalise_phone
from cer.notifications import hooks
from tests import factories

pytestmark = pytest.mark.django_db


def _profile_data(member, phone):
    return {
        "p-first_name": member.first_name,
        "p-last_name": member.last_name,
        "p-company_name": "",
        "p-email": member.email,
        "p-pec": "",
        "p-phone": phone,
        "p-address": member.address,
        "p-municipality": "027038",
    }


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("333 123 4567", "+393331234567"),
        ("+39 333 1234567", "+393331234567"),
        ("0039 041 555 0000", "+390415550000"),
        ("+44 20 7946 0958", "+442079460958"),
        ("", ""),
    ],
)
def test_the_profile_stores_a_valid_number_in_e164(client, member_user, typed, stored):
    client.force_login(member_user)
    member = member_user.member

    response = client.post(reverse("members:profile"), _profile_data(member, typed))

    assert response.status_code == 302
    member.refresh_from_db()
    assert member.phone == stored


@pytest.mark.parametrize("typed", ["041 1", "123", "+39 333", "telefono", "+999 1234567"])
def test_the_profile_refuses_an_invalid_number_naming_the_field(client, member_user, typed):
    client.force_login(member_user)
    member = member_user.member
    before = member.phone

    response = client.post(reverse("members:profile"), _profile_data(member, typed))

    assert response.status_code == 400
    assert response.context["form"].errors["phone"] == [
        "Telefono: non è un numero italiano o internazionale valido."
    ]
    member.refresh_from_db()
    assert member.phone == before


def test_an_old_number_is_normalised_when_the_record_is_saved(db):
    member = factories.make_member(phone="041 5550000")
    assert member.phone == "+390415550000"
    kept = factories.make_member(phone="041 1")
    assert kept.phone == "041 1"  # not a number: kept as typed until someone corrects it


def test_the_sms_channel_finds_the_mobile_number_of_the_users_profile(member_user, outsider):
    member = member_user.member
    member.phone = "3331234567"
    member.save()

    assert hooks.phone_of(member_user) == "+393331234567"
    assert mobile_number_of(member_user) == "+393331234567"
    assert hooks.phone_of(outsider) is None  # no member profile
    member.phone = "041 5550000"
    member.save()
    assert hooks.phone_of(member_user) is None  # a landline takes no SMS


def test_helpers():
    assert normalise_phone(" 347 000 0000 ") == "+393470000000"
    assert mobile_number("+447911123456") == "+447911123456"
    assert mobile_number("") is None
