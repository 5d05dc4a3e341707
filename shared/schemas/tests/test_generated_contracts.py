"""The committed JSON Schemas and AsyncAPI document are what the generator makes of the models."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from complaint_contracts import generate, topics
from complaint_contracts.events import ALL_EVENTS, EVENTS_BY_TOPIC
from complaint_contracts.examples import example_for
from jsonschema import Draft202012Validator


def test_committed_files_match_the_models() -> None:
    problems = generate.drift()
    assert not problems, (
        "The generated contracts in shared/schemas are out of date with the models. "
        "Run `make schemas` (python -m complaint_contracts.generate) and commit the result:\n  "
        + "\n  ".join(problems)
    )


def test_check_reports_missing_changed_and_stale_files(tmp_path: Path, capsys) -> None:
    assert generate.main(["--check", "--root", str(tmp_path)]) == 1
    assert "missing" in capsys.readouterr().err

    assert generate.main(["--root", str(tmp_path)]) == 0
    assert generate.main(["--check", "--root", str(tmp_path)]) == 0

    changed = tmp_path / generate.JSONSCHEMA_DIR_NAME / ALL_EVENTS[0].schema_file_name()
    changed.write_text(changed.read_text() + " ", encoding="utf-8")
    stale = tmp_path / generate.JSONSCHEMA_DIR_NAME / "complaint.gone.v1.json"
    stale.write_text("{}", encoding="utf-8")
    capsys.readouterr()
    assert generate.main(["--check", "--root", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "make schemas" in err
    assert f"{ALL_EVENTS[0].schema_file_name()}: differs" in err
    assert "complaint.gone.v1.json: not generated" in err

    assert generate.main(["--root", str(tmp_path)]) == 0
    assert not stale.exists()
    assert generate.drift(tmp_path) == []


def test_one_schema_file_per_event_type() -> None:
    files = sorted(p.name for p in (generate.SCHEMAS_DIR / "jsonschema").glob("*.json"))
    assert files == sorted(model.schema_file_name() for model in ALL_EVENTS)


@pytest.mark.parametrize("model", ALL_EVENTS, ids=lambda m: m.event_name)
def test_schema_file_header(model) -> None:
    schema = json.loads(
        (generate.SCHEMAS_DIR / "jsonschema" / model.schema_file_name()).read_text()
    )
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == model.schema_id()
    assert schema["title"] == model.ce_type()
    assert schema["additionalProperties"] is False
    assert "complaint_id" in schema["required"]
    assert schema["description"], "docstrings become the schema description"


@pytest.fixture(scope="module")
def asyncapi() -> dict:
    return yaml.safe_load((generate.SCHEMAS_DIR / "asyncapi.yaml").read_text(encoding="utf-8"))


def test_asyncapi_has_every_topic_as_a_channel(asyncapi: dict) -> None:
    assert asyncapi["asyncapi"] == "3.0.0"
    channels = {c["address"]: c for c in asyncapi["channels"].values()}
    assert set(channels) == {t.name for t in topics.all_topics()}
    for topic in topics.all_topics():
        channel = channels[topic.name]
        assert channel["x-partitions"] == topic.partitions
        assert channel["x-producer"] == topic.producer
        assert channel["bindings"]["kafka"]["partitions"] == topic.partitions
        assert channel["bindings"]["kafka"]["topic"] == topic.name
        assert channel["description"] == topic.description
        if topic in topics.EVENT_TOPICS:
            assert set(channel["messages"]) == {m.__name__ for m in EVENTS_BY_TOPIC[topic.name]}


def test_asyncapi_send_operation_per_topic(asyncapi: dict) -> None:
    by_channel = {op["channel"]["$ref"]: op for op in asyncapi["operations"].values()}
    for channel_id, channel in asyncapi["channels"].items():
        operation = by_channel[f"#/channels/{channel_id}"]
        assert operation["action"] == "send"
        assert operation["tags"] == [{"name": channel["x-producer"]}]
        assert len(operation["messages"]) == len(channel["messages"])


def _resolve(document: dict, schema: dict) -> Draft202012Validator:
    """A validator for a schema that refers into the document's components."""
    return Draft202012Validator({**schema, "components": document["components"]})


@pytest.mark.parametrize("model", ALL_EVENTS, ids=lambda m: m.event_name)
def test_asyncapi_message(asyncapi: dict, model) -> None:
    message = asyncapi["components"]["messages"][model.__name__]
    assert message["title"] == model.ce_type()
    assert message["payload"] == {"$ref": f"#/components/schemas/{model.__name__}"}
    assert message["bindings"]["kafka"]["key"] == {"$ref": "#/components/schemas/ComplaintKey"}
    fixed = message["headers"]["allOf"][1]["properties"]
    assert fixed["ce_type"] == {"const": model.ce_type()}
    assert fixed["ce_dataschema"] == {"const": model.schema_id()}
    # the inlined payload schema accepts the example and the headers schema its headers
    (example,) = message["examples"]
    assert example["payload"] == example_for(model).model_dump(mode="json")
    _resolve(asyncapi, message["payload"]).validate(example["payload"])
    _resolve(asyncapi, message["headers"]).validate(example["headers"])
    key_schema = _resolve(asyncapi, message["bindings"]["kafka"]["key"])
    key_schema.validate(example["headers"]["ce_subject"])


def test_asyncapi_headers_reject_a_wrong_type(asyncapi: dict) -> None:
    message = asyncapi["components"]["messages"]["ComplaintReceived"]
    headers = dict(message["examples"][0]["headers"])
    headers["ce_type"] = "org.opencomplaints.complaint.triaged.v1"
    assert not _resolve(asyncapi, message["headers"]).is_valid(headers)
    del headers["ce_type"]
    assert not _resolve(asyncapi, message["headers"]).is_valid(headers)


def test_readme_lists_every_topic_and_event() -> None:
    readme = (generate.SCHEMAS_DIR / "README.md").read_text(encoding="utf-8")
    for topic in topics.EVENT_TOPICS:
        row = next(line for line in readme.splitlines() if line.startswith(f"| `{topic.name}`"))
        assert f"| {topic.producer} | {topic.partitions} |" in row
        for model in EVENTS_BY_TOPIC[topic.name]:
            assert f"`{model.event_name}`" in row, f"README: {model.event_name} in {topic.name}"
