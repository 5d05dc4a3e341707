"""The console's consumer (group ``console``): every event about a case becomes a row of
the live-updates read model (:mod:`console.live`). Nothing else is consumed and nothing is
produced; texts and personal data of the events are not kept (only ids, team, assignee,
the event type and its time)."""

from __future__ import annotations

from complaint_contracts import topics
from complaint_contracts.base import EventData
from complaint_contracts.envelope import Envelope
from complaint_contracts.events import (
    EVENTS_BY_TOPIC,
    ComplaintReceived,
    CustomerMessageReceived,
)
from complaint_runtime.consumer import Handler
from complaint_runtime.database import UnitOfWork

from console.bootstrap import Dependencies
from console.live import service

CONSUMED: tuple[topics.Topic, ...] = (topics.INTAKE, topics.ROUTING, topics.SLA)
# Every event that changes what a queue, a board or a case page shows: routing's
# transitions, new complaints and customer messages, SLA clocks, warnings, breaches and
# escalations (an erasure changes nothing the read model holds).
CHANGING: tuple[type[EventData], ...] = (
    ComplaintReceived,
    CustomerMessageReceived,
    *EVENTS_BY_TOPIC[topics.ROUTING.name],
    *EVENTS_BY_TOPIC[topics.SLA.name],
)


def handlers(deps: Dependencies) -> dict[type[EventData], Handler]:
    clock = deps.clock

    async def on_change(uow: UnitOfWork, envelope: Envelope) -> None:
        await service.record_change(uow=uow, envelope=envelope, now=clock())

    return dict.fromkeys(CHANGING, on_change)
