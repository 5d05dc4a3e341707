"""sla-watch's use cases. Each runs in the caller's transaction (the consumer's, or the
firing loop's) and stages its events in the outbox, so a clock's row and the events that
describe it commit together or not at all.

Every computation uses the calendar of the clock at hand (``rules.setup`` caches them); new
clocks take their target, policy and calendar from the first matching policy. Next-response
clocks live in :mod:`sla_watch.next_response`; priority, category and team changes (and
the restart of the resolution clock) in :mod:`sla_watch.complaint_facts`; escalation in
:mod:`sla_watch.escalation`; rescheduling in :mod:`sla_watch.reschedule`.

Lock order, everywhere: a complaint's clock rows before its ``complaint_sla`` row (the
firing loop holds a clock when it escalates), so consumers and the loop never deadlock.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Literal

import structlog
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

from sla_watch import escalation, metrics
from sla_watch.clock_setup import ComplaintFacts, Metric
from sla_watch.db import TEAM_LENGTH, Clock, ClockRepository, ComplaintSla, ComplaintSlaRepository
from sla_watch.domain import clock as rules_of
from sla_watch.domain.calendar import BusinessCalendar
from sla_watch.domain.clock import BREACH, ClockView, Threshold
from sla_watch.reschedule import RescheduleReason, reschedule_clock
from sla_watch.rules import SlaRules, emit, save

__all__ = [
    "RescheduleReason",
    "SlaRules",
    "fire_thresholds",
    "has_open_clock",
    "pause_clocks",
    "reschedule_clock",
    "resume_clocks",
    "start_clock",
    "start_clocks",
    "stop_clock",
    "stop_clocks",
]

log = structlog.get_logger(__name__)

# Armed at triage; next_response clocks start on customer messages.
TRIAGE_METRICS: tuple[Metric, ...] = ("first_response", "resolution")


async def start_clocks(
    *,
    uow: UnitOfWork,
    rules: SlaRules,
    complaint_id: str,
    priority: Priority,
    at: datetime,
    category: str | None = None,
    tier: str | None = None,
    channel: str | None = None,
    now: datetime | None = None,
) -> list[Clock]:
    """Arm first-response and resolution clocks for a triaged complaint (once), and
    remember what its clocks match policies on."""
    now = now or datetime.now(UTC)
    clocks = ClockRepository(uow.session, lock=True)
    complaints = ComplaintSlaRepository(uow.session, lock=True)
    if await clocks.has_any(complaint_id) or await complaints.get(complaint_id) is not None:
        log.debug("complaint already has clocks, triage ignored")
        return []
    facts = ComplaintFacts(priority=priority, category=category, tier=tier, channel=channel)
    complaints.add(
        ComplaintSla(
            complaint_id=complaint_id,
            priority=priority,
            category=category,
            tier=tier,
            channel=channel,
            escalation_level=0,
            updated_at=now,
        )
    )
    return [
        await start_clock(
            uow=uow, rules=rules, complaint_id=complaint_id, metric=m, facts=facts, at=at, now=now
        )
        for m in TRIAGE_METRICS
    ]


async def start_clock(
    *,
    uow: UnitOfWork,
    rules: SlaRules,
    complaint_id: str,
    metric: Metric,
    facts: ComplaintFacts,
    at: datetime,
    now: datetime,
    team: str | None = None,
    message_id: str | None = None,
) -> Clock:
    """One new clock with the terms of the first policy matching ``facts``."""
    terms = await rules.setup.terms(uow.session, metric=metric, facts=facts)
    view = ClockView(started_at=at, target_seconds=terms.target_seconds)
    clock = Clock(
        clock_id=str(uuid.uuid4()),
        complaint_id=complaint_id,
        metric=metric,
        priority=facts.priority,
        category=facts.category,
        tier=facts.tier,
        channel=facts.channel,
        team=team[:TEAM_LENGTH] if team else None,
        message_id=message_id,
        policy_id=terms.policy_id,
        calendar_id=terms.calendar.calendar_id,
        target_seconds=terms.target_seconds,
        started_at=at,
        correlation_id=current_causation().correlation_id,
    )
    save(clock, view, rules, now, calendar=terms.calendar)
    ClockRepository(uow.session).add(clock)
    emit(
        uow,
        clock,
        SlaClockStarted(
            complaint_id=complaint_id,
            clock_id=clock.clock_id,
            metric=metric,
            target_seconds=terms.target_seconds,
            started_at=at,
            due_at=clock.due_at,
            calendar_id=clock.calendar_id,
            policy_id=terms.policy_id,
            priority=facts.priority,
            message_id=message_id,
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
    calendar: BusinessCalendar | None = None,
) -> list[Threshold]:
    """Send every threshold of ``clock`` reached by ``now`` (or ``reached_by``) and not sent
    yet, and remember them on the row in the same transaction: exactly once per threshold.
    A breach raises the complaint's escalation level when the ladder says so.
    ``calendar``: the clock's calendar when the caller has it at hand (the firing loop)."""
    calendar = calendar or await rules.calendar_of(uow.session, clock)
    view = clock.view()
    due = rules_of.due_thresholds(
        view,
        now,
        rules.warning_percents,
        calendar=calendar,
        late_after_s=rules.late_after_s,
        reached_by=reached_by,
    )
    view = rules_of.record_fired(view, due)
    save(clock, view, rules, now, calendar=calendar)
    for threshold in due:
        if threshold.percent == BREACH:
            count, escalated = await escalation.on_breach(uow=uow, clock=clock, now=now)
            data: EventData = SlaBreached(
                complaint_id=clock.complaint_id,
                clock_id=clock.clock_id,
                metric=clock.metric,
                due_at=clock.due_at,
                late=threshold.late,
                priority=clock.priority,
                breach_count=count,
            )
            emit(uow, clock, data, time=threshold.reached_at)
            if escalated is not None:
                emit(uow, clock, escalated, time=threshold.reached_at)
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
            emit(uow, clock, data, time=threshold.reached_at)
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


