"""The envelope: CloudEvents 1.0, Kafka protocol binding, binary content mode."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime

import pytest
from complaint_contracts import envelope, topics
from complaint_contracts.envelope import InvalidEvent, KafkaRecord
from complaint_contracts.events import ComplaintResolved, ComplaintTriaged
from complaint_contracts.examples import COMPLAINT_ID, example_for

CE_TYPE = re.compile(r"^org\.opencomplaints(\.[a-z_]+)+\.v[1-9][0-9]*$")
REQUIRED_HEADERS = {
    "ce_specversion",
    "ce_id",
    "ce_source",
    "ce_type",
    "ce_time",
    "ce_subject",
    "ce_dataschema",
    "content-type",
    "ce_correlationid",
}


def _record(**kwargs) -> tuple[str, KafkaRecord]:
    return envelope.encode(
        example_for(ComplaintTriaged),
        topic=topics.ROUTING.name,
        source=topics.ROUTING.producer,
        subject=COMPLAINT_ID,
        **kwargs,
    )


def _headers(record: KafkaRecord) -> dict[str, str]:
    names = [name for name, _ in record.headers]
    assert len(names) == len(set(names)), "each header once"
    return {name: value.decode("utf-8") for name, value in record.headers}


def test_headers_follow_the_kafka_binary_binding() -> None:
    event_id, record = _record()
    headers = _headers(record)
    assert set(headers) == REQUIRED_HEADERS
    assert all(isinstance(value, bytes) for _, value in record.headers)
    assert headers["ce_specversion"] == "1.0"
    assert str(uuid.UUID(headers["ce_id"])) == headers["ce_id"] == event_id
    assert headers["ce_source"] == "routing"
    assert headers["ce_type"] == "org.opencomplaints.complaint.triaged.v1"
    assert CE_TYPE.match(headers["ce_type"])
    time = datetime.fromisoformat(headers["ce_time"].replace("Z", "+00:00"))
    assert time.tzinfo is not None
    assert abs((datetime.now(UTC) - time).total_seconds()) < 60
    assert headers["ce_subject"] == COMPLAINT_ID
    assert headers["ce_dataschema"] == ComplaintTriaged.schema_id()
    assert headers["content-type"] == "application/json"
    assert headers["ce_correlationid"] == event_id, "a chain starts with its first event"
    assert not any(name.startswith("ce_data") and name != "ce_dataschema" for name in headers)


def test_key_is_the_subject_and_value_is_the_data_as_json() -> None:
    _, record = _record()
    assert record.key == COMPLAINT_ID.encode()
    assert record.topic == topics.ROUTING.name
    assert json.loads(record.value) == example_for(ComplaintTriaged).model_dump(mode="json")


def test_given_ids_and_time_are_kept() -> None:
    given = datetime(2026, 11, 23, 9, 30, 5, tzinfo=UTC)
    event_id, record = _record(
        event_id="11111111-2222-4333-8444-555555555555",
        correlation_id="corr-1",
        causation_id="66666666-7777-4888-8999-000000000000",
        time=given,
    )
    headers = _headers(record)
    assert set(headers) == REQUIRED_HEADERS | {"ce_causationid"}
    assert event_id == headers["ce_id"] == "11111111-2222-4333-8444-555555555555"
    assert headers["ce_correlationid"] == "corr-1"
    assert headers["ce_causationid"] == "66666666-7777-4888-8999-000000000000"
    assert datetime.fromisoformat(headers["ce_time"].replace("Z", "+00:00")) == given

    decoded = envelope.decode(record.key, record.value, list(record.headers))
    assert decoded.id == event_id
    assert decoded.correlation_id == "corr-1"
    assert decoded.causation_id == "66666666-7777-4888-8999-000000000000"
    assert decoded.time == given
    assert decoded.source == "routing"
    assert decoded.type == ComplaintTriaged.ce_type()


def test_decode_without_causation() -> None:
    event_id, record = _record()
    decoded = envelope.decode(record.key, record.value, record.headers)
    assert decoded.causation_id is None
    assert decoded.correlation_id == event_id
    assert decoded.data == example_for(ComplaintTriaged)


def test_decode_accepts_a_record_without_key() -> None:
    _, record = _record()
    assert envelope.decode(None, record.value, record.headers).subject == COMPLAINT_ID


def _replace(headers, name: str, value: bytes | None) -> list[tuple[str, bytes]]:
    out = [(k, v) for k, v in headers if k != name]
    return out if value is None else [*out, (name, value)]


def _garbage() -> dict[str, tuple[bytes | None, bytes | None, list[tuple[str, bytes]]]]:
    _, record = _record()
    key, value, headers = record.key, record.value, list(record.headers)
    other = example_for(ComplaintResolved).model_dump_json().encode()
    return {
        "no headers": (key, value, []),
        "only garbage headers": (key, value, [("x-foo", b"bar")]),
        "tombstone": (key, None, headers),
        "not a CloudEvent at all": (key, b"\x00\xff binary", []),
        "unknown type": (key, value, _replace(headers, "ce_type", b"org.opencomplaints.nope.v9")),
        "unversioned type": (key, value, _replace(headers, "ce_type", b"complaint.triaged")),
        "bad JSON": (key, b'{"complaint_id": ', headers),
        "JSON that is no object": (key, b"[1, 2, 3]", headers),
        "data of another type": (key, other, headers),
        "data missing fields": (
            key,
            b'{"complaint_id": "' + COMPLAINT_ID.encode() + b'"}',
            headers,
        ),
        "data with unknown field": (
            key,
            json.dumps({**json.loads(value), "surprise": True}).encode(),
            headers,
        ),
        "key differs from subject": (b"0195f3c2-0000-7000-8000-000000000000", value, headers),
        "no subject": (key, value, _replace(headers, "ce_subject", None)),
        "no source": (key, value, _replace(headers, "ce_source", None)),
    }


@pytest.mark.parametrize("case", list(_garbage()))
def test_decode_rejects_garbage(case: str) -> None:
    key, value, headers = _garbage()[case]
    with pytest.raises(InvalidEvent):
        envelope.decode(key, value, headers)


def test_decode_rejects_a_missing_id() -> None:
    _, record = _record()
    with pytest.raises(InvalidEvent):
        envelope.decode(record.key, record.value, _replace(record.headers, "ce_id", None))


def test_decode_rejects_another_specversion() -> None:
    _, record = _record()
    with pytest.raises(InvalidEvent):
        envelope.decode(
            record.key, record.value, _replace(record.headers, "ce_specversion", b"0.3")
        )


def test_a_null_header_value_counts_as_absent() -> None:
    """Kafka allows a header without a value: a required one is then missing (poison, dead-
    lettered), never a TypeError out of the consumer; an optional one is just not there."""
    _, record = _record()
    nulled = tuple((name, None if name == "ce_id" else value) for name, value in record.headers)
    with pytest.raises(InvalidEvent, match="ce_id"):
        envelope.decode(record.key, record.value, nulled)
    extra = (*record.headers, ("traceparent", None))
    assert envelope.decode(record.key, record.value, extra).subject == record.key.decode()


# ---- bounds: a record over them is an InvalidEvent, never a failure deeper down ---------


def _decode_with(record: KafkaRecord, **replaced: bytes) -> None:
    headers = [(n, v) for n, v in record.headers if n not in replaced]
    envelope.decode(record.key, record.value, [*headers, *replaced.items()])


@pytest.mark.parametrize(
    ("header", "limit"),
    [
        ("ce_id", envelope.MAX_EVENT_ID_LENGTH),
        ("ce_source", envelope.MAX_SOURCE_LENGTH),
        ("ce_correlationid", envelope.MAX_CAUSAL_ID_LENGTH),
        ("ce_causationid", envelope.MAX_CAUSAL_ID_LENGTH),
    ],
)
def test_attributes_up_to_their_bound_pass_longer_ones_are_invalid(header: str, limit: int) -> None:
    _, record = _record()
    _decode_with(record, **{header: b"x" * limit})
    with pytest.raises(InvalidEvent, match=f"{header} of {limit + 1} characters"):
        _decode_with(record, **{header: b"x" * (limit + 1)})


def test_an_over_long_type_or_subject_is_invalid() -> None:
    _, record = _record()
    with pytest.raises(InvalidEvent, match="ce_type of 121"):
        _decode_with(record, ce_type=b"org.opencomplaints." + b"x" * 102)
    with pytest.raises(InvalidEvent, match="record key of 201 bytes"):
        envelope.decode(b"k" * 201, record.value, list(record.headers))
    with pytest.raises(InvalidEvent, match="ce_subject of 37"):
        headers = [(n, v) for n, v in record.headers if n != "ce_subject"]
        envelope.decode(None, record.value, [*headers, ("ce_subject", b"s" * 37)])


def test_sizes_over_their_bounds_are_invalid() -> None:
    _, record = _record()
    with pytest.raises(InvalidEvent, match="data of"):
        envelope.decode(record.key, b" " * (envelope.MAX_DATA_BYTES + 1), list(record.headers))
    many = [*record.headers, *((f"x-{n}", b"") for n in range(envelope.MAX_HEADERS))]
    with pytest.raises(InvalidEvent, match="headers, more than"):
        envelope.decode(record.key, record.value, many)
    with pytest.raises(InvalidEvent, match="headers of"):
        _decode_with(record, **{"x-big": b"x" * envelope.MAX_HEADER_BYTES})


@pytest.mark.parametrize(
    "headers",
    [[("ce_id", "text")], [("ce_id",)], [None], [("ce_id", 3.5)]],
    ids=["str-value", "no-value", "none", "float"],
)
def test_headers_that_are_no_name_bytes_pairs_are_invalid(headers: list[object]) -> None:
    _, record = _record()
    with pytest.raises(InvalidEvent):
        envelope.decode(record.key, record.value, [*record.headers, *headers])
