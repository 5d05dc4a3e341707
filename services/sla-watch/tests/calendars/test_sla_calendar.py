"""The 24×7 calendar: every second counts, whole seconds, aware datetimes only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sla_watch.calendars.domain.calendar import TWENTY_FOUR_SEVEN, BusinessCalendar, TwentyFourSeven

START = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
seconds = st.integers(min_value=0, max_value=10 * 365 * 86400)


def test_it_is_a_business_calendar() -> None:
    calendar: BusinessCalendar = TwentyFourSeven()
    assert calendar.calendar_id == "24x7"


def test_add_counts_every_second_across_nights_and_weekends() -> None:
    assert TWENTY_FOUR_SEVEN.add(START, 7200) == START + timedelta(hours=2)
    friday_evening = datetime(2026, 11, 27, 23, 0, tzinfo=UTC)
    assert TWENTY_FOUR_SEVEN.add(friday_evening, 48 * 3600) == datetime(
        2026, 11, 29, 23, 0, tzinfo=UTC
    )


def test_elapsed_is_whole_seconds_and_never_negative() -> None:
    assert TWENTY_FOUR_SEVEN.elapsed(START, START + timedelta(seconds=90, milliseconds=999)) == 90
    assert TWENTY_FOUR_SEVEN.elapsed(START, START - timedelta(hours=1)) == 0


def test_offsets_do_not_matter_only_instants() -> None:
    shanghai = START.astimezone(timezone(timedelta(hours=8)))
    assert TWENTY_FOUR_SEVEN.elapsed(shanghai, START + timedelta(minutes=5)) == 300


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        TWENTY_FOUR_SEVEN.add(datetime(2026, 1, 1), 10)
    with pytest.raises(ValueError, match="timezone-aware"):
        TWENTY_FOUR_SEVEN.elapsed(START, datetime(2026, 1, 1))


@given(start=moments, n=seconds)
def test_elapsed_undoes_add(start: datetime, n: int) -> None:
    assert TWENTY_FOUR_SEVEN.elapsed(start, TWENTY_FOUR_SEVEN.add(start, n)) == n


@given(start=moments, a=seconds, b=seconds)
def test_elapsed_is_additive_over_whole_seconds(start: datetime, a: int, b: int) -> None:
    middle = TWENTY_FOUR_SEVEN.add(start, a)
    end = TWENTY_FOUR_SEVEN.add(middle, b)
    assert TWENTY_FOUR_SEVEN.elapsed(start, end) == (
        TWENTY_FOUR_SEVEN.elapsed(start, middle) + TWENTY_FOUR_SEVEN.elapsed(middle, end)
    )
