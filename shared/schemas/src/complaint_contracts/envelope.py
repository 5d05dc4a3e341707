"""CloudEvents 1.0 in Kafka binary mode: how event data becomes a Kafka record and back.

The records are exactly those of the ``cloudevents`` SDK's Kafka binding with its JSON
format (``tests/test_envelope_codec_conformance.py`` proves it byte for byte, with the SDK
as the oracle), built and parsed here directly because going through the SDK's event
objects cost every service a few per cent of its CPU. On top of the binding come the
platform's rules: key = subject = complaint id, ``dataschema`` = the data's JSON Schema
``$id``, ``correlationid`` / ``causationid`` extensions, and typed data on the way back in.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

from dateutil.parser import isoparse
from pydantic import ValidationError

from complaint_contracts.base import EventData
from complaint_contracts.registry import model_for_type

CONTENT_TYPE = "application/json"
REQUIRED_HEADERS = ("ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time", "ce_subject")

_SPECVERSION = "1.0"
_CE_PREFIX = "ce_"
# The SDK's CloudEvent 1.0 attributes; any other attribute is an extension.
_CONTEXT_ATTRIBUTES = frozenset(
    ("id", "source", "type", "specversion", "datacontenttype", "dataschema", "subject", "time")
)
# The extensions the platform itself sets (the SDK turns the record key into
# ``partitionkey``); their names are valid, so the hot path skips the name check.
_PLATFORM_EXTENSIONS = frozenset(("correlationid", "causationid", "partitionkey"))
# The attribute of each header the platform writes; these names are already lower case, so
# looking them up gives what the binding's generic rule would.
_ATTRIBUTE_OF_HEADER = {
    **{f"ce_{name}": name for name in _CONTEXT_ATTRIBUTES | _PLATFORM_EXTENSIONS},
    "content-type": "datacontenttype",
}
_EXPECTED_ATTRIBUTES = _CONTEXT_ATTRIBUTES | _PLATFORM_EXTENSIONS
# The SDK's checks, kept verbatim: its JSON media types, and extension names (``re.match``
# with ``$``, so a trailing newline passes there too).
_JSON_MEDIA_TYPE = re.compile(r"^(application|text)/([a-zA-Z0-9\-\.]+\+)?json(;.*)?$")
_EXTENSION_NAME = re.compile(r"^[a-z0-9]+$")
# The time as the binding writes it (``isoformat``, UTC as ``Z``). Only this shape takes the
# fast parser, and only with field values both parsers read alike; any other string goes to
# the parser the SDK uses, so the same strings are accepted, as the same instants.
_WRITTEN_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]{6})?"
    r"(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])"
)


# ---- bounds ------------------------------------------------------------------------------
# The most a consumed record may carry. Each limit is that of the column the value ends up
# in, so a record over it is refused here, as an InvalidEvent (dead-lettered by position),
# instead of failing deeper down: an id over 200 characters used to fail the
# processed_events insert on PostgreSQL, and the consumer re-read that batch forever.
MAX_EVENT_ID_LENGTH = 200
"""``ce_id``: ``processed_events.event_id`` is ``String(200)`` (the platform's are UUIDs)."""
MAX_SOURCE_LENGTH = 40
"""``ce_source``: a service name (intake's ``complaint_history.source``, ``String(40)``)."""
MAX_TYPE_LENGTH = 120
"""``ce_type``: intake's ``complaint_history.event_type``, ``String(120)``."""
MAX_SUBJECT_LENGTH = 36
"""``ce_subject``: a complaint id (a UUID); every ``complaint_id`` column is ``String(36)``."""
MAX_CAUSAL_ID_LENGTH = 200
"""``ce_correlationid`` / ``ce_causationid``: sla-watch keeps the correlation id in
``String(200)``; a causation id is an event id."""
MAX_KEY_BYTES = 200
"""The record key (equal to the subject)."""
MAX_DATA_BYTES = 1024 * 1024
"""The record value: Kafka's default record size (the producer's ``max_request_size``, the
broker's ``message.max.bytes``), far above the largest platform event."""
MAX_HEADERS = 64
"""Headers per record (a platform record has ten)."""
MAX_HEADER_BYTES = 16 * 1024
"""Header names and values together."""
_ATTRIBUTE_LIMITS = (
    ("id", MAX_EVENT_ID_LENGTH),
    ("source", MAX_SOURCE_LENGTH),
    ("type", MAX_TYPE_LENGTH),
    ("subject", MAX_SUBJECT_LENGTH),
    ("correlationid", MAX_CAUSAL_ID_LENGTH),
    ("causationid", MAX_CAUSAL_ID_LENGTH),
)


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


# ---- encoding ---------------------------------------------------------------------------


def _rfc3339(value: datetime) -> str:
    """A time as the SDK writes it, in headers and JSON alike: ``isoformat``, UTC as ``Z``."""
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _json_default(value: Any) -> Any:
    """The SDK's JSON encoder hook (times); model_dump(mode="json") leaves none in practice."""
    if isinstance(value, datetime):
        return _rfc3339(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


# The SDK's separators and ASCII escapes (json.dumps defaults): Chinese text goes out as
# \uXXXX, so orjson's and msgspec's compact UTF-8 would change the bytes. One reused
# encoder keeps the C fast path without building an encoder per event.
_DATA_ENCODER = json.JSONEncoder(default=_json_default)


def _check_attributes(*, ce_id: object, source: object, subject: object, time: object) -> None:
    """The SDK's CloudEvent 1.0 validation of what encode is given (type and dataschema are
    never empty by construction); failing it is a caller's bug."""
    if (
        isinstance(ce_id, str)
        and ce_id
        and isinstance(source, str)
        and source
        and isinstance(subject, str)
        and subject
        and isinstance(time, datetime)
        and time.tzinfo
    ):
        return
    problems = [
        name
        for name, value in (("id", ce_id), ("source", source), ("subject", subject))
        if not isinstance(value, str) or not value
    ]
    if not isinstance(time, datetime) or not time.tzinfo:
        problems.append("time (a timezone-aware datetime)")
    raise ValueError(f"invalid CloudEvents attributes: {', '.join(problems)}")


def _header(value: object) -> bytes:
    # The binding writes str() of each attribute: a str subclass (an enum member, say)
    # is sent as its str(), exactly as before.
    return str(value).encode("utf-8")


@cache
def _type_headers(model: type[EventData]) -> tuple[bytes, bytes]:
    """``ce_type`` and ``ce_dataschema`` of a data model, built once per model."""
    return _header(model.ce_type()), _header(model.schema_id())


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
    when = time or datetime.now(UTC)
    _check_attributes(ce_id=ce_id, source=source, subject=subject, time=when)
    ce_type, dataschema = _type_headers(type(data))
    # Sorted by header name, as the records have always been.
    causation = (("ce_causationid", _header(causation_id)),) if causation_id else ()
    headers = (
        *causation,
        ("ce_correlationid", _header(correlation_id or ce_id)),
        ("ce_dataschema", dataschema),
        ("ce_id", _header(ce_id)),
        ("ce_source", _header(source)),
        ("ce_specversion", b"1.0"),
        ("ce_subject", _header(subject)),
        ("ce_time", _rfc3339(when).encode("utf-8")),
        ("ce_type", ce_type),
        ("content-type", b"application/json"),
    )
    value = _DATA_ENCODER.encode(data.model_dump(mode="json")).encode("utf-8")
    return ce_id, KafkaRecord(topic, subject.encode(), value, headers)


# ---- decoding ---------------------------------------------------------------------------


def _parse_time(text: str) -> datetime:
    """``ce_time`` as the SDK reads it (dateutil's ``isoparse``), fast for the written shape."""
    if _WRITTEN_TIME.fullmatch(text):
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            pass  # e.g. 30 February: isoparse gives the verdict, as it always has
    return isoparse(text)


def _attribute_of(header: str) -> str | None:
    """The binding's rule for any header name: ``ce_`` + attribute, or ``content-type``."""
    lowered = header.lower()
    if lowered.startswith(_CE_PREFIX):
        return lowered[len(_CE_PREFIX) :]
    return "datacontenttype" if lowered == "content-type" else None


def _binding_attributes(headers: dict[str, bytes], key: bytes | None) -> dict[str, Any]:
    """The SDK binding's header mapping: every value UTF-8, names case-insensitive (the last
    spelling wins), ``content-type`` as ``datacontenttype``, the key as ``partitionkey``."""
    attributes: dict[str, Any] = {}
    for name, raw in headers.items():
        text = raw.decode("utf-8")
        attribute = _ATTRIBUTE_OF_HEADER.get(name) or _attribute_of(name)
        if attribute == "time":
            attributes[attribute] = _parse_time(text)
        elif attribute is not None:
            attributes[attribute] = text
    if key is not None:
        attributes["partitionkey"] = key.decode("utf-8") if isinstance(key, bytes) else key
    return attributes


def _attribute_problems(attributes: dict[str, Any]) -> list[str]:
    """The SDK's CloudEvent 1.0 validation of decoded attributes (all strings but time)."""
    if (
        attributes.keys() <= _EXPECTED_ATTRIBUTES
        and all(attributes.values())
        and attributes.get("specversion") == _SPECVERSION
        and attributes["time"].tzinfo
    ):
        return []  # the platform's own records: every check below passes
    problems = [name for name in ("id", "source", "type") if not attributes.get(name)]
    # Only a second, differently cased ce_specversion header can get here (the SDK would
    # then build a 0.3 event from a record that claims 1.0): refused as off-contract.
    if attributes.get("specversion") != _SPECVERSION:
        problems.append("specversion")
    time = attributes.get("time")
    if time is not None and not time.tzinfo:
        problems.append("time (no time zone)")
    problems.extend(
        name
        for name in ("subject", "datacontenttype", "dataschema")
        if name in attributes and not attributes[name]
    )
    problems.extend(
        f"extension {name!r}"
        for name in attributes
        if name not in _CONTEXT_ATTRIBUTES
        and name not in _PLATFORM_EXTENSIONS
        and (name == "data" or not _EXTENSION_NAME.match(name))
    )
    return problems


def _cloudevent_attributes(headers: dict[str, bytes], key: bytes | None) -> dict[str, Any]:
    """The validated attributes of a binary-mode record; InvalidEvent where the SDK failed."""
    try:
        attributes = _binding_attributes(headers, key)
    except Exception as exc:  # bad UTF-8, a bad ce_time, a header name that is no text
        raise InvalidEvent(f"not a CloudEvent in binary mode: {exc}") from exc
    problems = _attribute_problems(attributes)
    if problems:
        raise InvalidEvent(f"not a CloudEvent in binary mode: invalid {', '.join(problems)}")
    return attributes


def _json_data(value: bytes, content_type: str | None) -> Any:
    """The data as the SDK's JSON format read it, then as this module parsed it further:
    JSON that is a string is parsed once more, text of another media type is parsed as JSON,
    and bytes that are not UTF-8 go to ``json.loads`` (which detects UTF-16 and UTF-32)."""
    if not value:
        return None
    if content_type == CONTENT_TYPE or _JSON_MEDIA_TYPE.match(content_type or CONTENT_TYPE):
        try:
            parsed = json.loads(value.decode("utf-8"))
        except ValueError:  # UnicodeDecodeError included; the SDK then passes the text on
            pass
        else:
            return json.loads(parsed) if isinstance(parsed, str) else parsed
    try:
        text: str | bytes = value.decode("utf-8")
    except UnicodeDecodeError:
        text = value
    return json.loads(text)


def _typed_data(model: type[EventData], value: bytes, content_type: str | None) -> EventData:
    try:
        raw = _json_data(value, content_type)
    except (ValueError, RecursionError) as exc:  # RecursionError: absurdly deep nesting
        raise InvalidEvent(f"data is not JSON: {exc}") from exc
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise InvalidEvent(f"data does not match {model.schema_id()}: {exc}") from exc


def _header_map(
    key: bytes | None, value: bytes, headers: list[tuple[str, bytes]] | tuple[Any, ...]
) -> dict[str, bytes]:
    """The record's headers by name, once its sizes are within the bounds above; a header
    that is no (name, bytes) pair is an InvalidEvent, not a crash."""
    if len(value) > MAX_DATA_BYTES:
        raise InvalidEvent(f"data of {len(value)} bytes, more than {MAX_DATA_BYTES}")
    if key is not None and len(key) > MAX_KEY_BYTES:
        raise InvalidEvent(f"record key of {len(key)} bytes, more than {MAX_KEY_BYTES}")
    if len(headers) > MAX_HEADERS:
        raise InvalidEvent(f"{len(headers)} headers, more than {MAX_HEADERS}")
    try:
        # A header may be null in Kafka: as if absent (a required one is then missing).
        header_map = {name: bytes(raw) for name, raw in headers if raw is not None}
        size = sum(len(name) + len(raw) for name, raw in header_map.items())
    except (TypeError, ValueError) as exc:
        raise InvalidEvent(f"headers are not (name, bytes) pairs: {exc}") from exc
    if size > MAX_HEADER_BYTES:
        raise InvalidEvent(f"headers of {size} bytes, more than {MAX_HEADER_BYTES}")
    return header_map


def _check_attribute_lengths(attributes: dict[str, Any]) -> None:
    for name, limit in _ATTRIBUTE_LIMITS:
        text = attributes.get(name)
        if isinstance(text, str) and len(text) > limit:
            raise InvalidEvent(f"ce_{name} of {len(text)} characters, more than {limit}")


def decode(
    key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes]] | tuple[Any, ...]
) -> Envelope:
    """Parse and validate one consumed record; raises InvalidEvent for anything off-contract,
    a record over the bounds above included, and for nothing else (whatever the record)."""
    if value is None:
        raise InvalidEvent("record has no value (tombstone)")
    header_map = _header_map(key, value, headers)
    # The SDK would fill in a random id and the current time when they are missing; a
    # platform event without its own id could not be deduplicated, so those are poison here.
    missing = [name for name in REQUIRED_HEADERS if not header_map.get(name)]
    if missing:
        raise InvalidEvent(f"missing CloudEvents headers: {', '.join(missing)}")
    if header_map["ce_specversion"] != b"1.0":
        raise InvalidEvent(f"unsupported ce_specversion {header_map['ce_specversion']!r}")
    attributes = _cloudevent_attributes(header_map, key)
    _check_attribute_lengths(attributes)
    ce_type: str = attributes["type"]
    model = model_for_type(ce_type)
    if model is None:
        raise InvalidEvent(f"unknown event type {ce_type!r}")
    subject: str = attributes["subject"]
    if key is not None and key.decode("utf-8", "replace") != subject:
        raise InvalidEvent("record key differs from the event subject")
    data = _typed_data(model, value, attributes.get("datacontenttype"))
    ce_id: str = attributes["id"]
    causation = attributes.get("causationid")
    return Envelope(
        id=ce_id,
        type=ce_type,
        source=attributes["source"],
        subject=subject,
        time=attributes["time"],
        data=data,
        correlation_id=str(attributes.get("correlationid") or ce_id),
        causation_id=str(causation) if causation else None,
    )
