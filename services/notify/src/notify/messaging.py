"""Notify's consumers: each notifying event becomes pending deliveries (group ``notify``)."""

from __future__ import annotations

from collections.abc import Sequence

from complaint_contracts.base import EventData
from complaint_contracts.envelope import Envelope
from complaint_contracts.events import (
    ComplaintAssigned,
    ComplaintConfirmationRequested,
    ComplaintDuplicateLinked,
    ComplaintEscalated,
    ComplaintReceived,
    ComplaintResolved,
    ErasureRequested,
    SlaBreached,
    SlaWarning,
)
from complaint_runtime.consumer import Handler
from complaint_runtime.database import UnitOfWork

from notify import service

NOTIFYING: tuple[type[EventData], ...] = (
    ComplaintReceived,
    ComplaintAssigned,
    ComplaintResolved,
    ComplaintDuplicateLinked,
    SlaWarning,
    SlaBreached,
    ComplaintEscalated,
    ComplaintConfirmationRequested,
)


async def on_notifying_event(uow: UnitOfWork, envelope: Envelope) -> None:
    """Record an event's deliveries with no escalation group (see :func:`handlers_for`)."""
    await service.record_deliveries(uow=uow, envelope=envelope)


async def on_erasure(uow: UnitOfWork, envelope: Envelope) -> None:
    assert isinstance(envelope.data, ErasureRequested)
    await service.erase_complaint(uow=uow, complaint_id=envelope.data.complaint_id)


def handlers_for(*, escalation_group: Sequence[str] = ()) -> dict[type[EventData], Handler]:
    """The handlers, with the staff directory's senior escalation group: a level-3
    escalation is planned as one message per member when the event is consumed."""
    group = tuple(escalation_group)

    async def on_event(uow: UnitOfWork, envelope: Envelope) -> None:
        await service.record_deliveries(uow=uow, envelope=envelope, escalation_group=group)

    return {
        **dict.fromkeys(NOTIFYING, on_event if group else on_notifying_event),
        ErasureRequested: on_erasure,
    }


HANDLERS: dict[type[EventData], Handler] = handlers_for()
