"""Escalation on breach: the complaint's level rises per the ladder, in the breach's
transaction, so a breach and the escalation it causes commit (and are sent) together.

Escalation by hand: a lead's or manager's ``complaint.escalation_requested`` (routing's
topic) raises the level in the consumer's transaction, with its ``complaint.escalated``
(trigger ``manual``, the requester as actor) staged in the outbox; sla-watch owns the level,
so routing's case follows when that event comes back."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import structlog
from complaint_contracts import topics
from complaint_contracts.events import ComplaintEscalated
from complaint_runtime.database import UnitOfWork

from sla_watch.clocks.recording import ACTOR, SOURCE
from sla_watch.db import Clock, ClockRepository, ComplaintSla, ComplaintSlaRepository
from sla_watch.firing.domain import escalation as ladder

log = structlog.get_logger(__name__)


class BreachLedger:
    """The complaint rows (locked) and breach counts of the complaints whose clocks breach
    in one transaction: two statements however many clocks, instead of three per breach.

    Load it *before* the breaching clocks are changed in the session: the count read is what
    the database holds (clocks breached earlier, by this transaction's flushed changes or
    committed by others), and each :meth:`breach` adds one. The rows are locked (in
    complaint order, so two replicas never deadlock) *before* counting: two replicas
    breaching two clocks of one complaint then count one after the other, and the second
    sees both breaches.
    """

    def __init__(self, rows: dict[str, ComplaintSla], counts: dict[str, int]):
        self._rows = rows
        self._counts = counts

    @classmethod
    async def load(cls, uow: UnitOfWork, clocks: Iterable[Clock], *, now: datetime) -> BreachLedger:
        by_complaint = {clock.complaint_id: clock for clock in clocks}
        if not by_complaint:
            return cls({}, {})
        ids = sorted(by_complaint)
        complaints = ComplaintSlaRepository(uow.session)
        rows = await complaints.lock_many(ids)
        counts = await ClockRepository(uow.session).breach_counts(ids)
        for complaint_id in ids:
            if complaint_id not in rows:
                rows[complaint_id] = _row_from_clock(by_complaint[complaint_id], now=now)
                complaints.add(rows[complaint_id])
        return cls(rows, counts)

    def breach(self, clock: Clock, *, now: datetime) -> tuple[int, ComplaintEscalated | None]:
        """Count one more breach of the clock's complaint and raise its level if the ladder
        says so. Returns the count (this breach included) and the escalation event for the
        caller to stage right after the breach, if the level rose."""
        count = self._counts.get(clock.complaint_id, 0) + 1
        self._counts[clock.complaint_id] = count
        row = self._rows[clock.complaint_id]
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
        log.info(
            "complaint escalated",
            complaint_id=clock.complaint_id,
            escalation_level=rise.level,
            trigger=rise.trigger,
        )
        return count, ComplaintEscalated(
            complaint_id=clock.complaint_id,
            level=rise.level,
            previous_level=rise.previous_level,
            trigger=rise.trigger,
            reason=rise.reason,
            clock_id=clock.clock_id,
            metric=clock.metric,
            actor=ACTOR,
        )


async def escalate_by_hand(
    *,
    uow: UnitOfWork,
    complaint_id: str,
    level: int,
    reason: str,
    actor: str,
    now: datetime,
) -> ComplaintEscalated | None:
    """Raise the complaint's level to ``level`` when that is higher and stage the
    ``complaint.escalated`` saying so; None (logged) when the request changes nothing.

    The row is locked after the complaint's open clocks (the consumers' lock order, so the
    firing loop and this never deadlock). A complaint whose clocks were armed before rows
    existed gets its row from a clock, as on a breach. A complaint with neither row nor
    clock was never triaged here (routing refuses to escalate an untriaged case, so this is
    an event from before that rule or a disagreement): no row is made up from nothing, since
    its priority is unknown and a row would stop a later triage from arming the clocks; the
    request is logged and dropped (routing's history keeps it, without an escalation).
    """
    clocks = ClockRepository(uow.session, lock=True)
    await clocks.open_of_complaint(complaint_id)  # lock order: clocks first
    complaints = ComplaintSlaRepository(uow.session, lock=True)
    row = await complaints.get(complaint_id)
    if row is None:
        known = await clocks.of_complaint(complaint_id, limit=1)
        if not known:
            log.warning(
                "manual escalation of a complaint without clocks ignored",
                complaint_id=complaint_id,
                requested_level=level,
            )
            return None
        row = _row_from_clock(known[0], now=now)
        complaints.add(row)
    rise = ladder.escalate_by_hand(row.escalation_level, requested=level, reason=reason)
    if rise is None:
        log.info(
            "manual escalation changes nothing",
            complaint_id=complaint_id,
            requested_level=level,
            escalation_level=row.escalation_level,
        )
        return None
    row.escalation_level = rise.level
    row.updated_at = now
    escalated = ComplaintEscalated(
        complaint_id=complaint_id,
        level=rise.level,
        previous_level=rise.previous_level,
        trigger=rise.trigger,
        reason=rise.reason,
        actor=actor,
    )
    uow.add_event(escalated, topic=topics.SLA.name, source=SOURCE, subject=complaint_id, time=now)
    log.info(
        "complaint escalated",
        complaint_id=complaint_id,
        escalation_level=rise.level,
        trigger=rise.trigger,
        requested_by=actor,
    )
    return escalated


def _row_from_clock(clock: Clock, *, now: datetime) -> ComplaintSla:
    """The row of a complaint whose clocks were armed before the row existed (they were all
    armed at triage, with the complaint's priority then)."""
    return ComplaintSla(
        complaint_id=clock.complaint_id,
        priority=clock.priority,
        category=clock.category,
        tier=clock.tier,
        channel=clock.channel,
        team=clock.team,
        escalation_level=0,
        updated_at=now,
    )
