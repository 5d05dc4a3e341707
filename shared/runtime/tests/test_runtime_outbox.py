"""The outbox relay against a fake producer: order, deletion after ack, at least once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path

import pytest
from aiokafka.errors import KafkaTimeoutError
from complaint_contracts import topics
from complaint_contracts.events import ComplaintTriaged
from complaint_contracts.examples import COMPLAINT_ID, example_for
from complaint_runtime.database import Database, OutboxMessage
from complaint_runtime.outbox import OutboxRelay
from complaint_runtime.testing import FakeProducer, FakeRecord, sqlite_database
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    db = await sqlite_database(tmp_path / "t.db")
    yield db
    await db.dispose()


async def _stage(db: Database, count: int) -> list[str]:
    """Commit ``count`` events, one transaction each; returns their ids in commit order."""
    ids = []
    for _ in range(count):
        async with db.unit_of_work() as uow:
            ids.append(
                uow.add_event(
                    example_for(ComplaintTriaged),
                    topic=topics.ROUTING.name,
                    source="routing",
                    subject=COMPLAINT_ID,
                )
            )
    return ids


async def _rows(db: Database) -> list[OutboxMessage]:
    async with db.sessions() as session:
        return list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def _ids(sent: Sequence[FakeRecord]) -> list[str]:
    return [dict(s.headers)["ce_id"].decode() for s in sent]


async def test_publish_once_sends_in_order_and_deletes(database: Database) -> None:
    producer = FakeProducer()
    relay = OutboxRelay(database=database, producer=producer, batch_size=100)
    ids = await _stage(database, 5)
    rows = await _rows(database)

    assert await relay.publish_once() == 5

    assert _ids(producer.sent) == ids
    for sent, row in zip(producer.sent, rows, strict=True):
        assert sent.topic == row.topic == topics.ROUTING.name
        assert sent.key == row.key == COMPLAINT_ID.encode()
        assert sent.value == row.value
        assert sent.headers == [(name, value.encode()) for name, value in row.headers]
    assert await _rows(database) == []
    assert await relay.publish_once() == 0
    assert len(producer.sent) == 5


async def test_publish_once_takes_one_batch_at_a_time(database: Database) -> None:
    producer = FakeProducer()
    relay = OutboxRelay(database=database, producer=producer, batch_size=2)
    ids = await _stage(database, 5)

    assert await relay.publish_once() == 2
    assert len(await _rows(database)) == 3
    assert await relay.publish_once() == 2
    assert await relay.publish_once() == 1
    assert await relay.publish_once() == 0
    assert _ids(producer.sent) == ids


async def test_failed_delivery_deletes_nothing_and_is_sent_again(database: Database) -> None:
    producer = FakeProducer()
    relay = OutboxRelay(database=database, producer=producer)
    ids = await _stage(database, 3)
    producer.failures_left = 1  # the first delivery of the round fails

    with pytest.raises(KafkaTimeoutError):
        await relay.publish_once()
    assert [r.event_id for r in await _rows(database)] == ids

    assert await relay.publish_once() == 3
    assert await _rows(database) == []
    # At least once: every event of the failed round went out again, in order.
    assert _ids(producer.sent) == ids + ids


class CrashAfterSend(OutboxRelay):
    async def _mark_published(self, session: AsyncSession, rows: Sequence[OutboxMessage]) -> None:
        await super()._mark_published(session, rows)
        raise RuntimeError("crash between delivery and commit")


async def test_crash_before_commit_leaves_rows_for_redelivery(database: Database) -> None:
    producer = FakeProducer()
    crashing = CrashAfterSend(database=database, producer=producer)
    ids = await _stage(database, 2)

    with pytest.raises(RuntimeError, match="crash"):
        await crashing.publish_once()
    assert [r.event_id for r in await _rows(database)] == ids
    assert _ids(producer.sent) == ids

    relay = OutboxRelay(database=database, producer=producer)
    assert await relay.publish_once() == 2
    assert _ids(producer.sent) == ids + ids
    assert await _rows(database) == []


class CountingRelay(OutboxRelay):
    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.rounds = 0

    async def publish_once(self) -> int:
        try:
            return await super().publish_once()
        finally:
            self.rounds += 1


async def _until(condition: Callable[[], bool], within: float = 2.0) -> None:
    """Poll a condition on the fakes (they have no events to wait on)."""
    async with asyncio.timeout(within):
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.01)


async def test_wake_publishes_well_before_the_poll_interval(database: Database) -> None:
    producer = FakeProducer()
    relay = CountingRelay(database=database, producer=producer, poll_interval_s=60)
    database.on_events_committed = relay.wake
    task = asyncio.create_task(relay.run())
    try:
        await _until(lambda: relay.rounds == 1)
        await asyncio.sleep(0.05)  # the relay is now sleeping out its 60 s poll interval
        assert relay.rounds == 1
        ids = await _stage(database, 1)
        await _until(lambda: len(producer.sent) == 1)
        assert _ids(producer.sent) == ids
    finally:
        relay.stop()
        await asyncio.wait_for(task, timeout=2.0)
    assert task.done()
    assert task.exception() is None


async def test_without_wake_nothing_leaves_before_the_poll(database: Database) -> None:
    producer = FakeProducer()
    relay = CountingRelay(database=database, producer=producer, poll_interval_s=60)
    task = asyncio.create_task(relay.run())
    try:
        await _until(lambda: relay.rounds == 1)
        await _stage(database, 1)  # on_events_committed is not wired to the relay
        await asyncio.sleep(0.2)
        assert producer.sent == []
        relay.wake()
        await _until(lambda: len(producer.sent) == 1)
    finally:
        relay.stop()
        await asyncio.wait_for(task, timeout=2.0)


async def test_run_retries_a_failed_round(database: Database) -> None:
    producer = FakeProducer()
    relay = CountingRelay(database=database, producer=producer, poll_interval_s=60)
    ids = await _stage(database, 2)
    producer.failures_left = 1
    task = asyncio.create_task(relay.run())
    try:
        # The failed round backs off (0.4 s) and the next round sends everything again.
        await _until(lambda: relay.rounds == 2, within=3.0)
        assert _ids(producer.sent) == ids + ids
    finally:
        relay.stop()
        await asyncio.wait_for(task, timeout=2.0)
    assert await _rows(database) == []
