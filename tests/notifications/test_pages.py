"""The inbox, its header count, read marks and the preferences page, in Italian and English."""

from __future__ import annotations

import pytest

from cer.notifications.models import Notification, Preference, RecipientSettings
from cer.notifications.services import notify
from tests.notifications.conftest import MONEY, NOW, PLAIN, make_user

pytestmark = pytest.mark.django_db

CONTEXT = {"name": "Lucia", "amount": "1", "day": "oggi"}


def _two_notices(user):
    notify([user], PLAIN.code, CONTEXT, link="/members/profile/", now=NOW)
    notify([user], PLAIN.code, {**CONTEXT, "name": "Bruno"}, now=NOW)
    return list(Notification.objects.filter(user=user).order_by("pk"))


@pytest.mark.parametrize(("prefix", "language"), [("", "it"), ("/en", "en")])
def test_the_inbox_lists_the_users_notices_with_the_unread_count_in_the_header(
    client, user, prefix, language
):
    _two_notices(user)
    notify([make_user()], PLAIN.code, {**CONTEXT, "name": "Estraneo"}, now=NOW)
    client.force_login(user)

    response = client.get(f"{prefix}/notifications/")

    page = response.content.decode()
    assert response.status_code == 200
    assert f'<html lang="{language}">' in page
    assert f'action="{prefix}/notifications/read-all/"' in page
    assert "Hello Lucia" in page
    assert "Hello Bruno" in page
    assert "Estraneo" not in page
    assert response.context["notifications_unread"].count == 2
    assert '<span class="badge">2<' in page


def test_opening_a_notice_marks_it_read_and_goes_to_its_object_in_the_readers_language(
    client, user
):
    linked, _other = _two_notices(user)
    client.force_login(user)

    response = client.get(f"/en/notifications/{linked.pk}/open/")

    assert response.status_code == 302
    assert response["Location"] == "/en/members/profile/"
    linked.refresh_from_db()
    assert linked.read_at is not None
    home = client.get("/en/notifications/")
    assert home.context["notifications_unread"].count == 1


def test_mark_one_and_mark_all_read(client, user):
    first, second = _two_notices(user)
    client.force_login(user)

    client.post(f"/notifications/{first.pk}/read/")
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.read_at is not None and second.read_at is None

    client.post("/notifications/read-all/")
    second.refresh_from_db()
    assert second.read_at is not None
    page = client.get("/notifications/").content.decode()
    assert 'class="badge"' not in page


def test_another_users_notice_cannot_be_opened_or_marked(client, user):
    (theirs, _other) = _two_notices(make_user())
    client.force_login(user)

    assert client.get(f"/notifications/{theirs.pk}/open/")["Location"] == "/notifications/"
    assert client.post(f"/notifications/{theirs.pk}/read/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_the_inbox_needs_a_login(client):
    response = client.get("/notifications/")

    assert response.status_code == 302
    assert "/login/" in response["Location"]


@pytest.mark.parametrize(("prefix", "language"), [("", "it"), ("/en", "en")])
def test_the_preferences_page_shows_topics_and_channels(client, user, prefix, language):
    client.force_login(user)

    response = client.get(f"{prefix}/notifications/preferences/")

    page = response.content.decode()
    assert response.status_code == 200
    assert f'<html lang="{language}">' in page
    assert "A test topic" in page
    assert f'name="{PLAIN.code}:email"' in page
    # A mandatory topic's box is shown, ticked and not editable.
    assert f'name="{MONEY.code}:email"' in page
    money_box = page.split(f'name="{MONEY.code}:email"')[1].split(">")[0]
    assert "disabled" in money_box and "checked" in money_box


def test_saving_preferences_stores_choices_quiet_hours_and_language(client, user):
    client.force_login(user)

    response = client.post(
        "/en/notifications/preferences/",
        {
            "language": "en",
            "quiet_from": "22:00",
            "quiet_to": "07:00",
            f"{MONEY.code}:email": "",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == "/en/notifications/preferences/"
    prefs = RecipientSettings.objects.get(user=user)
    assert (prefs.language, str(prefs.quiet_from), str(prefs.quiet_to)) == (
        "en",
        "22:00:00",
        "07:00:00",
    )
    assert Preference.objects.get(user=user, topic=PLAIN.code, channel="email").enabled is False
    assert not Preference.objects.filter(topic=MONEY.code).exists()


def test_half_quiet_hours_are_refused_naming_the_field(client, user):
    client.force_login(user)

    response = client.post(
        "/en/notifications/preferences/",
        {"language": "en", "quiet_from": "22:00", "quiet_to": "", f"{PLAIN.code}:email": "on"},
    )

    assert response.status_code == 400
    assert "quiet_to" in response.context["form"].errors
    assert "Give both the start and the end of the quiet hours." in response.content.decode()
    assert not RecipientSettings.objects.filter(user=user).exists()


def test_the_header_of_any_page_shows_the_count(client, user):
    _two_notices(user)
    client.force_login(user)

    page = client.get("/privacy/notice/").content.decode()

    assert 'id="notifications-link"' in page
    assert '<span class="badge">2<' in page
