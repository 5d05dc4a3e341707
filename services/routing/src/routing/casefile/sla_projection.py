"""sla-watch's clock events projected into the case's clocks (§6), in the consumer's
transaction: the clock's row, then the case's SLA columns the lists sort and filter on.

The rules of the projection (order tolerance, ``stopped`` final, warnings and breaches
accumulate) are :mod:`routing.casefile.domain.sla`. A clock event about a case routing does
not hold (yet) is not a poison record: sla-watch arms clocks from routing's own
``complaint.triaged``, so it normally follows the case, but replays and restores exist. The
clock is stored anyway (its table has no foreign key) and the case takes it into account
when it is stored (:func:`refresh_summary` from ``open_case_file``); no retry, no dead letter.
"""

from __future__ import annotations

from collections.abc import Iterable

import structlog
from complaint_runtime.database import UnitOfWork
from sqlalchemy.ext.asyncio import AsyncSession

from routing.casefile.db import ID_LENGTH, CaseFileRepository, CaseSlaClock
from routing.casefile.domain.sla import ClockEvent, ClockProjection, SlaSummary, project
from routing.cases.transitions import now_utc
from routing.db import Case, CaseRepository

log = structlog.get_logger(__name__)


async def lock_for_batch(
    *, uow: UnitOfWork, case_ids: Iterable[str], clock_ids: Iterable[str]
) -> None:
    """Before a consumer's batch: lock the cases its clock events touch and the clocks of
    ``clock_ids``' complaints, two statements for the batch instead of round trips per
    event."""
    await CaseRepository(uow.session).lock_for_batch(case_ids)
    await CaseFileRepository(uow.session).lock_clocks_for_batch(clock_ids)


async def apply_clock_event(*, uow: UnitOfWork, event: ClockEvent) -> ClockProjection:
    """Apply one sla event to its clock and the case's summary; returns the clock."""
    clocks = CaseFileRepository(uow.session)
    clock_id = event.clock_id[:ID_LENGTH]
    row = await clocks.clock_for_update(event.complaint_id, clock_id)
    clock = project(row.projection() if row is not None else None, event)
    if row is None:
        row = CaseSlaClock(clock_id=clock_id, complaint_id=clock.complaint_id)
        clocks.add_clock(row)
    _write(row, clock)
    case = await CaseRepository(uow.session).get_for_update(event.complaint_id)
    if case is None:
        log.info(
            "clock of a case routing does not hold yet: kept for when it comes",
            complaint_id=event.complaint_id,
            clock_id=clock_id,
            event_type=event.event_name,
        )
        return clock
    await refresh_summary(session=uow.session, case=case)
    return clock


async def refresh_summary(*, session: AsyncSession, case: Case) -> SlaSummary:
    """The case's SLA columns from its clocks (a case has a handful)."""
    rows = await CaseFileRepository(session).clocks(case.complaint_id)
    summary = SlaSummary.of(row.projection() for row in rows)
    case.sla_due_at = summary.due_at
    case.sla_at_risk = summary.at_risk
    case.sla_breached = summary.breached
    case.sla_state = summary.state
    return summary


def _write(row: CaseSlaClock, clock: ClockProjection) -> None:
    row.metric = clock.metric
    row.state = clock.state
    row.target_seconds = clock.target_seconds
    row.started_at = clock.started_at
    row.due_at = clock.due_at
    row.warned_percent = clock.warned_percent
    row.breached = clock.breached
    row.outcome = clock.outcome
    row.stopped_at = clock.stopped_at
    row.message_id = clock.message_id[:ID_LENGTH] if clock.message_id else None
    row.updated_at = now_utc()
