"""Test doubles of the Kafka clients, for in-process tests of consumers and the relay, and
fresh SQLite databases holding one service's tables.

Fakes of the broker only: the database in such tests is real (SQLite in a temporary
directory, or the suite's PostgreSQL), and flows are proven end to end by the integration
tier with a real broker. Nothing here is imported by service code.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from aiokafka.errors import KafkaTimeoutError
from complaint_contracts.base import EventData
from complaint_contracts.envelope import Envelope, decode, encode
from complaint_contracts.topics import Topic
from sqlalchemy import Table

from complaint_runtime import audit as _audit  # noqa: F401  (registers the audit chain's table)
from complaint_runtime.database import Base, Database

_offsets = itertools.count()


@dataclass
class FakeRecord:
    """What ``EventConsumer`` reads of an aiokafka ``ConsumerRecord``; also what
    :class:`FakeProducer` records of each send."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]]
    timestamp: int = 0  # when it was published, ms since the epoch

    @property
    def header_map(self) -> dict[str, bytes]:
        return dict(self.headers)


@dataclass
class FakeProducer:
    """Records what was produced. ``fail``: every ``send_and_wait`` raises (broker down);
    ``failures_left``: that many of the next delivery futures of ``send`` fail."""

    sent: list[FakeRecord] = field(default_factory=list)
    fail: bool = False
    failures_left: int = 0

    def _record(
        self,
        topic: str,
        value: bytes | None,
        key: bytes | None,
        headers: Iterable[tuple[str, bytes]] | None,
    ) -> None:
        self.sent.append(FakeRecord(topic, 0, len(self.sent), key, value, list(headers or [])))

    async def send(
        self,
        topic: str,
        value: bytes | None = None,
        key: bytes | None = None,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> asyncio.Future[object]:
        future: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        self._record(topic, value, key, headers)
        if self.failures_left > 0:
            self.failures_left -= 1
            future.set_exception(KafkaTimeoutError())
        else:
            future.set_result(object())
        return future

    async def send_and_wait(
        self,
        topic: str,
        value: bytes | None = None,
        key: bytes | None = None,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> None:
        if self.fail:
            raise KafkaTimeoutError()
        self._record(topic, value, key, headers)

    def sent_to(self, topic: str) -> list[FakeRecord]:
        return [record for record in self.sent if record.topic == topic]


def record_of(
    data: EventData,
    topic: Topic,
    *,
    subject: str | None = None,
    partition: int = 0,
    event_id: str | None = None,
    correlation_id: str | None = None,
) -> FakeRecord:
    """The record ``topic``'s producer would publish for ``data`` (subject: its complaint)."""
    key = subject or str(getattr(data, "complaint_id", ""))
    _, record = encode(
        data,
        topic=topic.name,
        source=topic.producer,
        subject=key,
        event_id=event_id,
        correlation_id=correlation_id,
    )
    return FakeRecord(
        topic.name, partition, next(_offsets), record.key, record.value, list(record.headers)
    )


def envelope_of(record: FakeRecord) -> Envelope:
    return decode(record.key, record.value, record.headers)


def event_id_of(record: FakeRecord) -> str:
    return record.header_map["ce_id"].decode()


def tables_of(*packages: str) -> list[Table]:
    """The tables declared by the (imported) modules of ``packages``, and the runtime's own
    outbox and processed-events tables. Every service declares its tables on the one
    declarative base, and a test process imports several services: creating all of them for
    each test's database would be most of its set-up."""
    owners = (*(f"{package}." for package in packages), "complaint_runtime.")
    return [
        table
        for mapper in Base.registry.mappers
        if mapper.class_.__module__.startswith(owners)
        for table in mapper.tables
        if isinstance(table, Table)
    ]


async def sqlite_database(path: Path, *packages: str) -> Database:
    """A new SQLite database file at ``path`` with the tables of ``packages`` (see
    :func:`tables_of`), created from the models; the caller disposes of it."""
    database = Database(f"sqlite+aiosqlite:///{path}")
    tables = tables_of(*packages)
    async with database.engine.begin() as connection:
        await connection.run_sync(lambda sync: Base.metadata.create_all(sync, tables=tables))
    return database
