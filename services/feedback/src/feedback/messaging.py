"""Feedback's consumers: remember each complaint's addressing, ask on every resolution,
stand down when routing closes a complaint otherwise, forget comments on erasure."""

from __future__ import annotations

from complaint_contracts.base import EventData
from complaint_contracts.envelope import Envelope
from complaint_contracts.events import (
    ComplaintClosed,
    ComplaintReceived,
    ComplaintResolved,
    ErasureRequested,
)
from complaint_runtime.consumer import Handler
from complaint_runtime.database import UnitOfWork

from feedback import service


def handlers(policy: service.Policy) -> dict[type[EventData], Handler]:
    async def on_received(uow: UnitOfWork, envelope: Envelope) -> None:
        assert isinstance(envelope.data, ComplaintReceived)
        await service.remember_complaint(uow=uow, received=envelope.data, policy=policy)

    async def on_resolved(uow: UnitOfWork, envelope: Envelope) -> None:
        assert isinstance(envelope.data, ComplaintResolved)
        await service.request_confirmation(
            uow=uow, resolved=envelope.data, resolved_event_id=envelope.id, policy=policy
        )

    async def on_closed(uow: UnitOfWork, envelope: Envelope) -> None:
        assert isinstance(envelope.data, ComplaintClosed)
        await service.cancel_on_close(uow=uow, closed=envelope.data)

    async def on_erasure(uow: UnitOfWork, envelope: Envelope) -> None:
        assert isinstance(envelope.data, ErasureRequested)
        await service.erase(uow=uow, complaint_id=envelope.data.complaint_id)

    return {
        ComplaintReceived: on_received,
        ComplaintResolved: on_resolved,
        ComplaintClosed: on_closed,
        ErasureRequested: on_erasure,
    }
