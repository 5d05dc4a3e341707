"""Notify's consumers: each notifying event becomes pending deliveries (group ``notify``);
an erasure anonymises the complaint's deliveries and confirms it."""

from __future__ import annotations

from collections.abc import Sequence

from complaint_contracts import topics
from complaint_contracts.base import EventData
from complaint_contracts.envelope import Envelope
from complaint_contracts.events import (
    ComplaintAgentReplied,
    ComplaintAssigned,
    ComplaintAwaitingCustomer,
    ComplaintClosed,
    ComplaintConfirmationRequested,
    ComplaintDuplicateLinked,
    ComplaintEscalated,
    ComplaintFirstResponseSent,
    ComplaintReceived,
    ComplaintResolved,
    ErasureRequested,
    NpsSurveyRequested,
    SlaBreached,
    SlaClockStarted,
    SlaWarning,
    TrackingCodeRequested,
)
from complaint_runtime.consumer import Handler, event_data
from complaint_runtime.database import UnitOfWork

from notify.bootstrap import Dependencies
from notify.deliveries import erasure as erasure_of_deliveries
from notify.deliveries import releases, service
from notify.teams import service as teams

CONSUMED: tuple[topics.Topic, ...] = (topics.INTAKE, topics.ROUTING, topics.SLA, topics.FEEDBACK)
NOTIFYING: tuple[type[EventData], ...] = (
    ComplaintReceived,
    ComplaintAssigned,
    ComplaintFirstResponseSent,
    ComplaintAgentReplied,
    ComplaintAwaitingCustomer,
    ComplaintResolved,
    ComplaintDuplicateLinked,
    SlaWarning,
    SlaBreached,
    ComplaintEscalated,
    ComplaintConfirmationRequested,
    ComplaintClosed,  # only a withdrawal tells anyone (planning decides)
    NpsSurveyRequested,  # the NPS invitation, to the customer
    TrackingCodeRequested,  # a lost-link code, to the customer
)
# Notifying events after which sla-watch arms no clock for the complaint: its
# acknowledgement need not wait for due times any longer.
NO_CLOCK_COMING: tuple[type[EventData], ...] = (ComplaintDuplicateLinked, ComplaintClosed)


def _released_complaint(envelope: Envelope) -> str | None:
    """The complaint whose pending acknowledgement this event may release, if any."""
    if isinstance(envelope.data, SlaClockStarted):
        started = envelope.data
        return started.complaint_id if started.metric != "next_response" else None
    if isinstance(envelope.data, NO_CLOCK_COMING):
        return envelope.subject
    return None


async def preload(uow: UnitOfWork, envelopes: Sequence[Envelope]) -> None:
    """Before a batch's handlers run: the pending acknowledgements its events may release,
    in one query instead of one per event (the deliveries its handlers plan are written in
    one statement at its commit, see ``service.stage_deliveries``)."""
    complaint_ids = [cid for e in envelopes if (cid := _released_complaint(e)) is not None]
    await releases.preload_acknowledgements(uow=uow, complaint_ids=complaint_ids)


def handlers(deps: Dependencies) -> dict[type[EventData], Handler]:
    """The consumer's table: a notifying event records its deliveries (a level-3 escalation
    one per member of the staff directory's senior escalation group, planned when the
    event is consumed) and wakes the delivery loop once committed, if any was new; a
    started clock, a duplicate link or a closure releases the complaint's acknowledgement
    waiting for its due times (:mod:`notify.deliveries.releases`); an erasure stops unsent
    customer messages, blanks the log's texts and addresses and confirms it
    (:mod:`notify.deliveries.erasure`)."""
    group = deps.directory.escalation_group
    clock = deps.clock
    wake = deps.delivery_loop.wake
    ack_wait_s = deps.settings.ack_wait_for_due_s

    async def on_notifying_event(uow: UnitOfWork, envelope: Envelope) -> None:
        await service.stage_deliveries(
            uow=uow,
            envelope=envelope,
            now=clock(),
            escalation_group=group,
            ack_wait_s=ack_wait_s,
            on_new=wake,
        )

    async def on_no_clock_coming(uow: UnitOfWork, envelope: Envelope) -> None:
        await on_notifying_event(uow, envelope)
        if await releases.release_acknowledgement(
            uow=uow, complaint_id=envelope.subject, now=clock()
        ):
            uow.after_commit(wake)

    async def on_clock_started(uow: UnitOfWork, envelope: Envelope) -> None:
        started = event_data(envelope, SlaClockStarted)
        if started.metric == "next_response":
            return
        if await releases.release_acknowledgement(
            uow=uow,
            complaint_id=started.complaint_id,
            now=clock(),
            due_times={started.metric: started.due_at},
            release=started.metric == "first_response",
        ):
            uow.after_commit(wake)

    async def on_assigned(uow: UnitOfWork, envelope: Envelope) -> None:
        await on_notifying_event(uow, envelope)
        assigned = event_data(envelope, ComplaintAssigned)
        # Who may read the complaint's delivery log: its team's lead (notify.teams).
        await teams.record_team(
            uow=uow, complaint_id=assigned.complaint_id, team=assigned.team, at=clock()
        )

    async def on_erasure(uow: UnitOfWork, envelope: Envelope) -> None:
        erasure = event_data(envelope, ErasureRequested)
        await erasure_of_deliveries.erase_complaint(uow=uow, erasure=erasure, now=clock())

    return {
        **dict.fromkeys(NOTIFYING, on_notifying_event),
        **dict.fromkeys(NO_CLOCK_COMING, on_no_clock_coming),
        SlaClockStarted: on_clock_started,
        ComplaintAssigned: on_assigned,
        ErasureRequested: on_erasure,
    }
