"""Notify's consumers: each notifying event becomes pending deliveries (group ``notify``)."""

from __future__ import annotations

from complaint_contracts.base import EventData
from complaint_contracts.envelope import Envelope
from complaint_contracts.events import (
    ComplaintAssigned,
    ComplaintConfirmationRequested,
    ComplaintReceived,
    ComplaintResolved,
    ErasureRequested,
    SlaBreached,
    SlaWarning,
)
from complaint_runtime.consumer import Handler
from complaint_runtime.database import UnitOfWork

from notify import service


async def on_notifying_event(uow: UnitOfWork, envelope: Envelope) -> None:
    await service.record_deliveries(uow=uow, envelope=envelope)


async def on_erasure(uow: UnitOfWork, envelope: Envelope) -> None:
    assert isinstance(envelope.data, ErasureRequested)
    await service.erase_complaint(uow=uow, complaint_id=envelope.data.complaint_id)


HANDLERS: dict[type[EventData], Handler] = {
    ComplaintReceived: on_notifying_event,
    ComplaintAssigned: on_notifying_event,
    ComplaintResolved: on_notifying_event,
    SlaWarning: on_notifying_event,
    SlaBreached: on_notifying_event,
    ComplaintConfirmationRequested: on_notifying_event,
    ErasureRequested: on_erasure,
}
