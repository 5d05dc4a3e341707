"""Intake's consumers: it projects every other service's events onto its complaints, so a
front end or the customer sees status and history in one place."""

from __future__ import annotations

from collections.abc import Sequence

from complaint_contracts import topics
from complaint_contracts.base import EventData
from complaint_contracts.envelope import Envelope
from complaint_contracts.events import EVENTS_BY_TOPIC
from complaint_runtime.consumer import Handler
from complaint_runtime.database import UnitOfWork

from intake.projection import service as projection

PROJECTED_TOPICS = (topics.ROUTING, topics.SLA, topics.FEEDBACK, topics.NOTIFY)


async def on_complaint_event(uow: UnitOfWork, envelope: Envelope) -> None:
    await projection.project_event(uow=uow, envelope=envelope)


async def preload(uow: UnitOfWork, envelopes: Sequence[Envelope]) -> None:
    await projection.preload_complaints(uow=uow, envelopes=envelopes)


def handlers() -> dict[type[EventData], Handler]:
    """Every event type of the projected topics goes to the projection (it needs nothing
    from the dependencies object: only the consumer's unit of work)."""
    return {
        model: on_complaint_event
        for topic in PROJECTED_TOPICS
        for model in EVENTS_BY_TOPIC[topic.name]
    }
