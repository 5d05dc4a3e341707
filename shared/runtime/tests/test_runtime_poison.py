"""Poison records without Kafka: forged sources and foreign types are dead-lettered, never
applied; records over the envelope's bounds are dead-lettered by position; the dead letter
is built from any record without raising; an unreachable dead-letter topic is retried."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiokafka.errors import KafkaTimeoutError
from complaint_contracts import topics
from complaint_contracts.envelope import MAX_DATA_BYTES, MAX_EVENT_ID_LENGTH, Envelope
from complaint_contracts.events import ComplaintReceived, ComplaintTriaged
from complaint_contracts.examples import COMPLAINT_ID, example_for
from complaint_runtime import testing
from complaint_runtime.consumer import EventConsumer
from complaint_runtime.database import Database, OutboxMessage, ProcessedEvent, UnitOfWork
from complaint_runtime.dead_letters import (
    MAX_ERROR_BYTES,
    MAX_VALUE_BYTES,
    DeadLetter,
    dead_letter_record,
    position_id,
)
from complaint_runtime.testing import FakeProducer, FakeRecord, event_id_of, sqlite_database
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

DLQ = "complaints.dlq.test.v1"
_groups = itertools.count()


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    db = await sqlite_database(tmp_path / "t.db")
    yield db
    await db.dispose()


@dataclass
class Setup:
    consumer: EventConsumer
    applied: list[Envelope]
    producer: FakeProducer
    database: Database
    group: str


def _consumer(database: Database, producer: FakeProducer, applied: list[Envelope]) -> Setup:
    async def apply(uow: UnitOfWork, envelope: Envelope) -> None:
        applied.append(envelope)
        uow.add_event(
            example_for(ComplaintTriaged),
            topic=topics.ROUTING.name,
            source="routing",
            subject=COMPLAINT_ID,
        )

    group = f"poison-{next(_groups)}"
    consumer = EventConsumer(
        database=database,
        bootstrap_servers="127.0.0.1:1",
        group_id=group,
        topics=[topics.INTAKE.name, topics.ROUTING.name],
        handlers={ComplaintReceived: apply, ComplaintTriaged: apply},
        dead_letter_topic=DLQ,
        producer=producer,
        max_attempts=3,
        retry_backoff_s=0,
    )
    return Setup(consumer, applied, producer, database, group)


@pytest.fixture
def setup(database: Database) -> Setup:
    return _consumer(database, FakeProducer(), [])


async def _processed(db: Database) -> dict[str, str]:
    async with db.sessions() as session:
        rows = (await session.scalars(select(ProcessedEvent))).all()
    return {r.event_id: r.outcome for r in rows}


async def _outbox_rows(db: Database) -> int:
    async with db.sessions() as session:
        return len((await session.scalars(select(OutboxMessage))).all())


def _with_header(record: FakeRecord, name: str, value: bytes | None) -> FakeRecord:
    headers = [(n, v) for n, v in record.headers if n != name]
    return FakeRecord(
        record.topic,
        record.partition,
        record.offset,
        record.key,
        record.value,
        [*headers, (name, value)] if value is not None else headers,
    )


def _letter(setup: Setup) -> dict[str, bytes]:
    [letter] = setup.producer.sent_to(DLQ)
    return dict(letter.headers)


# ---- origin: one producer per topic -------------------------------------------------------


@pytest.mark.parametrize("at_once", [False, True])
async def test_a_forged_source_is_dead_lettered_never_applied(
    database: Database, at_once: bool
) -> None:
    setup = _consumer(database, FakeProducer(), [])
    setup.consumer._apply_batch_at_once = at_once
    genuine = testing.record_of(example_for(ComplaintReceived), topics.INTAKE)
    # The same event id as the genuine one, claiming to be intake's, published by routing:
    forged = _with_header(genuine, "ce_source", b"routing")
    forged.offset = genuine.offset + 1000

    await setup.consumer._process_batch([forged])

    assert setup.applied == []
    error = _letter(setup)["dlq_error"].decode()
    assert error.startswith("forged event:")
    assert "ce_source 'routing' is not 'intake'" in error
    # Recorded by its position: the genuine event with that id is still applied after it.
    assert await _processed(database) == {
        f"{forged.topic}:{forged.partition}:{forged.offset}": "dead_lettered"
    }
    await setup.consumer._process_batch([genuine])
    assert [e.id for e in setup.applied] == [event_id_of(genuine)]


async def test_a_type_of_another_topic_is_dead_lettered(setup: Setup) -> None:
    # complaint.triaged is routing's, with routing as its (honest) source, on intake's topic.
    record = testing.record_of(example_for(ComplaintTriaged), topics.ROUTING)
    record.topic = topics.INTAKE.name

    await setup.consumer._process_batch([record])

    assert setup.applied == []
    error = _letter(setup)["dlq_error"].decode()
    assert error == (
        "forged event: org.opencomplaints.complaint.triaged.v1 is not an event of "
        + topics.INTAKE.name
    )


async def test_an_event_without_a_handler_is_still_checked(setup: Setup) -> None:
    """A consumer that handles nothing of a type (the console, most services) still refuses
    a forgery of it: nothing about a forged record is trusted."""
    setup.consumer._handlers.clear()
    forged = _with_header(
        testing.record_of(example_for(ComplaintReceived), topics.INTAKE), "ce_source", b"notify"
    )
    await setup.consumer._process_batch([forged])
    assert _letter(setup)["dlq_error"].startswith(b"forged event:")


async def test_genuine_records_on_a_dead_letter_topic_keep_their_producers_source(
    database: Database,
) -> None:
    """A dead-letter topic holds records of every topic: there the source is checked
    against the producer of the event type's own topic."""
    setup = _consumer(database, FakeProducer(), [])
    record = testing.record_of(example_for(ComplaintReceived), topics.INTAKE)
    record.topic = topics.dead_letter_topic("routing").name
    forged = _with_header(record, "ce_source", b"routing")
    forged.offset += 1

    await setup.consumer._process_batch([record, forged])

    assert [e.id for e in setup.applied] == [event_id_of(record)]
    assert _letter(setup)["dlq_original_offset"] == str(forged.offset).encode()


