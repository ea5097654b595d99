"""One login path: the web and admin logins ask for the second factor, share the API's
lockout, and start sessions that the API accepts only once they have passed it."""

from __future__ import annotations

import pytest
from django.test import Client
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from cer.accounts.models import LoginFailure
from cer.audit.models import AuditEntry
from tests.accounts.conftest import api_login, web_login
from tests.accounts.helpers import authenticator, code

pytestmark = pytest.mark.django_db


def real_client(**extra) -> Client:
    """A client whose logins go only through the pages (no test shortcut is used)."""
    return Client(**extra)


def test_a_referente_with_an_authenticator_gets_no_session_from_the_password_alone(referente):
    device = authenticator(referente)
    client = real_client()

    after_password = web_login(client, "referente")

    assert after_password.status_code == 302 and after_password["Location"] == "/login/code/"
    assert "_auth_user_id" not in client.session
    assert client.get("/api/v1/me").status_code in (401, 403)
    assert client.get("/admin/").status_code == 302

    after_code = client.post("/login/code/", {"otp": code(device)})

    assert after_code.status_code == 302
    assert client.get("/api/v1/me").json()["username"] == "referente"


def test_a_wrong_code_is_refused_and_counts_towards_the_lockout(referente):
    device = authenticator(referente)
    client = real_client()
    web_login(client, "referente")
    wrong = "000000" if code(device) != "000000" else "111111"

    response = client.post("/login/code/", {"otp": wrong})

    assert response.status_code == 200
    assert "Il codice è errato o scaduto" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert LoginFailure.objects.filter(username="referente").count() == 1


def test_the_code_step_times_out(referente, settings):
    authenticator(referente)
    client = real_client()
    web_login(client, "referente")
    session = client.session
    session["accounts.pending_login"]["at"] = "2020-01-01T00:00:00+00:00"
    session.save()

    response = client.post("/login/code/", {"otp": "123456"})

    assert response.context["expired"] is True
    assert "_auth_user_id" not in client.session


def test_a_referente_without_an_authenticator_must_set_one_up_before_anything_else(
    referente, community
):
    client = real_client()

    after_password = web_login(client, "referente")

    assert after_password["Location"] == "/account/second-factor/"
    assert client.get(f"/communities/{community.pk}/")["Location"] == "/account/second-factor/"
    assert client.get("/api/v1/me").status_code in (401, 403)

    page = client.get("/account/second-factor/")
    device = TOTPDevice.objects.get(user=referente, confirmed=False)
    assert page.status_code == 200 and "totp-key" in page.content.decode()

    confirmed = client.post("/account/second-factor/", {"action": "confirm", "otp": code(device)})

    assert confirmed.status_code == 200
    assert "no-store" in confirmed["Cache-Control"]
    assert StaticToken.objects.filter(device__user=referente).count() == 10
    assert client.get(f"/communities/{community.pk}/").status_code == 200
    assert client.get("/api/v1/me").status_code == 200
    assert AuditEntry.objects.filter(code="accounts.second_factor.enabled").count() == 1


def test_a_recovery_code_logs_in_once(referente):
    device = authenticator(referente)
    client = real_client()
    web_login(client, "referente")
    client.post("/login/code/", {"otp": code(device)})
    recovery = client.post("/account/second-factor/", {"action": "recovery"})
    first_code = recovery.context["recovery_codes"][0]

    for attempt, expected_logged_in in ((1, True), (2, False)):
        other = real_client()
        web_login(other, "referente")
        other.post("/login/code/", {"otp": first_code})
        assert ("_auth_user_id" in other.session) is expected_logged_in, attempt


def test_a_plain_member_logs_in_with_the_password(plain_member, community):
    client = real_client()

    response = web_login(client, "socia")

    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get(f"/communities/{community.pk}/").status_code == 200
    assert client.get("/api/v1/me").status_code == 200


def test_the_session_key_changes_at_login(plain_member):
    client = real_client()
    client.get("/login/")
    client.cookies["sessionid"] = "attacker-chosen-session-key"

    web_login(client, "socia")

    assert client.cookies["sessionid"].value != "attacker-chosen-session-key"


def test_a_new_role_rotates_the_session_and_asks_for_the_second_factor(plain_member, community):
    client = real_client()
    web_login(client, "socia")
    client.get("/")
    before = client.cookies["sessionid"].value
    plain_member.member.memberships.update(role="REFERENTE")

    response = client.get(f"/communities/{community.pk}/")

    assert client.cookies["sessionid"].value != before
    assert response["Location"] == "/account/second-factor/"


def test_logout_ends_the_session(plain_member):
    client = real_client()
    web_login(client, "socia")
    stolen = client.cookies["sessionid"].value

    client.post("/logout/")
    thief = real_client()
    thief.cookies["sessionid"] = stolen

    assert thief.get("/api/v1/me").status_code in (401, 403)


