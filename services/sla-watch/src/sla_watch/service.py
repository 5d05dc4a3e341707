"""sla-watch's use cases. Each runs in the caller's transaction (the consumer's, or the
firing loop's) and stages its events in the outbox, so a clock's row and the events that
describe it commit together or not at all.

Every computation uses the calendar of the clock at hand (``rules.setup`` caches them); new
clocks take their target, policy and calendar from the first matching policy. Next-response
clocks live in :mod:`sla_watch.next_response`; priority, category and team changes (and
the restart of the resolution clock) in :mod:`sla_watch.complaint_facts`; sending
thresholds in :mod:`sla_watch.thresholds`; escalation in :mod:`sla_watch.escalation`;
rescheduling in :mod:`sla_watch.reschedule`.

Lock order, everywhere: a complaint's clock rows before its ``complaint_sla`` row (the
firing loop holds a clock when it escalates), so consumers and the loop never deadlock;
several ``complaint_sla`` rows are locked in complaint id order (a firing round).
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Literal, cast

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
from sqlalchemy import Executable, Table, bindparam, exists, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from sla_watch.clock_setup import ComplaintFacts, Metric
from sla_watch.db import TEAM_LENGTH, Clock, ClockRepository, ComplaintSla
from sla_watch.domain import clock as rules_of
from sla_watch.domain.clock import ClockView
from sla_watch.reschedule import RescheduleReason, reschedule_clock
from sla_watch.rules import SlaRules, emit, save
from sla_watch.thresholds import fire_thresholds

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
    facts = ComplaintFacts(priority=priority, category=category, tier=tier, channel=channel)
    if not await _claim_complaint(uow, complaint_id=complaint_id, facts=facts, now=now):
        log.debug("complaint already has clocks, triage ignored")
        return []
    return [
        await start_clock(
            uow=uow, rules=rules, complaint_id=complaint_id, metric=m, facts=facts, at=at, now=now
        )
        for m in TRIAGE_METRICS
    ]


_CLAIM_COLUMNS = (
    "complaint_id",
    "priority",
    "category",
    "tier",
    "channel",
    "escalation_level",
    "updated_at",
)


@functools.cache
def _claim_statement(dialect: str) -> Executable:
    """Built once per dialect (its parameters bound at execution): building it per
    complaint cost more Python than its round trip."""
    table = cast(Table, ComplaintSla.__table__)
    source = select(
        *(bindparam(name, type_=table.c[name].type).label(name) for name in _CLAIM_COLUMNS)
    ).where(~exists().where(Clock.complaint_id == bindparam("complaint_id")))
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    # On the Table, not the entity: an ORM insert executed with parameters is a bulk insert.
    return (
        insert(table)
        .from_select(list(_CLAIM_COLUMNS), source)
        .on_conflict_do_nothing()
        .returning(table.c.complaint_id)
    )


async def _claim_complaint(
    uow: UnitOfWork, *, complaint_id: str, facts: ComplaintFacts, now: datetime
) -> bool:
    """Insert the complaint's row unless it (or a clock of the complaint, armed before rows
    existed) is there already; True when inserted. One statement, as arming a backlog of
    triaged complaints is bound by round trips; a concurrent triage of the same complaint
    waits on the row and then inserts nothing."""
    statement = _claim_statement(uow.session.get_bind().dialect.name)
    values = {
        "complaint_id": complaint_id,
        "priority": facts.priority,
        "category": facts.category,
        "tier": facts.tier,
        "channel": facts.channel,
        "escalation_level": 0,
        "updated_at": now,
    }
    # No autoflush: the clocks and outbox rows of complaints armed before in this
    # transaction go in one flush at its end, not one per complaint. A clock of this very
    # complaint pending in the session means its row was inserted already (so nothing is).
    with uow.session.no_autoflush:
        return (await uow.session.execute(statement, values)).first() is not None


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
