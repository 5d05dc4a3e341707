"""Poison records: the origin check beyond ``decode``, and the dead letter built from any record.

**Origin.** One service produces each topic (``complaint_contracts.topics``), so a record on
an event topic must carry one of that topic's types and name its producer as ``ce_source``;
on any other topic (a dead-letter topic holds records of every topic) the source must be the
producer of the type's own topic. A record that fails this is a forgery or a bug upstream and
is dead-lettered, never applied. It is recorded as processed by its position, not its
``ce_id``: a forged record must not mark a genuine event's id as already applied.

**The dead letter.** :func:`dead_letter_record` builds the record published to the
dead-letter topic from whatever the consumed record holds (null, non-text or invalid UTF-8
headers, thousands of them, a huge key or value, an error text with contacts, lone
surrogates or megabytes of it) and never raises: header values become valid UTF-8, the
error is masked and cut, and the whole stays below Kafka's default record size, so the
broker accepts it. What had to change is said in the ``dlq_headers_altered``,
``dlq_key_truncated`` and ``dlq_value_truncated`` headers; the original record stays in its
topic at ``dlq_original_*`` until the topic's retention.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from complaint_contracts import topics
from complaint_contracts.envelope import (
    MAX_DATA_BYTES,
    MAX_EVENT_ID_LENGTH,
    MAX_HEADERS,
    Envelope,
    InvalidEvent,
)
from complaint_contracts.events import TOPIC_BY_EVENT
from complaint_contracts.privacy import redact_contacts

MAX_ERROR_BYTES = 2000
"""``dlq_error``: the error text, contacts masked, cut at a character boundary."""
MAX_KEPT_HEADER_BYTES = 16 * 1024
"""The original headers carried along (names and values), at most ``MAX_HEADERS`` of them."""
MAX_KEPT_HEADER_VALUE_BYTES = 1024
MAX_KEPT_HEADER_NAME_CHARS = 256
MAX_KEY_BYTES = 1024
MAX_VALUE_BYTES = MAX_DATA_BYTES - 64 * 1024
"""Room left for key, headers and Kafka's own overhead under the producer's 1 MiB request."""
_PRODUCER_OF_TOPIC = {topic.name: topic.producer for topic in topics.EVENT_TOPICS}
# Enough of an error text to mask and then cut to MAX_ERROR_BYTES: masking keeps lengths.
_ERROR_SCAN_CHARS = 4 * MAX_ERROR_BYTES


class ForgedEvent(InvalidEvent):
    """A valid CloudEvent whose source or type does not belong to the topic it came on."""


@dataclass(frozen=True)
class DeadLetter:
    record: Any  # an aiokafka ConsumerRecord (or the test double): topic, key, value, ...
    error: str


@dataclass(frozen=True)
class OutgoingLetter:
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]]
    error: str  # as in dlq_error: masked and cut, safe to log


def check_origin(topic: str, envelope: Envelope) -> None:
    """Raises :class:`ForgedEvent` unless the envelope may have come on ``topic``."""
    home = TOPIC_BY_EVENT.get(type(envelope.data))
    if topic in _PRODUCER_OF_TOPIC and home != topic:
        raise ForgedEvent(f"{envelope.type} is not an event of {topic}")
    producer = _PRODUCER_OF_TOPIC.get(home or "")
    if envelope.source != producer:
        raise ForgedEvent(
            f"ce_source {envelope.source!r} is not {producer!r}, the producer of {home}"
        )


def position_id(record: Any) -> str:
    """The id a poison record is recorded under in processed_events: its place in the log,
    within the column (a Kafka topic name may have 249 characters; the platform's ~25)."""
    position = f"{record.topic}:{record.partition}:{record.offset}"
    if len(position) <= MAX_EVENT_ID_LENGTH:
        return position
    return "position-sha256:" + hashlib.sha256(position.encode()).hexdigest()


def describe(exc: BaseException) -> str:
    """``Type: message`` of an exception whose ``__str__`` may itself fail."""
    try:
        return f"{type(exc).__name__}: {exc}"
    except Exception:
        return f"{type(exc).__name__}: (its message could not be read)"


def safe_error_text(error: str) -> str:
    """The error masked (contacts), valid UTF-8 and at most ``MAX_ERROR_BYTES`` long."""
    text = _utf8_text(error[:_ERROR_SCAN_CHARS])
    try:
        text = redact_contacts(text)
    except Exception:  # the scanner failed on this text: nothing of it goes out
        text = "(the error text could not be masked)"
    return _cut(text.encode(), MAX_ERROR_BYTES).decode()


def dead_letter_record(letter: DeadLetter, *, group: str) -> OutgoingLetter:
    """The record to publish for ``letter``: bounded, valid headers; never raises."""
    record = letter.record
    error = safe_error_text(letter.error)
    headers, altered = _kept_headers(getattr(record, "headers", None))
    key = _as_bytes(getattr(record, "key", None))
    value = _as_bytes(getattr(record, "value", None))
    notes: list[tuple[str, bytes]] = []
    if altered:
        notes.append(("dlq_headers_altered", str(altered).encode()))
    if key is not None and len(key) > MAX_KEY_BYTES:
        notes.append(("dlq_key_truncated", str(len(key)).encode()))
        key = key[:MAX_KEY_BYTES]
    if value is not None and len(value) > MAX_VALUE_BYTES:
        notes.append(("dlq_value_truncated", str(len(value)).encode()))
        value = value[:MAX_VALUE_BYTES]
    origin = [
        ("dlq_error", error.encode()),
        ("dlq_original_topic", _header_text(getattr(record, "topic", ""))),
        ("dlq_original_partition", _header_text(getattr(record, "partition", ""))),
        ("dlq_original_offset", _header_text(getattr(record, "offset", ""))),
        ("dlq_consumer_group", _header_text(group)),
    ]
    return OutgoingLetter(key, value, [*headers, *origin, *notes], error)


def _kept_headers(headers: object) -> tuple[list[tuple[str, bytes]], int]:
    """The original headers that fit, each made valid; how many were dropped or changed.
    A ``dlq_*`` header of the original (a letter sent round again) is dropped: the ones
    added here must be the only ones."""
    kept: list[tuple[str, bytes]] = []
    altered = 0
    size = 0
    try:
        items = list(headers or ())  # type: ignore[call-overload]
    except Exception:
        return [], 1
    for item in items:
        pair = _valid_header(item)
        if pair is None or len(kept) >= MAX_HEADERS:
            altered += 1
            continue
        name, value, changed = pair
        pair_size = len(name.encode()) + len(value)
        if size + pair_size > MAX_KEPT_HEADER_BYTES:
            altered += 1
            continue
        size += pair_size
        altered += changed
        kept.append((name, value))
    return kept, altered


def _valid_header(item: object) -> tuple[str, bytes, bool] | None:
    """(name, UTF-8 value, whether it was changed), or None to drop the header."""
    raw_name: object
    raw_value: object
    try:
        raw_name, raw_value = item  # type: ignore[misc]
    except Exception:
        return None
    if isinstance(raw_name, bytes):
        raw_name = raw_name.decode("utf-8", "backslashreplace")
    value = _as_bytes(raw_value)
    if not isinstance(raw_name, str) or value is None or raw_name.lower().startswith("dlq_"):
        return None
    name = _utf8_text(raw_name[:MAX_KEPT_HEADER_NAME_CHARS])
    # Invalid UTF-8 is written out (``\xff``): readable, and no byte is silently lost.
    text = value.decode("utf-8", "backslashreplace").encode()
    safe = _cut(text, MAX_KEPT_HEADER_VALUE_BYTES)
    return name, safe, name != raw_name or safe != value


def _as_bytes(value: object) -> bytes | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        return value
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    if isinstance(value, str):
        return _utf8_text(value).encode()
    return None  # a number, say: no header value (bytes(42) would be 42 zero bytes)


def _utf8_text(text: str) -> str:
    """``text`` with lone surrogates written out (``\\udcff``), so it encodes as UTF-8."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _cut(data: bytes, limit: int) -> bytes:
    """At most ``limit`` bytes of UTF-8 ``data``, never half a character."""
    return data if len(data) <= limit else data[:limit].decode("utf-8", "ignore").encode()


def _header_text(value: object) -> bytes:
    try:
        return _cut(_utf8_text(str(value)).encode(), MAX_KEPT_HEADER_VALUE_BYTES)
    except Exception:
        return b""
