"""The use cases of a complaint's clocks: arm at triage, stop, pause, resume, each in the
caller's transaction (the consumer's, or the firing loop's). Reading them (the read API) is
in :mod:`sla_watch.clocks.readings`.

Writing use cases stage their events in the outbox, so a clock's row and the events that
describe it commit together or not at all. Every computation uses the calendar of the clock
at hand (the terms source caches them); new clocks take their target, policy and calendar
from the first matching policy. Next-response clocks live in
:mod:`sla_watch.clocks.next_response`; priority, category and team changes (and the restart
of the resolution clock) in :mod:`sla_watch.clocks.complaint_facts`; rescheduling in
:mod:`sla_watch.clocks.reschedule`; sending thresholds in :mod:`sla_watch.firing.thresholds`
and escalation in :mod:`sla_watch.firing.escalation`.

Lock order, everywhere: a complaint's clock rows before its ``complaint_sla`` row (see
:mod:`sla_watch.db`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Literal

import structlog
from complaint_contracts.events import (
    SlaClockPaused,
    SlaClockResumed,
    SlaClockStarted,
    SlaClockStopped,
)
from complaint_contracts.vocabulary import Priority
from complaint_runtime.context import current_causation
from complaint_runtime.database import UnitOfWork

from sla_watch.clocks.domain import clock as clock_rules
from sla_watch.clocks.domain.clock import ClockView
from sla_watch.clocks.recording import stage_event, write_back
from sla_watch.clocks.settings import ClockSettings
from sla_watch.db import TEAM_LENGTH, Clock, ClockRepository, ComplaintSlaRepository
from sla_watch.firing.thresholds import fire_thresholds
from sla_watch.policies.domain.policy import Metric
from sla_watch.policies.domain.terms import ComplaintFacts

log = structlog.get_logger(__name__)

# Armed at triage; next_response clocks start on customer messages.
TRIAGE_METRICS: tuple[Metric, ...] = ("first_response", "resolution")


async def lock_for_batch(
    *,
    uow: UnitOfWork,
    clocks_of: Iterable[str],
    rows_of: Iterable[str],
    teams_of: Iterable[str],
) -> None:
    """Before a consumer's batch: lock what its handlers are about to lock one by one, a
    statement per table for the whole batch instead of round trips per event, in the lock
    order of every handler: the open clocks of ``clocks_of``' complaints, then the rows of
    ``rows_of``' (both in complaint order, so two replicas never deadlock), then every clock
    of the complaints with a row among ``teams_of`` (assigned: the team goes on all their
    clocks, after the row as :func:`~sla_watch.clocks.complaint_facts.set_team` did). The
    handlers then read them from memory (see :mod:`sla_watch.db`)."""
    clocks = ClockRepository(uow.session, lock=True)
    await clocks.lock_open_for_batch(clocks_of)
    rows = await ComplaintSlaRepository(uow.session, lock=True).lock_for_batch(rows_of)
    await clocks.lock_all_for_batch(
        complaint_id for complaint_id in teams_of if complaint_id in rows
    )


async def start_clocks(
    *,
    uow: UnitOfWork,
    settings: ClockSettings,
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
    facts = ComplaintFacts(priority=priority, category=category, tier=tier, channel=channel)
    if not await ComplaintSlaRepository(uow.session).claim(complaint_id, facts, now=now):
        log.debug("complaint already has clocks, triage ignored")
        return []
    return [
        await start_clock(
            uow=uow,
            settings=settings,
            complaint_id=complaint_id,
            metric=metric,
            facts=facts,
            at=at,
            now=now,
        )
        for metric in TRIAGE_METRICS
    ]


async def start_clock(
    *,
    uow: UnitOfWork,
    settings: ClockSettings,
    complaint_id: str,
    metric: Metric,
    facts: ComplaintFacts,
    at: datetime,
    now: datetime,
    team: str | None = None,
    message_id: str | None = None,
) -> Clock:
    """One new clock with the terms of the first policy matching ``facts``."""
    terms = await settings.terms.terms(uow.session, metric=metric, facts=facts)
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
    write_back(clock, view, settings, now, calendar=terms.calendar)
    ClockRepository(uow.session).add(clock)
    stage_event(
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


async def stop_clock(
    *,
    uow: UnitOfWork,
    settings: ClockSettings,
    clock: Clock,
    at: datetime,
    now: datetime,
    reason: str,
    cancel: bool,
) -> None:
    """Stop one open clock: met or breached, or cancelled when it became moot."""
    # Thresholds passed before the stop are reported first, even when the loop has not seen
    # them yet (backlog, downtime): every threshold a clock reached is sent exactly once.
    calendar = await settings.calendar_of(uow.session, clock)
    await fire_thresholds(
        uow=uow, settings=settings, clock=clock, now=now, reached_by=at, calendar=calendar
    )
    view = clock_rules.stop(clock.view(), at, calendar=calendar)
    result: Literal["met", "breached", "cancelled"] = (
        "cancelled" if cancel else clock_rules.outcome(view)
    )
    write_back(clock, view, settings, now, calendar=calendar)
    clock.outcome = result
    stage_event(
        uow,
        clock,
        SlaClockStopped(
            complaint_id=clock.complaint_id,
            clock_id=clock.clock_id,
            metric=clock.metric,
            stopped_at=view.stopped_at or at,
            elapsed_seconds=clock_rules.elapsed_seconds(view, at, calendar=calendar),
            outcome=result,
            reason=reason[:200],
        ),
        time=at,
    )


async def stop_clocks(
    *,
    uow: UnitOfWork,
    settings: ClockSettings,
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
            settings=settings,
            clock=clock,
            at=at,
            now=now or datetime.now(UTC),
            reason=reason,
            cancel=cancel,
        )
    return open_clocks


async def record_resolution(
    *, uow: UnitOfWork, settings: ClockSettings, complaint_id: str, at: datetime, reason: str
) -> None:
    """The complaint was resolved at ``at``: its resolution clock stops (met or breached),
    and the customer messages still waiting for a reply are moot (cancelled)."""
    await stop_clocks(
        uow=uow,
        settings=settings,
        complaint_id=complaint_id,
        metric="resolution",
        at=at,
        reason=reason,
    )
    await stop_clocks(
        uow=uow,
        settings=settings,
        complaint_id=complaint_id,
        metric="next_response",
        at=at,
        reason=reason,
        cancel=True,
    )


async def pause_clocks(
    *,
    uow: UnitOfWork,
    settings: ClockSettings,
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
        calendar = await settings.calendar_of(uow.session, clock)
        await fire_thresholds(
            uow=uow, settings=settings, clock=clock, now=now, reached_by=at, calendar=calendar
        )
        view = clock_rules.pause(clock.view(), at)
        write_back(clock, view, settings, now, calendar=calendar)
        stage_event(
            uow,
            clock,
            SlaClockPaused(
                complaint_id=complaint_id,
                clock_id=clock.clock_id,
                metric=metric,
                paused_at=view.paused_at or at,
                elapsed_seconds=clock_rules.elapsed_seconds(view, at, calendar=calendar),
                reason=reason[:200] or "awaiting_customer",
            ),
            time=at,
        )
    return paused


async def resume_clocks(
    *,
    uow: UnitOfWork,
    settings: ClockSettings,
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
        calendar = await settings.calendar_of(uow.session, clock)
        view = clock_rules.resume(clock.view(), at, calendar=calendar)
        write_back(clock, view, settings, now, calendar=calendar)
        stage_event(
            uow,
            clock,
            SlaClockResumed(
                complaint_id=complaint_id,
                clock_id=clock.clock_id,
                metric=metric,
                resumed_at=at,
                elapsed_seconds=clock_rules.elapsed_seconds(view, at, calendar=calendar),
                due_at=clock.due_at,
            ),
            time=at,
        )
    return resumed
