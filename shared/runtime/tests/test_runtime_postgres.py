"""The runtime's PostgreSQL-only mechanisms on a real server (db tier): one relay at a time
per database (a transaction-scoped advisory lock), and ``processed_events``' ``ON CONFLICT``
that lets a consumer group apply an event at most once, also when two transactions race."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from complaint_contracts import topics
from complaint_contracts.events import ComplaintTriaged
from complaint_contracts.examples import COMPLAINT_ID, example_for
from complaint_devinfra.postgres import PostgresEndpoint
from complaint_runtime.audit import AuditLink
from complaint_runtime.database import Database, OutboxMessage, ProcessedEvent
from complaint_runtime.outbox import RELAY_LOCK_KEY, OutboxRelay
from complaint_runtime.testing import FakeProducer, event_id_of
from sqlalchemy import Table, func, select, text
from sqlalchemy.exc import IntegrityError

TABLES = [OutboxMessage.__table__, ProcessedEvent.__table__, AuditLink.__table__]


@pytest.fixture
async def database(local_postgres: PostgresEndpoint) -> AsyncIterator[Database]:
    """A fresh database holding the runtime's own tables."""
    name = f"t_{uuid.uuid4().hex[:16]}"
    db = Database(await local_postgres.create_database_async(name), pool_size=4)
    async with db.engine.begin() as connection:
        tables = [t for t in TABLES if isinstance(t, Table)]
        await connection.run_sync(lambda sync: OutboxMessage.metadata.create_all(sync, tables))
    yield db
    await db.dispose()
    await local_postgres.drop_database_async(name)


async def _stage(db: Database, count: int) -> None:
    for _ in range(count):
        async with db.unit_of_work() as uow:
            uow.add_event(
                example_for(ComplaintTriaged),
                topic=topics.ROUTING.name,
                source="routing",
                subject=COMPLAINT_ID,
            )


async def _outbox_rows(db: Database) -> int:
    async with db.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(OutboxMessage)) or 0)


async def test_a_second_relay_publishes_nothing_while_another_holds_the_lock(
    database: Database,
) -> None:
    await _stage(database, 3)
    producer = FakeProducer()
    relay = OutboxRelay(database=database, producer=producer)  # type: ignore[arg-type]
    async with database.sessions() as other, other.begin():
        # Another replica's relay, in the middle of its round.
        await other.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": RELAY_LOCK_KEY})
        assert await relay.publish_once() == 0
        assert producer.sent == []
        assert await _outbox_rows(database) == 3
    # The other round ended (its transaction, and so its lock): this relay takes over.
    assert await relay.publish_once() == 3
    assert [r.topic for r in producer.sent] == [topics.ROUTING.name] * 3
    assert await _outbox_rows(database) == 0


async def test_two_relays_at_once_never_publish_a_row_twice(database: Database) -> None:
    await _stage(database, 40)
    producer = FakeProducer()
    relays = [
        OutboxRelay(database=database, producer=producer, batch_size=5)  # type: ignore[arg-type]
        for _ in range(2)
    ]

    async def drain(relay: OutboxRelay) -> None:
        for _ in range(40):
            await relay.publish_once()

    await asyncio.gather(*(drain(r) for r in relays))
    ids = [event_id_of(r) for r in producer.sent]
    assert len(ids) == 40
    assert len(set(ids)) == 40
    assert await _outbox_rows(database) == 0


async def test_a_racing_transaction_waits_and_then_finds_the_event_applied(
    database: Database,
) -> None:
    first_marked = asyncio.Event()
    release_first = asyncio.Event()

    async def first() -> bool:
        async with database.unit_of_work() as uow:
            marked = await uow.mark_processed(consumer="g", event_id="e-1", outcome="applied")
            first_marked.set()
            await release_first.wait()
            return marked

    async def second() -> bool:
        await first_marked.wait()
        async with database.unit_of_work() as uow:
            # Blocks on the first transaction's uncommitted row, then sees it committed.
            return await uow.mark_processed(consumer="g", event_id="e-1", outcome="applied")

    first_task = asyncio.create_task(first())
    second_task = asyncio.create_task(second())
    await first_marked.wait()
    await asyncio.sleep(0.3)
    assert not second_task.done()  # waiting for the first transaction, not guessing
    release_first.set()
    assert await asyncio.wait_for(first_task, 10) is True
    assert await asyncio.wait_for(second_task, 10) is False
    async with database.sessions() as session:
        rows = (await session.scalars(select(ProcessedEvent))).all()
    assert [(r.consumer, r.event_id) for r in rows] == [("g", "e-1")]


async def test_a_rolled_back_mark_leaves_the_event_to_the_waiting_transaction(
    database: Database,
) -> None:
    first_marked = asyncio.Event()
    release_first = asyncio.Event()

    async def first() -> None:
        with pytest.raises(RuntimeError, match="handler failed"):
            async with database.unit_of_work() as uow:
                await uow.mark_processed(consumer="g", event_id="e-2", outcome="applied")
                first_marked.set()
                await release_first.wait()
                raise RuntimeError("handler failed")

    async def second() -> bool:
        await first_marked.wait()
        async with database.unit_of_work() as uow:
            return await uow.mark_processed(consumer="g", event_id="e-2", outcome="applied")

    first_task = asyncio.create_task(first())
    second_task = asyncio.create_task(second())
    await first_marked.wait()
    await asyncio.sleep(0.3)
    release_first.set()
    await asyncio.wait_for(first_task, 10)
    assert await asyncio.wait_for(second_task, 10) is True


async def test_the_relays_transaction_alone_commits_without_waiting_for_the_flush(
    database: Database,
) -> None:
    """Its deletion may be lost in a crash of PostgreSQL (rows are republished, consumers
    drop them by id); every other transaction keeps the server's synchronous commit."""
    relay = OutboxRelay(database=database, producer=FakeProducer())  # type: ignore[arg-type]
    async with database.sessions() as session, session.begin():
        assert await relay._take_relay_lock(session)
        assert await session.scalar(text("SHOW synchronous_commit")) == "off"
    async with database.sessions() as session, session.begin():
        assert await session.scalar(text("SHOW synchronous_commit")) == "on"
    async with database.unit_of_work() as uow:
        assert await uow.session.scalar(text("SHOW synchronous_commit")) == "on"


async def test_a_failed_statement_never_shows_its_bound_values(database: Database) -> None:
    """On PostgreSQL too, an error's text names the statement, not the values bound to it
    (contacts, free text): such texts are logged and put in dead letters' headers."""
    phone = "+8613812345678"
    async with database.sessions() as session, session.begin():
        session.add(ProcessedEvent(consumer="c", event_id=phone, outcome="applied"))
    with pytest.raises(IntegrityError) as failed:
        async with database.sessions() as session, session.begin():
            session.add(ProcessedEvent(consumer="c", event_id=phone, outcome="applied"))
    assert phone not in str(failed.value)
    assert "hidden" in str(failed.value)
