"""The envelope codec against the cloudevents SDK, its oracle.

``envelope`` builds and parses Kafka records directly (the SDK's event objects cost too much
CPU on every record). These properties pin it to what the SDK's Kafka binding with its JSON
format did before: ``encode`` gives exactly the SDK's bytes, and ``decode`` accepts and
rejects exactly the records the SDK-based decode did, with the same values. The SDK-based
codec lives only here, as ``_sdk_encode`` / ``_sdk_decode`` (the module as it was).
"""

from __future__ import annotations

import json
import types
import typing
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from cloudevents.core.bindings import kafka as ce_kafka
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent
from complaint_contracts import envelope, topics
from complaint_contracts.base import EventData
from complaint_contracts.envelope import Envelope, InvalidEvent, KafkaRecord
from complaint_contracts.events import ALL_EVENTS, TOPIC_BY_EVENT, ComplaintReceived
from complaint_contracts.examples import COMPLAINT_ID, example_for
from complaint_contracts.registry import model_for_type
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

# ---- the oracle: the SDK-based codec, as envelope.py had it ----------------------------

_FORMAT = JSONFormat()


def _sdk_encode(
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
    ce_id = event_id or str(uuid.uuid4())
    attributes: dict[str, Any] = {
        "id": ce_id,
        "source": source,
        "type": data.ce_type(),
        "subject": subject,
        "time": time or datetime.now(UTC),
        "datacontenttype": envelope.CONTENT_TYPE,
        "dataschema": data.schema_id(),
        "correlationid": correlation_id or ce_id,
    }
    if causation_id:
        attributes["causationid"] = causation_id
    event = CloudEvent(attributes, data.model_dump(mode="json"))
    message = ce_kafka.to_binary(event, _FORMAT, key_mapper=lambda e: e.get_subject())
    headers = tuple(sorted(message.headers.items()))
    return ce_id, KafkaRecord(topic, subject.encode(), message.value, headers)


def _sdk_decode(key: bytes | None, value: bytes | None, headers: Any) -> Envelope:
    if value is None:
        raise InvalidEvent("record has no value (tombstone)")
    header_map = {name: bytes(raw) for name, raw in headers}
    _platform_sizes(key, value, headers, header_map)
    missing = [name for name in envelope.REQUIRED_HEADERS if not header_map.get(name)]
    if missing:
        raise InvalidEvent(f"missing CloudEvents headers: {', '.join(missing)}")
    if header_map["ce_specversion"] != b"1.0":
        raise InvalidEvent(f"unsupported ce_specversion {header_map['ce_specversion']!r}")
    try:
        event = ce_kafka.from_binary(
            ce_kafka.KafkaMessage(headers=header_map, key=key, value=value), _FORMAT
        )
    except Exception as exc:
        raise InvalidEvent(f"not a CloudEvent in binary mode: {exc}") from exc
    _platform_lengths(event)
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


def _platform_sizes(
    key: bytes | None, value: bytes, headers: Any, header_map: dict[str, bytes]
) -> None:
    """The platform's bounds on top of the SDK (written here apart from envelope.py's)."""
    header_bytes = sum(len(name) + len(raw) for name, raw in header_map.items())
    if (
        len(value) > envelope.MAX_DATA_BYTES
        or (key is not None and len(key) > envelope.MAX_KEY_BYTES)
        or len(headers) > envelope.MAX_HEADERS
        or header_bytes > envelope.MAX_HEADER_BYTES
    ):
        raise InvalidEvent("over a bound")


def _platform_lengths(event: CloudEvent) -> None:
    limits = [
        (event.get_id(), envelope.MAX_EVENT_ID_LENGTH),
        (event.get_source(), envelope.MAX_SOURCE_LENGTH),
        (event.get_type(), envelope.MAX_TYPE_LENGTH),
        (event.get_subject(), envelope.MAX_SUBJECT_LENGTH),
        (event.get_extension("correlationid"), envelope.MAX_CAUSAL_ID_LENGTH),
        (event.get_extension("causationid"), envelope.MAX_CAUSAL_ID_LENGTH),
    ]
    if any(isinstance(text, str) and len(text) > limit for text, limit in limits):
        raise InvalidEvent("an attribute over its bound")


# ---- strategies -------------------------------------------------------------------------

# Text that has broken JSON and header codecs before: CJK, emoji (surrogate pairs in
# \u escapes), quotes, backslashes, control characters, line and paragraph separators, BOM.
_TRICKY = "投诉客服退款快递😡🎉👍🏽\"'\\/\n\r\t\x00\x1f\x7f\u2028\u2029\ufeff\u00e9\u0130K"
tricky_text = st.text(
    alphabet=st.one_of(st.sampled_from(_TRICKY), st.characters(codec="utf-8")), max_size=30
)
# Data strings may even hold lone surrogates (json escapes them; the codecs must agree).
data_text = st.one_of(
    tricky_text, st.text(alphabet=st.characters(categories=["Cs", "Lo"]), max_size=5)
)
times = st.datetimes(
    min_value=datetime(1, 1, 2),
    max_value=datetime(9999, 12, 30),
    timezones=st.one_of(
        st.just(UTC),
        st.integers(-23 * 60, 23 * 60).map(lambda minutes: timezone(timedelta(minutes=minutes))),
        # Offsets with seconds: isoformat writes them, and both decoders must agree on them.
        st.builds(
            timezone,
            st.timedeltas(min_value=timedelta(hours=-23), max_value=timedelta(hours=23)),
        ),
    ),
)
_REGISTERED = sorted(ALL_EVENTS, key=lambda model: model.ce_type())


def _is_free_text(annotation: Any) -> bool:
    """str, optional or not, constrained or not, but no Literal: any string serialises."""
    if annotation is str:
        return True
    if typing.get_origin(annotation) is typing.Annotated:
        return _is_free_text(typing.get_args(annotation)[0])
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        return all(_is_free_text(arg) for arg in args)
    return False


def _replacement(draw: st.DrawFn, annotation: Any, value: Any) -> Any:
    """A new value of the field's kind, or the old one; nested models are varied in turn."""
    if isinstance(value, BaseModel):
        return _varied(draw, value)
    if isinstance(value, tuple) and value and isinstance(value[0], BaseModel):
        return tuple(_varied(draw, item) for item in value)
    if not draw(st.booleans()):
        return value
    if _is_free_text(annotation):
        return draw(data_text)
    if annotation in (float, float | None):
        return draw(st.floats())
    if annotation in (int, int | None) and type(value) is int:
        return draw(st.integers())
    if isinstance(value, dict):
        return draw(st.dictionaries(data_text, data_text, max_size=3))
    return value


def _varied(draw: st.DrawFn, model: BaseModel) -> BaseModel:
    """The example with tricky strings and numbers (unvalidated: encode takes what it gets)."""
    updates = {
        name: _replacement(draw, field.annotation, getattr(model, name))
        for name, field in type(model).model_fields.items()
    }
    return model.model_copy(update=updates)


@st.composite
def event_data(draw: st.DrawFn) -> EventData:
    model = draw(st.sampled_from(_REGISTERED))
    if draw(st.booleans()):
        return example_for(model)  # valid data: decode then gets past the data checks
    varied = _varied(draw, example_for(model))
    assert isinstance(varied, EventData)
    return varied


@st.composite
def encode_arguments(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "source": draw(st.one_of(st.sampled_from(topics.SERVICES), tricky_text)),
        "subject": draw(st.one_of(st.just(COMPLAINT_ID), tricky_text)),
        "correlation_id": draw(st.one_of(st.none(), tricky_text)),
        "causation_id": draw(st.one_of(st.none(), tricky_text)),
        "event_id": draw(st.one_of(st.none(), st.just(""), tricky_text)),
        # Naive times: both codecs must refuse them.
        "time": draw(st.one_of(st.none(), times, st.datetimes())),
    }


# ---- encode gives the SDK's bytes ---------------------------------------------------------


def _fields(record: KafkaRecord) -> tuple[str, bytes, bytes, tuple[tuple[str, bytes], ...]]:
    return record.topic, record.key, record.value, record.headers


def _encode_or_error(
    encode: Callable[..., tuple[str, KafkaRecord]], data: EventData, arguments: dict[str, Any]
) -> tuple[str, KafkaRecord] | Exception:
    try:
        return encode(data, topic=TOPIC_BY_EVENT[type(data)], **arguments)
    except Exception as exc:
        return exc


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=event_data(), arguments=encode_arguments())
def test_encode_gives_the_sdk_bytes(data: EventData, arguments: dict[str, Any]) -> None:
    ours = _encode_or_error(envelope.encode, data, arguments)
    if isinstance(ours, Exception):
        assert isinstance(_encode_or_error(_sdk_encode, data, arguments), Exception)
        return
    event_id, record = ours
    headers = dict(record.headers)
    # A generated id and time are the SDK's too once given to it explicitly.
    pinned = {
        **arguments,
        "event_id": event_id,
        "time": arguments["time"] or datetime.fromisoformat(headers["ce_time"].decode()),
    }
    sdk_id, sdk_record = _sdk_encode(data, topic=TOPIC_BY_EVENT[type(data)], **pinned)
    assert event_id == sdk_id == headers["ce_id"].decode()
    assert _fields(record) == _fields(sdk_record)
    if not arguments["event_id"]:
        assert uuid.UUID(event_id).version == 4


