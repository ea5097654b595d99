"""The array literals that carry a batch's columns to PostgreSQL keep every value as it was."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.db import connection
from hypothesis import given
from hypothesis import strategies as st

from cer.metering.bulk_writes import array_literals

UTC = dt.UTC
ROME = dt.timezone(dt.timedelta(hours=2))
on_postgresql = pytest.mark.skipif(
    "postgresql" not in settings.DATABASES["default"]["ENGINE"],
    reason="array literals are a PostgreSQL form",
)


def test_each_column_becomes_one_literal():
    rows = [
        (1, dt.datetime(2025, 6, 1, tzinfo=UTC), 'a"b\\c', None, True),
        (-2, dt.datetime(2025, 6, 1, 0, 0, 0, 5, tzinfo=UTC), "", 3, False),
    ]

    assert array_literals(rows) == [
        "{1,-2}",
        "{2025-06-01T00:00:00+00:00,2025-06-01T00:00:00.000005+00:00}",
        '{"a\\"b\\\\c",""}',
        "{NULL,3}",
        "{true,false}",
    ]


@on_postgresql
@pytest.mark.django_db
def test_values_come_back_unchanged_from_postgresql():
    texts = ['quote " and \\ backslash', "{braces}, commas", "", "NULL", "  spaced  ", "è €"]
    moments = [
        dt.datetime(2025, 3, 30, 0, 59, 59, 999_999, tzinfo=UTC),
        dt.datetime(2025, 10, 26, 2, 30, tzinfo=ROME),
        dt.datetime(1999, 12, 31, 23, tzinfo=UTC),
        dt.datetime(2025, 6, 1, 12, tzinfo=UTC),
        dt.datetime(2025, 6, 1, 12, 0, 0, 1, tzinfo=UTC),
        dt.datetime(2030, 1, 1, tzinfo=UTC),
    ]
    numbers = [0, -1, 2**62, 7, None, 42]
    rows = list(zip(numbers, moments, texts, strict=True))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT * FROM unnest(%s::bigint[], %s::timestamptz[], %s::varchar[])",
            array_literals(rows),
        )
        back = cursor.fetchall()

    assert [(n, m, t) for n, m, t in back] == rows


@on_postgresql
@pytest.mark.django_db
@given(
    st.lists(
        st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")),
        min_size=1,
        max_size=20,
    )
)
def test_any_text_survives(texts):
    with connection.cursor() as cursor:
        cursor.execute("SELECT unnest(%s::text[])", array_literals([(text,) for text in texts]))
        assert [row[0] for row in cursor.fetchall()] == texts
