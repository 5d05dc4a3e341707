"""Routing's consumers: received complaints are triaged and assigned; customer messages,
feedback's and sla-watch's facts move the case; an erasure forgets the customer's index
entries. Thin: the work is in the packages' use cases, each in the consumer's transaction.
"""

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
from complaint_runtime.consumer import Handler, event_data
from complaint_runtime.database import UnitOfWork

from routing.bootstrap import Dependencies
from routing.cases import reported_facts
from routing.duplicates import service as duplicates
from routing.triage import emotion_streaks
from routing.triage import service as triage


def handlers(deps: Dependencies) -> dict[type[EventData], Handler]:
    """Handler per event type, over the intake, feedback and sla topics."""

    async def on_received(uow: UnitOfWork, envelope: Envelope) -> None:
        await triage.triage_and_assign(
            uow=uow,
            received=event_data(envelope, ComplaintReceived),
            classifiers=deps.classifiers,
            duplicate_policy=deps.duplicate_policy,
            streak_length=deps.streak_length,
            event_id=envelope.id,
        )

    async def on_customer_message(uow: UnitOfWork, envelope: Envelope) -> None:
        await reported_facts.apply_customer_message(
            uow=uow,
            message=event_data(envelope, CustomerMessageReceived),
            event_id=envelope.id,
            streak_length=deps.streak_length,
        )

    intake: dict[type[EventData], Handler] = {
        ComplaintReceived: on_received,
        CustomerMessageReceived: on_customer_message,
        ErasureRequested: on_erasure,
    }
    feedback: dict[type[EventData], Handler] = {
        ComplaintConfirmationRequested: on_confirmation_requested,
        ComplaintConfirmed: on_closure,
        ComplaintAutoClosed: on_closure,
        ComplaintReopened: on_reopened,
    }
    # Only escalations from the sla topic: the consumer skips every other (known) sla event
    # without a handler, no savepoint, no processed_events row and no dead letter.
    sla: dict[type[EventData], Handler] = {ComplaintEscalated: on_escalated}
    return {**intake, **feedback, **sla}


async def on_confirmation_requested(uow: UnitOfWork, envelope: Envelope) -> None:
    await reported_facts.apply_confirmation_requested(
        uow=uow,
        requested=event_data(envelope, ComplaintConfirmationRequested),
        event_id=envelope.id,
    )


async def on_closure(uow: UnitOfWork, envelope: Envelope) -> None:
    feedback = envelope.data
    if not isinstance(feedback, ComplaintConfirmed | ComplaintAutoClosed):
        raise TypeError(f"{envelope.type} carries {type(feedback).__name__}, not a closure")
    # The closure's evidence is the feedback event's CloudEvents id.
    await reported_facts.apply_closure(uow=uow, feedback=feedback, event_id=envelope.id)


async def on_reopened(uow: UnitOfWork, envelope: Envelope) -> None:
    await reported_facts.apply_reopened(
        uow=uow, reopened=event_data(envelope, ComplaintReopened), event_id=envelope.id
    )


async def on_escalated(uow: UnitOfWork, envelope: Envelope) -> None:
    await reported_facts.apply_escalation(
        uow=uow, escalated=event_data(envelope, ComplaintEscalated), event_id=envelope.id
    )


async def on_erasure(uow: UnitOfWork, envelope: Envelope) -> None:
    # The customer index links complaints by keyed hashes and keeps the masked text, the
    # streak counts the customer's words (§10).
    complaint_id = event_data(envelope, ErasureRequested).complaint_id
    await duplicates.forget(uow=uow, complaint_id=complaint_id)
    await emotion_streaks.forget(uow=uow, complaint_id=complaint_id)
