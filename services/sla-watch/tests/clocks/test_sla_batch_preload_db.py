"""A consumer's batch on the suite's PostgreSQL: what SQLite cannot show. The batch's
preload locks the clocks and rows its handlers change (another transaction waits for the
batch), and a clock another consumer added while the batch waited for its locks still gets
the team of an assignment in the batch, as the UPDATE of each assignment gave it before."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from complaint_contracts import topics
from complaint_contracts.events import ComplaintAssigned
from complaint_contracts.examples import example_for
from complaint_runtime.consumer import EventConsumer
from complaint_runtime.database import Database
from complaint_runtime.testing import FakeProducer, FakeRecord, envelope_of, record_of
from sla_watch import messaging
from sla_watch.clocks import complaint_facts, next_response
from sla_watch.clocks.service import start_clocks
from sla_watch.clocks.settings import ClockSettings
from sla_watch.db import Clock, ComplaintSla
from sla_watch.main import MIGRATIONS
from sla_watch.policies.terms_source import StaticTerms
from sqlalchemy import select

NewDatabase = Callable[[Path], Awaitable[Database]]

# Longer than any of these statements takes when it does not wait for a lock.
LOCK_WAIT_S = 5.0
# Long enough for a statement that is not blocked to have finished.
SETTLE_S = 0.3
T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
SETTINGS = ClockSettings(
    terms=StaticTerms(
        first_response={"P1": 3_600, "P2": 7_200, "P3": 14_400, "P4": 28_800},
        resolution={"P1": 86_400, "P2": 172_800, "P3": 259_200, "P4": 345_600},
    )
)
_groups = itertools.count()


async def _arm(database: Database, count: int) -> list[str]:
    complaint_ids = sorted(str(uuid.uuid4()) for _ in range(count))
    async with database.unit_of_work() as uow:
        for complaint_id in complaint_ids:
            await start_clocks(
                uow=uow, settings=SETTINGS, complaint_id=complaint_id, priority="P2", at=T0, now=T0
            )
    return complaint_ids


def _assigned(complaint_id: str, team: str) -> FakeRecord:
    data = example_for(ComplaintAssigned).model_copy(
        update={"complaint_id": complaint_id, "team": team}
    )
    return record_of(data, topics.ROUTING)


async def _teams(database: Database) -> dict[str, set[str | None]]:
    """The teams on each complaint's clocks, and on its row (``row``)."""
    found: dict[str, set[str | None]] = {}
    async with database.sessions() as session:
        for clock in await session.scalars(select(Clock)):
            found.setdefault(clock.complaint_id, set()).add(clock.team)
        for row in await session.scalars(select(ComplaintSla)):
            found.setdefault(f"row {row.complaint_id}", set()).add(row.team)
    return found


async def test_a_batch_holds_its_clocks_and_rows_until_it_commits(
    postgres_database: NewDatabase,
) -> None:
    database = await postgres_database(MIGRATIONS)
    first, second = await _arm(database, 2)
    batch = [envelope_of(_assigned(c, "billing")) for c in (second, first)]
    async with database.unit_of_work() as uow:
        await messaging.preload(uow, batch)

        async def hand_off() -> None:  # another transaction, as before the preload
            async with database.unit_of_work() as other:
                await complaint_facts.set_team(uow=other, complaint_id=first, team="quality")

        waiting = asyncio.create_task(hand_off())
        await asyncio.sleep(SETTLE_S)
        assert not waiting.done()  # it waits for the clocks the batch locked
        handlers = messaging.handlers(SETTINGS)
        for envelope in batch:
            await handlers[ComplaintAssigned](uow, envelope)
    await asyncio.wait_for(waiting, LOCK_WAIT_S)
    assert await _teams(database) == {
        first: {"quality"},  # the hand-off came after the batch
        f"row {first}": {"quality"},
        second: {"billing"},
        f"row {second}": {"billing"},
    }


async def test_a_clock_added_while_the_batch_waited_gets_the_team(
    postgres_database: NewDatabase,
) -> None:
    database = await postgres_database(MIGRATIONS)
    waited_for, other = await _arm(database, 2)
    added = asyncio.Event()
    release = asyncio.Event()

    async def customer_message() -> None:
        # Another replica (the intake topic): locks the complaint's open clocks and row, and
        # adds a next-response clock with the team the row has (none yet).
        async with database.unit_of_work() as uow:
            clock = await next_response.start_next_response(
                uow=uow,
                settings=SETTINGS,
                complaint_id=waited_for,
                message_id="m1",
                at=T0 + timedelta(minutes=1),
            )
            assert clock is not None
            await uow.session.flush()
            added.set()
            await release.wait()

    adding = asyncio.create_task(customer_message())
    await asyncio.wait_for(added.wait(), LOCK_WAIT_S)
    consumer = EventConsumer(
        database=database,
        bootstrap_servers="127.0.0.1:1",  # run() is never called: batches are fed directly
        group_id=f"sla-watch-{next(_groups)}",
        topics=[topics.ROUTING.name],
        handlers=messaging.handlers(SETTINGS),
        dead_letter_topic="complaints.dlq.sla-watch.v1",
        producer=FakeProducer(),
        apply_batch_at_once=True,
        preload=messaging.preload,
    )
    batch = [_assigned(waited_for, "billing"), _assigned(other, "billing")]
    applying = asyncio.create_task(consumer._process_batch(batch))
    await asyncio.sleep(SETTLE_S)
    assert not applying.done()  # the preload waits for the complaint's open clocks
    release.set()
    await asyncio.wait_for(adding, LOCK_WAIT_S)
    await asyncio.wait_for(applying, LOCK_WAIT_S)
    async with database.sessions() as session:
        clocks = list(await session.scalars(select(Clock).where(Clock.complaint_id == waited_for)))
    assert sorted((c.metric, c.team) for c in clocks) == [
        ("first_response", "billing"),
        ("next_response", "billing"),  # added after the batch's first read, before its rows
        ("resolution", "billing"),
    ]
    assert (await _teams(database))[f"row {waited_for}"] == {"billing"}
