"""sla-watch's consumers: routing's case transitions arm, pause, resume and stop clocks.

Clocks count from when a transition happened (the event's own timestamp), not from when
sla-watch read it, so a backlog or downtime does not shorten anybody's deadline.
"""

from __future__ import annotations

from datetime import UTC, datetime

from complaint_contracts.base import EventData
from complaint_contracts.envelope import Envelope
from complaint_contracts.events import (
    ComplaintAwaitingCustomer,
    ComplaintClosed,
    ComplaintDuplicateLinked,
    ComplaintFirstResponseSent,
    ComplaintRecategorized,
    ComplaintResolved,
    ComplaintResumed,
    ComplaintTriaged,
)
from complaint_runtime.consumer import Handler
from complaint_runtime.database import UnitOfWork

from sla_watch import service
from sla_watch.service import SlaRules


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def handlers(rules: SlaRules) -> dict[type[EventData], Handler]:
    async def on_triaged(uow: UnitOfWork, envelope: Envelope) -> None:
        data = envelope.data
        assert isinstance(data, ComplaintTriaged)
        await service.start_clocks(
            uow=uow,
            rules=rules,
            complaint_id=data.complaint_id,
            priority=data.priority,
            at=_aware(envelope.time),
        )

    async def on_first_response(uow: UnitOfWork, envelope: Envelope) -> None:
        data = envelope.data
        assert isinstance(data, ComplaintFirstResponseSent)
        await service.stop_clocks(
            uow=uow,
            rules=rules,
            complaint_id=data.complaint_id,
            metric="first_response",
            at=data.responded_at,
            reason=envelope.type,
        )

    async def on_awaiting_customer(uow: UnitOfWork, envelope: Envelope) -> None:
        data = envelope.data
        assert isinstance(data, ComplaintAwaitingCustomer)
        await service.pause_clocks(
            uow=uow,
            rules=rules,
            complaint_id=data.complaint_id,
            at=data.since,
            reason="awaiting_customer",
        )

    async def on_resumed(uow: UnitOfWork, envelope: Envelope) -> None:
        data = envelope.data
        assert isinstance(data, ComplaintResumed)
        await service.resume_clocks(
            uow=uow, rules=rules, complaint_id=data.complaint_id, at=data.resumed_at
        )

    async def on_resolved(uow: UnitOfWork, envelope: Envelope) -> None:
        data = envelope.data
        assert isinstance(data, ComplaintResolved)
        await service.stop_clocks(
            uow=uow,
            rules=rules,
            complaint_id=data.complaint_id,
            metric="resolution",
            at=data.resolved_at,
            reason=envelope.type,
        )

    async def on_closed(uow: UnitOfWork, envelope: Envelope) -> None:
        data = envelope.data
        assert isinstance(data, ComplaintClosed)
        await service.stop_clocks(
            uow=uow,
            rules=rules,
            complaint_id=data.complaint_id,
            at=data.closed_at,
            reason=envelope.type,
            cancel=True,
        )

    async def on_duplicate_linked(uow: UnitOfWork, envelope: Envelope) -> None:
        # A duplicate shares the original's SLA (§4): its own clocks, if any, are moot.
        data = envelope.data
        assert isinstance(data, ComplaintDuplicateLinked)
        await service.stop_clocks(
            uow=uow,
            rules=rules,
            complaint_id=data.complaint_id,
            at=_aware(envelope.time),
            reason=envelope.type,
            cancel=True,
        )

    async def on_recategorized(uow: UnitOfWork, envelope: Envelope) -> None:
        data = envelope.data
        assert isinstance(data, ComplaintRecategorized)
        if data.new_priority == data.old_priority:
            # A category-only correction leaves the targets alone; but routing records a
            # reopen as a recategorization too (reason "reopened: …"), and a reopened P1/P2
            # keeps its priority while its resolution clock, stopped at resolution, must
            # run again.
            reopened = data.reason.startswith("reopened")
            if not reopened or await service.has_open_clock(
                uow=uow, complaint_id=data.complaint_id, metric="resolution"
            ):
                return
        await service.restart_resolution(
            uow=uow,
            rules=rules,
            complaint_id=data.complaint_id,
            priority=data.new_priority,
            at=_aware(envelope.time),
            reason=f"priority {data.old_priority} -> {data.new_priority}",
        )

    return {
        ComplaintTriaged: on_triaged,
        ComplaintFirstResponseSent: on_first_response,
        ComplaintAwaitingCustomer: on_awaiting_customer,
        ComplaintResumed: on_resumed,
        ComplaintResolved: on_resolved,
        ComplaintClosed: on_closed,
        ComplaintDuplicateLinked: on_duplicate_linked,
        ComplaintRecategorized: on_recategorized,
    }
