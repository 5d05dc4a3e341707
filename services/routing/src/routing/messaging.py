"""Routing's consumers: received complaints are triaged and assigned; customer messages,
feedback's and sla-watch's facts move the case (a reopen also opens a review task); the
customer's withdrawal closes it; a correction of the contacts updates the case file's
masked ones; sla-watch's clock events keep the case file's clocks;
notify's report that no channel reaches the customer opens the lead's task; an erasure
anonymises the customer (``routing.casefile.erasure``) and confirms it.
Thin: the work is in the packages' use cases, each in the consumer's transaction.
"""

from __future__ import annotations

from collections.abc import Sequence

from complaint_contracts.base import EventData
from complaint_contracts.envelope import Envelope
from complaint_contracts.events import (
    ComplaintAutoClosed,
    ComplaintConfirmationRequested,
    ComplaintConfirmed,
    ComplaintContactsCorrected,
    ComplaintEscalated,
    ComplaintReceived,
    ComplaintReopened,
    ComplaintWithdrawn,
    CustomerMessageReceived,
    ErasureRequested,
    NotificationFailed,
    SlaBreached,
    SlaClockPaused,
    SlaClockRescheduled,
    SlaClockResumed,
    SlaClockStarted,
    SlaClockStopped,
    SlaWarning,
)
from complaint_runtime.consumer import Handler, event_data
from complaint_runtime.database import UnitOfWork

from routing.bootstrap import Dependencies
from routing.casefile import corrections, erasure, sla_projection
from routing.cases import reported_facts, withdrawal
from routing.tasks import opening as task_opening
from routing.triage import service as triage

CLOCK_EVENTS = (
    SlaClockStarted,
    SlaClockPaused,
    SlaClockResumed,
    SlaClockRescheduled,
    SlaClockStopped,
    SlaWarning,
    SlaBreached,
)


def handlers(deps: Dependencies) -> dict[type[EventData], Handler]:
    """Handler per event type, over the intake, feedback, sla and notify topics."""

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

    async def on_reopened(uow: UnitOfWork, envelope: Envelope) -> None:
        await reported_facts.apply_reopened(
            uow=uow,
            reopened=event_data(envelope, ComplaintReopened),
            event_id=envelope.id,
            review_due=deps.review_task_due,
        )

    intake: dict[type[EventData], Handler] = {
        ComplaintReceived: on_received,
        CustomerMessageReceived: on_customer_message,
        ComplaintWithdrawn: on_withdrawn,
        ComplaintContactsCorrected: on_contacts_corrected,
        ErasureRequested: on_erasure,
    }
    feedback: dict[type[EventData], Handler] = {
        ComplaintConfirmationRequested: on_confirmation_requested,
        ComplaintConfirmed: on_closure,
        ComplaintAutoClosed: on_closure,
        ComplaintReopened: on_reopened,
    }
    # Every event of the sla topic: escalations move the case's level, the clock events
    # are projected into the case file's clocks.
    sla: dict[type[EventData], Handler] = {
        ComplaintEscalated: on_escalated,
        **dict.fromkeys(CLOCK_EVENTS, on_clock_event),
    }

    async def on_notification_failed(uow: UnitOfWork, envelope: Envelope) -> None:
        await task_opening.open_unreachable_task(
            uow=uow,
            failed=event_data(envelope, NotificationFailed),
            event_id=envelope.id,
            within=deps.unreachable_task_due,
        )

    return {**intake, **feedback, **sla, NotificationFailed: on_notification_failed}


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


async def on_withdrawn(uow: UnitOfWork, envelope: Envelope) -> None:
    await withdrawal.apply_withdrawal(
        uow=uow, withdrawn=event_data(envelope, ComplaintWithdrawn), event_id=envelope.id
    )


async def on_contacts_corrected(uow: UnitOfWork, envelope: Envelope) -> None:
    await corrections.apply_contacts_corrected(
        uow=uow,
        corrected=event_data(envelope, ComplaintContactsCorrected),
        event_id=envelope.id,
    )


async def on_escalated(uow: UnitOfWork, envelope: Envelope) -> None:
    await reported_facts.apply_escalation(
        uow=uow, escalated=event_data(envelope, ComplaintEscalated), event_id=envelope.id
    )


async def preload(uow: UnitOfWork, envelopes: Sequence[Envelope]) -> None:
    """Before a batch is applied at once: the cases of its clock events and new complaints
    (triage looks for an existing one first) and the clocks of those (a new case file
    reads the clocks known of it), locked in two statements: the most frequent events
    routing consumes, several per complaint."""
    clocked = [e.subject for e in envelopes if isinstance(e.data, CLOCK_EVENTS)]
    received = [e.subject for e in envelopes if isinstance(e.data, ComplaintReceived)]
    await sla_projection.lock_for_batch(
        uow=uow, case_ids=[*clocked, *received], clock_ids=[*clocked, *received]
    )


async def on_clock_event(uow: UnitOfWork, envelope: Envelope) -> None:
    event = envelope.data
    if not isinstance(event, CLOCK_EVENTS):
        raise TypeError(f"{envelope.type} carries {type(event).__name__}, not a clock event")
    await sla_projection.apply_clock_event(uow=uow, event=event)


async def on_erasure(uow: UnitOfWork, envelope: Envelope) -> None:
    # Everything routing holds of the customer, and the confirmation (§10).
    await erasure.erase_complaint(uow=uow, erasure=event_data(envelope, ErasureRequested))
