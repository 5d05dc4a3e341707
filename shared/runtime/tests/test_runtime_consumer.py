"""The consumer's batch logic without Kafka: applied once, duplicates skipped, poison records
dead-lettered once, failing handlers retried then dead-lettered, transient errors raised."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy
from aiokafka.errors import KafkaTimeoutError
from complaint_contracts import topics
from complaint_contracts.envelope import Envelope, decode
from complaint_contracts.events import (
    ComplaintAssigned,
    ComplaintClosed,
    ComplaintResolved,
    ComplaintTriaged,
)
from complaint_contracts.examples import COMPLAINT_ID, example_for
from complaint_runtime import testing
from complaint_runtime.consumer import (
    EventConsumer,
    TransientError,
    in_publication_order,
    is_transient,
)
from complaint_runtime.database import Database, OutboxMessage, ProcessedEvent, UnitOfWork
from complaint_runtime.testing import FakeProducer, FakeRecord, event_id_of, sqlite_database
from prometheus_client import REGISTRY
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError

TOPIC = topics.ROUTING.name
DLQ = "complaints.dlq.test.v1"
_offsets = itertools.count()
_groups = itertools.count()


def record_of(data, *, correlation_id: str | None = None, partition: int = 0) -> FakeRecord:
    return testing.record_of(
        data,
        topics.ROUTING,
        subject=COMPLAINT_ID,
        partition=partition,
        correlation_id=correlation_id,
    )


class Handlers:
    """Triaged: applied (writes an outbox row). Resolved: writes, then always fails.
    Assigned: a dependency failure. Closed: no handler at all."""

    def __init__(self) -> None:
        self.applied: list[Envelope] = []
        self.failing_calls = 0
        self.transient_calls = 0

    async def applied_handler(self, uow: UnitOfWork, envelope: Envelope) -> None:
        self.applied.append(envelope)
        uow.add_event(
            example_for(ComplaintAssigned), topic=TOPIC, source="routing", subject=COMPLAINT_ID
        )

    async def failing_handler(self, uow: UnitOfWork, envelope: Envelope) -> None:
        self.failing_calls += 1
        uow.add_event(
            example_for(ComplaintAssigned), topic=TOPIC, source="routing", subject=COMPLAINT_ID
        )
        await uow.mark_processed(consumer="side-effect", event_id=envelope.id, outcome="x")
        raise ValueError("cannot apply this one")

    async def transient_handler(self, uow: UnitOfWork, envelope: Envelope) -> None:
        self.transient_calls += 1
        raise OperationalError("UPDATE cases", {}, ConnectionResetError("server closed"))


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    db = await sqlite_database(tmp_path / "t.db")
    yield db
    await db.dispose()


@dataclass
class Setup:
    consumer: EventConsumer
    handlers: Handlers
    producer: FakeProducer
    database: Database
    group: str


@pytest.fixture
def setup(database: Database) -> Setup:
    handlers = Handlers()
    producer = FakeProducer()
    group = f"test-group-{next(_groups)}"
    consumer = EventConsumer(
        database=database,
        bootstrap_servers="127.0.0.1:1",  # nothing listens: run() is never called here
        group_id=group,
        topics=[TOPIC],
        handlers={
            ComplaintTriaged: handlers.applied_handler,
            ComplaintResolved: handlers.failing_handler,
            ComplaintAssigned: handlers.transient_handler,
        },
        dead_letter_topic=DLQ,
        producer=producer,
        max_attempts=3,
        retry_backoff_s=0,
    )
    return Setup(consumer, handlers, producer, database, group)


async def _processed(db: Database) -> dict[tuple[str, str], str]:
    async with db.sessions() as session:
        rows = (await session.scalars(select(ProcessedEvent))).all()
    return {(r.consumer, r.event_id): r.outcome for r in rows}


async def _outbox(db: Database) -> list[OutboxMessage]:
    async with db.sessions() as session:
        return list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def _consumed(group: str, outcome: str) -> float:
    value = REGISTRY.get_sample_value(
        "events_consumed_total", {"group": group, "topic": TOPIC, "outcome": outcome}
    )
    return value or 0.0


def test_constructor_creates_no_kafka_client(setup: Setup) -> None:
    assert not hasattr(setup.consumer, "_consumer")


async def test_handler_applied_once_and_redelivery_skipped(setup: Setup) -> None:
    record = record_of(example_for(ComplaintTriaged), correlation_id="corr-7")
    await setup.consumer._process_batch([record])

    assert [e.id for e in setup.handlers.applied] == [event_id_of(record)]
    assert await _processed(setup.database) == {(setup.group, event_id_of(record)): "applied"}
    assert _consumed(setup.group, "applied") == 1

    await setup.consumer._process_batch([record])  # redelivered after a lost offset commit
    assert len(setup.handlers.applied) == 1
    assert _consumed(setup.group, "duplicate") == 1
    assert _consumed(setup.group, "applied") == 1
    assert len(await _outbox(setup.database)) == 1
    assert setup.producer.sent == []


async def test_duplicate_within_one_batch_is_skipped(setup: Setup) -> None:
    record = record_of(example_for(ComplaintTriaged))
    await setup.consumer._process_batch([record, record])
    assert len(setup.handlers.applied) == 1
    assert _consumed(setup.group, "duplicate") == 1


async def test_events_of_the_handler_carry_the_cause(setup: Setup) -> None:
    record = record_of(example_for(ComplaintTriaged), correlation_id="corr-7")
    await setup.consumer._process_batch([record])
    [row] = await _outbox(setup.database)
    produced = decode(row.key, row.value, [(n, v.encode()) for n, v in row.headers])
    assert produced.correlation_id == "corr-7"
    assert produced.causation_id == event_id_of(record)


async def test_garbage_is_dead_lettered_once(setup: Setup) -> None:
    garbage = FakeRecord(TOPIC, 3, 41, b"k", b"\x00not an event", [("x-trace", b"t1")])
    await setup.consumer._process_batch([garbage])

    [letter] = setup.producer.sent
    assert letter.topic == DLQ
    assert letter.value == garbage.value
    assert letter.key == garbage.key
    headers = dict(letter.headers)
    assert headers["x-trace"] == b"t1"  # the original headers travel along
    assert headers["dlq_error"].startswith(b"invalid event:")
    assert headers["dlq_original_topic"] == TOPIC.encode()
    assert headers["dlq_original_partition"] == b"3"
    assert headers["dlq_original_offset"] == b"41"
    assert headers["dlq_consumer_group"] == setup.group.encode()
    assert await _processed(setup.database) == {(setup.group, f"{TOPIC}:3:41"): "dead_lettered"}

    await setup.consumer._process_batch([garbage])  # redelivered: already dead-lettered
    assert len(setup.producer.sent) == 1


async def test_same_garbage_at_another_offset_is_a_new_dead_letter(setup: Setup) -> None:
    first = FakeRecord(TOPIC, 0, 1, None, b"junk", [])
    second = FakeRecord(TOPIC, 0, 2, None, b"junk", [])
    await setup.consumer._process_batch([first, second])
    assert [dict(s.headers)["dlq_original_offset"] for s in setup.producer.sent] == [b"1", b"2"]


async def test_tombstone_is_dead_lettered(setup: Setup) -> None:
    await setup.consumer._process_batch([FakeRecord(TOPIC, 0, 9, b"k", None, [])])
    [letter] = setup.producer.sent
    assert b"tombstone" in dict(letter.headers)["dlq_error"]


async def test_failing_handler_is_retried_then_dead_lettered_alone(setup: Setup) -> None:
    before = record_of(example_for(ComplaintTriaged))
    failing = record_of(example_for(ComplaintResolved))
    after = record_of(example_for(ComplaintTriaged))

    await setup.consumer._process_batch([before, failing, after])

    assert setup.handlers.failing_calls == 3
    [letter] = setup.producer.sent
    headers = dict(letter.headers)
    assert headers["dlq_error"] == b"ValueError: cannot apply this one"
    assert headers["dlq_original_offset"] == str(failing.offset).encode()
    assert letter.value == failing.value
    # The failing handler's own writes are gone; the other records' writes are committed.
    assert await _processed(setup.database) == {
        (setup.group, event_id_of(before)): "applied",
        (setup.group, event_id_of(failing)): "dead_lettered",
        (setup.group, event_id_of(after)): "applied",
    }
    assert len(await _outbox(setup.database)) == 2
    assert [e.id for e in setup.handlers.applied] == [event_id_of(before), event_id_of(after)]

    await setup.consumer._process_batch([failing])  # redelivered: not retried, not re-sent
    assert setup.handlers.failing_calls == 3
    assert len(setup.producer.sent) == 1


async def test_constraint_violation_in_a_handler_is_dead_lettered(setup: Setup) -> None:
    """A failed flush inside the savepoint must leave the session usable for the rest."""
    calls = 0

    async def violating(uow: UnitOfWork, envelope: Envelope) -> None:
        nonlocal calls
        calls += 1
        uow.session.add(ProcessedEvent(consumer="x", event_id="same", outcome="a"))
        uow.session.add(ProcessedEvent(consumer="x", event_id="same", outcome="b"))
        await uow.session.flush()

    setup.consumer._handlers[ComplaintResolved] = violating
    failing = record_of(example_for(ComplaintResolved))
    after = record_of(example_for(ComplaintTriaged))

    await setup.consumer._process_batch([failing, after])

    assert calls == 3
    [letter] = setup.producer.sent
    assert dict(letter.headers)["dlq_error"].startswith(b"IntegrityError")
    assert await _processed(setup.database) == {
        (setup.group, event_id_of(failing)): "dead_lettered",
        (setup.group, event_id_of(after)): "applied",
    }


async def test_transient_error_propagates_and_nothing_commits(setup: Setup) -> None:
    applied = record_of(example_for(ComplaintTriaged))
    garbage = FakeRecord(TOPIC, 0, next(_offsets), None, b"junk", [])
    transient = record_of(example_for(ComplaintAssigned))

    with pytest.raises(OperationalError):
        await setup.consumer._process_batch([applied, garbage, transient])

    assert setup.handlers.transient_calls == 1  # not retried per record: the batch is
    assert setup.producer.sent == []  # never dead-lettered
    assert await _processed(setup.database) == {}
    assert await _outbox(setup.database) == []


async def test_process_with_retries_retries_transient_failures(setup: Setup) -> None:
    calls = 0

    async def flaky(uow: UnitOfWork, envelope: Envelope) -> None:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise TransientError("database restarting")

    setup.consumer._handlers[ComplaintTriaged] = flaky
    record = record_of(example_for(ComplaintTriaged))
    await setup.consumer._process_with_retries([record])
    assert calls == 3
    assert await _processed(setup.database) == {(setup.group, event_id_of(record)): "applied"}
    assert setup.producer.sent == []


async def test_process_with_retries_raises_other_failures(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = 0

    async def broken(records: list[Any]) -> None:
        nonlocal calls
        calls += 1
        raise ValueError("a bug, not an outage")

    monkeypatch.setattr(setup.consumer, "_process_batch", broken)
    with pytest.raises(ValueError, match="a bug"):
        await setup.consumer._process_with_retries([FakeRecord(TOPIC, 0, 5, None, b"junk", [])])
    assert calls == 1


async def test_dead_letter_send_failure_rolls_back_the_batch(setup: Setup) -> None:
    applied = record_of(example_for(ComplaintTriaged))
    garbage = FakeRecord(TOPIC, 0, next(_offsets), None, b"junk", [])
    setup.producer.fail = True

    # The dead-letter topic unreachable is an outage, not the record's fault: retried.
    with pytest.raises(TransientError) as failed:
        await setup.consumer._process_batch([applied, garbage])
    assert isinstance(failed.value.__cause__, KafkaTimeoutError)
    assert is_transient(failed.value)
    assert await _processed(setup.database) == {}

    setup.producer.fail = False  # redelivery dead-letters it after all
    await setup.consumer._process_batch([applied, garbage])
    assert len(setup.producer.sent) == 1
    assert len(await _processed(setup.database)) == 2


async def test_event_without_a_handler_is_ignored(setup: Setup) -> None:
    record = record_of(example_for(ComplaintClosed))
    await setup.consumer._process_batch([record])
    assert await _processed(setup.database) == {}
    assert setup.producer.sent == []
    assert _consumed(setup.group, "ignored") == 1


class _Sqlstate(Exception):
    def __init__(self, sqlstate: str):
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


class _Pgcode(Exception):
    def __init__(self, pgcode: str):
        super().__init__(pgcode)
        self.pgcode = pgcode


@pytest.mark.parametrize(
    ("exc", "transient"),
    [
        (TransientError("x"), True),
        (OperationalError("SELECT 1", {}, Exception("down")), True),
        (InterfaceError("SELECT 1", {}, Exception("closed")), True),
        (ConnectionRefusedError(), True),
        (ConnectionResetError(), True),
        (TimeoutError(), True),
        (OSError("network unreachable"), True),
        (DBAPIError("SELECT 1", {}, _Sqlstate("57P01")), True),  # admin shutdown
        (DBAPIError("SELECT 1", {}, _Sqlstate("08006")), True),  # connection failure
        (DBAPIError("SELECT 1", {}, _Pgcode("53300")), True),  # too many connections
        (DBAPIError("SELECT 1", {}, Exception("?"), connection_invalidated=True), True),
        (DBAPIError("INSERT", {}, _Sqlstate("22021")), False),  # bad byte sequence
        (DBAPIError("INSERT", {}, _Sqlstate("23505")), False),  # unique violation
        (DBAPIError("INSERT", {}, Exception("no sqlstate")), False),
        (IntegrityError("INSERT", {}, _Sqlstate("23505")), False),
        (ValueError("bad data"), False),
        (KeyError("x"), False),
        (LookupError("unknown complaint"), False),
        (RuntimeError("bug"), False),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, BaseException) else str(v),
)
def test_is_transient(exc: BaseException, transient: bool) -> None:
    assert is_transient(exc) is transient


# A consumer whose handlers only write to its database may apply a whole batch at once (no
# savepoint per record), falling back to record by record when that fails.


@pytest.fixture
def at_once(setup: Setup) -> Setup:
    setup.consumer._apply_batch_at_once = True
    return setup


async def test_at_once_applies_each_new_event_once(at_once: Setup) -> None:
    first, second = (record_of(example_for(ComplaintTriaged)) for _ in range(2))
    unhandled = record_of(example_for(ComplaintClosed))
    await at_once.consumer._process_batch([first, unhandled, second, first])

    assert [e.id for e in at_once.handlers.applied] == [event_id_of(first), event_id_of(second)]
    assert await _processed(at_once.database) == {
        (at_once.group, event_id_of(first)): "applied",
        (at_once.group, event_id_of(second)): "applied",
    }
    assert len(await _outbox(at_once.database)) == 2
    assert (_consumed(at_once.group, "applied"), _consumed(at_once.group, "duplicate")) == (2, 1)
    assert _consumed(at_once.group, "ignored") == 1

    await at_once.consumer._process_batch([second, first])  # redelivered
    assert len(at_once.handlers.applied) == 2
    assert _consumed(at_once.group, "duplicate") == 3
    assert len(await _outbox(at_once.database)) == 2


async def test_at_once_falls_back_to_record_by_record(at_once: Setup) -> None:
    before = record_of(example_for(ComplaintTriaged))
    failing = record_of(example_for(ComplaintResolved))
    garbage = FakeRecord(TOPIC, 0, 77, b"k", b"junk", [])
    after = record_of(example_for(ComplaintTriaged))

    await at_once.consumer._process_batch([before, failing, after])
    await at_once.consumer._process_batch([garbage, before, after])

    # The failed attempt at once left nothing behind; record by record, the failing record
    # is dead-lettered alone and the others are applied exactly once.
    assert [dict(s.headers)["dlq_original_offset"] for s in at_once.producer.sent] == [
        str(failing.offset).encode(),
        b"77",
    ]
    assert await _processed(at_once.database) == {
        (at_once.group, event_id_of(before)): "applied",
        (at_once.group, event_id_of(failing)): "dead_lettered",
        (at_once.group, event_id_of(after)): "applied",
        (at_once.group, f"{TOPIC}:0:77"): "dead_lettered",
    }
    assert len(await _outbox(at_once.database)) == 2
    assert _consumed(at_once.group, "applied") == 2


async def test_at_once_transient_error_propagates_and_nothing_commits(at_once: Setup) -> None:
    applied = record_of(example_for(ComplaintTriaged))
    transient = record_of(example_for(ComplaintAssigned))
    with pytest.raises(OperationalError):
        await at_once.consumer._process_batch([applied, transient])
    assert at_once.handlers.transient_calls == 1  # not retried record by record
    assert await _processed(at_once.database) == {}
    assert await _outbox(at_once.database) == []


async def test_at_once_preloads_the_new_events_of_the_batch_first(at_once: Setup) -> None:
    seen: list[list[str]] = []

    async def preload(uow: UnitOfWork, envelopes: Sequence[Envelope]) -> None:
        assert len(at_once.handlers.applied) == 2 * len(seen)  # before the batch's handlers
        seen.append([e.id for e in envelopes])

    at_once.consumer._preload = preload
    first, second, third = (record_of(example_for(ComplaintTriaged)) for _ in range(3))
    await at_once.consumer._process_batch([first, third])
    await at_once.consumer._process_batch([first, second, record_of(example_for(ComplaintClosed))])
    # Only events a handler will apply: the redelivered one and the unhandled one are left out.
    assert seen == [[event_id_of(first), event_id_of(third)], [event_id_of(second)]]


async def test_at_once_a_lone_record_gets_no_savepoint_and_unhandled_ones_no_transaction(
    at_once: Setup,
) -> None:
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement.split()[0].upper())

    engine = at_once.database.engine.sync_engine
    sqlalchemy.event.listen(engine, "before_cursor_execute", count)
    try:
        await at_once.consumer._process_batch([record_of(example_for(ComplaintClosed))])
        assert statements == []  # nothing this consumer handles: no transaction at all
        await at_once.consumer._process_batch([record_of(example_for(ComplaintTriaged))])
    finally:
        sqlalchemy.event.remove(engine, "before_cursor_execute", count)
    assert "SAVEPOINT" not in statements
    assert len(at_once.handlers.applied) == 1
    assert _consumed(at_once.group, "ignored") == 1


async def test_after_commit_callbacks_run_once_and_only_after_a_commit(database: Database) -> None:
    calls: list[str] = []

    def wake() -> None:
        calls.append("wake")

    async with database.unit_of_work() as uow:
        uow.after_commit(wake)
        uow.after_commit(wake)
        assert calls == []
    assert calls == ["wake"]
    with pytest.raises(RuntimeError):
        async with database.unit_of_work() as uow:
            uow.after_commit(wake)
            raise RuntimeError("rolled back")
    assert calls == ["wake"]


def test_a_poll_is_applied_in_publication_order_each_partition_in_its_own() -> None:
    """A customer's message (intake's topic) published after the triage it follows
    (routing's) is applied after it when one poll holds both, whatever the partitions'
    order in the poll; within a partition the order never changes."""

    def at(topic: str, offset: int, published: int) -> FakeRecord:
        return FakeRecord(topic, 0, offset, b"k", b"v", [], timestamp=published)

    intake = [at("intake", 7, 300), at("intake", 8, 100)]  # a partition out of time order
    routing = [at("routing", 4, 200), at("routing", 5, 250)]
    merged = in_publication_order([intake, routing])
    assert [(r.topic, r.offset) for r in merged] == [
        ("routing", 4),
        ("routing", 5),
        ("intake", 7),
        ("intake", 8),
    ]


@pytest.mark.parametrize("at_once", [True, False])
async def test_an_event_the_service_does_not_want_now_is_ignored_like_one_without_handler(
    database: Database, at_once: bool
) -> None:
    """``wants``: a handler covers the event but says it is not worth applying now (notify's
    fan-out with no webhook subscription): no handler, no transaction, no processed row."""
    handlers = Handlers()
    group = f"test-group-{next(_groups)}"
    asked: list[str] = []

    def wants(envelope: Envelope) -> bool:
        asked.append(envelope.id)
        return envelope.correlation_id == "wanted"

    consumer = EventConsumer(
        database=database,
        bootstrap_servers="127.0.0.1:1",
        group_id=group,
        topics=[TOPIC],
        handlers={ComplaintTriaged: handlers.applied_handler},
        dead_letter_topic=DLQ,
        producer=FakeProducer(),
        apply_batch_at_once=at_once,
        wants=wants,
    )
    skipped = record_of(example_for(ComplaintTriaged), correlation_id="not-wanted")
    taken = record_of(example_for(ComplaintTriaged), correlation_id="wanted")
    await consumer._process_batch([skipped, taken])
    assert [e.id for e in handlers.applied] == [event_id_of(taken)]
    assert await _processed(database) == {(group, event_id_of(taken)): "applied"}
    assert _consumed(group, "ignored") == 1
    assert event_id_of(skipped) in asked
