"""Routing's consumers: received complaints are triaged and assigned; customer messages
and feedback's facts move the case (thin: the work is in ``routing.service``)."""

from __future__ import annotations

from complaint_contracts.base import EventData
from complaint_contracts.envelope import Envelope
from complaint_contracts.events import (
    ComplaintAutoClosed,
    ComplaintConfirmationRequested,
    ComplaintConfirmed,
    ComplaintEscalated,
    ComplaintReceived,
    ComplaintReopened,
    CustomerMessageReceived,
    ErasureRequested,
)
from complaint_runtime.consumer import Handler
from complaint_runtime.database import UnitOfWork

from routing import escalations, service
from routing.customer_index_db import CustomerIndex


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


async def on_escalated(uow: UnitOfWork, envelope: Envelope) -> None:
    assert isinstance(envelope.data, ComplaintEscalated)
    await escalations.apply_escalation(uow=uow, escalated=envelope.data, event_id=envelope.id)


async def on_erasure(uow: UnitOfWork, envelope: Envelope) -> None:
    assert isinstance(envelope.data, ErasureRequested)
    # The customer index links complaints by keyed hashes and keeps the masked text (§10).
    await CustomerIndex(uow.session).forget(envelope.data.complaint_id)


INTAKE_HANDLERS: dict[type[EventData], Handler] = {
    ComplaintReceived: on_received,
    CustomerMessageReceived: on_customer_message,
    ErasureRequested: on_erasure,
}
FEEDBACK_HANDLERS: dict[type[EventData], Handler] = {
    ComplaintConfirmationRequested: on_confirmation_requested,
    ComplaintConfirmed: on_closure,
    ComplaintAutoClosed: on_closure,
    ComplaintReopened: on_reopened,
}
# Only escalations from the sla topic: the consumer skips every other (known) sla event
# without a handler, no savepoint, no processed_events row and no dead letter.
SLA_HANDLERS: dict[type[EventData], Handler] = {ComplaintEscalated: on_escalated}
HANDLERS: dict[type[EventData], Handler] = {
    **INTAKE_HANDLERS,
    **FEEDBACK_HANDLERS,
    **SLA_HANDLERS,
}
