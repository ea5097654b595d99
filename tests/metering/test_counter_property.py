"""Property: a counter chain books last minus first, whatever the arrival order and restarts.

Each batch is a separate ingest_messages call, which reads the chain back from the
database: exactly what a restarted worker does.
"""

from __future__ import annotations

import datetime as dt
import json

from django.db import transaction
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cer.metering.models import CounterSample, CounterState, HourlyReading, ReadingSource
from cer.metering.recording import IncomingMessage, ingest_messages
from tests.metering.conftest import make_device

UTC = dt.UTC
START = dt.datetime(2025, 10, 25, 22, 0, tzinfo=UTC)  # the night of the October change
ARRIVAL = dt.datetime(2025, 11, 1, tzinfo=UTC)
WITHDRAWAL_W = 4500  # the point fixture's contracted power


@st.composite
def plausible_chains(draw):
    """Instants and counter values [Wh] whose advances the point's power explains."""
    first = draw(st.integers(min_value=10**6, max_value=10**8))
    steps = draw(
        st.lists(
            st.integers(min_value=1, max_value=120).flatmap(
                lambda minutes: st.tuples(
                    st.just(minutes), st.integers(0, WITHDRAWAL_W * minutes // 60)
                )
            ),
            min_size=2,
            max_size=10,
        )
    )
    moments, values = [START], [first]
    for minutes, advance in steps:
        moments.append(moments[-1] + dt.timedelta(minutes=minutes))
        values.append(values[-1] + advance)
    return list(zip(moments, values, strict=True))


def _message(device, moment: dt.datetime, value: int) -> IncomingMessage:
    payload = json.dumps({"at": moment.isoformat(), "withdrawn_total_wh": value}).encode()
    return IncomingMessage(f"{device.topic_prefix}/readings", payload, ARRIVAL)


def _replay(data, messages: list[IncomingMessage]) -> None:
    """Deliver in any order, with duplicates, in batches separated by restarts."""
    copies = data.draw(st.lists(st.sampled_from(messages), max_size=len(messages)))
    stream = data.draw(st.permutations(messages + copies))
    cuts = sorted(data.draw(st.sets(st.integers(1, max(1, len(stream) - 1)), max_size=4)))
    for start, end in zip([0, *cuts], [*cuts, len(stream)], strict=True):
        ingest_messages(messages=stream[start:end])


def _booked(point) -> int:
    rows = HourlyReading.objects.filter(connection_point=point, source=ReadingSource.DEVICE)
    return rows.aggregate(total=Sum("withdrawn_wh"))["total"] or 0


_SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@_SETTINGS
@given(chain=plausible_chains(), data=st.data())
def test_plausible_values_book_last_minus_first_in_any_order_with_restarts(point, chain, data):
    device = make_device(point)
    messages = [_message(device, moment, value) for moment, value in chain]

    with transaction.atomic():
        _replay(data, messages)
        booked = _booked(point)
        quarantined = CounterSample.objects.filter(state=CounterState.QUARANTINED).count()
        transaction.set_rollback(True)

    assert booked == chain[-1][1] - chain[0][1]
    assert quarantined == 0


@_SETTINGS
@given(chain=plausible_chains(), data=st.data())
def test_a_glitch_anywhere_books_nothing_and_is_quarantined_once(point, chain, data):
    device = make_device(point)
    messages = [_message(device, moment, value) for moment, value in chain]
    kind = data.draw(st.sampled_from(["spike", "zero"]))
    if kind == "spike":
        # A spike may come before the first value, between two, or after the last.
        position = data.draw(st.integers(0, len(chain)))
        if position == 0:
            moment = chain[0][0] - dt.timedelta(minutes=1)
        elif position == len(chain):
            moment = chain[-1][0] + dt.timedelta(minutes=1)
        else:
            moment = chain[position - 1][0] + (chain[position][0] - chain[position - 1][0]) / 2
        glitch = chain[max(0, position - 1)][1] + 10**9
    else:
        # A counter reading zero for one sample, between two good ones.
        position = data.draw(st.integers(1, len(chain) - 1))
        moment = chain[position - 1][0] + (chain[position][0] - chain[position - 1][0]) / 2
        glitch = 0
    messages.append(_message(device, moment, glitch))

    with transaction.atomic():
        _replay(data, messages)
        booked = _booked(point)
        quarantined = list(
            CounterSample.objects.filter(state=CounterState.QUARANTINED).values_list(
                "value_wh", flat=True
            )
        )
        transaction.set_rollback(True)

    assert booked == chain[-1][1] - chain[0][1]
    assert quarantined == [glitch]
