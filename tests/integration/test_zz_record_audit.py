"""Every record the suite made the services produce is a valid platform CloudEvent, keyed by
its subject, whose data validates against its published JSON Schema, and no record or log
line carries a raw phone number or e-mail address."""

from __future__ import annotations

import json

import pytest
from complaint_contracts.envelope import decode
from complaint_contracts.privacy import find_contacts
from complaint_contracts.topics import EVENT_TOPICS
from harness import ROOT
from jsonschema import Draft202012Validator
from kafka_tools import POISON_HEADER, header, read_all

from conftest import Platform

pytestmark = pytest.mark.audit_last

SCHEMAS = ROOT / "shared" / "schemas" / "jsonschema"


def _validators() -> dict[str, Draft202012Validator]:
    validators = {}
    for path in SCHEMAS.glob("*.json"):
        schema = json.loads(path.read_text())
        validators[schema["$id"]] = Draft202012Validator(schema)
    return validators


def test_every_record_is_a_valid_event_without_personal_data(platform: Platform) -> None:
    validators = _validators()
    checked = 0
    problems: list[str] = []
    for topic in EVENT_TOPICS:
        for record in read_all(platform.bootstrap_servers, topic.name):
            if header(record, POISON_HEADER):
                continue
            where = f"{topic.name}/{record.partition}@{record.offset}"
            envelope = decode(record.key, record.value, list(record.headers))
            if record.key.decode() != envelope.subject:
                problems.append(f"{where}: key differs from subject")
            if envelope.source != topic.producer:
                problems.append(f"{where}: produced by {envelope.source}, not {topic.producer}")
            schema_id = header(record, "ce_dataschema") or ""
            validator = validators.get(schema_id)
            if validator is None:
                problems.append(f"{where}: no published schema {schema_id}")
            else:
                for error in validator.iter_errors(json.loads(record.value)):
                    problems.append(f"{where}: {error.message}")
            text = record.value.decode() + "".join(bytes(v).decode() for _, v in record.headers)
            if found := find_contacts(text):
                problems.append(f"{where}: raw contact data {found}")
            checked += 1
    assert checked > 100, f"only {checked} records were produced: is the suite running?"
    assert not problems, problems[:20]


def test_no_log_line_carries_personal_data(platform: Platform) -> None:
    lines = 0
    for service in platform.services.values():
        for line in service.log_text().splitlines():
            lines += 1
            assert not find_contacts(line), f"{service.name} logged contact data: {line[:300]}"
    assert lines > 0
