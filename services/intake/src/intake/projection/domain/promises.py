"""The times promised to the customer, from the complaint's actual SLA clocks.

Sla-watch owns the clocks and reports every change on the sla topic (``clock_started``,
``clock_paused``, ``clock_resumed``, ``clock_rescheduled``, ``clock_stopped``, and
``breached``); intake's projection keeps each event in the complaint's history. Folding
them in order gives, per metric, the state of the clock started last (a reopen or a new
priority starts a new resolution clock; each customer message a next-response clock) and
its current deadline, so the tracking page promises what sla-watch will actually hold the
team to, pauses and business hours included, never a deadline of its own making.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Final, Literal

from complaint_contracts.events import (
    SlaBreached,
    SlaClockPaused,
    SlaClockRescheduled,
    SlaClockResumed,
    SlaClockStarted,
    SlaClockStopped,
)

ClockState = Literal["running", "paused", "met", "breached", "cancelled"]
METRICS: Final = ("first_response", "next_response", "resolution")
CLOCK_TYPES: Final = frozenset(
    model.ce_type()
    for model in (
        SlaClockStarted,
        SlaClockPaused,
        SlaClockResumed,
        SlaClockRescheduled,
        SlaClockStopped,
        SlaBreached,
    )
)


@dataclass(frozen=True)
class ClockStep:
    """One sla event of the complaint's history, as the projection stored it (JSON data)."""

    event_type: str
    data: Mapping[str, Any]


@dataclass(frozen=True)
class Promise:
    """A metric's clock as the customer is told about it. ``due_at``: its current deadline
    (the last one it had, once paused or stopped); ``stopped_at``: when it stopped;
    ``breached``: its deadline passed before its target event (the customer is owed an
    apology, not a new promise)."""

    metric: str
    state: ClockState
    due_at: datetime | None
    stopped_at: datetime | None = None
    breached: bool = False


def _time(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


def _apply(clock: Promise, event_type: str, data: Mapping[str, Any]) -> Promise:
    """``clock`` after one of its events (``clock_started`` is handled by the caller)."""
    if event_type == SlaClockPaused.ce_type():
        return replace(clock, state="paused")
    if event_type in (SlaClockResumed.ce_type(), SlaClockRescheduled.ce_type()):
        due = _time(data.get("due_at")) or clock.due_at
        state: ClockState = "running" if clock.state == "paused" else clock.state
        if event_type == SlaClockRescheduled.ce_type():
            state = clock.state  # a paused clock stays paused with its new target
        return replace(clock, state=state, due_at=due)
    if event_type == SlaClockStopped.ce_type():
        outcome = data.get("outcome")
        stopped: ClockState = outcome if outcome in ("met", "breached", "cancelled") else "met"
        return replace(
            clock,
            state=stopped,
            stopped_at=_time(data.get("stopped_at")),
            breached=clock.breached or stopped == "breached",
        )
    if event_type == SlaBreached.ce_type():
        return replace(clock, breached=True)
    return clock


def promises_of(steps: Iterable[ClockStep]) -> dict[str, Promise]:
    """Per metric, the clock started last, after every event of it (in history order);
    metrics without a clock yet are absent."""
    clocks: dict[str, Promise] = {}
    latest: dict[str, str] = {}
    for step in steps:
        if step.event_type not in CLOCK_TYPES:
            continue
        clock_id = str(step.data.get("clock_id", ""))
        metric = str(step.data.get("metric", ""))
        if step.event_type == SlaClockStarted.ce_type():
            clocks[clock_id] = Promise(metric, "running", _time(step.data.get("due_at")))
            latest[metric] = clock_id
        elif clock_id in clocks:
            clocks[clock_id] = _apply(clocks[clock_id], step.event_type, step.data)
    return {metric: clocks[clock_id] for metric, clock_id in latest.items()}


def is_late(promise: Promise, *, now: datetime) -> bool:
    """A running clock whose deadline has passed (or that sla-watch reported breached)."""
    if promise.state != "running":
        return False
    return promise.breached or (promise.due_at is not None and promise.due_at < now)


def running_due(promises: Mapping[str, Promise], metric: str) -> datetime | None:
    """The deadline a metric's clock holds the team to right now: its due time while it
    runs; None before sla-watch armed it, while it is paused (the deadline will move) and
    once it stopped. What notify may promise the customer in a message."""
    promise = promises.get(metric)
    if promise is None or promise.state != "running":
        return None
    return promise.due_at


def clocks_expected(
    promises: Mapping[str, Promise], *, status: str, duplicate_of: str | None
) -> bool:
    """Whether sla-watch is still to arm the first-response clock: no clock seen yet on an
    open complaint that is not a duplicate (a duplicate shares its original's clocks and
    never gets its own; a closed complaint gets none). Notify waits a moment for it before
    acknowledging, so the acknowledgement can name the real due time."""
    return "first_response" not in promises and status != "closed" and duplicate_of is None
