"""Feedback's consumers: remember each complaint's addressing, ask on every resolution,
stand down when routing closes a complaint otherwise, reopen a closed complaint the customer
writes about (the closure and the message, in either order), note a customer no channel
reaches (notify's report), anonymise the customer on erasure and confirm it. The complaint's
customer reference, kept from complaint.received, is whom the NPS rounds ask."""

from __future__ import annotations

from complaint_contracts.base import EventData
from complaint_contracts.envelope import Envelope
from complaint_contracts.events import (
    ComplaintClosed,
    ComplaintReceived,
    ComplaintResolved,
    CustomerMessageReceived,
    ErasureRequested,
    NotificationFailed,
)
from complaint_runtime.consumer import Handler, event_data
from complaint_runtime.database import UnitOfWork

from feedback import erasure, reminders, reopening, service
from feedback.bootstrap import Dependencies


def handlers(deps: Dependencies) -> dict[type[EventData], Handler]:
    loop_settings = deps.loop_settings

    async def on_received(uow: UnitOfWork, envelope: Envelope) -> None:
        received = event_data(envelope, ComplaintReceived)
        await service.remember_complaint(uow=uow, received=received, loop_settings=loop_settings)

    async def on_resolved(uow: UnitOfWork, envelope: Envelope) -> None:
        await service.request_confirmation(
            uow=uow,
            resolved=event_data(envelope, ComplaintResolved),
            resolved_event_id=envelope.id,
            loop_settings=loop_settings,
        )

    async def on_closed(uow: UnitOfWork, envelope: Envelope) -> None:
        closed = event_data(envelope, ComplaintClosed)
        await service.cancel_on_close(uow=uow, closed=closed)
        await reopening.record_closure(uow=uow, closed=closed)

    async def on_customer_message(uow: UnitOfWork, envelope: Envelope) -> None:
        message = event_data(envelope, CustomerMessageReceived)
        await reopening.record_customer_message(uow=uow, message=message)

    async def on_erasure(uow: UnitOfWork, envelope: Envelope) -> None:
        await erasure.erase(uow=uow, erasure=event_data(envelope, ErasureRequested))

    async def on_notification_failed(uow: UnitOfWork, envelope: Envelope) -> None:
        failed = event_data(envelope, NotificationFailed)
        await reminders.record_unreachable(uow=uow, failed=failed)

    return {
        ComplaintReceived: on_received,
        ComplaintResolved: on_resolved,
        ComplaintClosed: on_closed,
        CustomerMessageReceived: on_customer_message,
        ErasureRequested: on_erasure,
        NotificationFailed: on_notification_failed,
    }
