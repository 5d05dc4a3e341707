"""Every event data model of the platform, grouped by the topic its producer writes."""

from __future__ import annotations

from complaint_contracts import topics
from complaint_contracts.base import EventData
from complaint_contracts.events.intake import ComplaintReceived
from complaint_contracts.events.routing import ComplaintAssigned, ComplaintTriaged

EVENTS_BY_TOPIC: dict[str, tuple[type[EventData], ...]] = {
    topics.INTAKE.name: (ComplaintReceived,),
    topics.ROUTING.name: (ComplaintTriaged, ComplaintAssigned),
}

ALL_EVENTS: tuple[type[EventData], ...] = tuple(
    model for models in EVENTS_BY_TOPIC.values() for model in models
)

__all__ = [
    "ALL_EVENTS",
    "EVENTS_BY_TOPIC",
    "ComplaintAssigned",
    "ComplaintReceived",
    "ComplaintTriaged",
]
