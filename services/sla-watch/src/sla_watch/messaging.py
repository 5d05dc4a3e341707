"""sla-watch's consumers: routing's case transitions arm, pause, resume, stop and
reschedule clocks; intake's customer messages start next-response clocks; a lead's or
manager's escalation request (routing) raises the escalation level sla-watch owns; an
erasure (intake) is confirmed (sla-watch holds nothing personal: ``clocks.erasure``).

Consumed topics: ``complaints.routing.v1`` and ``complaints.intake.v1`` (one consumer
group, ``sla-watch``). Clocks count from when a transition happened (the event's own
timestamp), not from when sla-watch read it, so a backlog or downtime does not shorten
anybody's deadline.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from complaint_contracts.base import EventData
from complaint_contracts.envelope import Envelope
from complaint_contracts.events import (
    ComplaintAgentReplied,
    ComplaintAssigned,
    ComplaintAwaitingCustomer,
    ComplaintClosed,
    ComplaintDuplicateLinked,
    ComplaintEscalationRequested,
    ComplaintFirstResponseSent,
    ComplaintRecategorized,
    ComplaintResolved,
    ComplaintResumed,
    ComplaintTriaged,
    CustomerMessageReceived,
    ErasureRequested,
)
from complaint_runtime.consumer import Handler, event_data
from complaint_runtime.database import UnitOfWork

from sla_watch.clocks import complaint_facts, erasure, next_response
from sla_watch.clocks import service as clocks
from sla_watch.clocks.settings import ClockSettings
from sla_watch.firing import escalation


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class ClockEvents:
    """What each consumed event does to the complaint's clocks: one use case each."""

    def __init__(self, settings: ClockSettings):
        self._settings = settings

    async def on_triaged(self, uow: UnitOfWork, envelope: Envelope) -> None:
        data = event_data(envelope, ComplaintTriaged)
        await clocks.start_clocks(
            uow=uow,
            settings=self._settings,
            complaint_id=data.complaint_id,
            priority=data.priority,
            category=data.category,
            tier=data.customer_tier,
            channel=data.channel,
            at=_aware(envelope.time),
        )

    async def on_assigned(self, uow: UnitOfWork, envelope: Envelope) -> None:
        data = event_data(envelope, ComplaintAssigned)
        await complaint_facts.set_team(uow=uow, complaint_id=data.complaint_id, team=data.team)

    async def on_customer_message(self, uow: UnitOfWork, envelope: Envelope) -> None:
        data = event_data(envelope, CustomerMessageReceived)
        await next_response.start_next_response(
            uow=uow,
            settings=self._settings,
            complaint_id=data.complaint_id,
            message_id=data.message_id,
            at=data.received_at,
        )

    async def on_agent_replied(self, uow: UnitOfWork, envelope: Envelope) -> None:
        data = event_data(envelope, ComplaintAgentReplied)
        await next_response.record_agent_reply(
            uow=uow,
            settings=self._settings,
            complaint_id=data.complaint_id,
            at=data.replied_at,
            reason=envelope.type,
        )

    async def on_first_response(self, uow: UnitOfWork, envelope: Envelope) -> None:
        data = event_data(envelope, ComplaintFirstResponseSent)
        await next_response.record_first_response(
            uow=uow,
            settings=self._settings,
            complaint_id=data.complaint_id,
            at=data.responded_at,
            reason=envelope.type,
        )

    async def on_awaiting_customer(self, uow: UnitOfWork, envelope: Envelope) -> None:
        data = event_data(envelope, ComplaintAwaitingCustomer)
        await clocks.pause_clocks(
            uow=uow,
            settings=self._settings,
            complaint_id=data.complaint_id,
            at=data.since,
            reason="awaiting_customer",
        )

    async def on_resumed(self, uow: UnitOfWork, envelope: Envelope) -> None:
        data = event_data(envelope, ComplaintResumed)
        await clocks.resume_clocks(
            uow=uow, settings=self._settings, complaint_id=data.complaint_id, at=data.resumed_at
        )

    async def on_resolved(self, uow: UnitOfWork, envelope: Envelope) -> None:
        data = event_data(envelope, ComplaintResolved)
        await clocks.record_resolution(
            uow=uow,
            settings=self._settings,
            complaint_id=data.complaint_id,
            at=data.resolved_at,
            reason=envelope.type,
        )

    async def on_closed(self, uow: UnitOfWork, envelope: Envelope) -> None:
        data = event_data(envelope, ComplaintClosed)
        await clocks.stop_clocks(
            uow=uow,
            settings=self._settings,
            complaint_id=data.complaint_id,
            at=data.closed_at,
            reason=envelope.type,
            cancel=True,
        )

    async def on_duplicate_linked(self, uow: UnitOfWork, envelope: Envelope) -> None:
        # A duplicate shares the original's SLA (§4): its own clocks, if any, are moot.
        data = event_data(envelope, ComplaintDuplicateLinked)
        await clocks.stop_clocks(
            uow=uow,
            settings=self._settings,
            complaint_id=data.complaint_id,
            at=_aware(envelope.time),
            reason=envelope.type,
            cancel=True,
        )

    async def on_recategorized(self, uow: UnitOfWork, envelope: Envelope) -> None:
        # A supervisor's correction, or a reopen: routing records a reopen as a
        # recategorization with a reason starting "reopened" (priority +1, at most P2).
        data = event_data(envelope, ComplaintRecategorized)
        await complaint_facts.recategorize(
            uow=uow,
            settings=self._settings,
            complaint_id=data.complaint_id,
            old_priority=data.old_priority,
            new_priority=data.new_priority,
            new_category=data.new_category,
            reason=data.reason,
            at=_aware(envelope.time),
        )

    async def on_escalation_requested(self, uow: UnitOfWork, envelope: Envelope) -> None:
        data = event_data(envelope, ComplaintEscalationRequested)
        await escalation.escalate_by_hand(
            uow=uow,
            complaint_id=data.complaint_id,
            level=data.level,
            reason=data.reason,
            actor=data.actor,
            now=datetime.now(UTC),
        )

    async def on_erasure(self, uow: UnitOfWork, envelope: Envelope) -> None:
        erasure.confirm_erasure(
            uow=uow, erasure=event_data(envelope, ErasureRequested), now=datetime.now(UTC)
        )

    def table(self) -> dict[type[EventData], Handler]:
        return {
            ComplaintTriaged: self.on_triaged,
            ComplaintAssigned: self.on_assigned,
            CustomerMessageReceived: self.on_customer_message,
            ComplaintAgentReplied: self.on_agent_replied,
            ComplaintFirstResponseSent: self.on_first_response,
            ComplaintAwaitingCustomer: self.on_awaiting_customer,
            ComplaintResumed: self.on_resumed,
            ComplaintResolved: self.on_resolved,
            ComplaintClosed: self.on_closed,
            ComplaintDuplicateLinked: self.on_duplicate_linked,
            ComplaintRecategorized: self.on_recategorized,
            ComplaintEscalationRequested: self.on_escalation_requested,
            ErasureRequested: self.on_erasure,
        }


