"""The Kafka record headers of the published contracts, as JSON Schemas for the AsyncAPI
document: CloudEvents 1.0 attributes in binary content mode (``ce_*``), the ``dlq_*``
headers a consumer adds when it dead-letters a record, and the example headers of an event.
"""

from __future__ import annotations

from typing import Any

from complaint_contracts import topics
from complaint_contracts.base import TYPE_PREFIX, EventData
from complaint_contracts.envelope import (
    CONTENT_TYPE,
    MAX_CAUSAL_ID_LENGTH,
    MAX_EVENT_ID_LENGTH,
    MAX_SOURCE_LENGTH,
    MAX_TYPE_LENGTH,
)
from complaint_contracts.events.common import UUID_PATTERN
from complaint_contracts.examples import COMPLAINT_ID

_EXAMPLE_EVENT_ID = "7d3e4f5a-1b2c-4d8e-9f0a-1b2c3d4e5f60"
_EXAMPLE_CORRELATION_ID = "3c1d2e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f"


def cloudevent_headers_schema() -> dict[str, Any]:
    """The ``ce_*`` headers every event record carries."""
    uuid = {"type": "string", "format": "uuid", "pattern": UUID_PATTERN}
    return {
        "type": "object",
        "description": (
            "CloudEvents 1.0 attributes in the Kafka protocol binding, binary content mode: "
            "one `ce_` header per attribute, the data as the record value. Header values are "
            "UTF-8 strings."
        ),
        "required": [
            "ce_specversion",
            "ce_id",
            "ce_source",
            "ce_type",
            "ce_time",
            "ce_subject",
            "ce_dataschema",
            "content-type",
            "ce_correlationid",
        ],
        "properties": {
            "ce_specversion": {"type": "string", "const": "1.0"},
            "ce_id": {
                **uuid,
                "maxLength": MAX_EVENT_ID_LENGTH,
                "description": (
                    "Unique id of the event (UUID); consumers refuse one over "
                    f"{MAX_EVENT_ID_LENGTH} characters"
                ),
            },
            "ce_source": {
                "type": "string",
                "enum": list(topics.SERVICES),
                "maxLength": MAX_SOURCE_LENGTH,
                "description": (
                    "The producing service; always the producer of the topic. A consumer "
                    "dead-letters a record whose source is not its topic's producer, or whose "
                    "type is not one of its topic's"
                ),
            },
            "ce_type": {
                "type": "string",
                "pattern": "^" + TYPE_PREFIX.replace(".", r"\.") + r"(\.[a-z_]+)+\.v[1-9][0-9]*$",
                "maxLength": MAX_TYPE_LENGTH,
                "description": "Versioned reverse-DNS type: `org.opencomplaints.<event>.v<n>`",
            },
            "ce_time": {
                "type": "string",
                "format": "date-time",
                "description": "When the event happened (RFC 3339, UTC)",
            },
            "ce_subject": {**uuid, "description": "The complaint id; equals the record key"},
            "ce_dataschema": {
                "type": "string",
                "format": "uri",
                "description": "`$id` of the JSON Schema of the data",
            },
            "content-type": {"type": "string", "const": CONTENT_TYPE},
            "ce_correlationid": {
                "type": "string",
                "maxLength": MAX_CAUSAL_ID_LENGTH,
                "description": (
                    "Id shared by every event of one causal chain (the first event's ce_id)"
                ),
            },
            "ce_causationid": {
                "type": "string",
                "maxLength": MAX_CAUSAL_ID_LENGTH,
                "description": "ce_id of the event that caused this one, if any",
            },
        },
    }


def dead_letter_headers_schema() -> dict[str, Any]:
    """The headers of a dead-lettered record: the original ones plus ``dlq_*``."""
    return {
        "type": "object",
        "description": (
            "The original record's headers (`ce_*` when it had them) as far as they are "
            "valid and fit: null and non-text ones dropped, invalid UTF-8 written out as "
            "`\\xNN`, each value at most 1 KiB, 64 headers and 16 KiB in all, `dlq_*` ones "
            "replaced; plus the consuming service's error and the record's origin. A key "
            "over 1 KiB and a value over 960 KiB are cut (the original stays in its topic "
            "at the origin given)."
        ),
        "required": [
            "dlq_error",
            "dlq_original_topic",
            "dlq_original_partition",
            "dlq_original_offset",
            "dlq_consumer_group",
        ],
        "properties": {
            "dlq_error": {
                "type": "string",
                "description": (
                    "Why the record was dead-lettered (`invalid event: …`, `forged event: …` "
                    "or the handler's error), contacts masked, at most 2000 bytes of UTF-8"
                ),
            },
            "dlq_original_topic": {"type": "string"},
            "dlq_original_partition": {"type": "string", "pattern": "^[0-9]+$"},
            "dlq_original_offset": {"type": "string", "pattern": "^[0-9]+$"},
            "dlq_consumer_group": {"type": "string"},
            "dlq_headers_altered": {
                "type": "string",
                "pattern": "^[0-9]+$",
                "description": "How many original headers were dropped or changed (if any)",
            },
            "dlq_key_truncated": {
                "type": "string",
                "pattern": "^[0-9]+$",
                "description": "The original key's length in bytes, when it was cut",
            },
            "dlq_value_truncated": {
                "type": "string",
                "pattern": "^[0-9]+$",
                "description": "The original value's length in bytes, when it was cut",
            },
        },
    }


def example_headers(model: type[EventData], producer: str) -> dict[str, str]:
    """The headers of the example message of ``model`` in the AsyncAPI document."""
    return {
        "ce_specversion": "1.0",
        "ce_id": _EXAMPLE_EVENT_ID,
        "ce_source": producer,
        "ce_type": model.ce_type(),
        "ce_time": "2026-11-23T09:30:00Z",
        "ce_subject": COMPLAINT_ID,
        "ce_dataschema": model.schema_id(),
        "content-type": CONTENT_TYPE,
        "ce_correlationid": _EXAMPLE_CORRELATION_ID,
    }
