"""Notify's consumers: each notifying event becomes pending deliveries (group ``notify``)."""

from __future__ import annotations

from complaint_contracts import topics
from complaint_contracts.base import EventData
from complaint_contracts.envelope import Envelope
from complaint_contracts.events import (
    ComplaintAgentReplied,
    ComplaintAssigned,
    ComplaintAwaitingCustomer,
    ComplaintClosed,
    ComplaintConfirmationRequested,
    ComplaintDuplicateLinked,
    ComplaintEscalated,
    ComplaintFirstResponseSent,
    ComplaintReceived,
    ComplaintResolved,
    ErasureRequested,
    NpsSurveyRequested,
    SlaBreached,
    SlaWarning,
    TrackingCodeRequested,
)
from complaint_runtime.consumer import Handler, event_data
from complaint_runtime.database import UnitOfWork

from notify.bootstrap import Dependencies
from notify.deliveries import service

CONSUMED: tuple[topics.Topic, ...] = (topics.INTAKE, topics.ROUTING, topics.SLA, topics.FEEDBACK)
NOTIFYING: tuple[type[EventData], ...] = (
    ComplaintReceived,
    ComplaintAssigned,
    ComplaintFirstResponseSent,
    ComplaintAgentReplied,
    ComplaintAwaitingCustomer,
    ComplaintResolved,
    ComplaintDuplicateLinked,
    SlaWarning,
    SlaBreached,
    ComplaintEscalated,
    ComplaintConfirmationRequested,
    ComplaintClosed,  # only a withdrawal tells anyone (planning decides)
    NpsSurveyRequested,  # the NPS invitation, to the customer
    TrackingCodeRequested,  # a lost-link code, to the customer
)


def handlers(deps: Dependencies) -> dict[type[EventData], Handler]:
    """The consumer's table: a notifying event records its deliveries (a level-3 escalation
    one per member of the staff directory's senior escalation group, planned when the
    event is consumed); an erasure drops unsent customer messages."""
    group = deps.directory.escalation_group
    clock = deps.clock

    async def on_notifying_event(uow: UnitOfWork, envelope: Envelope) -> None:
        await service.record_deliveries(
            uow=uow, envelope=envelope, now=clock(), escalation_group=group
        )

    async def on_erasure(uow: UnitOfWork, envelope: Envelope) -> None:
        erasure = event_data(envelope, ErasureRequested)
        await service.erase_complaint(uow=uow, complaint_id=erasure.complaint_id, now=clock())

    return {**dict.fromkeys(NOTIFYING, on_notifying_event), ErasureRequested: on_erasure}
