"""Intake's consumers: it projects every other service's events onto its complaints, so a
front end or the customer sees status and history in one place."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from complaint_contracts import topics
from complaint_contracts.base import EventData
from complaint_contracts.envelope import Envelope
from complaint_contracts.events import EVENTS_BY_TOPIC
from complaint_contracts.events.common import ErasureCompleted
from complaint_runtime.consumer import Handler
from complaint_runtime.database import UnitOfWork

from intake.erasure import confirmations
from intake.projection import service as projection

PROJECTED_TOPICS = (topics.ROUTING, topics.SLA, topics.FEEDBACK, topics.NOTIFY)


async def on_complaint_event(uow: UnitOfWork, envelope: Envelope) -> None:
    await projection.project_event(uow=uow, envelope=envelope)


async def on_erasure_completed(uow: UnitOfWork, envelope: Envelope) -> None:
    """A service's confirmation of an erasure: a step of the complaint's history (staff
    only) and a confirmation of the erasure, in one transaction."""
    await projection.project_event(uow=uow, envelope=envelope)
    if isinstance(envelope.data, ErasureCompleted):
        await confirmations.record_confirmation(
            uow=uow, data=envelope.data, event_id=envelope.id, now=datetime.now(UTC)
        )


async def preload(uow: UnitOfWork, envelopes: Sequence[Envelope]) -> None:
    await projection.preload_complaints(uow=uow, envelopes=envelopes)


def handlers() -> dict[type[EventData], Handler]:
    """Every event type of the projected topics goes to the projection, the services'
    erasure confirmations also to the erasure (neither needs anything from the
    dependencies object: only the consumer's unit of work)."""
    return {
        model: on_erasure_completed if issubclass(model, ErasureCompleted) else on_complaint_event
        for topic in PROJECTED_TOPICS
        for model in EVENTS_BY_TOPIC[topic.name]
    }
