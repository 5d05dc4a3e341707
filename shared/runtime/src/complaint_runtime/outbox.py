"""The outbox relay: publishes committed outbox rows to Kafka, in commit order, at least once.

Rows are deleted only after Kafka acknowledged them (acks=all), inside the transaction that
read them; a crash between the two republishes them, and consumers drop the duplicates by
event id. For the same reason that transaction commits without waiting for its WAL flush
(``synchronous_commit`` off, PostgreSQL): a deletion lost in a crash of PostgreSQL only
republishes rows, and the relay saves an fsync per round. One relay at a time per database
holds a transaction-scoped advisory lock, so replicas never interleave and per-complaint
order is the order of commit.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from sqlalchemy import Row, delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from complaint_runtime import metrics
from complaint_runtime.consumer import is_transient
from complaint_runtime.database import Database, OutboxMessage, utcnow
from complaint_runtime.periodic import PeriodicLoop

log = structlog.get_logger(__name__)

# Plain rows, not ORM objects: the relay only reads them once and deletes them (an ORM
# object per row cost about as much as handing the row to the producer).
_NEXT_ROWS = select(
    OutboxMessage.id,
    OutboxMessage.topic,
    OutboxMessage.key,
    OutboxMessage.value,
    OutboxMessage.headers,
).order_by(OutboxMessage.id)

if TYPE_CHECKING:
    _OutboxRow = Row[int, str, bytes, bytes, list[list[str]]]


def _is_outage(exc: Exception) -> bool:
    """The broker or the database is away (a warning), as opposed to a bug (an error)."""
    return is_transient(exc) or isinstance(exc, KafkaError)


def _count_failure(ok: bool) -> None:
    if not ok:
        metrics.OUTBOX_RELAY_ERRORS.inc()


BACKLOG_COUNT_EVERY_S = 5.0

# Any constant works: it names "the relay" among this database's advisory locks.
RELAY_LOCK_KEY = 7_261_126_001


@dataclass(frozen=True)
class Backlog:
    rows: int
    oldest_age_s: float  # 0 when the outbox is empty


async def measure_backlog(database: Database) -> Backlog:
    """What waits for the relay: the rows, and how long the oldest has waited. Read apart
    from the relay, which is stuck exactly when this matters (the broker is away)."""
    async with database.sessions() as session:
        rows = await session.scalar(select(func.count()).select_from(OutboxMessage))
        # The lowest id is the oldest row (ids are taken at insert): one index lookup.
        oldest = await session.scalar(
            select(OutboxMessage.created_at).order_by(OutboxMessage.id).limit(1)
        )
    age_s = max((utcnow() - oldest).total_seconds(), 0.0) if oldest is not None else 0.0
    return Backlog(int(rows or 0), age_s)


class OutboxRelay:
    def __init__(
        self,
        *,
        database: Database,
        producer: AIOKafkaProducer,
        batch_size: int = 500,
        poll_interval_s: float = 0.5,
    ):
        self._database = database
        self._producer = producer
        self._batch_size = batch_size
        self._backlog_counted_at = float("-inf")
        # A failed round committed nothing: its rows are published by the next one.
        self._loop = PeriodicLoop(
            self._round,
            name="outbox relay",
            tick_s=poll_interval_s,
            backoff_base_s=0.2,
            max_backoff_s=10.0,
            on_outcome=_count_failure,
            is_expected=_is_outage,
        )

    def wake(self) -> None:
        """Called after a commit that added events, so they leave at once, not at next poll."""
        self._loop.wake()

    def stop(self) -> None:
        self._loop.stop()

    async def run(self) -> None:
        await self._loop.run()

    async def _round(self) -> bool:
        return await self.publish_once() >= self._batch_size

    async def publish_once(self) -> int:
        """Publish one batch; returns how many rows left the outbox."""
        if not self._database.is_postgres:
            return await self._publish_once_sqlite()
        async with self._database.sessions() as session, session.begin():
            if not await self._take_relay_lock(session):
                return 0
            rows = await self._next_rows(session)
            if rows:
                await self._produce(rows)
                await self._mark_published(session, rows)
            if len(rows) < self._batch_size:
                metrics.OUTBOX_BACKLOG.set(0)  # it took every row committed before it began
            elif self._backlog_due():
                metrics.OUTBOX_BACKLOG.set(await self._backlog(session))
        metrics.OUTBOX_PUBLISHED.inc(len(rows))
        return len(rows)

    async def _publish_once_sqlite(self) -> int:
        # SQLite has one writer at a time: holding a write transaction while Kafka is slow
        # or down would block every request. One process per database file (make up), so
        # nothing else publishes these rows between the two short transactions.
        async with self._database.sessions() as session:
            rows = await self._next_rows(session)
        if rows:
            await self._produce(rows)
            async with self._database.sessions() as session, session.begin():
                await self._mark_published(session, rows)
        metrics.OUTBOX_PUBLISHED.inc(len(rows))
        return len(rows)

    async def _next_rows(self, session: AsyncSession) -> Sequence[_OutboxRow]:
        return (await session.execute(_NEXT_ROWS.limit(self._batch_size))).all()

    async def _backlog(self, session: AsyncSession) -> int:
        return int(await session.scalar(select(func.count()).select_from(OutboxMessage)) or 0)

    async def _take_relay_lock(self, session: AsyncSession) -> bool:
        """The relay's lock, and its transaction's commit without waiting for the WAL flush
        (see the module's docstring), in one round trip."""
        locked = await session.scalar(
            text(
                "SELECT pg_try_advisory_xact_lock(:key) "
                "FROM set_config('synchronous_commit', 'off', true)"
            ),
            {"key": RELAY_LOCK_KEY},
        )
        return bool(locked)

    def _backlog_due(self) -> bool:
        """Under a backlog the rows are counted at most every BACKLOG_COUNT_EVERY_S."""
        now = time.monotonic()
        if now - self._backlog_counted_at < BACKLOG_COUNT_EVERY_S:
            return False
        self._backlog_counted_at = now
        return True

    async def _produce(self, rows: Sequence[_OutboxRow]) -> None:
        # send() only enqueues; awaiting every delivery future afterwards lets the
        # producer batch the whole round while keeping per-partition order.
        deliveries = [
            await self._producer.send(
                row.topic,
                value=row.value,
                key=row.key,
                headers=[(name, value.encode()) for name, value in row.headers],
            )
            for row in rows
        ]
        await asyncio.gather(*deliveries)

    async def _mark_published(self, session: AsyncSession, rows: Sequence[_OutboxRow]) -> None:
        await session.execute(
            delete(OutboxMessage).where(OutboxMessage.id.in_([row.id for row in rows]))
        )
