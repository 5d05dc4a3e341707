"""Pure rules: rescheduling a clock under new terms."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sla_watch.calendars.domain.business_calendar import WorkingCalendar
from sla_watch.calendars.domain.calendar import TWENTY_FOUR_SEVEN
from sla_watch.clocks.domain.clock import (
    ClockView,
    due_at,
    due_thresholds,
    next_fire_at,
    pause,
    paused_seconds_under,
    record_fired,
    reschedule,
    resume,
    stop,
)

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # Monday 09:00 in Shanghai
OFFICE = WorkingCalendar.create("office", hours=("09:00-12:00", "13:30-18:00"))
OFFICE_WITH_HOLIDAY = WorkingCalendar.create(
    "office-2", hours=("09:00-12:00", "13:30-18:00"), holidays=[date(2026, 3, 3)]
)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_pauses_are_recounted_under_the_new_calendar() -> None:
    view = ClockView(started_at=T0, target_seconds=27_000)
    # Paused Monday 10:00 until Wednesday 10:00 Shanghai time.
    view = pause(view, at(3600))
    view = resume(view, at(3600 + 2 * 86_400), calendar=OFFICE)
    assert view.paused_seconds == 2 * 27_000  # two full office days
    moved = reschedule(view, target_seconds=27_000, calendar=OFFICE_WITH_HOLIDAY)
    assert moved.paused_seconds == 27_000  # Tuesday became a holiday
    assert moved.pauses == view.pauses
    # 1 h worked before the pause, 6.5 h after: Wednesday 18:00 in Shanghai either way, as
    # the pause covered the new holiday. Keeping the old paused count would be a day late.
    wednesday_close = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)
    assert due_at(view, calendar=OFFICE) == wednesday_close
    assert due_at(moved, calendar=OFFICE_WITH_HOLIDAY) == wednesday_close
    assert due_at(view, calendar=OFFICE_WITH_HOLIDAY) > wednesday_close + timedelta(hours=12)
    back = reschedule(view, target_seconds=27_000, calendar=TWENTY_FOUR_SEVEN)
    assert back.paused_seconds == 2 * 86_400


def test_an_open_pause_counts_once_it_ends() -> None:
    view = pause(ClockView(started_at=T0, target_seconds=100), at(10))
    moved = reschedule(view, target_seconds=200, calendar=TWENTY_FOUR_SEVEN)
    assert (moved.state, moved.paused_seconds, moved.target_seconds) == ("paused", 0, 200)
    assert next_fire_at(moved, (50,)) is None
    assert resume(moved, at(40)).paused_seconds == 30


def test_thresholds_sent_stay_sent_and_those_now_past_are_due_at_once() -> None:
    view = ClockView(started_at=T0, target_seconds=1000)
    view = record_fired(view, due_thresholds(view, at(600), (50, 75, 90)))
    assert view.fired_percents == {50}
    shorter = reschedule(view, target_seconds=700, calendar=TWENTY_FOUR_SEVEN)
    assert shorter.fired_percents == {50}
    due = due_thresholds(shorter, at(601), (50, 75, 90))
    # 75 % of 700 s was at 525 s: due now, late; 90 % (630 s) not yet.
    assert [(t.percent, t.reached_at, t.late) for t in due] == [(75, at(525), True)]
    assert next_fire_at(shorter, (50, 75, 90)) == at(525)


def test_a_stopped_clock_is_not_rescheduled() -> None:
    view = stop(ClockView(started_at=T0, target_seconds=100), at(50))
    assert reschedule(view, target_seconds=10, calendar=OFFICE) == view
    with pytest.raises(ValueError, match="a target must be positive"):
        reschedule(ClockView(started_at=T0, target_seconds=100), target_seconds=0, calendar=OFFICE)


pause_lists = st.lists(
    st.tuples(st.integers(0, 10 * 86_400), st.integers(0, 3 * 86_400)), max_size=5
)


@given(steps=pause_lists, target=st.integers(1, 200_000))
def test_paused_seconds_always_equal_the_recount_of_the_history(
    steps: list[tuple[int, int]], target: int
) -> None:
    """Whatever pauses happened, recounting the history under the clock's own calendar
    gives back the paused seconds; rescheduling to the same terms changes nothing."""
    view = ClockView(started_at=T0, target_seconds=target)
    moment = 0
    for gap, length in steps:
        moment += gap
        view = pause(view, at(moment))
        moment += length
        view = resume(view, at(moment), calendar=OFFICE)
    assert paused_seconds_under(view.pauses, OFFICE) == view.paused_seconds
    assert reschedule(view, target_seconds=target, calendar=OFFICE) == view