def handlers(settings: ClockSettings) -> dict[type[EventData], Handler]:
    """The consumer's table: the handler of each consumed event type."""
    return ClockEvents(settings).table()


# What each handler locks: the complaint's open clocks, then (these) its complaint_sla row.
LOCKS_ROW = (
    ComplaintAssigned,
    CustomerMessageReceived,
    ComplaintAgentReplied,
    ComplaintFirstResponseSent,
    ComplaintRecategorized,
    ComplaintEscalationRequested,
)
LOCKS_CLOCKS = (
    *LOCKS_ROW,
    ComplaintAwaitingCustomer,
    ComplaintResumed,
    ComplaintResolved,
    ComplaintClosed,
    ComplaintDuplicateLinked,
)


async def preload(uow: UnitOfWork, envelopes: Sequence[Envelope]) -> None:
    """Before a batch is applied at once: lock the clocks and rows its handlers will lock,
    a few statements for the whole batch (``complaint.assigned``, the most frequent event,
    then costs no statement of its own until the flush)."""
    await clocks.lock_for_batch(
        uow=uow,
        clocks_of=[e.data.complaint_id for e in envelopes if isinstance(e.data, LOCKS_CLOCKS)],
        rows_of=[e.data.complaint_id for e in envelopes if isinstance(e.data, LOCKS_ROW)],
        teams_of=[e.data.complaint_id for e in envelopes if isinstance(e.data, ComplaintAssigned)],
    )
