"""The AsyncAPI 3.0 document of every topic: channels, send operations and messages, with
the event data schemas inlined so that the document stands alone.

``python -m complaint_contracts.generate`` writes it as ``asyncapi.yaml``.
"""

from __future__ import annotations

from typing import Any

from pydantic.json_schema import models_json_schema

from complaint_contracts import topics
from complaint_contracts.base import EventData
from complaint_contracts.envelope import CONTENT_TYPE
from complaint_contracts.events import ALL_EVENTS, EVENTS_BY_TOPIC
from complaint_contracts.events.common import UUID_PATTERN
from complaint_contracts.examples import example_for
from complaint_contracts.record_headers import (
    cloudevent_headers_schema,
    dead_letter_headers_schema,
    example_headers,
)

ASYNCAPI_VERSION = "3.0.0"
DOCUMENT_VERSION = "1.0.0"
KAFKA_BINDING_VERSION = "0.5.0"


def _channel_id(topic: topics.Topic) -> str:
    return topic.name.replace(".", "-")


def _operation_id(topic: topics.Topic) -> str:
    return f"send-{_channel_id(topic)}"


def _message_id(model: type[EventData]) -> str:
    return model.__name__


def _summary(model: type[EventData]) -> str:
    doc = (model.__doc__ or "").strip()
    return " ".join(doc.split("\n\n", 1)[0].split())


def _description(model: type[EventData]) -> str:
    doc = (model.__doc__ or "").strip()
    paragraphs = [" ".join(p.split()) for p in doc.split("\n\n")]
    return "\n\n".join(paragraphs)


def _event_message(model: type[EventData], producer: str) -> dict[str, Any]:
    return {
        "name": f"{model.event_name}.v{model.version}",
        "title": model.ce_type(),
        "summary": _summary(model),
        "description": _description(model),
        "contentType": CONTENT_TYPE,
        "correlationId": {"$ref": "#/components/correlationIds/CloudEventCorrelation"},
        "headers": {
            "allOf": [
                {"$ref": "#/components/schemas/CloudEventHeaders"},
                {
                    "type": "object",
                    "properties": {
                        "ce_type": {"const": model.ce_type()},
                        "ce_source": {"const": producer},
                        "ce_dataschema": {"const": model.schema_id()},
                    },
                },
            ]
        },
        "payload": {"$ref": f"#/components/schemas/{model.__name__}"},
        "bindings": {
            "kafka": {
                "key": {"$ref": "#/components/schemas/ComplaintKey"},
                "bindingVersion": KAFKA_BINDING_VERSION,
            }
        },
        "examples": [
            {
                "name": model.event_name.replace(".", "-"),
                "headers": example_headers(model, producer),
                "payload": example_for(model).model_dump(mode="json"),
            }
        ],
    }


def _dead_letter_message() -> dict[str, Any]:
    return {
        "name": "dead-letter",
        "title": "Dead-lettered record",
        "summary": "A record a consuming service could not process, copied unchanged.",
        "description": (
            "Key, value and headers are the original record's; the consumer adds `dlq_*` "
            "headers with the error and the origin. The value may be anything (that is why "
            "it is here), so no schema is promised."
        ),
        "contentType": "application/octet-stream",
        "headers": {"$ref": "#/components/schemas/DeadLetterHeaders"},
        "payload": {"description": "The original record value, unchanged"},
        "bindings": {
            "kafka": {
                "key": {
                    "type": "string",
                    "description": "The original record key (the complaint id of a valid event)",
                },
                "bindingVersion": KAFKA_BINDING_VERSION,
            }
        },
    }


def _is_dead_letter(topic: topics.Topic) -> bool:
    return topic not in topics.EVENT_TOPICS


def _channel_messages(topic: topics.Topic) -> dict[str, Any]:
    if _is_dead_letter(topic):
        return {"DeadLetter": {"$ref": "#/components/messages/DeadLetter"}}
    return {
        _message_id(model): {"$ref": f"#/components/messages/{_message_id(model)}"}
        for model in EVENTS_BY_TOPIC[topic.name]
    }


def _channel(topic: topics.Topic) -> dict[str, Any]:
    return {
        "address": topic.name,
        "title": topic.name,
        "description": topic.description,
        "messages": _channel_messages(topic),
        "x-producer": topic.producer,
        "x-partitions": topic.partitions,
        "bindings": {
            "kafka": {
                "topic": topic.name,
                "partitions": topic.partitions,
                "bindingVersion": KAFKA_BINDING_VERSION,
            }
        },
    }


def _operation(topic: topics.Topic) -> dict[str, Any]:
    channel = _channel_id(topic)
    what = "dead-letters records it could not process" if _is_dead_letter(topic) else "publishes"
    return {
        "action": "send",
        "channel": {"$ref": f"#/channels/{channel}"},
        "title": f"{topic.producer} sends to {topic.name}",
        "summary": f"{topic.producer} {what} to {topic.name}.",
        "tags": [{"name": topic.producer}],
        "messages": [
            {"$ref": f"#/channels/{channel}/messages/{message}"}
            for message in _channel_messages(topic)
        ],
    }


def asyncapi_document() -> dict[str, Any]:
    """The AsyncAPI 3.0 document of every topic, standing alone (schemas inlined)."""
    _, defs = models_json_schema(
        [(model, "validation") for model in ALL_EVENTS],
        ref_template="#/components/schemas/{model}",
    )
    payload_schemas: dict[str, Any] = dict(sorted(defs.get("$defs", {}).items()))
    missing = [m.__name__ for m in ALL_EVENTS if m.__name__ not in payload_schemas]
    if missing:  # two models with one class name would be renamed by pydantic
        raise RuntimeError(f"event class names must be unique: {missing}")

    all_topics = topics.all_topics()
    messages: dict[str, Any] = {}
    for topic in topics.EVENT_TOPICS:
        for model in EVENTS_BY_TOPIC[topic.name]:
            messages[_message_id(model)] = _event_message(model, topic.producer)
    messages["DeadLetter"] = _dead_letter_message()

    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": "Complaint platform events",
            "version": DOCUMENT_VERSION,
            "description": (
                "Every Kafka topic of the complaint-handling platform. Events are CloudEvents "
                "1.0 in binary mode (`ce_*` headers, JSON data); the record key and "
                "`ce_subject` are the complaint id, so one complaint's events stay in order. "
                "Each topic has exactly one producing service. Generated by "
                "`python -m complaint_contracts.generate` — do not edit by hand."
            ),
            "tags": [{"name": service} for service in topics.SERVICES],
        },
        "defaultContentType": CONTENT_TYPE,
        "channels": {_channel_id(topic): _channel(topic) for topic in all_topics},
        "operations": {_operation_id(topic): _operation(topic) for topic in all_topics},
        "components": {
            "schemas": {
                "ComplaintKey": {
                    "type": "string",
                    "format": "uuid",
                    "pattern": UUID_PATTERN,
                    "description": "Record key: the complaint id (UUIDv7), equal to ce_subject",
                },
                "CloudEventHeaders": cloudevent_headers_schema(),
                "DeadLetterHeaders": dead_letter_headers_schema(),
                **payload_schemas,
            },
            "messages": messages,
            "correlationIds": {
                "CloudEventCorrelation": {
                    "description": "The causal chain an event belongs to",
                    "location": "$message.header#/ce_correlationid",
                }
            },
        },
    }
