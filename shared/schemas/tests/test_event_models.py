"""Every event data model: frozen, strict, documented, on the wire and back, schema-valid."""

from __future__ import annotations

import inspect
import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from complaint_contracts import envelope, events, generate, topics
from complaint_contracts.base import EventData
from complaint_contracts.events import (
    ALL_EVENTS,
    EVENTS_BY_TOPIC,
    feedback,
    intake,
    notify,
    routing,
    sla,
    topic_for,
)
from complaint_contracts.examples import COMPLAINT_ID, EXAMPLES, example_for
from complaint_contracts.privacy import find_contacts
from complaint_contracts.registry import model_for_type
from jsonschema import Draft202012Validator
from pydantic import BaseModel, ValidationError

MODULES = (intake, routing, sla, feedback, notify)
NESTED_MODELS = tuple(
    obj
    for module in MODULES
    for obj in vars(module).values()
    if inspect.isclass(obj)
    and issubclass(obj, BaseModel)
    and not issubclass(obj, EventData)
    and obj.__module__ == module.__name__
)
by_name = pytest.mark.parametrize("model", ALL_EVENTS, ids=lambda m: m.event_name)

# String fields that may hold anything shaped like a phone number or an e-mail address:
# identifiers made by the platform or references whose format is not ours to police.
# Every other string field must reject raw contacts (§10); add a field here only if it
# cannot carry personal data.
IDENTIFIER_FIELDS = {
    "reference",
    "order_ref",
    "customer_ref",
    "subcategory",
    "old_subcategory",
    "new_subcategory",
    "team",
    "assignee",
    "owner",
    "previous_team",
    "previous_assignee",
    "message_id",
    "in_reply_to",
    "erasure_id",
    "request_id",
    "clock_id",
    "calendar_id",
    "policy_id",
    "notification_id",
    "template",
    "cause_event_id",
    "cause_event_type",
    "evidence_event_id",
    "confirmation_request_id",
    "media_type",
    "rule",
}
RAW_PHONE = "请回电13812345678"


def test_every_model_is_in_exactly_one_topic() -> None:
    assert set(EVENTS_BY_TOPIC) == {t.name for t in topics.EVENT_TOPICS}
    assert len(ALL_EVENTS) == len(set(ALL_EVENTS))
    declared = {
        obj
        for module in MODULES
        for obj in vars(module).values()
        if inspect.isclass(obj)
        and issubclass(obj, EventData)
        and getattr(obj, "event_name", None)  # not a base such as ErasureCompleted
    }
    assert declared == set(ALL_EVENTS)
    assert set(EXAMPLES) == set(ALL_EVENTS)
    for name in events.__all__:
        assert hasattr(events, name)
    assert {m.__name__ for m in ALL_EVENTS} <= set(events.__all__)


def test_types_are_unique_and_registered() -> None:
    types = [m.ce_type() for m in ALL_EVENTS]
    assert len(types) == len(set(types))
    for model in ALL_EVENTS:
        assert model_for_type(model.ce_type()) is model


@by_name
def test_name_version_and_docs(model: type[EventData]) -> None:
    assert re.fullmatch(
        r"(complaint|case|sla|feedback|notification|nps)\.[a-z_]+", model.event_name
    )
    assert model.version == 1
    assert model.ce_type() == f"org.opencomplaints.{model.event_name}.v1"
    assert "__doc__" in vars(model), "docstrings end up in the JSON Schema"
    assert model.__doc__
    assert "complaint_id" in model.model_fields
    assert model.model_fields["complaint_id"].is_required()


@pytest.mark.parametrize("model", NESTED_MODELS, ids=lambda m: m.__name__)
def test_nested_models_are_frozen_strict_and_documented(model: type[BaseModel]) -> None:
    assert model.model_config.get("frozen") is True
    assert model.model_config.get("extra") == "forbid"
    assert "__doc__" in vars(model)
    assert model.__doc__


@by_name
def test_frozen(model: type[EventData]) -> None:
    event = example_for(model)
    with pytest.raises(ValidationError, match="frozen"):
        event.complaint_id = "0195f3c2-0000-7000-8000-000000000000"  # type: ignore[misc]


@by_name
def test_rejects_unknown_fields(model: type[EventData]) -> None:
    data = example_for(model).model_dump(mode="json")
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        model.model_validate({**data, "surprise": 1})


@by_name
def test_rejects_a_complaint_id_that_is_not_a_uuid(model: type[EventData]) -> None:
    data = example_for(model).model_dump(mode="json")
    with pytest.raises(ValidationError):
        model.model_validate({**data, "complaint_id": "C-20261123-000042"})


