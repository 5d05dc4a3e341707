"""Generate the published contracts: a JSON Schema per event data type and the AsyncAPI 3.0
document of every topic.

    python -m complaint_contracts.generate           # write the files
    python -m complaint_contracts.generate --check   # exit 1 and list files that drifted

Output goes to the ``shared/schemas`` folder of the repository: ``jsonschema/`` and
``asyncapi.yaml``. The files are committed; a test fails when they drift from the models.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic.json_schema import models_json_schema

from complaint_contracts import topics
from complaint_contracts.base import TYPE_PREFIX, EventData
from complaint_contracts.envelope import CONTENT_TYPE
from complaint_contracts.events import ALL_EVENTS, EVENTS_BY_TOPIC
from complaint_contracts.events.common import UUID_PATTERN
from complaint_contracts.examples import COMPLAINT_ID, example_for

DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"
ASYNCAPI_VERSION = "3.0.0"
DOCUMENT_VERSION = "1.0.0"
KAFKA_BINDING_VERSION = "0.5.0"
SCHEMAS_DIR = Path(__file__).resolve().parents[2]
"""``shared/schemas`` (the package is installed editable from the workspace)."""
JSONSCHEMA_DIR_NAME = "jsonschema"
ASYNCAPI_FILE_NAME = "asyncapi.yaml"

_EXAMPLE_EVENT_ID = "7d3e4f5a-1b2c-4d8e-9f0a-1b2c3d4e5f60"
_EXAMPLE_CORRELATION_ID = "3c1d2e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f"


# --- JSON Schemas -----------------------------------------------------------------------


def json_schema(model: type[EventData]) -> dict[str, Any]:
    """The published JSON Schema (draft 2020-12) of one event data type."""
    schema = model.model_json_schema()
    schema.pop("title", None)
    return {"$schema": DRAFT_2020_12, "$id": model.schema_id(), "title": model.ce_type(), **schema}


def _json_text(document: Mapping[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


# --- AsyncAPI ---------------------------------------------------------------------------


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


def _cloudevent_headers_schema() -> dict[str, Any]:
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
            "ce_id": {**uuid, "description": "Unique id of the event (UUID)"},
            "ce_source": {
                "type": "string",
                "enum": list(topics.SERVICES),
                "description": "The producing service; always the producer of the topic",
            },
            "ce_type": {
                "type": "string",
                "pattern": "^" + TYPE_PREFIX.replace(".", r"\.") + r"(\.[a-z_]+)+\.v[1-9][0-9]*$",
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
                "description": (
                    "Id shared by every event of one causal chain (the first event's ce_id)"
                ),
            },
            "ce_causationid": {
                "type": "string",
                "description": "ce_id of the event that caused this one, if any",
            },
        },
    }


def _dead_letter_headers_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "description": (
            "The original record's headers, unchanged (`ce_*` when it had them), plus the "
            "consuming service's error and the record's origin."
        ),
        "required": [
            "dlq_error",
            "dlq_original_topic",
            "dlq_original_partition",
            "dlq_original_offset",
            "dlq_consumer_group",
        ],
        "properties": {
            "dlq_error": {"type": "string", "description": "Why the record was dead-lettered"},
            "dlq_original_topic": {"type": "string"},
            "dlq_original_partition": {"type": "string", "pattern": "^[0-9]+$"},
            "dlq_original_offset": {"type": "string", "pattern": "^[0-9]+$"},
            "dlq_consumer_group": {"type": "string"},
        },
    }


def _example_headers(model: type[EventData], producer: str) -> dict[str, str]:
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
                "headers": _example_headers(model, producer),
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
                "CloudEventHeaders": _cloudevent_headers_schema(),
                "DeadLetterHeaders": _dead_letter_headers_schema(),
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


class _Dumper(yaml.SafeDumper):
    """Block-style YAML that keeps long strings on one line and never uses anchors."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _represent_str)


def _yaml_text(document: Mapping[str, Any]) -> str:
    header = (
        "# Generated by `python -m complaint_contracts.generate` (make schemas).\n"
        "# Do not edit: change the models in complaint_contracts.events and regenerate.\n"
    )
    body = yaml.dump(
        document,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=10_000,
    )
    return header + body


# --- files ------------------------------------------------------------------------------


def expected_files(root: Path = SCHEMAS_DIR) -> dict[Path, str]:
    """Every generated file (absolute path) with the content it must have."""
    files = {
        root / JSONSCHEMA_DIR_NAME / model.schema_file_name(): _json_text(json_schema(model))
        for model in ALL_EVENTS
    }
    files[root / ASYNCAPI_FILE_NAME] = _yaml_text(asyncapi_document())
    return files


def drift(root: Path = SCHEMAS_DIR) -> list[str]:
    """Generated files that are missing, differ, or should not be there (relative paths)."""
    expected = expected_files(root)
    problems = [
        f"{path.relative_to(root)}: {'differs' if path.exists() else 'missing'}"
        for path, text in expected.items()
        if not path.exists() or path.read_text(encoding="utf-8") != text
    ]
    schema_dir = root / JSONSCHEMA_DIR_NAME
    if schema_dir.is_dir():
        problems += [
            f"{path.relative_to(root)}: not generated (stale)"
            for path in sorted(schema_dir.glob("*.json"))
            if path not in expected
        ]
    return problems


def write(root: Path = SCHEMAS_DIR) -> list[Path]:
    """Write every generated file, remove stale schemas; returns the files changed."""
    expected = expected_files(root)
    changed: list[Path] = []
    for path, text in expected.items():
        if path.exists() and path.read_text(encoding="utf-8") == text:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        changed.append(path)
    for path in sorted((root / JSONSCHEMA_DIR_NAME).glob("*.json")):
        if path not in expected:
            path.unlink()
            changed.append(path)
    return changed


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m complaint_contracts.generate", description=(__doc__ or "").split("\n\n")[0]
    )
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if the files differ from the models"
    )
    parser.add_argument(
        "--root", type=Path, default=SCHEMAS_DIR, help="output folder (default: %(default)s)"
    )
    args = parser.parse_args(list(argv) if argv is not None else None)
    root: Path = args.root.resolve()
    if args.check:
        problems = drift(root)
        if problems:
            print("Generated contracts are out of date (run `make schemas`):", file=sys.stderr)
            for problem in problems:
                print(f"  {problem}", file=sys.stderr)
            return 1
        print(f"{len(expected_files(root))} generated files up to date")
        return 0
    changed = write(root)
    for path in changed:
        print(f"wrote {path.relative_to(root) if path.is_relative_to(root) else path}")
    print(f"{len(changed)} file(s) changed, {len(expected_files(root))} generated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