def test_encode_writes_chinese_and_emoji_as_the_sdk_does() -> None:
    data = example_for(ComplaintReceived).model_copy(
        update={"description": '快递三天没到 😡 "急"\\', "metadata": {"渠道": "微信"}}
    )
    arguments: dict[str, Any] = {
        "source": "intake",
        "subject": COMPLAINT_ID,
        "event_id": "11111111-2222-4333-8444-555555555555",
        "time": datetime(2026, 11, 23, 9, 30, 5, 120, tzinfo=timezone(timedelta(hours=8))),
    }
    _, record = envelope.encode(data, topic=topics.INTAKE.name, **arguments)
    _, sdk_record = _sdk_encode(data, topic=topics.INTAKE.name, **arguments)
    assert _fields(record) == _fields(sdk_record)
    assert b'"\\u5feb\\u9012' in record.value, "ASCII escapes, as json.dumps writes them"
    assert b"\\ud83d\\ude21" in record.value, "an emoji as a surrogate pair"
    assert dict(record.headers)["ce_time"] == b"2026-11-23T09:30:05.000120+08:00"


# ---- decode agrees with the SDK-based decode ----------------------------------------------

Headers = list[tuple[Any, Any]]
Record = tuple[bytes | None, bytes | None, Headers]
Mutation = Callable[[Record], Record]

