"""sla-watch's use cases. Each runs in the caller's transaction (the consumer's, or the
firing loop's) and stages its events in the outbox, so a clock's row and the events that
describe it commit together or not at all."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

import structlog
from complaint_contracts import topics
from complaint_contracts.base import EventData
from complaint_contracts.events import (
    SlaBreached,
    SlaClockPaused,
    SlaClockResumed,
    SlaClockStarted,
    SlaClockStopped,
    SlaWarning,
)
from complaint_contracts.vocabulary import Priority
from complaint_runtime.context import current_causation
from complaint_runtime.database import UnitOfWork

from sla_watch import metrics
from sla_watch.config import SlaSettings
from sla_watch.db import Clock, ClockRepository
from sla_watch.domain import clock as rules_of
from sla_watch.domain.calendar import TWENTY_FOUR_SEVEN, BusinessCalendar
from sla_watch.domain.clock import BREACH, ClockView, Threshold
from sla_watch.domain.policy import Metric, target_for

log = structlog.get_logger(__name__)

SOURCE = topics.SLA.producer
METRICS: tuple[Metric, ...] = ("first_response", "resolution")


@dataclass(frozen=True)
class SlaRules:
    """The configuration the use cases need, taken once from the settings."""

    first_response_targets: Mapping[str, int]
    resolution_targets: Mapping[str, int]
    warning_percents: tuple[int, ...] = (50, 75, 90)
    late_after_s: float = 5.0
    calendar: BusinessCalendar = TWENTY_FOUR_SEVEN

    @classmethod
    def from_settings(cls, settings: SlaSettings) -> SlaRules:
        return cls(
            first_response_targets=settings.sla_first_response_targets_s,
            resolution_targets=settings.sla_resolution_targets_s,
            warning_percents=settings.sla_warning_percents,
            late_after_s=settings.sla_late_after_s,
        )


def _emit(uow: UnitOfWork, clock: Clock, data: EventData, *, time: datetime) -> None:
    uow.add_event(data, topic=topics.SLA.name, source=SOURCE, subject=clock.complaint_id, time=time)


def _save(clock: Clock, view: ClockView, rules: SlaRules, now: datetime) -> None:
    """Write the view back with the deadline and next firing instant it implies."""
    clock.apply(view)
    clock.due_at = rules_of.due_at(view, calendar=rules.calendar)
    clock.next_fire_at = rules_of.next_fire_at(
        view, rules.warning_percents, calendar=rules.calendar
    )
    clock.updated_at = now


async def start_clocks(
    *,
    uow: UnitOfWork,
    rules: SlaRules,
    complaint_id: str,
    priority: Priority,
    at: datetime,
    now: datetime | None = None,
) -> list[Clock]:
    """Arm first-response and resolution clocks for a triaged complaint (once)."""
    clocks = ClockRepository(uow.session, lock=True)
    if await clocks.has_any(complaint_id):
        log.debug("complaint already has clocks, triage ignored")
        return []
    return [
        _start_clock(
            uow,
            rules,
            complaint_id=complaint_id,
            metric=m,
            priority=priority,
            at=at,
            now=now or datetime.now(UTC),
        )
        for m in METRICS
    ]


def _start_clock(
    uow: UnitOfWork,
    rules: SlaRules,
    *,
    complaint_id: str,
    metric: Metric,
    priority: Priority,
    at: datetime,
    now: datetime,
) -> Clock:
    target = target_for(
        metric=metric,
        priority=priority,
        first_response=rules.first_response_targets,
        resolution=rules.resolution_targets,
    )
    view = ClockView(started_at=at, target_seconds=target.seconds)
    clock = Clock(
        clock_id=str(uuid.uuid4()),
        complaint_id=complaint_id,
        metric=metric,
        priority=priority,
        policy_id=target.policy_id,
        calendar_id=rules.calendar.calendar_id,
        target_seconds=target.seconds,
        started_at=at,
        correlation_id=current_causation().correlation_id,
    )
    _save(clock, view, rules, now)
    ClockRepository(uow.session).add(clock)
    _emit(
        uow,
        clock,
        SlaClockStarted(
            complaint_id=complaint_id,
            clock_id=clock.clock_id,
            metric=metric,
            target_seconds=target.seconds,
            started_at=at,
            due_at=clock.due_at,
            calendar_id=clock.calendar_id,
            policy_id=target.policy_id,
            priority=priority,
        ),
        time=at,
    )
    return clock


async def fire_thresholds(
    *,
    uow: UnitOfWork,
    rules: SlaRules,
    clock: Clock,
    now: datetime,
    reached_by: datetime | None = None,
) -> list[Threshold]:
    """Send every threshold of ``clock`` reached by ``now`` (or ``reached_by``) and not sent
    yet, and remember them on the row in the same transaction: exactly once per threshold."""
    view = clock.view()
    due = rules_of.due_thresholds(
        view,
        now,
        rules.warning_percents,
        calendar=rules.calendar,
        late_after_s=rules.late_after_s,
        reached_by=reached_by,
    )
    view = rules_of.record_fired(view, due)
    _save(clock, view, rules, now)
    for threshold in due:
        if threshold.percent == BREACH:
            await uow.session.flush()  # so the count below includes this clock
            count = await ClockRepository(uow.session).breached_count(clock.complaint_id)
            data: EventData = SlaBreached(
                complaint_id=clock.complaint_id,
                clock_id=clock.clock_id,
                metric=clock.metric,
                due_at=clock.due_at,
                late=threshold.late,
                priority=clock.priority,
                breach_count=max(count, 1),
            )
        else:
            data = SlaWarning(
                complaint_id=clock.complaint_id,
                clock_id=clock.clock_id,
                metric=clock.metric,
                percent=threshold.percent,
                reached_at=threshold.reached_at,
                due_at=clock.due_at,
                late=threshold.late,
                priority=clock.priority,
            )
        _emit(uow, clock, data, time=threshold.reached_at)
        kind = "breached" if threshold.percent == BREACH else "warning"
        metrics.EVENTS_FIRED.labels(kind, str(threshold.late).lower()).inc()
        log.info(
            "sla threshold reached",
            clock_id=clock.clock_id,
            metric=clock.metric,
            percent=threshold.percent,
            late=threshold.late,
        )
    return due


async def _stop_clock(
    uow: UnitOfWork,
    rules: SlaRules,
    clock: Clock,
    *,
    at: datetime,
    now: datetime,
    reason: str,
    cancel: bool,
) -> None:
    # Thresholds passed before the stop are reported first, even when the loop has not seen
    # them yet (backlog, downtime): every threshold a clock reached is sent exactly once.
    await fire_thresholds(uow=uow, rules=rules, clock=clock, now=now, reached_by=at)
    view = rules_of.stop(clock.view(), at, calendar=rules.calendar)
    result: Literal["met", "breached", "cancelled"] = (
        "cancelled" if cancel else rules_of.outcome(view)
    )
    _save(clock, view, rules, now)
    clock.outcome = result
    _emit(
        uow,
        clock,
        SlaClockStopped(
            complaint_id=clock.complaint_id,
            clock_id=clock.clock_id,
            metric=clock.metric,
            stopped_at=view.stopped_at or at,
            elapsed_seconds=rules_of.elapsed_seconds(view, at, calendar=rules.calendar),
            outcome=result,
            reason=reason[:200],
        ),
        time=at,
    )


async def stop_clocks(
    *,
    uow: UnitOfWork,
    rules: SlaRules,
    complaint_id: str,
    at: datetime,
    reason: str,
    metric: Metric | None = None,
    cancel: bool = False,
    now: datetime | None = None,
) -> Sequence[Clock]:
    """Stop the open clocks of the complaint (of one metric, or all): met or breached when
    their target event happened, cancelled when they became moot."""
    open_clocks = await ClockRepository(uow.session, lock=True).open_of_complaint(
        complaint_id, metric=metric
    )
    if not open_clocks:
        log.debug("no open clock to stop", metric=metric)
    for clock in open_clocks:
        await _stop_clock(
            uow, rules, clock, at=at, now=now or datetime.now(UTC), reason=reason, cancel=cancel
        )
    return open_clocks


async def pause_clocks(
    *,
    uow: UnitOfWork,
    rules: SlaRules,
    complaint_id: str,
    at: datetime,
    reason: str,
    metric: Metric = "resolution",
    now: datetime | None = None,
) -> Sequence[Clock]:
    now = now or datetime.now(UTC)
    clocks = await ClockRepository(uow.session, lock=True).open_of_complaint(
        complaint_id, metric=metric
    )
    paused = [c for c in clocks if c.state == "running"]
    if not paused:
        log.debug("no running clock to pause", metric=metric)
    for clock in paused:
        await fire_thresholds(uow=uow, rules=rules, clock=clock, now=now, reached_by=at)
        view = rules_of.pause(clock.view(), at)
        _save(clock, view, rules, now)
        _emit(
            uow,
            clock,
            SlaClockPaused(
                complaint_id=complaint_id,
                clock_id=clock.clock_id,
                metric=metric,
                paused_at=view.paused_at or at,
                elapsed_seconds=rules_of.elapsed_seconds(view, at, calendar=rules.calendar),
                reason=reason[:200] or "awaiting_customer",
            ),
            time=at,
        )
    return paused


async def resume_clocks(
    *,
    uow: UnitOfWork,
    rules: SlaRules,
    complaint_id: str,
    at: datetime,
    metric: Metric = "resolution",
    now: datetime | None = None,
) -> Sequence[Clock]:
    """Resume paused clocks; their deadline moves by the paused business time."""
    now = now or datetime.now(UTC)
    clocks = await ClockRepository(uow.session, lock=True).open_of_complaint(
        complaint_id, metric=metric
    )
    resumed = [c for c in clocks if c.state == "paused"]
    if not resumed:
        log.debug("no paused clock to resume", metric=metric)
    for clock in resumed:
        view = rules_of.resume(clock.view(), at, calendar=rules.calendar)
        _save(clock, view, rules, now)
        _emit(
            uow,
            clock,
            SlaClockResumed(
                complaint_id=complaint_id,
                clock_id=clock.clock_id,
                metric=metric,
                resumed_at=at,
                elapsed_seconds=rules_of.elapsed_seconds(view, at, calendar=rules.calendar),
                due_at=clock.due_at,
            ),
            time=at,
        )
    return resumed


async def has_open_clock(*, uow: UnitOfWork, complaint_id: str, metric: str) -> bool:
    """Whether the complaint has a running or paused clock of this metric."""
    repository = ClockRepository(uow.session)
    return bool(await repository.open_of_complaint(complaint_id, metric=metric))


async def restart_resolution(
    *,
    uow: UnitOfWork,
    rules: SlaRules,
    complaint_id: str,
    priority: Priority,
    at: datetime,
    reason: str,
    now: datetime | None = None,
) -> Clock | None:
    """A new priority (e.g. raised on reopen) gets a fresh resolution clock with its target;
    an open one is cancelled first. A paused clock's successor starts paused."""
    now = now or datetime.now(UTC)
    repository = ClockRepository(uow.session, lock=True)
    if not await repository.has_any(complaint_id):
        log.debug("priority change for a complaint without clocks ignored")
        return None
    open_before = await repository.open_of_complaint(complaint_id, metric="resolution")
    was_paused = any(c.state == "paused" for c in open_before)
    await stop_clocks(
        uow=uow,
        rules=rules,
        complaint_id=complaint_id,
        at=at,
        reason=reason,
        metric="resolution",
        cancel=True,
        now=now,
    )
    clock = _start_clock(
        uow,
        rules,
        complaint_id=complaint_id,
        metric="resolution",
        priority=priority,
        at=at,
        now=now,
    )
    if was_paused:
        await pause_clocks(
            uow=uow,
            rules=rules,
            complaint_id=complaint_id,
            at=at,
            reason="awaiting_customer",
            now=now,
        )
    return clock
