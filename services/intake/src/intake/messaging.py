"""Intake's consumers: it projects every other service's events onto its complaints, so a
front end or the customer sees status and history in one place."""

from __future__ import annotations

from complaint_contracts import topics
from complaint_contracts.base import EventData
from complaint_contracts.envelope import Envelope
from complaint_contracts.events import EVENTS_BY_TOPIC
from complaint_runtime.consumer import Handler
from complaint_runtime.database import UnitOfWork

from intake import service

PROJECTED_TOPICS = (topics.ROUTING, topics.SLA, topics.FEEDBACK, topics.NOTIFY)


async def on_complaint_event(uow: UnitOfWork, envelope: Envelope) -> None:
    await service.project_event(uow=uow, envelope=envelope)


HANDLERS: dict[type[EventData], Handler] = {
    model: on_complaint_event for topic in PROJECTED_TOPICS for model in EVENTS_BY_TOPIC[topic.name]
}
