"""Intake's consumers: it projects the other services' events onto its complaints."""

from __future__ import annotations

from complaint_contracts.base import EventData
from complaint_contracts.envelope import Envelope
from complaint_contracts.events import ComplaintAssigned, ComplaintTriaged
from complaint_runtime.consumer import Handler
from complaint_runtime.database import UnitOfWork

from intake import service


async def on_complaint_event(uow: UnitOfWork, envelope: Envelope) -> None:
    await service.project_event(uow=uow, envelope=envelope)


HANDLERS: dict[type[EventData], Handler] = {
    ComplaintTriaged: on_complaint_event,
    ComplaintAssigned: on_complaint_event,
}