_HEADER_NAMES = (
    "ce_id",
    "ce_source",
    "ce_type",
    "ce_time",
    "ce_subject",
    "ce_specversion",
    "ce_dataschema",
    "ce_correlationid",
    "ce_causationid",
    "content-type",
    "CE_ID",
    "Ce_Type",
    "CE_TIME",
    "CE_SUBJECT",
    "CE_SPECVERSION",
    "Content-Type",
    "ce_data",
    "ce_",
    "ce_foo-bar",
    "ce_Extra",
    "ce_extra",
    "ce_extra\n",
    "ce_partitionkey",
    "CE_\u212a",  # Kelvin sign: lower() makes it an ASCII "k"
    "ce_\u0130d",
    "x-trace",
    "dlq_error",
)
_ODD_TIMES = (
    "20261123T093005Z",
    "2026-11-23",
    "2026-11-23T09:30Z",
    "2026-11-23T09Z",
    "2026-11-23T09:30:05,5Z",
    "2026-11-23T09:30:05.123Z",
    "2026-11-23T09:30:05.1234567Z",
    "2026-11-23T24:00:00Z",
    "2026-11-23T24:00:00.000000Z",
    "2026-W48-1T09:30:05Z",
    "2026-11-23 09:30:05Z",
    "2026-11-23T09:30:05",
    "2026-11-23T09:30:05+08",
    "2026-11-23T09:30:05+0800",
    "2026-11-23T09:30:05-00:00",
    "2026-11-23T09:30:05+24:00",
    "2026-11-23T09:30:05+08:60",
    "2026-11-23T09:30:60Z",
    "2026-02-29T09:30:05Z",
    "2024-02-29T09:30:05Z",
    "0000-01-01T00:00:00Z",
    "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59.999999-01:00",
    "2026-11-23T09:30:05Z\n",
    " 2026-11-23T09:30:05Z",
    "\uff12\uff10\uff12\uff16-11-23T09:30:05Z",
    "2026-11-23T09:30:05.\u0663\u0663\u0663\u0663\u0663\u0663Z",
    "",
)
written_shape_times = st.builds(
    "{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}{}{}".format,
    st.integers(0, 9999),
    st.integers(0, 13),
    st.integers(0, 32),
    st.integers(0, 24),
    st.integers(0, 60),
    st.integers(0, 60),
    st.one_of(st.just(""), st.integers(0, 999999).map(".{:06d}".format)),
    st.sampled_from(("Z", "+00:00", "-00:00", "+08:00", "-05:30", "+23:59", "-23:59", "+24:00")),
)
time_texts = st.one_of(
    written_shape_times, times.map(envelope._rfc3339), st.sampled_from(_ODD_TIMES), tricky_text
)
header_values = st.one_of(
    st.sampled_from((b"", b" ", b"\xff\xfe", b"1.0", b"0.3", COMPLAINT_ID.encode())),
    tricky_text.map(str.encode),
    time_texts.map(str.encode),
    st.sampled_from([model.ce_type().encode() for model in _REGISTERED]),
)
_CONTENT_TYPES = (
    "application/json",
    "application/json; charset=utf-8",
    "text/json",
    "application/cloudevents+json",
    "application/vnd.x+json",
    "APPLICATION/JSON",
    "text/plain",
    "application/xml",
    "",
)


