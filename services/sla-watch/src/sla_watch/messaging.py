"""sla-watch's consumers: routing's case transitions arm, pause, resume, stop and
reschedule clocks; intake's customer messages start next-response clocks.

Consumed topics: ``complaints.routing.v1`` and ``complaints.intake.v1`` (one consumer
group, ``sla-watch``). Clocks count from when a transition happened (the event's own
timestamp), not from when sla-watch read it, so a backlog or downtime does not shorten
anybody's deadline.
"""

from __future__ import annotations

from datetime import UTC, datetime

from complaint_contracts.base import EventData
from complaint_contracts.envelope import Envelope
from complaint_contracts.events import (
    ComplaintAgentReplied,
    ComplaintAssigned,
    ComplaintAwaitingCustomer,
    ComplaintClosed,
    ComplaintDuplicateLinked,
    ComplaintFirstResponseSent,
    ComplaintRecategorized,
    ComplaintResolved,
    ComplaintResumed,
    ComplaintTriaged,
    CustomerMessageReceived,
)
from complaint_runtime.consumer import Handler
from complaint_runtime.database import UnitOfWork

from sla_watch import complaint_facts, next_response, service
from sla_watch.rules import SlaRules


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
            category=data.category,
            tier=data.customer_tier,
            channel=data.channel,
            at=_aware(envelope.time),
        )

    async def on_assigned(uow: UnitOfWork, envelope: Envelope) -> None:
        data = envelope.data
        assert isinstance(data, ComplaintAssigned)
        await complaint_facts.set_team(uow=uow, complaint_id=data.complaint_id, team=data.team)

    async def on_customer_message(uow: UnitOfWork, envelope: Envelope) -> None:
        data = envelope.data
        assert isinstance(data, CustomerMessageReceived)
        await next_response.start_next_response(
            uow=uow,
            rules=rules,
            complaint_id=data.complaint_id,
            message_id=data.message_id,
            at=data.received_at,
        )

    async def on_agent_replied(uow: UnitOfWork, envelope: Envelope) -> None:
        data = envelope.data
        assert isinstance(data, ComplaintAgentReplied)
        await next_response.record_agent_reply(
            uow=uow,
            rules=rules,
            complaint_id=data.complaint_id,
            at=data.replied_at,
            reason=envelope.type,
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
        # The first response answers the customer's messages before it, too.
        await next_response.record_agent_reply(
            uow=uow,
            rules=rules,
            complaint_id=data.complaint_id,
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
        # Messages still waiting for a reply are moot once the complaint is resolved.
        await service.stop_clocks(
            uow=uow,
            rules=rules,
            complaint_id=data.complaint_id,
            metric="next_response",
            at=data.resolved_at,
            reason=envelope.type,
            cancel=True,
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
        # A supervisor's correction, or a reopen: routing records a reopen as a
        # recategorization with a reason starting "reopened" (priority +1, at most P2).
        data = envelope.data
        assert isinstance(data, ComplaintRecategorized)
        await complaint_facts.recategorize(
            uow=uow,
            rules=rules,
            complaint_id=data.complaint_id,
            old_priority=data.old_priority,
            new_priority=data.new_priority,
            new_category=data.new_category,
            reason=data.reason,
            at=_aware(envelope.time),
        )

    return {
        ComplaintTriaged: on_triaged,
        ComplaintAssigned: on_assigned,
        CustomerMessageReceived: on_customer_message,
        ComplaintAgentReplied: on_agent_replied,
        ComplaintFirstResponseSent: on_first_response,
        ComplaintAwaitingCustomer: on_awaiting_customer,
        ComplaintResumed: on_resumed,
        ComplaintResolved: on_resolved,
        ComplaintClosed: on_closed,
        ComplaintDuplicateLinked: on_duplicate_linked,
        ComplaintRecategorized: on_recategorized,
    }
