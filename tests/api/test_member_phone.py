"""The member API writes the phone as the profile form does: checked, stored in E.164."""

from __future__ import annotations

import pytest

from tests.api.conftest import assert_error, client_for

pytestmark = pytest.mark.django_db


def test_a_member_sets_their_phone_and_it_is_stored_in_e164(personas, world):
    holder = world.objects["holder_user"]
    member = holder.member

    changed = client_for(holder).patch(
        f"/api/v1/members/{member.pk}", {"phone": "333 123 4567"}, format="json"
    )

    assert changed.status_code == 200, changed.content
    assert changed.json()["phone"] == "+393331234567"
    member.refresh_from_db()
    assert member.phone == "+393331234567"


def test_an_invalid_phone_is_refused_naming_the_field(personas, world):
    holder = world.objects["holder_user"]
    member = holder.member
    before = member.phone

    refused = client_for(holder).patch(
        f"/api/v1/members/{member.pk}", {"phone": "041 1"}, format="json"
    )

    error = assert_error(refused, 400)
    assert error["fields"]["phone"] == [
        "Telefono: non è un numero italiano o internazionale valido."
    ]
    member.refresh_from_db()
    assert member.phone == before
