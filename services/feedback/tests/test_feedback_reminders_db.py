"""The reminder on the suite's real PostgreSQL, where rounds of several replicas run side by
side: a round skips the requests another holds (``SKIP LOCKED``) and every request is
reminded exactly once."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from complaint_contracts.envelope import decode
from complaint_contracts.events import ComplaintConfirmationRequested
from complaint_runtime.database import Database, OutboxMessage
from feedback import reminders
from feedback.main import MIGRATIONS
from sqlalchemy import select

from .test_feedback_requests_db import (
    LOOP_SETTINGS,
    T0,
    NewPostgresDatabase,
    _claim_and_hold,
    _pending_requests,
)

DUE = T0 + timedelta(days=2)  # past every request's reminder time, before its deadline


async def _reminded(database: Database) -> list[str]:
    async with database.sessions() as session:
        rows = list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    events = [decode(r.key, r.value, [(n, v.encode()) for n, v in r.headers]).data for r in rows]
    return [
        e.request_id for e in events if isinstance(e, ComplaintConfirmationRequested) and e.reminder
    ]


async def _round(database: Database, limit: int) -> int:
    return await reminders.send_due_reminders(
        database=database, loop_settings=LOOP_SETTINGS, limit=limit, now=DUE
    )


async def test_two_reminder_rounds_at_once_take_disjoint_requests(
    postgres_database: NewPostgresDatabase,
) -> None:
    database = await postgres_database(MIGRATIONS)
    requests = await _pending_requests(database, 6)
    claimed: asyncio.Future[set[str]] = asyncio.get_running_loop().create_future()
    release = asyncio.Event()
    sent_before = DUE - timedelta(seconds=LOOP_SETTINGS.reminder_after_s)
    holder = asyncio.create_task(
        _claim_and_hold(
            database,
            lambda r: r.reminders_due(sent_before=sent_before, now=DUE, limit=3),
            claimed,
            release,
        )
    )
    try:
        held = await asyncio.wait_for(claimed, timeout=10)
        # Without SKIP LOCKED this round would wait for the holder: a timeout.
        assert await asyncio.wait_for(_round(database, 6), timeout=5) == 3
        assert set(await _reminded(database)).isdisjoint(held)
    finally:
        release.set()
        await asyncio.wait_for(holder, timeout=10)
    assert await _round(database, 6) == 3
    assert await _round(database, 6) == 0
    reminded = await _reminded(database)
    assert sorted(reminded) == sorted(r.request_id for r in requests)  # each exactly once


async def test_concurrent_rounds_remind_each_request_once(
    postgres_database: NewPostgresDatabase,
) -> None:
    database = await postgres_database(MIGRATIONS)
    requests = await _pending_requests(database, 8)
    counts = await asyncio.gather(*(_round(database, 3) for _ in range(4)))
    while sum(counts) < len(requests) and any(counts):
        counts = [*counts, await _round(database, 3)]
    reminded = await _reminded(database)
    assert sorted(reminded) == sorted(r.request_id for r in requests)
