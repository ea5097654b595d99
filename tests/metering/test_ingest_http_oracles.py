"""HTTP ingestion without oracles: one answer for unknown targets and wrong credentials,
requests limited per address and per device, and a bounded number of secret hashes."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest
from django.contrib.auth.hashers import check_password, make_password
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cer.metering import devices as metering_devices
from cer.metering import limits
from cer.metering.models import HourlyReading
from tests import factories
from tests.metering.conftest import make_device

pytestmark = [pytest.mark.urls("tests.metering.urls"), pytest.mark.django_db]

NOW = dt.datetime(2025, 3, 30, 12, 0, 5, tzinfo=dt.UTC)
SECRET = "s3cret-device-token"
BODY = {
    "readings": [
        {"start": "2025-03-30T01:00:00+01:00", "end": "2025-03-30T03:00:00+02:00", "injected_wh": 9}
    ]
}


@pytest.fixture(autouse=True)
def _fresh_counters():
    # The counters live in the cache, which outlives a test's transaction.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _frozen_clock(monkeypatch):
    # Counters use fixed windows: a burst must not straddle the end of one.
    monkeypatch.setattr(timezone, "now", lambda: NOW)


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    # The hasher's cost is not under test here, only how often it runs.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def device(point):
    return make_device(point, secret_hash=make_password(SECRET))


@pytest.fixture
def hashes(monkeypatch):
    """Count the secret checks that reach the password hasher."""
    calls: list[str] = []

    def counting_check_password(secret, encoded, *args, **kwargs):
        calls.append(secret)
        return check_password(secret, encoded, *args, **kwargs)

    monkeypatch.setattr(metering_devices, "check_password", counting_check_password)
    return calls


def _basic(username: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{secret}".encode()).decode()


def _post(url: str, *, address: str = "198.51.100.7", **headers: str):
    return Client(REMOTE_ADDR=address).post(
        url, data=json.dumps(BODY), content_type="application/json", headers=headers
    )


def _point_url(pod: str) -> str:
    return reverse("api_point_readings", kwargs={"pod": pod})


def _plant_url(plant_id: int) -> str:
    return reverse("api_plant_readings", kwargs={"plant_id": plant_id})


def _unknown_pod() -> str:
    return factories.valid_pod(987_654)


def _answer(response) -> tuple[int, dict, str]:
    return response.status_code, response.json(), response.get("WWW-Authenticate", "")


@pytest.mark.parametrize("credentials", ["wrong secret", "unknown device", "none"])
def test_an_unknown_pod_and_a_known_pod_get_the_same_refusal(point, device, credentials):
    headers = {
        "wrong secret": {"Authorization": _basic(device.mqtt_username, "wrong")},
        "unknown device": {"Authorization": _basic("nobody-meter-1", SECRET)},
        "none": {},
    }[credentials]

    unknown = _post(_point_url(_unknown_pod()), **headers)
    known = _post(_point_url(point.pod), **headers)

    assert _answer(unknown) == _answer(known)
    assert unknown.status_code == 401
    assert unknown["WWW-Authenticate"].startswith("Basic ")
    assert not HourlyReading.objects.exists()


def test_an_unknown_plant_and_a_known_plant_get_the_same_refusal(point, device):
    plant = point.plants.get()
    wrong = _basic(device.mqtt_username, "wrong")

    unknown = _post(_plant_url(plant.pk + 1000), Authorization=wrong)
    known = _post(_plant_url(plant.pk), Authorization=wrong)

    assert unknown.status_code == known.status_code == 401
    assert unknown.json() == known.json()


def test_a_device_gets_the_same_refusal_for_an_unknown_pod_and_a_foreign_one(
    community, point, device
):
    foreign = factories.make_connection_point(community, factories.make_member())
    auth = _basic(device.mqtt_username, SECRET)

    unknown = _post(_point_url(_unknown_pod()), Authorization=auth)
    other = _post(_point_url(foreign.pod), Authorization=auth)

    assert unknown.status_code == other.status_code == 403
    assert unknown.json() == other.json()


def test_a_logged_in_member_gets_the_same_refusal_for_an_unknown_pod_and_a_foreign_one(
    point, member_user
):
    client = Client(REMOTE_ADDR="198.51.100.7")
    client.force_login(member_user)

    def post(pod):
        return client.post(_point_url(pod), data=json.dumps(BODY), content_type="application/json")

    unknown = post(_unknown_pod())
    known = post(point.pod)

    assert unknown.status_code == known.status_code == 403
    assert unknown.json() == known.json()


def test_a_burst_from_one_address_is_answered_429_after_the_limit(point):
    limit = limits.requests_per_address().limit

    statuses = [_post(_point_url(point.pod)).status_code for _ in range(limit + 5)]
    refused = _post(_point_url(point.pod))

    assert statuses[:limit] == [401] * limit
    assert statuses[limit:] == [429] * 5
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert _post(_point_url(point.pod), address="203.0.113.9").status_code == 401


def test_a_burst_for_one_device_is_answered_429_after_the_limit_from_any_address(point, device):
    limit = limits.requests_per_device().limit
    auth = _basic(device.mqtt_username, SECRET)

    statuses = [
        _post(_point_url(point.pod), address=f"192.0.2.{index}", Authorization=auth).status_code
        for index in range(limit + 5)
    ]

    assert statuses[0] == 201
    assert statuses[1:limit] == [200] * (limit - 1)  # the same readings again: duplicates
    assert statuses[limit:] == [429] * 5


def test_wrong_secrets_beyond_the_limit_are_refused_without_hashing(point, device, hashes):
    limit = limits.failed_secrets_per_device().limit
    wrong = _basic(device.mqtt_username, "wrong")

    answers = [
        _post(_point_url(point.pod), address=f"192.0.2.{index}", Authorization=wrong)
        for index in range(limit + 5)
    ]

    assert [answer.status_code for answer in answers] == [401] * limit + [429] * 5
    assert len(hashes) == limit
    assert int(answers[-1]["Retry-After"]) >= 1


def test_a_locked_out_device_is_refused_even_with_its_secret_until_the_window_ends(
    point, device, hashes, monkeypatch
):
    window = limits.failed_secrets_per_device()
    for _attempt in range(window.limit):
        _post(_point_url(point.pod), Authorization=_basic(device.mqtt_username, "wrong"))
    right = _basic(device.mqtt_username, SECRET)

    during = _post(_point_url(point.pod), Authorization=right)
    monkeypatch.setattr(timezone, "now", lambda: NOW + dt.timedelta(seconds=window.seconds))
    after = _post(_point_url(point.pod), Authorization=right)

    assert during.status_code == 429
    assert len(hashes) == window.limit + 1
    assert after.status_code == 201


def test_unknown_usernames_are_hashed_and_locked_out_like_known_ones(point, device, hashes):
    limit = limits.failed_secrets_per_device().limit

    def attempts(username):
        auth = _basic(username, "wrong")
        return [_answer(_post(_point_url(point.pod), Authorization=auth)) for _ in range(limit + 1)]

    known = attempts(device.mqtt_username)
    unknown = attempts("nobody-meter-1")

    assert known == unknown
    assert [status for status, _body, _header in known] == [401] * limit + [429]
    assert len(hashes) == 2 * limit


def test_one_address_trying_many_usernames_is_locked_out_without_hashing(point, hashes):
    limit = limits.failed_secrets_per_address().limit

    statuses = [
        _post(_point_url(point.pod), Authorization=_basic(f"guess-{index}", "x")).status_code
        for index in range(limit + 3)
    ]

    assert statuses == [401] * limit + [429] * 3
    assert len(hashes) == limit


def test_a_device_posts_normally_after_a_few_wrong_secrets_below_the_limit(point, device):
    for _attempt in range(limits.failed_secrets_per_device().limit - 1):
        _post(_point_url(point.pod), Authorization=_basic(device.mqtt_username, "wrong"))

    response = _post(_point_url(point.pod), Authorization=_basic(device.mqtt_username, SECRET))

    assert response.status_code == 201
    assert response.json() == {"accepted": 1, "duplicates": 0}
    assert HourlyReading.objects.filter(connection_point=point).count() == 1


def test_a_device_this_process_has_verified_is_not_shut_out_by_someone_elses_guesses(
    point, device, hashes
):
    right = _basic(device.mqtt_username, SECRET)
    first = _post(_point_url(point.pod), Authorization=right)
    for _attempt in range(limits.failed_secrets_per_device().limit):
        _post(_point_url(point.pod), Authorization=_basic(device.mqtt_username, "guess"))
    guesses = len(hashes)

    again = _post(_point_url(point.pod), Authorization=right)
    guess = _post(_point_url(point.pod), Authorization=_basic(device.mqtt_username, "guess"))

    assert first.status_code == 201
    assert again.status_code == 200  # the same readings: duplicates, not a lockout
    assert guess.status_code == 429
    assert len(hashes) == guesses


def test_a_managers_session_counts_only_once_it_has_passed_the_second_factor(point, referente):
    unverified = Client(REMOTE_ADDR="198.51.100.7")
    # Django's own login, without the second factor step the project adds to it.
    unverified._login(referente, backend="django.contrib.auth.backends.ModelBackend")
    verified = Client(REMOTE_ADDR="198.51.100.7")
    verified.force_login(referente)

    def post(client):
        return client.post(
            _point_url(point.pod), data=json.dumps(BODY), content_type="application/json"
        )

    refused = post(unverified)
    accepted = post(verified)

    assert refused.status_code == 401
    assert accepted.status_code == 201, accepted.content
    assert HourlyReading.objects.filter(connection_point=point).count() == 1
