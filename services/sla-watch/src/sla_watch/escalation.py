"""Escalation on breach: the complaint's level rises per the ladder, in the breach's
transaction, so a breach and the escalation it causes commit (and are sent) together."""

from __future__ import annotations

from datetime import datetime

import structlog
from complaint_contracts.events import ComplaintEscalated
from complaint_runtime.database import UnitOfWork

from sla_watch.db import Clock, ClockRepository, ComplaintSla, ComplaintSlaRepository
from sla_watch.domain import escalation as ladder
from sla_watch.rules import ACTOR

log = structlog.get_logger(__name__)


async def complaint_row(uow: UnitOfWork, clock: Clock, *, now: datetime) -> ComplaintSla:
    """The complaint's row, locked; made from the clock for clocks armed before the row
    existed (they were all armed at triage, with the complaint's priority then)."""
    repository = ComplaintSlaRepository(uow.session, lock=True)
    row = await repository.get(clock.complaint_id)
    if row is None:
        row = ComplaintSla(
            complaint_id=clock.complaint_id,
            priority=clock.priority,
            category=clock.category,
            tier=clock.tier,
            channel=clock.channel,
            team=clock.team,
            escalation_level=0,
            updated_at=now,
        )
        repository.add(row)
    return row


async def on_breach(
    *, uow: UnitOfWork, clock: Clock, now: datetime
) -> tuple[int, ComplaintEscalated | None]:
    """Count the complaint's breaches (this one included) and raise its level if the ladder
    says so. Returns the count and the escalation event for the caller to stage right
    after the breach, if the level rose.

    The complaint's row is locked *before* counting: two replicas breaching two clocks of
    one complaint at once then count one after the other, so the second sees two breaches.
    """
    row = await complaint_row(uow, clock, now=now)
    await uow.session.flush()  # so the count below includes this clock
    count = max(await ClockRepository(uow.session).breached_count(clock.complaint_id), 1)
    rise = ladder.escalate_on_breach(
        row.escalation_level,
        metric=clock.metric,  # type: ignore[arg-type]
        priority=clock.priority,
        breach_count=count,
    )
    if rise is None:
        return count, None
    row.escalation_level = rise.level
    row.updated_at = now
    event = ComplaintEscalated(
        complaint_id=clock.complaint_id,
        level=rise.level,
        previous_level=rise.previous_level,
        trigger=rise.trigger,
        reason=rise.reason,
        clock_id=clock.clock_id,
        metric=clock.metric,
        actor=ACTOR,
    )
    log.info("complaint escalated", escalation_level=rise.level, trigger=rise.trigger)
    return count, event
