"""SLA clock arithmetic: thresholds, deadlines, pauses, rescheduling. Pure functions over a
ClockView.

A threshold of p % is reached when the clock has counted ceil(target × p / 100) business
seconds, pauses excluded. Under a calendar that is the instant
``calendar.add(started_at, offset + paused_seconds)``, where ``paused_seconds`` are the
business seconds spent paused: a pause moves every later threshold by exactly its length.
Thresholds already sent are remembered on the clock, so each is sent once however often,
and however late, the firing loop looks.

Every pause is also kept as an interval (``pauses``), so ``paused_seconds`` can be counted
again under another calendar: a calendar or policy change reschedules an open clock exactly
(:func:`reschedule`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, NamedTuple

from sla_watch.calendars.domain.calendar import TWENTY_FOUR_SEVEN, BusinessCalendar

ClockState = Literal["running", "paused", "stopped"]
BREACH = 100
# (paused_at, resumed_at); resumed_at is None while the pause lasts.
Pause = tuple[datetime, datetime | None]


@dataclass(frozen=True)
class ClockView:
    """What the rules need to know about one clock."""

    started_at: datetime
    target_seconds: int
    paused_seconds: int = 0
    paused_at: datetime | None = None
    state: ClockState = "running"
    fired_percents: frozenset[int] = frozenset()
    breached: bool = False
    stopped_at: datetime | None = None
    pauses: tuple[Pause, ...] = ()


class Threshold(NamedTuple):
    """A threshold to send: ``percent`` (100 = breach), when it was reached, and whether it
    is being sent late (after a restart, downtime or backlog)."""

    percent: int
    reached_at: datetime
    late: bool


def threshold_offset(target_seconds: int, percent: int) -> int:
    """Business seconds counted when ``percent`` % of the target is reached (rounded up, so
    a threshold is never reported before it is really reached)."""
    return -(-target_seconds * percent // 100)


def threshold_instant(
    view: ClockView, percent: int, *, calendar: BusinessCalendar = TWENTY_FOUR_SEVEN
) -> datetime:
    offset = threshold_offset(view.target_seconds, percent) + view.paused_seconds
    return calendar.add(view.started_at, offset)


def due_at(view: ClockView, *, calendar: BusinessCalendar = TWENTY_FOUR_SEVEN) -> datetime:
    return threshold_instant(view, BREACH, calendar=calendar)


def is_fired(view: ClockView, percent: int) -> bool:
    return view.breached if percent == BREACH else percent in view.fired_percents


def _all_thresholds(percents: Iterable[int]) -> list[int]:
    return [*sorted({p for p in percents if 0 < p < BREACH}), BREACH]


def due_thresholds(
    view: ClockView,
    now: datetime,
    percents: Iterable[int],
    *,
    calendar: BusinessCalendar = TWENTY_FOUR_SEVEN,
    late_after_s: float = 5.0,
    reached_by: datetime | None = None,
) -> list[Threshold]:
    """Thresholds reached by ``now`` (or by ``reached_by``, when the clock stops or pauses
    then) and not sent yet, in rising order, the breach last."""
    if view.state == "stopped":
        return []
    horizon = now if reached_by is None else min(now, reached_by)
    if view.state == "paused" and view.paused_at is not None:
        horizon = min(horizon, view.paused_at)
    late_after = timedelta(seconds=late_after_s)
    found = []
    for percent in _all_thresholds(percents):
        if is_fired(view, percent):
            continue
        instant = threshold_instant(view, percent, calendar=calendar)
        if instant <= horizon:
            found.append(Threshold(percent, instant, now - instant > late_after))
    return found


def record_fired(view: ClockView, thresholds: Iterable[Threshold]) -> ClockView:
    percents = {t.percent for t in thresholds}
    return dataclasses.replace(
        view,
        fired_percents=view.fired_percents | (percents - {BREACH}),
        breached=view.breached or BREACH in percents,
    )


def next_fire_at(
    view: ClockView, percents: Iterable[int], *, calendar: BusinessCalendar = TWENTY_FOUR_SEVEN
) -> datetime | None:
    """The instant of the earliest threshold not yet sent; None when nothing is left or the
    clock is not counting (a paused clock fires nothing until it resumes)."""
    if view.state != "running":
        return None
    pending = [
        threshold_instant(view, p, calendar=calendar)
        for p in _all_thresholds(percents)
        if not is_fired(view, p)
    ]
    return min(pending, default=None)


def elapsed_seconds(
    view: ClockView, at: datetime, *, calendar: BusinessCalendar = TWENTY_FOUR_SEVEN
) -> int:
    """Business seconds counted by ``at``, pauses excluded."""
    end = at
    if view.state == "paused" and view.paused_at is not None:
        end = min(at, view.paused_at)
    elif view.state == "stopped" and view.stopped_at is not None:
        end = min(at, view.stopped_at)
    return max(calendar.elapsed(view.started_at, end) - view.paused_seconds, 0)


def pause(view: ClockView, at: datetime) -> ClockView:
    if view.state != "running":
        return view
    # A pause reported before the start (clock skew between services) pauses at the start.
    paused_at = max(at, view.started_at)
    return dataclasses.replace(
        view, state="paused", paused_at=paused_at, pauses=(*view.pauses, (paused_at, None))
    )


def resume(
    view: ClockView, at: datetime, *, calendar: BusinessCalendar = TWENTY_FOUR_SEVEN
) -> ClockView:
    if view.state != "paused" or view.paused_at is None:
        return view
    resumed_at = max(at, view.paused_at)
    paused_for = calendar.elapsed(view.paused_at, resumed_at)
    return dataclasses.replace(
        view,
        state="running",
        paused_at=None,
        paused_seconds=view.paused_seconds + paused_for,
        pauses=_close_last_pause(view.pauses, view.paused_at, resumed_at),
    )


def _close_last_pause(
    pauses: tuple[Pause, ...], paused_at: datetime, resumed_at: datetime
) -> tuple[Pause, ...]:
    if pauses and pauses[-1][1] is None:
        return (*pauses[:-1], (pauses[-1][0], resumed_at))
    # A clock paused before pauses were recorded: its history starts with this pause.
    return (*pauses, (paused_at, resumed_at))


def stop(
    view: ClockView, at: datetime, *, calendar: BusinessCalendar = TWENTY_FOUR_SEVEN
) -> ClockView:
    if view.state == "stopped":
        return view
    # Folding an open pause into paused_seconds keeps elapsed = counted time up to the pause.
    counted = resume(view, at, calendar=calendar)
    return dataclasses.replace(counted, state="stopped", stopped_at=max(at, view.started_at))


def outcome(view: ClockView) -> Literal["met", "breached"]:
    return "breached" if view.breached else "met"


def paused_seconds_under(pauses: Iterable[Pause], calendar: BusinessCalendar) -> int:
    """Business seconds of the finished pauses under ``calendar`` (an open pause counts
    when it ends, as in :func:`resume`)."""
    return sum(calendar.elapsed(start, end) for start, end in pauses if end is not None)


def reschedule(view: ClockView, *, target_seconds: int, calendar: BusinessCalendar) -> ClockView:
    """The clock under a new target and calendar: its pauses are counted again under the
    new calendar; thresholds already sent stay sent (a threshold that the new terms put in
    the past is then due at once, and goes out late)."""
    if target_seconds <= 0:
        raise ValueError("a target must be positive")
    if view.state == "stopped":
        return view
    paused = view.paused_seconds
    if view.pauses or not paused:
        paused = paused_seconds_under(view.pauses, calendar)
    # else: paused time recorded before pause histories existed cannot be recounted; kept.
    return dataclasses.replace(view, target_seconds=target_seconds, paused_seconds=paused)
