"""Routing's consumers: a received complaint is triaged and assigned."""

from __future__ import annotations

from complaint_contracts.base import EventData
from complaint_contracts.envelope import Envelope
from complaint_contracts.events import ComplaintReceived
from complaint_runtime.consumer import Handler
from complaint_runtime.database import UnitOfWork

from routing import service


async def on_received(uow: UnitOfWork, envelope: Envelope) -> None:
    assert isinstance(envelope.data, ComplaintReceived)
    await service.triage_and_assign(uow=uow, received=envelope.data)


HANDLERS: dict[type[EventData], Handler] = {ComplaintReceived: on_received}
