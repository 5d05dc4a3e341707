"""Poison records on a real PostgreSQL (db tier): an event id longer than the
``processed_events.event_id`` column used to fail its insert there (SQLite does not check
lengths), the batch was retried forever and the partition never moved on. Now it is
dead-lettered by position and its offset committed, like any other poison record."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from aiokafka import TopicPartition
from complaint_contracts import topics
from complaint_contracts.envelope import Envelope
from complaint_contracts.events import ComplaintReceived
from complaint_contracts.examples import example_for
from complaint_devinfra.postgres import PostgresEndpoint
from complaint_runtime import testing
from complaint_runtime.consumer import EventConsumer
from complaint_runtime.database import Database, OutboxMessage, ProcessedEvent, UnitOfWork
from complaint_runtime.testing import FakeProducer, FakeRecord, event_id_of
from sqlalchemy import Table, select

DLQ = "complaints.dlq.test.v1"
TABLES = [OutboxMessage.__table__, ProcessedEvent.__table__]


@pytest.fixture
async def database(local_postgres: PostgresEndpoint) -> AsyncIterator[Database]:
    """A fresh database holding the runtime's own two tables."""
    name = f"t_{uuid.uuid4().hex[:16]}"
    db = Database(await local_postgres.create_database_async(name), pool_size=4)
    async with db.engine.begin() as connection:
        tables = [t for t in TABLES if isinstance(t, Table)]
        await connection.run_sync(lambda sync: OutboxMessage.metadata.create_all(sync, tables))
    yield db
    await db.dispose()
    await local_postgres.drop_database_async(name)


class OnePollConsumer:
    """The aiokafka consumer as ``EventConsumer.run`` uses it: one poll holding ``records``,
    then nothing (and the loop is asked to stop); commits are recorded."""

    def __init__(self, records: list[FakeRecord], stop: object) -> None:
        poll: dict[TopicPartition, list[FakeRecord]] = {}
        for record in records:
            poll.setdefault(TopicPartition(record.topic, record.partition), []).append(record)
        self.polls = [poll]
        self.committed: list[dict[TopicPartition, int]] = []
        self._stop = stop

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    def assignment(self) -> set[TopicPartition]:
        return set()

    def highwater(self, _partition: TopicPartition) -> int | None:
        return None

    async def getmany(self, **_kwargs: object) -> dict[TopicPartition, list[FakeRecord]]:
        if self.polls:
            return self.polls.pop(0)
        self._stop()  # type: ignore[operator]
        return {}

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        self.committed.append(dict(offsets))


@pytest.mark.parametrize("at_once", [False, True])
async def test_an_over_long_event_id_is_dead_lettered_and_the_partition_moves_on(
    database: Database, at_once: bool
) -> None:
    applied: list[str] = []

    async def apply(_uow: UnitOfWork, envelope: Envelope) -> None:
        applied.append(envelope.id)

    producer = FakeProducer()
    consumer = EventConsumer(
        database=database,
        bootstrap_servers="127.0.0.1:1",
        group_id="poison-pg",
        topics=[topics.INTAKE.name],
        handlers={ComplaintReceived: apply},
        dead_letter_topic=DLQ,
        producer=producer,
        retry_backoff_s=0,
        apply_batch_at_once=at_once,
    )
    too_long = testing.record_of(
        example_for(ComplaintReceived), topics.INTAKE, event_id="e" * 201, correlation_id="c"
    )
    after = testing.record_of(example_for(ComplaintReceived), topics.INTAKE)
    after.offset = too_long.offset + 1
    kafka = OnePollConsumer([too_long, after], consumer.stop)
    consumer._new_consumer = lambda: kafka  # type: ignore[method-assign]

    await consumer.run()  # returns: the batch no longer fails over and over

    assert applied == [event_id_of(after)]
    [letter] = producer.sent_to(DLQ)
    assert dict(letter.headers)["dlq_original_offset"] == str(too_long.offset).encode()
    assert kafka.committed == [{TopicPartition(topics.INTAKE.name, 0): after.offset + 1}]
    async with database.sessions() as session:
        rows = {r.event_id: r.outcome for r in await session.scalars(select(ProcessedEvent))}
    assert rows == {
        f"{topics.INTAKE.name}:0:{too_long.offset}": "dead_lettered",
        event_id_of(after): "applied",
    }
