"""Notify's consumers: each notifying event becomes pending deliveries (group ``notify``);
an erasure anonymises the complaint's deliveries and confirms it."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from complaint_contracts import topics
from complaint_contracts.base import EventData
from complaint_contracts.envelope import Envelope
from complaint_contracts.events import (
    EVENTS_BY_TOPIC,
    ComplaintAgentReplied,
    ComplaintAssigned,
    ComplaintAwaitingCustomer,
    ComplaintClosed,
    ComplaintConfirmationRequested,
    ComplaintDuplicateLinked,
    ComplaintEscalated,
    ComplaintFirstResponseSent,
    ComplaintRecategorized,
    ComplaintReceived,
    ComplaintResolved,
    ComplaintTriaged,
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
from notify.webhooks.fanout import with_fan_out

CONSUMED: tuple[topics.Topic, ...] = (topics.INTAKE, topics.ROUTING, topics.SLA, topics.FEEDBACK)
# Every event type of those topics: any of them may be sent to webhook subscribers.
EVERY_CONSUMED_EVENT: tuple[type[EventData], ...] = tuple(
    model for topic in CONSUMED for model in EVENTS_BY_TOPIC[topic.name]
)
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


def _priority_of(data: EventData) -> str | None:
    """The priority a triage or a recategorisation gives the complaint."""
    if isinstance(data, ComplaintTriaged):
        return data.priority
    if isinstance(data, ComplaintRecategorized):
        return data.new_priority
    return None


# The events notify acts on itself (whatever webhook subscribers want).
OWN: frozenset[type[EventData]] = frozenset(
    {
        *NOTIFYING,
        *NO_CLOCK_COMING,
        SlaClockStarted,
        ComplaintTriaged,
        ComplaintRecategorized,
        ErasureRequested,
    }
)


def wants(deps: Dependencies) -> Callable[[Envelope], bool]:
    """The consumer's check before applying an event: one notify acts on, or one a webhook
    subscription (as last read) may want. Any other is ignored like an event without a
    handler: no transaction, no processed-event row (most events, with no subscriptions)."""
    cache = deps.webhooks.cache if deps.webhooks is not None else None

    def wanted(envelope: Envelope) -> bool:
        if type(envelope.data) in OWN:
            return True
        return cache is not None and cache.might_want(type(envelope.data).event_name)

    return wanted


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
    team_chat = deps.robot_sender is not None

    async def on_notifying_event(uow: UnitOfWork, envelope: Envelope) -> None:
        await service.stage_deliveries(
            uow=uow,
            envelope=envelope,
            now=clock(),
            escalation_group=group,
            team_chat=team_chat,
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
            uow=uow,
            complaint_id=assigned.complaint_id,
            team=assigned.team,
            assignee=assigned.assignee,
            at=clock(),
        )

    async def on_received(uow: UnitOfWork, envelope: Envelope) -> None:
        await on_notifying_event(uow, envelope)
        received = event_data(envelope, ComplaintReceived)
        # What staff notices show of the complaint (never the customer's contacts).
        await teams.record_reference(
            uow=uow, complaint_id=received.complaint_id, reference=received.reference, at=clock()
        )

    async def on_priority(uow: UnitOfWork, envelope: Envelope) -> None:
        priority = _priority_of(envelope.data)
        if priority is not None:
            await teams.record_priority(
                uow=uow, complaint_id=envelope.subject, priority=priority, at=clock()
            )

    async def on_erasure(uow: UnitOfWork, envelope: Envelope) -> None:
        erasure = event_data(envelope, ErasureRequested)
        await erasure_of_deliveries.erase_complaint(uow=uow, erasure=erasure, now=clock())

    table: dict[type[EventData], Handler] = {
        **dict.fromkeys(NOTIFYING, on_notifying_event),
        **dict.fromkeys(NO_CLOCK_COMING, on_no_clock_coming),
        SlaClockStarted: on_clock_started,
        ComplaintAssigned: on_assigned,
        ComplaintReceived: on_received,
        ComplaintTriaged: on_priority,
        ComplaintRecategorized: on_priority,
        ErasureRequested: on_erasure,
    }
    # Webhooks: every event of the consumed topics may fan out to subscribers, after the
    # handler above (notify.webhooks.fanout).
    return with_fan_out(
        table,
        models=EVERY_CONSUMED_EVENT,
        webhooks=deps.webhooks,
        clock=clock,
    )
