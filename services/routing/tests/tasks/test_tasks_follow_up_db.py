"""One open follow-up call per case on the suite's PostgreSQL: the partial unique index
``uq_tasks_one_open`` makes of two transactions inserting one at once exactly one succeed
(the other waits for its commit, then does nothing), while done tasks and reviews are not
restricted."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from complaint_runtime.database import Database
from routing.main import MIGRATIONS
from routing.tasks.db import Task, TaskRepository
from sqlalchemy import select, update

from .test_tasks_db import NewDatabase, _reopened_case

NOW = datetime.now(UTC)


def _values(cid: str, kind: str, event: str) -> dict[str, Any]:
    return {
        "kind": kind,
        "complaint_id": cid,
        "team": "billing",
        "status": "open",
        "detail": {},
        "source_event_id": event,
        "created_by": "routing",
        "created_at": NOW,
        "due_at": NOW + timedelta(days=30),
        "available_from": NOW + timedelta(days=15),
        "updated_at": NOW,
    }


async def _insert_and_hold(
    database: Database, values: dict[str, Any], inserted: asyncio.Event, commit: asyncio.Event
) -> int | None:
    async with database.unit_of_work() as uow:
        task_id = await TaskRepository(uow.session).add_open_once(values)
        inserted.set()
        await commit.wait()
    return task_id


async def test_two_open_calls_at_once_one_wins(postgres_database: NewDatabase) -> None:
    database = await postgres_database(MIGRATIONS)
    cid = await _reopened_case(database)
    inserted, commit = asyncio.Event(), asyncio.Event()
    first = asyncio.create_task(
        _insert_and_hold(database, _values(cid, "follow_up_call", "ev-1"), inserted, commit)
    )
    await asyncio.wait_for(inserted.wait(), 10)
    async with database.unit_of_work() as uow:
        second = asyncio.create_task(
            TaskRepository(uow.session).add_open_once(_values(cid, "follow_up_call", "ev-2"))
        )
        await asyncio.sleep(0.3)
        assert not second.done()  # waits for the first transaction's outcome
        commit.set()
        assert await asyncio.wait_for(first, 10) is not None
        assert await asyncio.wait_for(second, 10) is None
    async with database.sessions() as session:
        calls = list(
            await session.scalars(
                select(Task).where(Task.complaint_id == cid, Task.kind == "follow_up_call")
            )
        )
    assert len(calls) == 1


async def test_done_tasks_and_reviews_do_not_count(postgres_database: NewDatabase) -> None:
    database = await postgres_database(MIGRATIONS)
    cid = await _reopened_case(database)  # an open review already
    async with database.unit_of_work() as uow:
        tasks = TaskRepository(uow.session)
        call = await tasks.add_open_once(_values(cid, "follow_up_call", "ev-1"))
        assert call is not None
        assert await tasks.add_open_once(_values(cid, "review_reopen", "ev-2")) is not None
        await uow.session.execute(update(Task).where(Task.id == call).values(status="done"))
        assert await tasks.add_open_once(_values(cid, "follow_up_call", "ev-3")) is not None
        assert await tasks.add_open_once(_values(cid, "customer_unreachable", "ev-4")) is not None
        assert await tasks.add_open_once(_values(cid, "customer_unreachable", "ev-5")) is None