async def stop_clock(
    *,
    uow: UnitOfWork,
    rules: SlaRules,
    clock: Clock,
    at: datetime,
    now: datetime,
    reason: str,
    cancel: bool,
) -> None:
    """Stop one open clock: met or breached, or cancelled when it became moot."""
    # Thresholds passed before the stop are reported first, even when the loop has not seen
    # them yet (backlog, downtime): every threshold a clock reached is sent exactly once.
    calendar = await rules.calendar_of(uow.session, clock)
    await fire_thresholds(
        uow=uow, rules=rules, clock=clock, now=now, reached_by=at, calendar=calendar
    )
    view = rules_of.stop(clock.view(), at, calendar=calendar)
    result: Literal["met", "breached", "cancelled"] = (
        "cancelled" if cancel else rules_of.outcome(view)
    )
    save(clock, view, rules, now, calendar=calendar)
    clock.outcome = result
    emit(
        uow,
        clock,
        SlaClockStopped(
            complaint_id=clock.complaint_id,
            clock_id=clock.clock_id,
            metric=clock.metric,
            stopped_at=view.stopped_at or at,
            elapsed_seconds=rules_of.elapsed_seconds(view, at, calendar=calendar),
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
        await stop_clock(
            uow=uow,
            rules=rules,
            clock=clock,
            at=at,
            now=now or datetime.now(UTC),
            reason=reason,
            cancel=cancel,
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
        calendar = await rules.calendar_of(uow.session, clock)
        await fire_thresholds(
            uow=uow, rules=rules, clock=clock, now=now, reached_by=at, calendar=calendar
        )
        view = rules_of.pause(clock.view(), at)
        save(clock, view, rules, now, calendar=calendar)
        emit(
            uow,
            clock,
            SlaClockPaused(
                complaint_id=complaint_id,
                clock_id=clock.clock_id,
                metric=metric,
                paused_at=view.paused_at or at,
                elapsed_seconds=rules_of.elapsed_seconds(view, at, calendar=calendar),
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
        calendar = await rules.calendar_of(uow.session, clock)
        view = rules_of.resume(clock.view(), at, calendar=calendar)
        save(clock, view, rules, now, calendar=calendar)
        emit(
            uow,
            clock,
            SlaClockResumed(
                complaint_id=complaint_id,
                clock_id=clock.clock_id,
                metric=metric,
                resumed_at=at,
                elapsed_seconds=rules_of.elapsed_seconds(view, at, calendar=calendar),
                due_at=clock.due_at,
            ),
            time=at,
        )
    return resumed


async def has_open_clock(*, uow: UnitOfWork, complaint_id: str, metric: str) -> bool:
    """Whether the complaint has a running or paused clock of this metric."""
    repository = ClockRepository(uow.session)
    return bool(await repository.open_of_complaint(complaint_id, metric=metric))
