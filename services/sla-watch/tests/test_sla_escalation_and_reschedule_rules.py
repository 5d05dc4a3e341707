"""Pure rules: the escalation ladder, and rescheduling a clock under new terms."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sla_watch.domain.business_calendar import WorkingCalendar
from sla_watch.domain.calendar import TWENTY_FOUR_SEVEN
from sla_watch.domain.clock import (
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
from sla_watch.domain.escalation import escalate_on_breach, level_for_breach

METRICS = ("first_response", "next_response", "resolution")
PRIORITIES = ("P1", "P2", "P3", "P4")


# -- escalation ladder --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("metric", "priority", "count", "expected"),
    [
        ("first_response", "P3", 1, (1, "first_response_breach")),
        ("next_response", "P2", 1, (1, "next_response_breach")),
        ("resolution", "P4", 1, (2, "resolution_breach")),
        ("first_response", "P1", 1, (3, "p1_breach")),
        ("resolution", "P1", 2, (3, "p1_breach")),
        ("resolution", "P3", 2, (3, "repeated_breach")),
        ("next_response", "P4", 3, (3, "repeated_breach")),
    ],
)
def test_the_ladder(metric: str, priority: str, count: int, expected: tuple[int, str]) -> None:
    assert level_for_breach(metric=metric, priority=priority, breach_count=count) == expected  # type: ignore[arg-type]


def test_an_escalation_says_why_and_from_where() -> None:
    rise = escalate_on_breach(1, metric="resolution", priority="P3", breach_count=1)
    assert rise is not None
    assert (rise.level, rise.previous_level, rise.trigger) == (2, 1, "resolution_breach")
    assert "resolution deadline passed" in rise.reason
    assert "manager" in rise.reason
    repeated = escalate_on_breach(2, metric="first_response", priority="P3", breach_count=2)
    assert repeated is not None
    assert "breach number 2" in repeated.reason


def test_a_breach_below_the_current_level_changes_nothing() -> None:
    assert escalate_on_breach(2, metric="first_response", priority="P3", breach_count=1) is None
    assert escalate_on_breach(1, metric="next_response", priority="P2", breach_count=1) is None
    assert escalate_on_breach(3, metric="resolution", priority="P1", breach_count=5) is None


@given(
    breaches=st.lists(st.tuples(st.sampled_from(METRICS), st.sampled_from(PRIORITIES)), max_size=12)
)
def test_the_level_only_rises_and_each_rise_is_reported_once(
    breaches: list[tuple[str, str]],
) -> None:
    level = 0
    for count, (metric, priority) in enumerate(breaches, start=1):
        rise = escalate_on_breach(level, metric=metric, priority=priority, breach_count=count)  # type: ignore[arg-type]
        wanted, _ = level_for_breach(metric=metric, priority=priority, breach_count=count)  # type: ignore[arg-type]
        if rise is None:
            assert wanted <= level
        else:
            assert rise.previous_level == level < rise.level == wanted
            level = rise.level
        # A second breach, or any P1 breach, always leaves the complaint at the top.
        if count >= 2 or priority == "P1":
            assert level == 3
    if breaches:
        assert level >= 1


# -- rescheduling -------------------------------------------------------------------------

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
    with pytest.raises(ValueError):
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
