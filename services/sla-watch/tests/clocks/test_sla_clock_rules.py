"""The pure clock rules: thresholds fire once, never early, breach last; pauses shift."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st
from sla_watch.clocks.domain.clock import (
    BREACH,
    ClockView,
    due_at,
    due_thresholds,
    elapsed_seconds,
    next_fire_at,
    outcome,
    pause,
    record_fired,
    resume,
    stop,
    threshold_instant,
    threshold_offset,
)

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
PERCENTS = (50, 75, 90)

targets = st.integers(min_value=1, max_value=500_000)
percent_sets = st.lists(st.integers(min_value=1, max_value=99), max_size=6).map(
    lambda ps: tuple(sorted(set(ps)))
)
fractions = st.lists(st.floats(min_value=0, max_value=3, allow_nan=False), max_size=25)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_thresholds_of_a_two_hour_target() -> None:
    view = ClockView(started_at=T0, target_seconds=7200)
    assert [threshold_instant(view, p) for p in (50, 75, 90, 100)] == [
        at(3600),
        at(5400),
        at(6480),
        at(7200),
    ]
    assert due_at(view) == at(7200)
    assert next_fire_at(view, PERCENTS) == at(3600)


def test_offsets_round_up_so_nothing_fires_early() -> None:
    assert threshold_offset(3, 50) == 2
    assert threshold_offset(1, 90) == 1
    assert threshold_offset(100, 100) == 100


def test_a_late_threshold_is_marked_late() -> None:
    view = ClockView(started_at=T0, target_seconds=100)
    on_time = due_thresholds(view, at(52), PERCENTS, late_after_s=5)
    assert [(t.percent, t.late) for t in on_time] == [(50, False)]
    after_downtime = due_thresholds(view, at(1000), PERCENTS, late_after_s=5)
    assert [(t.percent, t.late) for t in after_downtime] == [
        (50, True),
        (75, True),
        (90, True),
        (BREACH, True),
    ]


def test_a_stopped_clock_fires_nothing() -> None:
    view = stop(ClockView(started_at=T0, target_seconds=100), at(10))
    assert due_thresholds(view, at(1000), PERCENTS) == []
    assert next_fire_at(view, PERCENTS) is None
    assert elapsed_seconds(view, at(1000)) == 10
    assert outcome(view) == "met"


def test_stop_while_paused_counts_up_to_the_pause() -> None:
    view = pause(ClockView(started_at=T0, target_seconds=100), at(30))
    assert elapsed_seconds(view, at(80)) == 30
    stopped = stop(view, at(80))
    assert elapsed_seconds(stopped, at(500)) == 30


def test_resume_moves_the_deadline_by_the_pause() -> None:
    view = pause(ClockView(started_at=T0, target_seconds=100), at(30))
    assert next_fire_at(view, PERCENTS) is None
    resumed = resume(view, at(330))
    assert due_at(resumed) == at(400)
    assert elapsed_seconds(resumed, at(340)) == 40


@given(target=targets, percents=percent_sets, ticks=fractions, late_after=st.floats(0, 100))
def test_each_threshold_fires_exactly_once_never_early_breach_last(
    target: int, percents: tuple[int, ...], ticks: list[float], late_after: float
) -> None:
    view = ClockView(started_at=T0, target_seconds=target)
    fired: list[tuple[int, datetime, datetime, bool]] = []
    for fraction in [*sorted(ticks), 3.0]:  # the last tick is past the deadline
        now = at(fraction * target)
        due = due_thresholds(view, now, percents, late_after_s=late_after)
        assert next_fire_at(view, percents) is None or (
            bool(due) == (next_fire_at(view, percents) <= now)  # type: ignore[operator]
        )
        fired.extend((t.percent, t.reached_at, now, t.late) for t in due)
        view = record_fired(view, due)
    assert [p for p, *_ in fired] == [*percents, BREACH]  # each once, rising, breach last
    for percent, reached_at, now, late in fired:
        assert reached_at == threshold_instant(view, percent)
        assert reached_at <= now
        assert late == (now - reached_at > timedelta(seconds=late_after))
    assert next_fire_at(view, percents) is None
    assert due_thresholds(view, at(10 * target), percents) == []


@given(
    target=targets,
    percents=percent_sets,
    pause_at=st.integers(0, 1_000_000),
    paused_for=st.integers(0, 1_000_000),
    fired_by=st.floats(0, 1.2),
)
def test_a_pause_shifts_every_future_threshold_by_its_length(
    target: int, percents: tuple[int, ...], pause_at: int, paused_for: int, fired_by: float
) -> None:
    view = ClockView(started_at=T0, target_seconds=target)
    view = record_fired(view, due_thresholds(view, at(fired_by * target), percents))
    paused = pause(view, at(pause_at))
    # Nothing reaches a threshold while paused, however long the pause.
    late_look = due_thresholds(paused, at(pause_at + paused_for + 10 * target), percents)
    assert all(t.reached_at <= at(pause_at) for t in late_look)
    resumed = resume(paused, at(pause_at + paused_for))
    assert resumed.state == "running"
    for percent in [*percents, BREACH]:
        before = threshold_instant(view, percent)
        after = threshold_instant(resumed, percent)
        if before > at(pause_at):
            assert after - before == timedelta(seconds=paused_for)
    assert due_at(resumed) - due_at(view) == timedelta(seconds=paused_for)
    assert resumed.pauses == ((at(pause_at), at(pause_at + paused_for)),)
    assert dataclasses.replace(resumed, paused_seconds=0, pauses=()) == view


@given(
    target=targets,
    percents=percent_sets,
    ops=st.lists(st.tuples(st.sampled_from(["tick", "pause", "resume"]), st.floats(0, 1))),
)
def test_exactly_once_survives_any_mix_of_ticks_and_pauses(
    target: int, percents: tuple[int, ...], ops: list[tuple[str, float]]
) -> None:
    view = ClockView(started_at=T0, target_seconds=target)
    clock_s = 0.0
    sent: list[int] = []
    for op, step in ops:
        clock_s += step * target  # monotonic time
        now = at(clock_s)
        if op == "pause":
            view = record_fired(view, due := due_thresholds(view, now, percents, reached_by=now))
            sent += [t.percent for t in due]
            view = pause(view, now)
        elif op == "resume":
            view = resume(view, now)
        else:
            due = due_thresholds(view, now, percents)
            assert all(t.reached_at <= now for t in due)
            sent += [t.percent for t in due]
            view = record_fired(view, due)
    view = resume(view, at(clock_s))
    final = due_thresholds(view, at(clock_s + 2 * target + 1e6), percents)
    sent += [t.percent for t in final]
    assert sent == [*percents, BREACH]