@by_name
def test_round_trip_through_the_envelope(model: type[EventData]) -> None:
    event = example_for(model)
    topic = topics.topic_by_name(topic_for(model))
    event_id, record = envelope.encode(
        event, topic=topic.name, source=topic.producer, subject=event.complaint_id
    )
    assert record.topic == topic.name
    decoded = envelope.decode(record.key, record.value, list(record.headers))
    assert decoded.data == event
    assert type(decoded.data) is model
    assert decoded.id == event_id
    assert decoded.type == model.ce_type()
    assert decoded.source == topic.producer
    assert decoded.subject == event.complaint_id == COMPLAINT_ID


def _schema_validator(model: type[EventData]) -> Draft202012Validator:
    path = generate.SCHEMAS_DIR / "jsonschema" / model.schema_file_name()
    schema = json.loads(path.read_text(encoding="utf-8"))
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


@by_name
def test_json_validates_against_the_generated_schema(model: type[EventData]) -> None:
    validator = _schema_validator(model)
    document = json.loads(example_for(model).model_dump_json())
    errors = [e.message for e in validator.iter_errors(document)]
    assert not errors, errors
    # and with every optional field left out (defaults) where the model allows it
    required = {name: document[name] for name, f in model.model_fields.items() if f.is_required()}
    try:
        minimal = model.model_validate(required)
    except ValidationError:  # a cross-field rule needs an optional field (closure guard)
        return
    validator.validate(json.loads(minimal.model_dump_json()))


@by_name
def test_the_schema_rejects_what_the_model_rejects(model: type[EventData]) -> None:
    validator = _schema_validator(model)
    document = example_for(model).model_dump(mode="json")
    assert not validator.is_valid({**document, "surprise": 1})
    assert not validator.is_valid({k: v for k, v in document.items() if k != "complaint_id"})
    assert not validator.is_valid({**document, "complaint_id": "not-a-uuid"})


def _string_leaves(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, str):
        return [path]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _string_leaves(v, (*path, k))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _string_leaves(v, (*path, i))]
    return []


def _replaced(value: Any, path: tuple[Any, ...], new: str) -> Any:
    if not path:
        return new
    head, *rest = path
    if isinstance(value, dict):
        return {**value, head: _replaced(value[head], tuple(rest), new)}
    return [_replaced(v, tuple(rest), new) if i == head else v for i, v in enumerate(value)]


@by_name
def test_no_raw_contacts_in_examples(model: type[EventData]) -> None:
    assert find_contacts(example_for(model).model_dump_json()) == []


@by_name
def test_free_text_fields_reject_raw_contacts(model: type[EventData]) -> None:
    """Every string field rejects a raw phone number, unless it is a known identifier."""
    document = example_for(model).model_dump(mode="json")
    accepted = []
    for path in _string_leaves(document):
        try:
            model.model_validate(_replaced(document, path, RAW_PHONE))
        except ValidationError:
            continue
        field = next((p for p in reversed(path) if isinstance(p, str)), "")
        if field not in IDENTIFIER_FIELDS:
            accepted.append(".".join(map(str, path)))
    assert not accepted, f"fields accept a raw phone number: {accepted}"


def test_metadata_keys_and_values_reject_raw_contacts() -> None:
    data = example_for(events.ComplaintReceived).model_dump(mode="json")
    for metadata in ({"phone": "13812345678"}, {"zhang.wei@example.com": "x"}):
        with pytest.raises(ValidationError, match="raw phone number or e-mail"):
            events.ComplaintReceived.model_validate({**data, "metadata": metadata})


def test_customer_view_takes_only_masked_contacts() -> None:
    view = events.CustomerView(
        customer_ref="cr_1", masked_phone="138****5678", masked_email="z***@example.com"
    )
    assert view.masked_phone == "138****5678"
    with pytest.raises(ValidationError):
        events.CustomerView(customer_ref="cr_1", masked_phone="13812345678")
    with pytest.raises(ValidationError):
        events.CustomerView(customer_ref="cr_1", masked_email="zhang.wei@example.com")
    with pytest.raises(ValidationError):
        events.CustomerView(customer_ref="cr_1", external_ref="zhang.wei@example.com")


