"""Routing's consumers: received complaints are triaged and assigned; customer messages
and feedback's facts move the case (thin: the work is in ``routing.service``)."""

from __future__ import annotations

from complaint_contracts.base import EventData
from complaint_contracts.envelope import Envelope
from complaint_contracts.events import (
    ComplaintAutoClosed,
    ComplaintConfirmationRequested,
    ComplaintConfirmed,
    ComplaintReceived,
    ComplaintReopened,
    CustomerMessageReceived,
)
from complaint_runtime.consumer import Handler
from complaint_runtime.database import UnitOfWork

from routing import service


async def on_received(uow: UnitOfWork, envelope: Envelope) -> None:
    assert isinstance(envelope.data, ComplaintReceived)
    await service.triage_and_assign(uow=uow, received=envelope.data, event_id=envelope.id)


async def on_customer_message(uow: UnitOfWork, envelope: Envelope) -> None:
    assert isinstance(envelope.data, CustomerMessageReceived)
    await service.apply_customer_message(uow=uow, message=envelope.data, event_id=envelope.id)


async def on_confirmation_requested(uow: UnitOfWork, envelope: Envelope) -> None:
    assert isinstance(envelope.data, ComplaintConfirmationRequested)
    await service.apply_confirmation_requested(
        uow=uow, requested=envelope.data, event_id=envelope.id
    )


async def on_closure(uow: UnitOfWork, envelope: Envelope) -> None:
    assert isinstance(envelope.data, ComplaintConfirmed | ComplaintAutoClosed)
    # The closure's evidence is the feedback event's CloudEvents id.
    await service.apply_closure(uow=uow, feedback=envelope.data, event_id=envelope.id)


async def on_reopened(uow: UnitOfWork, envelope: Envelope) -> None:
    assert isinstance(envelope.data, ComplaintReopened)
    await service.apply_reopened(uow=uow, reopened=envelope.data, event_id=envelope.id)


INTAKE_HANDLERS: dict[type[EventData], Handler] = {
    ComplaintReceived: on_received,
    CustomerMessageReceived: on_customer_message,
}
FEEDBACK_HANDLERS: dict[type[EventData], Handler] = {
    ComplaintConfirmationRequested: on_confirmation_requested,
    ComplaintConfirmed: on_closure,
    ComplaintAutoClosed: on_closure,
    ComplaintReopened: on_reopened,
}
HANDLERS: dict[type[EventData], Handler] = {**INTAKE_HANDLERS, **FEEDBACK_HANDLERS}
