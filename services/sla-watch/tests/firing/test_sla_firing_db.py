"""Due clocks on the suite's PostgreSQL: what SQLite cannot show. ``FOR UPDATE SKIP
LOCKED`` lets replicas share the firing: two rounds at once take disjoint clocks, and a
clock another transaction holds (a consumer changing it) is left to a later round instead
of being waited for or fired under the other's feet."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from complaint_runtime.database import Database
from sla_watch.clocks.service import start_clocks
from sla_watch.clocks.settings import ClockSettings
from sla_watch.db import Clock, ClockRepository
from sla_watch.firing.service import fire_due
from sla_watch.main import MIGRATIONS
from sla_watch.policies.terms_source import StaticTerms
from sqlalchemy import select

NewDatabase = Callable[[Path], Awaitable[Database]]

# Longer than any of these statements takes when it does not wait for a lock.
LOCK_WAIT_S = 5.0
T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
SETTINGS = ClockSettings(
    terms=StaticTerms(
        first_response={"P1": 100, "P2": 200, "P3": 300, "P4": 400},
        resolution={"P1": 1000, "P2": 2000, "P3": 3000, "P4": 4000},
    )
)
NOW = T0 + timedelta(seconds=60)  # every first-response clock is due (50 % at 50 s)


async def _arm(database: Database, count: int) -> list[str]:
    complaint_ids = [str(uuid.uuid4()) for _ in range(count)]
    async with database.unit_of_work() as uow:
        for complaint_id in complaint_ids:
            await start_clocks(
                uow=uow, settings=SETTINGS, complaint_id=complaint_id, priority="P1", at=T0, now=T0
            )
    return complaint_ids


async def _fired_percents(database: Database) -> dict[str, list[int]]:
    async with database.sessions() as session:
        clocks = await session.scalars(select(Clock).where(Clock.metric == "first_response"))
        return {clock.complaint_id: clock.fired_percents for clock in clocks}


async def test_two_rounds_at_once_take_disjoint_clocks(postgres_database: NewDatabase) -> None:
    database = await postgres_database(MIGRATIONS)
    await _arm(database, 5)
    async with database.unit_of_work() as first, database.unit_of_work() as second:
        taken_first = await ClockRepository(first.session).due(NOW, limit=3)
        # Without SKIP LOCKED this waits for the first transaction (and times out here).
        taken_second = await asyncio.wait_for(
            ClockRepository(second.session).due(NOW, limit=10), LOCK_WAIT_S
        )
        third = await asyncio.wait_for(
            ClockRepository(second.session).due(NOW, limit=10), LOCK_WAIT_S
        )
    first_ids = {c.clock_id for c in taken_first}
    second_ids = {c.clock_id for c in taken_second}
    assert len(first_ids) == 3
    assert len(second_ids) == 2
    assert not first_ids & second_ids
    assert {c.clock_id for c in third} == second_ids  # its own locks do not hide them


async def test_a_clock_held_by_another_transaction_is_left_to_a_later_round(
    postgres_database: NewDatabase,
) -> None:
    database = await postgres_database(MIGRATIONS)
    held, free = await _arm(database, 2)
    async with database.unit_of_work() as consumer:
        # A consumer handling an event of ``held`` locks its clocks (lock order: clocks first).
        locked = await ClockRepository(consumer.session, lock=True).open_of_complaint(held)
        assert len(locked) == 2
        handled = await asyncio.wait_for(
            fire_due(database=database, settings=SETTINGS, now=NOW), LOCK_WAIT_S
        )
        assert handled == 1
    assert await _fired_percents(database) == {held: [], free: [50]}
    assert await fire_due(database=database, settings=SETTINGS, now=NOW) == 1
    assert await _fired_percents(database) == {held: [50], free: [50]}
