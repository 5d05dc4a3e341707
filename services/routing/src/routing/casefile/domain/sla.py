"""The SLA clocks of a case as routing projects them from sla-watch's events (§6), and
what the case file and the lists show of them.

sla-watch owns the clocks; routing keeps a copy per clock (metric, state, due time, target,
warned percent, breached, outcome) so that the case file shows due times and time left and
the lists sort by time to breach. The projection is order-tolerant:

- events of one complaint arrive in order on the sla topic (one partition), and the
  consumer applies each event id at most once;
- a clock routing has not seen start (its ``sla.clock_started`` lost or replayed later) is
  created from whatever event comes first, running until told otherwise; a late
  ``sla.clock_started`` then only fills in what is missing;
- ``stopped`` is final: nothing after it runs or pauses the clock again;
- warnings and the breach are facts that only accumulate (the highest percent, breached
  once), whatever the clock's state.

Time left is wall-clock seconds until ``due_at`` (sla-watch computed ``due_at`` under the
clock's business calendar), negative once overdue; only a running clock has it (a paused
clock's deadline moves when it resumes).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Final, Literal

from complaint_contracts.events import (
    SlaBreached,
    SlaClockPaused,
    SlaClockRescheduled,
    SlaClockResumed,
    SlaClockStarted,
    SlaClockStopped,
    SlaWarning,
)

ClockState = Literal["running", "paused", "stopped"]
SlaState = Literal["breached", "at_risk", "on_track", "paused", "stopped"]
SLA_STATES: Final[tuple[SlaState, ...]] = ("breached", "at_risk", "on_track", "paused", "stopped")
ClockEvent = (
    SlaClockStarted
    | SlaClockPaused
    | SlaClockResumed
    | SlaClockRescheduled
    | SlaClockStopped
    | SlaWarning
    | SlaBreached
)


@dataclass(frozen=True, slots=True)
class ClockProjection:
    clock_id: str
    complaint_id: str
    metric: str
    state: ClockState = "running"
    target_seconds: int | None = None
    started_at: datetime | None = None
    due_at: datetime | None = None
    warned_percent: int | None = None
    breached: bool = False
    outcome: str | None = None
    stopped_at: datetime | None = None
    message_id: str | None = None

    @property
    def at_risk(self) -> bool:
        """Running, a warning threshold reached, not breached."""
        return self.state == "running" and self.warned_percent is not None and not self.breached

    def seconds_left(self, now: datetime) -> int | None:
        return seconds_until(self.due_at, now) if self.state == "running" else None


def project(current: ClockProjection | None, event: ClockEvent) -> ClockProjection:
    """The clock after ``event`` (``current`` None: the first event routing sees of it)."""
    if current is None:
        if isinstance(event, SlaClockStarted):
            return _started(event)
        current = ClockProjection(event.clock_id, event.complaint_id, event.metric)
    if isinstance(event, SlaClockStarted):
        return _fill_in(current, event)
    if isinstance(event, SlaWarning):
        percent = max(current.warned_percent or 0, event.percent)
        return replace(current, warned_percent=percent, due_at=current.due_at or event.due_at)
    if isinstance(event, SlaBreached):
        return replace(current, breached=True, due_at=current.due_at or event.due_at)
    if current.state == "stopped":
        return current
    return _moved(current, event)


def _moved(
    current: ClockProjection,
    event: SlaClockPaused | SlaClockResumed | SlaClockRescheduled | SlaClockStopped,
) -> ClockProjection:
    if isinstance(event, SlaClockPaused):
        return replace(current, state="paused")
    if isinstance(event, SlaClockResumed):
        return replace(current, state="running", due_at=event.due_at)
    if isinstance(event, SlaClockRescheduled):
        return replace(current, due_at=event.due_at, target_seconds=event.target_seconds)
    return replace(
        current,
        state="stopped",
        outcome=event.outcome,
        stopped_at=event.stopped_at,
        breached=current.breached or event.outcome == "breached",
    )


def _started(event: SlaClockStarted) -> ClockProjection:
    return ClockProjection(
        clock_id=event.clock_id,
        complaint_id=event.complaint_id,
        metric=event.metric,
        target_seconds=event.target_seconds,
        started_at=event.started_at,
        due_at=event.due_at,
        message_id=event.message_id,
    )


def _fill_in(current: ClockProjection, event: SlaClockStarted) -> ClockProjection:
    """A start seen after later events of the clock: they are newer, they stand."""
    return replace(
        current,
        target_seconds=current.target_seconds or event.target_seconds,
        started_at=current.started_at or event.started_at,
        due_at=current.due_at or event.due_at,
        message_id=current.message_id or event.message_id,
    )


@dataclass(frozen=True, slots=True)
class SlaSummary:
    """What a case list needs of a case's clocks: the sort key and the two filters."""

    due_at: datetime | None  # the earliest due time among running clocks
    at_risk: bool  # some running clock reached a warning threshold and is not breached
    breached: bool  # some clock breached (running or stopped)
    state: SlaState | None  # None: no clock at all

    @staticmethod
    def of(clocks: Iterable[ClockProjection]) -> SlaSummary:
        all_clocks = list(clocks)
        running = [c for c in all_clocks if c.state == "running"]
        due = min((c.due_at for c in running if c.due_at is not None), default=None)
        at_risk = any(c.at_risk for c in all_clocks)
        breached = any(c.breached for c in all_clocks)
        return SlaSummary(due, at_risk, breached, _label(all_clocks, running, at_risk, breached))


def _label(
    clocks: list[ClockProjection], running: list[ClockProjection], at_risk: bool, breached: bool
) -> SlaState | None:
    if not clocks:
        return None
    if breached:
        return "breached"
    if at_risk:
        return "at_risk"
    if running:
        return "on_track"
    return "paused" if any(c.state == "paused" for c in clocks) else "stopped"


def seconds_until(due_at: datetime | None, now: datetime) -> int | None:
    """Wall-clock seconds from ``now`` to ``due_at`` (negative once overdue)."""
    return None if due_at is None else math.floor((due_at - now).total_seconds())