def test_five_wrong_web_passwords_lock_the_web_and_the_api_login(plain_member):
    client = real_client()
    for _attempt in range(5):
        assert web_login(client, "socia", "sbagliata").status_code == 200

    web = web_login(client, "socia")
    api = api_login("socia")

    assert web.status_code == 429 and int(web["Retry-After"]) > 0
    assert "Troppi tentativi" in web.content.decode()
    assert api.status_code == 429


def test_api_failures_lock_the_web_login(plain_member):
    for _attempt in range(5):
        api_login("socia", "sbagliata")

    assert web_login(real_client(), "socia").status_code == 429


def test_ten_failures_from_many_addresses_lock_the_account_until_an_administrator_unlocks_it(
    plain_member, staff
):
    for n in range(10):
        web_login(real_client(REMOTE_ADDR=f"192.0.2.{n + 1}"), "socia", "sbagliata")

    locked = web_login(real_client(REMOTE_ADDR="198.51.100.7"), "socia")
    assert locked.status_code == 429

    admin = real_client()
    admin.force_login(staff)
    from tests.accounts.helpers import mark_verified

    mark_verified(admin, staff)
    admin.post(
        "/admin/auth/user/",
        {"action": "unlock_login", "_selected_action": [plain_member.pk]},
    )

    assert web_login(real_client(REMOTE_ADDR="198.51.100.7"), "socia").status_code == 302
    assert AuditEntry.objects.filter(code="accounts.login.unlocked").count() == 1


def test_thirty_failures_from_one_address_lock_that_address_for_every_username(plain_member):
    for n in range(30):
        web_login(real_client(REMOTE_ADDR="203.0.113.9"), f"utente{n}", "sbagliata")

    assert web_login(real_client(REMOTE_ADDR="203.0.113.9"), "socia").status_code == 429
    assert web_login(real_client(REMOTE_ADDR="203.0.113.10"), "socia").status_code == 302


def test_the_admin_site_has_no_password_only_door(staff):
    client = real_client()

    admin_login = client.get("/admin/login/?next=/admin/")
    posted = client.post(
        "/admin/login/?next=/admin/", {"username": "gestore", "password": "prova-password-2025"}
    )

    assert admin_login.status_code == 302 and admin_login["Location"].startswith("/login/")
    assert posted.status_code == 302 and posted["Location"].startswith("/login/")
    assert "_auth_user_id" not in client.session


def test_staff_reach_the_admin_site_after_the_second_factor(staff):
    device = authenticator(staff)
    client = real_client()

    web_login(client, "gestore", **{"QUERY_STRING": "next=/admin/"})
    response = client.post("/login/code/", {"otp": code(device)})

    assert client.get("/admin/").status_code == 200
    assert response.status_code == 302


def test_staff_without_the_second_factor_are_kept_out_of_the_admin_site(staff):
    client = real_client()
    web_login(client, "gestore")

    assert client.get("/admin/").status_code == 302
    assert client.get("/admin/")["Location"] == "/account/second-factor/"


def test_an_administrator_resets_a_lost_second_factor_and_ends_the_sessions(referente, staff):
    device = authenticator(referente)
    user_client = real_client()
    web_login(user_client, "referente")
    user_client.post("/login/code/", {"otp": code(device)})
    admin = real_client()
    admin.force_login(staff)

    admin.post(
        "/admin/auth/user/",
        {"action": "reset_second_factor", "_selected_action": [referente.pk]},
    )

    assert not TOTPDevice.objects.filter(user=referente).exists()
    assert user_client.get("/api/v1/me").status_code in (401, 403)
    entry = AuditEntry.objects.get(code="accounts.second_factor.reset")
    assert entry.actor == staff and entry.target_id == str(referente.pk)


@pytest.mark.parametrize("debug", [True, False])
def test_the_demo_code_is_shown_only_on_a_development_install(referente, settings, debug):
    from cer.demo.second_factor import give_demo_authenticators

    settings.DEBUG = debug
    give_demo_authenticators(["referente"])
    device = TOTPDevice.objects.get(user=referente)
    client = real_client()
    web_login(client, "referente")

    page = client.get("/login/code/")

    shown = page.context["demo_code"]
    assert (shown == code(device)) is debug
    if debug:
        assert client.post("/login/code/", {"otp": shown}).status_code == 302
        assert "_auth_user_id" in client.session


def test_a_deploy_check_warns_when_managers_need_no_second_factor(settings):
    from cer.accounts.checks import second_factor_for_managers

    assert second_factor_for_managers(None) == []
    settings.SECOND_FACTOR_REQUIRED_FOR_MANAGERS = False

    assert [message.id for message in second_factor_for_managers(None)] == ["cer.W020"]


def test_without_the_requirement_a_referente_logs_in_with_the_password_but_staff_do_not(
    referente, staff, community, settings
):
    settings.SECOND_FACTOR_REQUIRED_FOR_MANAGERS = False

    referente_login = web_login(real_client(), "referente")
    staff_login = web_login(real_client(), "gestore")

    assert referente_login["Location"] == "/"
    assert staff_login["Location"] == "/account/second-factor/"
