"""What a subscription asks for, and the payload it gets (no I/O).

Event filters: ``"*"`` (every event notify consumes) or event names. A name is written
short, ``complaint.assigned``, or as the full CloudEvents type,
``org.opencomplaints.complaint.assigned.v1``; both are stored short. Only the events of the
topics notify consumes can be subscribed to (:func:`subscribable`); an unknown name is
refused with the list of known ones, so a typo cannot subscribe to nothing.

The payload is the CloudEvent in structured JSON mode (CloudEvents 1.0, JSON event format):
the attributes the platform writes as ``ce_*`` record headers, with the same values (time in
RFC 3339 with ``Z``, the data schema, the correlation and causation extensions), plus
``data``: the event's data exactly as the record carries it. :func:`body_bytes` encodes it
as the platform encodes data (``json.dumps`` defaults: ASCII escapes), deterministically, so
every attempt of a delivery carries the same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from complaint_contracts.base import EventData
from complaint_contracts.envelope import Envelope

WILDCARD: Final = "*"
MAX_EVENT_FILTERS: Final = 64
MAX_DESCRIPTION: Final = 200
MAX_SUBSCRIPTIONS: Final = 50
CONTENT_TYPE: Final = "application/cloudevents+json"
_TYPE_PREFIX: Final = "org.opencomplaints."


class EventFilterError(ValueError):
    """An event filter names nothing notify can send; the message lists what it can."""


def subscribable(models: Iterable[type[EventData]]) -> frozenset[str]:
    """The short names of the given event models (those of the consumed topics)."""
    return frozenset(model.event_name for model in models)


def _short(name: str) -> str:
    """``org.opencomplaints.complaint.assigned.v1`` -> ``complaint.assigned``."""
    if name.startswith(_TYPE_PREFIX):
        stem, _, version = name[len(_TYPE_PREFIX) :].rpartition(".")
        if stem and version.startswith("v") and version[1:].isdigit():
            return stem
    return name


def normalise_filters(names: Sequence[str], *, known: frozenset[str]) -> list[str]:
    """The filters as stored: ``["*"]`` alone, or distinct known short names in the order
    given; :class:`EventFilterError` for an empty list, too many, or an unknown name."""
    if not names:
        raise EventFilterError('Name at least one event type, or "*" for every event.')
    if len(names) > MAX_EVENT_FILTERS:
        raise EventFilterError(f"At most {MAX_EVENT_FILTERS} event types per subscription.")
    if WILDCARD in names:
        if len(set(names)) > 1:
            raise EventFilterError('"*" already means every event; name nothing beside it.')
        return [WILDCARD]
    shorts = list(dict.fromkeys(_short(name.strip()) for name in names))
    unknown = [name for name in shorts if name not in known]
    if unknown:
        raise EventFilterError(
            f"Unknown event type {unknown[0]!r}; known: {', '.join(sorted(known))}."
        )
    return shorts


def matches(filters: Sequence[str], event_name: str) -> bool:
    """Whether a subscription with these stored filters wants an event of this name."""
    return WILDCARD in filters or event_name in filters


@dataclass(frozen=True, slots=True)
class SubscriptionView:
    """What the fan-out needs of an active subscription: its id and filters."""

    subscription_id: str
    events: tuple[str, ...]


def wanting(subscriptions: Iterable[SubscriptionView], event_name: str) -> list[str]:
    """The ids of the subscriptions that want an event of this name."""
    return [s.subscription_id for s in subscriptions if matches(s.events, event_name)]


def _rfc3339(value: datetime) -> str:
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def structured_event(envelope: Envelope) -> dict[str, Any]:
    """The CloudEvent in structured JSON mode, attribute for attribute as the record's
    headers carry them (``datacontenttype`` is the record's ``content-type``)."""
    data = envelope.data
    event: dict[str, Any] = {
        "specversion": "1.0",
        "id": envelope.id,
        "source": envelope.source,
        "type": envelope.type,
        "subject": envelope.subject,
        "time": _rfc3339(envelope.time),
        "datacontenttype": "application/json",
        "dataschema": type(data).schema_id(),
        "correlationid": envelope.correlation_id,
    }
    if envelope.causation_id:
        event["causationid"] = envelope.causation_id
    event["data"] = data.model_dump(mode="json")
    return event


def body_bytes(payload: Mapping[str, Any]) -> bytes:
    """The request body: the platform's JSON encoding (ASCII escapes, default separators)."""
    return json.dumps(payload).encode("utf-8")
