"""Recompute jobs on the suite's PostgreSQL: the job row is taken ``FOR UPDATE SKIP
LOCKED``, so a second worker never gets a job another one holds (it takes the next one, or
nothing) and never waits for it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

from complaint_runtime.database import Database
from sla_watch.clocks.settings import ClockSettings
from sla_watch.main import MIGRATIONS
from sla_watch.policies.terms_source import StoredTerms
from sla_watch.recompute.db import JobRepository
from sla_watch.recompute.service import queue_recompute, recompute_batch

NewDatabase = Callable[[Path], Awaitable[Database]]

# Longer than any of these statements takes when it does not wait for a lock.
LOCK_WAIT_S = 5.0
NOW = datetime(2027, 3, 1, 1, 0, tzinfo=UTC)


async def _queue(database: Database, count: int) -> list[int]:
    job_ids = []
    for _ in range(count):
        async with database.unit_of_work() as uow:
            job = await queue_recompute(
                uow.session, reason="calendar_changed", calendar_id="cn-mainland"
            )
            job_ids.append(job.id)
    return job_ids


async def test_a_second_worker_does_not_get_a_job_another_holds(
    postgres_database: NewDatabase,
) -> None:
    database = await postgres_database(MIGRATIONS)
    oldest, newest = await _queue(database, 2)
    async with (
        database.unit_of_work() as first,
        database.unit_of_work() as second,
        database.unit_of_work() as third,
    ):
        taken = await JobRepository(first.session).next_open()
        # Without SKIP LOCKED these wait for the first transaction (and time out here).
        next_taken = await asyncio.wait_for(JobRepository(second.session).next_open(), LOCK_WAIT_S)
        nothing = await asyncio.wait_for(JobRepository(third.session).next_open(), LOCK_WAIT_S)
    assert taken is not None
    assert taken.id == oldest
    assert next_taken is not None
    assert next_taken.id == newest
    assert nothing is None


async def test_a_batch_works_the_next_job_while_another_worker_holds_the_oldest(
    postgres_database: NewDatabase,
) -> None:
    database = await postgres_database(MIGRATIONS)
    oldest, newest = await _queue(database, 2)
    settings = ClockSettings(terms=StoredTerms())
    async with database.unit_of_work() as other_worker:
        held = await JobRepository(other_worker.session).next_open()
        assert held is not None
        assert held.id == oldest
        worked = await asyncio.wait_for(
            recompute_batch(database=database, settings=settings, now=NOW), LOCK_WAIT_S
        )
        assert worked is not None
        assert (worked.id, worked.state) == (newest, "done")
    async with database.sessions() as session:
        jobs = {job.id: job.state for job in await JobRepository(session).recent(limit=5)}
    assert jobs == {oldest: "pending", newest: "done"}