def test_contacts_corrected_takes_only_masked_contacts_and_names_no_values() -> None:
    data = example_for(events.ComplaintContactsCorrected).model_dump(mode="json")
    assert events.ComplaintContactsCorrected.model_validate(
        {**data, "masked_phone": None, "masked_email": None, "preferred_channel": None}
    )
    for raw in (
        {"masked_phone": "13900001111"},
        {"masked_phone": "+86 139 0000 1111"},
        {"masked_email": "zhang.wei@example.com"},
        {"actor": "zhang.wei@example.com"},
        {"corrected": []},  # a correction that changed nothing is not an event
        {"corrected": ["13900001111"]},  # field names, never values
        {"corrected": ["tier"]},  # not a contact field
    ):
        with pytest.raises(ValidationError):
            events.ComplaintContactsCorrected.model_validate({**data, **raw})


def test_contacts_corrected_carries_identity_keys_as_received_does() -> None:
    data = example_for(events.ComplaintContactsCorrected).model_dump(mode="json")
    assert data["identity_keys"]
    # v1 without the field (an event from before it) still reads: no keys, none changed.
    del data["identity_keys"]
    assert events.ComplaintContactsCorrected.model_validate(data).identity_keys == ()
    for keys in (
        ["phone:13900001111"],  # a raw number, not a keyed hash
        ["zhang.wei@example.com"],
        ["ref:cus_" + "a" * 32],  # the customer reference is not an identity key
        ["id:" + "a" * 32, "phone:" + "b" * 32, "email:" + "c" * 32, "phone:" + "d" * 32],
    ):
        with pytest.raises(ValidationError):
            events.ComplaintContactsCorrected.model_validate({**data, "identity_keys": keys})


def test_actor_is_never_an_email_address() -> None:
    data = example_for(events.ComplaintResolved).model_dump(mode="json")
    with pytest.raises(ValidationError):
        events.ComplaintResolved.model_validate({**data, "actor": "zhang.wei@example.com"})
    with pytest.raises(ValidationError):
        events.ComplaintResolved.model_validate({**data, "actor": ""})


def test_resolution_needs_solution_type_and_root_cause() -> None:
    data = example_for(events.ComplaintResolved).model_dump(mode="json")
    for field in ("solution_summary", "solution_type", "root_cause"):
        with pytest.raises(ValidationError):
            events.ComplaintResolved.model_validate({k: v for k, v in data.items() if k != field})
    with pytest.raises(ValidationError):
        events.ComplaintResolved.model_validate({**data, "root_cause": ""})
    with pytest.raises(ValidationError):
        events.ComplaintResolved.model_validate({**data, "solution_type": "magic"})


@pytest.mark.parametrize("reason", ["confirmed", "auto_closed"])
def test_closure_guard(reason: str) -> None:
    data = example_for(events.ComplaintClosed).model_dump(mode="json")
    bare = {**data, "reason": reason, "evidence_event_id": None}
    with pytest.raises(ValidationError, match="evidence_event_id"):
        events.ComplaintClosed.model_validate(bare)
    assert not _schema_validator(events.ComplaintClosed).is_valid(bare)
    withdrawn = {**data, "reason": "withdrawn", "evidence_event_id": None}
    events.ComplaintClosed.model_validate(withdrawn)
    _schema_validator(events.ComplaintClosed).validate(withdrawn)


def test_escalation_levels() -> None:
    data = example_for(events.ComplaintEscalated).model_dump(mode="json")
    with pytest.raises(ValidationError):
        events.ComplaintEscalated.model_validate({**data, "level": 4})
    with pytest.raises(ValidationError, match="change the level"):
        events.ComplaintEscalated.model_validate({**data, "previous_level": data["level"]})


def test_csat_is_one_to_five() -> None:
    data = example_for(events.ComplaintReopened).model_dump(mode="json")
    for csat in (0, 6):
        with pytest.raises(ValidationError):
            events.ComplaintReopened.model_validate({**data, "csat": csat})


def test_timestamps_need_an_offset() -> None:
    data = example_for(events.SlaClockStarted).model_dump(mode="json")
    with pytest.raises(ValidationError):
        events.SlaClockStarted.model_validate({**data, "due_at": "2026-11-24T09:30:00"})
    naive = datetime(2026, 11, 24, 9, 30)
    with pytest.raises(ValidationError):
        events.SlaClockStarted.model_validate({**data, "due_at": naive})
    aware = events.SlaClockStarted.model_validate({**data, "due_at": naive.replace(tzinfo=UTC)})
    assert aware.due_at.tzinfo is not None


def test_attachments_are_bounded() -> None:
    data = example_for(events.ComplaintReceived).model_dump(mode="json")
    attachment = data["attachments"][0]
    events.ComplaintReceived.model_validate({**data, "attachments": [attachment] * 10})
    with pytest.raises(ValidationError):
        events.ComplaintReceived.model_validate({**data, "attachments": [attachment] * 11})
