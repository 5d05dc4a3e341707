"""CloudEvents 1.0 in Kafka binary mode: how event data becomes a Kafka record and back.

Header mapping is the ``cloudevents`` SDK's Kafka binding; this module adds the platform's
rules on top: key = subject = complaint id, ``dataschema`` = the data's JSON Schema ``$id``,
``correlationid`` / ``causationid`` extensions, and typed data on the way back in.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cloudevents.core.bindings import kafka as ce_kafka
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent
from pydantic import ValidationError

from complaint_contracts.base import EventData
from complaint_contracts.registry import model_for_type

_FORMAT = JSONFormat()
CONTENT_TYPE = "application/json"
REQUIRED_HEADERS = ("ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time", "ce_subject")


class InvalidEvent(ValueError):
    """A record that is not a valid platform CloudEvent (a poison record)."""


@dataclass(frozen=True)
class KafkaRecord:
    """What a producer sends: key, value and headers, ready for any Kafka client."""

    topic: str
    key: bytes
    value: bytes
    headers: tuple[tuple[str, bytes], ...]


@dataclass(frozen=True)
class Envelope:
    """A decoded platform event: CloudEvents attributes plus typed data."""

    id: str
    type: str
    source: str
    subject: str
    time: datetime
    data: EventData
    correlation_id: str
    causation_id: str | None


def encode(
    data: EventData,
    *,
    topic: str,
    source: str,
    subject: str,
    correlation_id: str | None = None,
    causation_id: str | None = None,
    event_id: str | None = None,
    time: datetime | None = None,
) -> tuple[str, KafkaRecord]:
    """Build the binary-mode Kafka record of one event; returns (event id, record)."""
    ce_id = event_id or str(uuid.uuid4())
    attributes: dict[str, Any] = {
        "id": ce_id,
        "source": source,
        "type": data.ce_type(),
        "subject": subject,
        "time": time or datetime.now(UTC),
        "datacontenttype": CONTENT_TYPE,
        "dataschema": data.schema_id(),
        "correlationid": correlation_id or ce_id,
    }
    if causation_id:
        attributes["causationid"] = causation_id
    event = CloudEvent(attributes, data.model_dump(mode="json"))
    message = ce_kafka.to_binary(event, _FORMAT, key_mapper=lambda e: e.get_subject())
    headers = tuple(sorted(message.headers.items()))
    return ce_id, KafkaRecord(topic, subject.encode(), message.value, headers)


def decode(
    key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes]] | tuple[Any, ...]
) -> Envelope:
    """Parse and validate one consumed record; raises InvalidEvent for anything off-contract."""
    if value is None:
        raise InvalidEvent("record has no value (tombstone)")
    header_map = {name: bytes(raw) for name, raw in headers}
    # The SDK fills in a random id and the current time when they are missing; a platform
    # event without its own id could not be deduplicated, so those are poison here.
    missing = [name for name in REQUIRED_HEADERS if not header_map.get(name)]
    if missing:
        raise InvalidEvent(f"missing CloudEvents headers: {', '.join(missing)}")
    if header_map["ce_specversion"] != b"1.0":
        raise InvalidEvent(f"unsupported ce_specversion {header_map['ce_specversion']!r}")
    try:
        event = ce_kafka.from_binary(
            ce_kafka.KafkaMessage(headers=header_map, key=key, value=value), _FORMAT
        )
    except InvalidEvent:
        raise
    except Exception as exc:  # the SDK raises several unrelated types for bad input
        raise InvalidEvent(f"not a CloudEvent in binary mode: {exc}") from exc
    ce_type = event.get_type()
    model = model_for_type(ce_type)
    if model is None:
        raise InvalidEvent(f"unknown event type {ce_type!r}")
    subject = event.get_subject()
    if not subject:
        raise InvalidEvent("event has no subject (complaint id)")
    if key is not None and key.decode("utf-8", "replace") != subject:
        raise InvalidEvent("record key differs from the event subject")
    raw = event.get_data()
    if isinstance(raw, bytes | str):
        try:
            raw = json.loads(raw)
        except ValueError as exc:
            raise InvalidEvent(f"data is not JSON: {exc}") from exc
    try:
        data = model.model_validate(raw)
    except ValidationError as exc:
        raise InvalidEvent(f"data does not match {model.schema_id()}: {exc}") from exc
    time = event.get_time() or datetime.now(UTC)
    correlation = event.get_extension("correlationid")
    causation = event.get_extension("causationid")
    return Envelope(
        id=event.get_id(),
        type=ce_type,
        source=event.get_source(),
        subject=subject,
        time=time,
        data=data,
        correlation_id=str(correlation or event.get_id()),
        causation_id=str(causation) if causation else None,
    )
