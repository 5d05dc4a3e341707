"""The reopen by a customer message on the suite's real PostgreSQL: the closure and the
message of one complaint come from two topics, possibly in two transactions at once (two
replicas); the closure row is read under its lock (``FOR UPDATE``), so the second waits for
the first and sees it, and the complaint is reopened exactly once."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

from complaint_runtime.database import Database
from feedback import reopening
from feedback.main import MIGRATIONS

from .test_feedback_reopening import T0, closed, message, reopens, write

NewPostgresDatabase = Callable[[Path], Awaitable[Database]]
HOLD_S = 0.5  # the closure's transaction stays open this long after it took the row


async def _close_and_hold(database: Database, locked: asyncio.Event) -> None:
    async with database.unit_of_work() as uow:
        await reopening.record_closure(uow=uow, closed=closed(at=T0), now=T0)
        locked.set()
        await asyncio.sleep(HOLD_S)


async def test_a_message_racing_its_closure_reopens_exactly_once(
    postgres_database: NewPostgresDatabase,
) -> None:
    database = await postgres_database(MIGRATIONS)
    # An earlier message made the row: without the row lock the racing message would read
    # it as it was (not closed), the closure would not see the message, and nobody would
    # reopen the complaint.
    await write(database, message(at=T0 - timedelta(days=1)))
    locked = asyncio.Event()
    holder = asyncio.create_task(_close_and_hold(database, locked))
    await asyncio.wait_for(locked.wait(), timeout=10)
    racing = message(at=T0 + timedelta(minutes=1))
    reopened_by_message = await asyncio.wait_for(write(database, racing), timeout=10)
    await asyncio.wait_for(holder, timeout=10)
    assert reopened_by_message
    [reopened] = await reopens(database)
    assert reopened.message_id == racing.message_id


async def test_concurrent_first_events_create_one_row(
    postgres_database: NewPostgresDatabase,
) -> None:
    database = await postgres_database(MIGRATIONS)
    late = message(at=T0 + timedelta(minutes=1))

    async def close() -> bool:
        async with database.unit_of_work() as uow:
            return await reopening.record_closure(uow=uow, closed=closed(at=T0), now=T0)

    outcomes = await asyncio.wait_for(asyncio.gather(close(), write(database, late)), 10)
    assert sorted(outcomes) == [False, True]  # whichever came second reopened
    assert len(await reopens(database)) == 1