# ---- bounds ----------------------------------------------------------------------------


def test_the_id_bound_is_the_processed_events_column() -> None:
    assert getattr(ProcessedEvent.__table__.c.event_id.type, "length", None) == MAX_EVENT_ID_LENGTH


async def test_an_id_over_200_characters_is_dead_lettered_by_position(setup: Setup) -> None:
    record = testing.record_of(
        example_for(ComplaintReceived), topics.INTAKE, event_id="e" * 201, correlation_id="c"
    )
    await setup.consumer._process_batch([record])

    assert setup.applied == []
    assert _letter(setup)["dlq_error"] == b"invalid event: ce_id of 201 characters, more than 200"
    assert await _processed(setup.database) == {
        f"{record.topic}:{record.partition}:{record.offset}": "dead_lettered"
    }


@pytest.mark.parametrize(
    "headers",
    [
        [("ce_id", None), ("ce_source", b"\xff\xfe"), (b"bytes-name", b"v")],
        [("ce_type", "a str, not bytes"), ("x", 42)],
        [(f"x-{n}", b"v" * 100) for n in range(200)],
        [("ce_subject", b"s" * 70_000)],
        [("only-a-name",)],
        [None, 7],
    ],
    ids=["null-invalid-utf8-bytes-name", "non-bytes-values", "many", "huge", "not-pairs", "junk"],
)
async def test_garbage_headers_are_dead_lettered_with_valid_headers(
    setup: Setup, headers: list[object]
) -> None:
    record = FakeRecord(topics.INTAKE.name, 0, 7, b"k", b"{}", headers)  # type: ignore[arg-type]
    await setup.consumer._process_batch([record])

    [letter] = setup.producer.sent_to(DLQ)
    assert all(isinstance(n, str) and isinstance(v, bytes) for n, v in letter.headers)
    for _, value in letter.headers:
        value.decode("utf-8")  # valid UTF-8 throughout
    assert len(letter.headers) <= 64 + 8
    assert sum(len(n) + len(v) for n, v in letter.headers) <= 16 * 1024 + 4096
    assert dict(letter.headers)["dlq_error"].startswith(b"invalid event:")
    assert await _processed(setup.database) == {f"{topics.INTAKE.name}:0:7": "dead_lettered"}


async def test_a_value_over_the_bound_is_dead_lettered_truncated(setup: Setup) -> None:
    value = b"x" * (MAX_DATA_BYTES + 1)
    await setup.consumer._process_batch([FakeRecord(topics.INTAKE.name, 0, 8, b"k", value, [])])
    [letter] = setup.producer.sent_to(DLQ)
    headers = dict(letter.headers)
    assert headers["dlq_error"].startswith(b"invalid event: data of")
    assert headers["dlq_value_truncated"] == str(len(value)).encode()
    assert letter.value == value[:MAX_VALUE_BYTES]


