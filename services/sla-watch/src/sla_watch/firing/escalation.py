"""Escalation on breach: the complaint's level rises per the ladder, in the breach's
transaction, so a breach and the escalation it causes commit (and are sent) together."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import structlog
from complaint_contracts.events import ComplaintEscalated
from complaint_runtime.database import UnitOfWork

from sla_watch.clocks.recording import ACTOR
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