def _set(headers: Headers, name: str, value: bytes | None) -> Headers:
    out = [(n, v) for n, v in headers if n != name]
    return out if value is None else [*out, (name, value)]


def _data_variants(value: bytes) -> list[bytes]:
    """Values of other shapes made from a record's value: broken, re-encoded, wrapped."""
    text = value.decode("utf-8", "replace")
    try:
        data = json.loads(value)
    except ValueError:
        data = {}
    if not isinstance(data, dict):
        data = {}
    return [
        b"",
        b"\x00\xff binary",
        value[: len(value) // 2],
        b"null",
        b"[1, 2, 3]",
        b"  " + value + b"\n",
        b"\xef\xbb\xbf" + value,
        text.encode("utf-16"),
        text.encode("utf-32"),
        json.dumps(text).encode(),
        json.dumps({**data, "surprise": True}).encode(),
        json.dumps(dict(list(data.items())[1:])).encode(),
        json.dumps({**data, "size": 10**30}).encode(),
        value.replace(b"0.", b"NaN, 0.", 1),
        # Raw UTF-8, lone surrogates written as such (not UTF-8: json.loads still reads it).
        json.dumps(data, ensure_ascii=False).encode("utf-8", "surrogatepass"),
        json.dumps(data, separators=(",", ":")).encode(),
    ]


_DATA_VARIANTS = len(_data_variants(b"{}"))


@st.composite
def mutations(draw: st.DrawFn) -> Mutation:
    kind = draw(
        st.sampled_from(("drop", "set", "add", "time", "type", "content", "key", "value", "none"))
    )
    if kind in ("drop", "set"):
        name = draw(st.sampled_from(_HEADER_NAMES[:10]))
        new = None if kind == "drop" else draw(header_values)
        return lambda r: (r[0], r[1], _set(r[2], name, new))
    if kind == "add":
        name = draw(st.one_of(st.sampled_from(_HEADER_NAMES), tricky_text))
        added = draw(header_values)
        return lambda r: (r[0], r[1], [*r[2], (name, added)])
    if kind == "time":
        text = draw(time_texts).encode()
        return lambda r: (r[0], r[1], _set(r[2], "ce_time", text))
    if kind == "type":
        ce_type = draw(st.sampled_from([*_REGISTERED, None]))
        raw = ce_type.ce_type().encode() if ce_type else b"org.opencomplaints.nope.v9"
        return lambda r: (r[0], r[1], _set(r[2], "ce_type", raw))
    if kind == "content":
        media = draw(st.sampled_from(_CONTENT_TYPES)).encode()
        return lambda r: (r[0], r[1], _set(r[2], "content-type", media))
    if kind == "key":
        key = draw(st.sampled_from((None, b"", b"\xff", str(uuid.uuid4()).encode())))
        return lambda r: (key, r[1], r[2])
    if kind == "value":
        index = draw(st.integers(0, _DATA_VARIANTS - 1))
        return lambda r: (r[0], None if r[1] is None else _data_variants(r[1])[index], r[2])
    return lambda r: (r[0], None, r[2])  # a tombstone


@st.composite
def records(draw: st.DrawFn) -> Record:
    """A record the SDK wrote, of any registered type, then bent out of shape a few times."""
    data = draw(event_data())
    _, record = _sdk_encode(
        data,
        topic=TOPIC_BY_EVENT[type(data)],
        source=draw(st.sampled_from(topics.SERVICES)),
        subject=draw(st.one_of(st.just(COMPLAINT_ID), tricky_text.filter(bool))),
        correlation_id=draw(st.one_of(st.none(), tricky_text)),
        causation_id=draw(st.one_of(st.none(), tricky_text)),
        time=draw(times),
    )
    result: Record = (record.key, record.value, list(record.headers))
    for mutation in draw(st.lists(mutations(), max_size=4)):
        result = mutation(result)
    return result


def _decoded(decode: Callable[..., Envelope], record: Record) -> tuple[Any, ...]:
    """What a consumer sees: the envelope (with the time's offset), InvalidEvent or a crash."""
    try:
        decoded = decode(*record)
    except InvalidEvent:
        return ("invalid",)
    except Exception as exc:
        return ("crash", type(exc))
    return ("ok", decoded, decoded.time.utcoffset())


def _sdk_builds_a_0_3_event(headers: Headers) -> bool:
    """A record claiming 1.0 whose later, differently cased ce_specversion says 0.3: the SDK
    builds a 0.3 event from it, the envelope refuses it (see the test below)."""
    header_map = dict(headers)
    spellings = [
        raw
        for name, raw in header_map.items()
        if isinstance(name, str) and name.lower() == "ce_specversion"
    ]
    return header_map.get("ce_specversion") == b"1.0" and spellings[-1:] == [b"0.3"]


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(record=records())
def test_decode_agrees_with_the_sdk(record: Record) -> None:
    ours = _decoded(envelope.decode, record)
    event(f"decoded: {ours[0]}")  # --hypothesis-show-statistics: how many were accepted
    if _sdk_builds_a_0_3_event(record[2]):
        assert ours == ("invalid",)
        return
    assert ours == _decoded(_sdk_decode, record)


def _platform_record(data: EventData | None = None, **arguments: Any) -> Record:
    data = data or example_for(ComplaintReceived)
    _, record = _sdk_encode(
        data,
        topic=TOPIC_BY_EVENT[type(data)],
        source="intake",
        subject=COMPLAINT_ID,
        **arguments,
    )
    return record.key, record.value, list(record.headers)


@pytest.mark.parametrize("model", _REGISTERED, ids=lambda model: model.ce_type())
def test_every_registered_type_round_trips_as_with_the_sdk(model: type[EventData]) -> None:
    record = _platform_record(example_for(model), causation_id="cause", time=datetime.now(UTC))
    ours = _decoded(envelope.decode, record)
    assert ours[0] == "ok"
    assert ours == _decoded(_sdk_decode, record)
    assert ours[1].data == example_for(model)


@pytest.mark.parametrize("content_type", _CONTENT_TYPES)
@pytest.mark.parametrize("variant", range(_DATA_VARIANTS))
def test_values_of_other_shapes_are_judged_as_the_sdk_judges_them(
    variant: int, content_type: str
) -> None:
    # Among them what the SDK path accepted although it is odd: JSON wrapped in a JSON
    # string, UTF-16 and UTF-32 with a byte order mark, lone surrogates in raw UTF-8.
    key, value, headers = _platform_record()
    assert value is not None
    headers = _set(headers, "content-type", content_type.encode())
    record = (key, _data_variants(value)[variant], headers)
    assert _decoded(envelope.decode, record) == _decoded(_sdk_decode, record)


@settings(max_examples=600, deadline=None)
@given(text=time_texts)
@example(text="2026-11-23T09:30:05.123456Z")
@example(text="2026-11-23T24:00:00Z")
@example(text="2026-02-30T09:30:05Z")
def test_ce_time_is_read_as_the_sdk_reads_it(text: str) -> None:
    key, value, headers = _platform_record()
    record = (key, value, _set(headers, "ce_time", text.encode()))
    ours = _decoded(envelope.decode, record)
    event(f"decoded: {ours[0]}")
    assert ours == _decoded(_sdk_decode, record)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ce_extra\n", b"x"),  # the SDK's extension check lets a trailing newline pass
        ("CE_\u212a", b"x"),  # Kelvin sign: lower() makes it "k"
        ("Content-Type", b"text/plain"),
        ("ce_correlationid", b""),  # an empty extension: the id stands in
        ("ce_data", b"x"),
        ("ce_", b"x"),
        ("CE_ID", b""),
        ("CE_TIME", b"2026-11-23"),
        ("x-trace", b"\xff"),
        ("content-type", b""),
    ],
)
def test_odd_headers_are_judged_as_the_sdk_judges_them(name: str, value: bytes) -> None:
    key, record_value, headers = _platform_record()
    record = (key, record_value, [*headers, (name, value)])
    assert _decoded(envelope.decode, record) == _decoded(_sdk_decode, record)


def test_two_spellings_of_ce_specversion_are_refused_where_the_sdk_built_a_0_3_event() -> None:
    key, value, headers = _platform_record()
    record = (key, value, [*headers, ("CE_SPECVERSION", b"0.3")])
    assert _decoded(_sdk_decode, record)[0] == "ok"
    with pytest.raises(InvalidEvent):
        envelope.decode(*record)
