"""Arming at triage on the suite's PostgreSQL: the complaint's row is claimed with
``INSERT ... ON CONFLICT DO NOTHING``, so a complaint triaged twice, also by two consumers
at once, gets one set of clocks (the second claim waits for the first and inserts
nothing, instead of failing on the primary key)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

from complaint_runtime.database import Database, OutboxMessage
from sla_watch.clocks.service import start_clocks
from sla_watch.clocks.settings import ClockSettings
from sla_watch.db import Clock, ComplaintSla
from sla_watch.main import MIGRATIONS
from sla_watch.policies.terms_source import StaticTerms
from sqlalchemy import func, select

NewDatabase = Callable[[Path], Awaitable[Database]]

# Longer than any of these statements takes when it does not wait for a lock.
LOCK_WAIT_S = 5.0
# Long enough for a statement that is not blocked to have finished.
SETTLE_S = 0.3
T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
SETTINGS = ClockSettings(
    terms=StaticTerms(
        first_response={"P1": 100, "P2": 200, "P3": 300, "P4": 400},
        resolution={"P1": 1000, "P2": 2000, "P3": 3000, "P4": 4000},
    )
)


async def _arm(database: Database, complaint_id: str) -> list[Clock]:
    async with database.unit_of_work() as uow:
        return await start_clocks(
            uow=uow, settings=SETTINGS, complaint_id=complaint_id, priority="P2", at=T0, now=T0
        )


async def _counts(database: Database, complaint_id: str) -> tuple[int, int, int]:
    """Clocks, complaint rows and events of the complaint."""
    async with database.sessions() as session:
        clocks = await session.scalar(
            select(func.count()).select_from(Clock).where(Clock.complaint_id == complaint_id)
        )
        rows = await session.scalar(
            select(func.count())
            .select_from(ComplaintSla)
            .where(ComplaintSla.complaint_id == complaint_id)
        )
        events = await session.scalar(select(func.count()).select_from(OutboxMessage))
    return int(clocks or 0), int(rows or 0), int(events or 0)


async def test_arming_the_same_complaint_twice_gives_one_set_of_clocks(
    postgres_database: NewDatabase,
) -> None:
    database = await postgres_database(MIGRATIONS)
    complaint_id = str(uuid.uuid4())
    assert len(await _arm(database, complaint_id)) == 2
    assert await _arm(database, complaint_id) == []
    assert await _counts(database, complaint_id) == (2, 1, 2)


async def test_two_consumers_arming_at_once_give_one_set_of_clocks(
    postgres_database: NewDatabase,
) -> None:
    database = await postgres_database(MIGRATIONS)
    complaint_id = str(uuid.uuid4())
    armed = asyncio.Event()
    release = asyncio.Event()

    async def first() -> list[Clock]:
        async with database.unit_of_work() as uow:
            clocks = await start_clocks(
                uow=uow, settings=SETTINGS, complaint_id=complaint_id, priority="P2", at=T0, now=T0
            )
            await uow.session.flush()
            armed.set()
            await release.wait()
        return clocks

    first_task = asyncio.create_task(first())
    await asyncio.wait_for(armed.wait(), LOCK_WAIT_S)
    second_task = asyncio.create_task(_arm(database, complaint_id))
    await asyncio.sleep(SETTLE_S)
    assert not second_task.done()  # its claim waits for the first transaction's row
    release.set()
    first_clocks = await asyncio.wait_for(first_task, LOCK_WAIT_S)
    second_clocks = await asyncio.wait_for(second_task, LOCK_WAIT_S)
    assert len(first_clocks) == 2
    assert second_clocks == []
    assert await _counts(database, complaint_id) == (2, 1, 2)
