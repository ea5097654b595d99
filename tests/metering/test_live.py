"""The community's power now, from hand-made counter samples and intervals."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cer.communities.models import Configuration
from cer.metering.live import average_power_w, community_power
from cer.metering.models import CounterSample, DeviceStatus, IntervalEnergy
from tests import factories
from tests.metering.conftest import make_device

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 3, 29, 0, 55, tzinfo=dt.UTC)  # the night the clocks go forward


def sample(device, channel, at, value_wh, *, delta_wh=0, booked_from=None, state="OK"):
    return CounterSample.objects.create(
        device=device,
        channel=channel,
        measured_at=at,
        value_wh=value_wh,
        delta_wh=delta_wh,
        booked_from=booked_from,
        received_at=at,
        state=state,
    )


def two_samples(device, channel, *, start, seconds, energy_wh, base_wh=1_000):
    """A start value, then one `seconds` later `energy_wh` more, as the counter rules book it."""
    sample(device, channel, start, base_wh, state="NEW")
    end = start + dt.timedelta(seconds=seconds)
    sample(device, channel, end, base_wh + energy_wh, delta_wh=energy_wh, booked_from=start)
    return end


def consumer(community, configuration=None):
    holder = factories.make_membership(community).member
    fields = {"configuration": configuration} if configuration else {}
    return factories.make_connection_point(community, holder, **fields)


def producer(community, configuration=None):
    holder = factories.make_membership(community).member
    fields = {"configuration": configuration} if configuration else {}
    return factories.make_connection_point(
        community, holder, has_injection=True, has_withdrawal=False, **fields
    )


def test_two_samples_sixty_seconds_apart_with_100_wh_make_6000_w(community, point):
    device = make_device(point)
    end = two_samples(device, "WDR", start=T0, seconds=60, energy_wh=100)

    power = community_power(community.pk, end + dt.timedelta(seconds=30))

    (only,) = power.points
    assert (only.pod, only.withdrawn_w, only.injected_w) == (point.pod, 6_000, None)
    assert only.last_sample_at == end
    assert not only.stopped
    assert power.withdrawn_w == 6_000


def test_a_point_with_only_a_disabled_device_is_marked_and_left_out_of_the_totals(community, point):
    device = make_device(point, status=DeviceStatus.DISABLED)
    end = two_samples(device, "INJ", start=T0, seconds=60, energy_wh=50)

    power = community_power(community.pk, end)

    (only,) = power.points
    assert only.stopped and only.device_disabled
    assert only.injected_w is None
    assert power.injected_w == 0


def test_a_point_silent_for_longer_than_the_window_is_marked_with_its_last_sample(community, point):
    device = make_device(point)
    end = two_samples(device, "WDR", start=T0, seconds=60, energy_wh=100)

    power = community_power(community.pk, end + dt.timedelta(minutes=15, seconds=1))

    (only,) = power.points
    assert only.stopped and not only.device_disabled
    assert only.withdrawn_w is None
    assert only.last_sample_at == end
    assert power.withdrawn_w == 0 and power.last_sample_at == end


def test_a_sample_at_the_edge_of_the_window_still_counts(community, point):
    device = make_device(point)
    end = two_samples(device, "WDR", start=T0, seconds=60, energy_wh=100)

    power = community_power(community.pk, end + dt.timedelta(minutes=15))

    assert power.points[0].withdrawn_w == 6_000


def test_an_average_over_a_span_longer_than_the_window_is_no_power_now(community, point):
    device = make_device(point)
    end = two_samples(device, "WDR", start=T0, seconds=3_600, energy_wh=1_000)

    power = community_power(community.pk, end)

    assert power.points[0].withdrawn_w is None
    assert not power.points[0].stopped  # it reports; its newest span is just too long


def test_quarantined_values_are_not_measurements(community, point):
    device = make_device(point)
    end = two_samples(device, "WDR", start=T0, seconds=60, energy_wh=100)
    sample(device, "WDR", end + dt.timedelta(seconds=60), 999_999, state="QUA")

    power = community_power(community.pk, end + dt.timedelta(seconds=90))

    assert power.points[0].withdrawn_w == 6_000
    assert power.points[0].last_sample_at == end


def test_totals_and_shared_power_are_the_minimum_per_configuration(community):
    first = community.configurations.get()
    second = Configuration.objects.create(
        community=community,
        name="Cabina Mirano",
        primary_substation="AC001E99999",
        market_zone="NORD",
        region="Veneto",
    )
    # First configuration: 6 kW injected, 2 kW withdrawn; second: nothing injected, 3 kW.
    end = two_samples(
        make_device(producer(community, first)), "INJ", start=T0, seconds=60, energy_wh=100
    )
    two_samples(make_device(consumer(community, first)), "WDR", start=T0, seconds=60, energy_wh=33)
    two_samples(make_device(consumer(community, first)), "WDR", start=T0, seconds=60, energy_wh=1)
    two_samples(make_device(consumer(community, second)), "WDR", start=T0, seconds=60, energy_wh=50)

    power = community_power(community.pk, end)

    assert power.injected_w == 6_000
    assert power.withdrawn_w == 1_980 + 60 + 3_000
    # min(6000, 2040) in the first, min(0, 3000) in the second: not min(6000, 5040).
    assert power.shared_w == 2_040
    assert len(power.points) == 4 and power.stopped_count == 0


def test_an_interval_gives_energy_over_its_span(community, point):
    device = make_device(point)
    start = T0
    IntervalEnergy.objects.create(
        connection_point=point,
        device=device,
        start_at=start,
        end_at=start + dt.timedelta(minutes=15),
        injected_wh=250,
        withdrawn_wh=500,
        received_at=start + dt.timedelta(minutes=15),
    )

    power = community_power(community.pk, start + dt.timedelta(minutes=16))

    (only,) = power.points
    assert (only.injected_w, only.withdrawn_w) == (1_000, 2_000)
    assert only.last_sample_at == start + dt.timedelta(minutes=15)


def test_the_newer_of_counter_and_interval_wins_per_channel(community, point):
    device = make_device(point)
    IntervalEnergy.objects.create(
        connection_point=point,
        device=device,
        start_at=T0,
        end_at=T0 + dt.timedelta(minutes=5),
        injected_wh=100,
        withdrawn_wh=100,
        received_at=T0,
    )
    # The counter's withdrawal ends after the interval; its injection ended before.
    two_samples(device, "WDR", start=T0 + dt.timedelta(minutes=5), seconds=60, energy_wh=10)
    two_samples(device, "INJ", start=T0 - dt.timedelta(minutes=2), seconds=60, energy_wh=10)

    power = community_power(community.pk, T0 + dt.timedelta(minutes=7))

    assert power.points[0].withdrawn_w == 600  # the counter: 10 Wh in 60 s
    assert power.points[0].injected_w == 1_200  # the interval: 100 Wh in 5 min


def test_other_communities_and_deleted_devices_are_not_listed(community, point):
    make_device(point, status=DeviceStatus.DELETED)
    other = factories.make_community(name="Altra CER")
    two_samples(make_device(consumer(other)), "WDR", start=T0, seconds=60, energy_wh=100)

    power = community_power(community.pk, T0 + dt.timedelta(minutes=1))

    assert power.points == ()
    assert (power.injected_w, power.withdrawn_w, power.shared_w) == (0, 0, 0)
    assert power.last_sample_at is None


def test_the_whole_community_is_read_with_one_query_per_table(community, django_assert_num_queries):
    for _ in range(5):
        device = make_device(consumer(community))
        two_samples(device, "WDR", start=T0, seconds=60, energy_wh=100)
        two_samples(device, "INJ", start=T0, seconds=60, energy_wh=10)
        IntervalEnergy.objects.create(
            connection_point=device.connection_point,
            start_at=T0 - dt.timedelta(minutes=15),
            end_at=T0,
            injected_wh=0,
            withdrawn_wh=0,
            received_at=T0,
        )

    # Devices with their points and holders; counter samples; intervals.
    with django_assert_num_queries(3):
        power = community_power(community.pk, T0 + dt.timedelta(minutes=2))

    assert len(power.points) == 5 and power.withdrawn_w == 30_000


@given(
    energy_wh=st.integers(min_value=0, max_value=10**9),
    microseconds=st.integers(min_value=1, max_value=15 * 60 * 10**6),
)
def test_average_power_is_the_energy_per_hour_rounded_half_up(energy_wh, microseconds):
    exact = energy_wh * 3_600 * 10**6 / microseconds

    power = average_power_w(energy_wh, dt.timedelta(microseconds=microseconds))

    assert abs(power - exact) <= 0.5 + 1e-6 * exact