# ---- the dead letter itself --------------------------------------------------------------


def test_the_error_text_is_masked_cut_and_valid_utf8() -> None:
    record = FakeRecord(topics.INTAKE.name, 0, 1, None, b"", [])
    error = "data does not match: phone 13812345678 \ud800 " + "投诉" * 5000
    letter = dead_letter_record(DeadLetter(record, error), group="g")
    text = dict(letter.headers)["dlq_error"]
    assert len(text) <= MAX_ERROR_BYTES
    decoded = text.decode("utf-8")
    assert "13812345678" not in decoded
    assert "138****5678" in decoded
    assert "\\ud800" in decoded
    assert letter.error == decoded


def test_a_position_id_fits_the_column_whatever_the_topic_name() -> None:
    short = FakeRecord("complaints.intake.v1", 3, 41, None, b"", [])
    assert position_id(short) == "complaints.intake.v1:3:41"
    long = FakeRecord("t" * 249, 3, 41, None, b"", [])
    assert len(position_id(long)) <= MAX_EVENT_ID_LENGTH
    assert position_id(long) != position_id(FakeRecord("t" * 249, 3, 42, None, b"", []))


def test_original_dlq_headers_are_replaced_not_doubled() -> None:
    record = FakeRecord("t", 0, 1, None, b"", [("dlq_error", b"old"), ("x-trace", b"t")])
    letter = dead_letter_record(DeadLetter(record, "new"), group="g")
    names = [n for n, _ in letter.headers]
    assert names.count("dlq_error") == 1
    assert dict(letter.headers)["dlq_error"] == b"new"
    assert dict(letter.headers)["x-trace"] == b"t"


_header_names = st.one_of(st.text(max_size=300), st.binary(max_size=50), st.integers(), st.none())
_header_values = st.one_of(
    st.binary(max_size=3000), st.text(max_size=50), st.none(), st.integers(), st.floats()
)
_items = st.one_of(
    st.tuples(_header_names, _header_values), st.tuples(_header_names), st.none(), st.integers()
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    headers=st.one_of(st.lists(_items, max_size=120), st.none(), st.integers()),
    key=st.one_of(st.none(), st.binary(max_size=3000), st.text(max_size=20)),
    value=st.one_of(st.none(), st.binary(max_size=100)),
    error=st.text(),
)
def test_a_dead_letter_is_built_from_anything(
    headers: object, key: object, value: object, error: str
) -> None:
    record = FakeRecord("t", 0, 1, key, value, headers)  # type: ignore[arg-type]
    letter = dead_letter_record(DeadLetter(record, error), group="g")
    assert all(isinstance(n, str) and isinstance(v, bytes) for n, v in letter.headers)
    for name, raw in letter.headers:
        name.encode("utf-8")
        raw.decode("utf-8")
    size = sum(len(n.encode()) + len(v) for n, v in letter.headers)
    assert size <= 16 * 1024 + 256 * 64 + MAX_ERROR_BYTES + 1024
    assert letter.key is None or (isinstance(letter.key, bytes) and len(letter.key) <= 1024)


class FlakyProducer(FakeProducer):
    """The dead-letter topic unreachable for the first ``outage`` sends."""

    def __init__(self, outage: int) -> None:
        super().__init__()
        self.outage = outage

    async def send_and_wait(self, topic, value=None, key=None, headers=None) -> None:  # type: ignore[no-untyped-def]
        if self.outage > 0:
            self.outage -= 1
            raise KafkaTimeoutError()
        await super().send_and_wait(topic, value, key, headers)


async def test_an_unreachable_dead_letter_topic_is_waited_for_nothing_lost_or_applied_twice(
    database: Database,
) -> None:
    setup = _consumer(database, FlakyProducer(outage=7), [])
    good = testing.record_of(example_for(ComplaintReceived), topics.INTAKE)
    garbage = FakeRecord(topics.INTAKE.name, 0, good.offset + 1, None, b"junk", [])

    await setup.consumer._process_with_retries([good, garbage])

    assert len(setup.producer.sent_to(DLQ)) == 1
    # Each failed round rolled back: the good record's effect is in the database once.
    assert await _outbox_rows(database) == 1
    assert await _processed(database) == {
        event_id_of(good): "applied",
        f"{garbage.topic}:0:{garbage.offset}": "dead_lettered",
    }
