"""Recompute jobs move open clocks' deadlines after a change, in batches, and resume from
their cursor after a crash without sending anything twice."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from complaint_contracts.envelope import Envelope, decode
from complaint_contracts.events import SlaClockRescheduled
from complaint_runtime.context import caused_by
from complaint_runtime.database import Database, OutboxMessage
from sla_watch.calendars.db import CalendarRepository
from sla_watch.calendars.domain.holidays_cn import china_calendar
from sla_watch.clocks.service import start_clocks, stop_clocks
from sla_watch.clocks.settings import ClockSettings
from sla_watch.db import Clock, ClockRepository
from sla_watch.policies.db import PolicyRepository
from sla_watch.policies.terms_source import StoredTerms
from sla_watch.recompute import service as recompute
from sla_watch.recompute.db import JobRepository, RecomputeJob
from sla_watch.recompute.loop import RecomputeLoop
from sla_watch.recompute.service import queue_recompute, recompute_batch
from sqlalchemy import delete, select

# Monday 2027-03-01 09:00 in Shanghai: outside chinese-calendar's data, a plain week.
T0 = datetime(2027, 3, 1, 1, 0, tzinfo=UTC)
HOLIDAY = date(2027, 3, 2)


async def arm(db: Database, settings: ClockSettings, priority: Any, count: int) -> list[str]:
    complaint_ids = [str(uuid.uuid4()) for _ in range(count)]
    for complaint_id in complaint_ids:
        async with db.unit_of_work() as uow:
            with caused_by(correlation_id=f"c-{complaint_id}", causation_id=None):
                await start_clocks(
                    uow=uow,
                    settings=settings,
                    complaint_id=complaint_id,
                    priority=priority,
                    at=T0,
                    now=T0,
                )
    return complaint_ids


async def drain(db: Database) -> list[Envelope]:
    async with db.sessions() as session, session.begin():
        rows = list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        await session.execute(delete(OutboxMessage))
    return [decode(r.key, r.value, [(n, v.encode()) for n, v in r.headers]) for r in rows]


async def add_holiday(db: Database, day: date) -> int:
    async with db.unit_of_work() as uow:
        job = await queue_recompute(
            uow.session, reason="calendar_changed", calendar_id="cn-mainland"
        )
        await CalendarRepository(uow.session).put_day(
            "cn-mainland", day, kind="holiday", name="test holiday", source="admin"
        )
    return job.id


async def clocks(db: Database) -> dict[str, Clock]:
    async with db.sessions() as session:
        return {c.clock_id: c for c in await session.scalars(select(Clock))}


async def job(db: Database, job_id: int) -> RecomputeJob:
    async with db.sessions() as session:
        found = await JobRepository(session).get(job_id)
    assert found is not None
    return found


@pytest.fixture
def settings() -> ClockSettings:
    return ClockSettings(terms=StoredTerms())


async def test_a_holiday_moves_the_open_clocks_of_its_calendar(
    database: Database, settings: ClockSettings
) -> None:
    p3 = await arm(database, settings, "P3", 3)
    await arm(database, settings, "P1", 1)  # 24×7: another calendar, out of scope
    async with database.unit_of_work() as uow:  # a stopped clock is never touched
        await stop_clocks(
            uow=uow,
            settings=settings,
            complaint_id=p3[0],
            at=T0,
            reason="test",
            metric="first_response",
        )
    await drain(database)
    before = await clocks(database)
    job_id = await add_holiday(database, HOLIDAY)

    done = await recompute_batch(database=database, settings=settings, batch=100, now=T0)
    assert done is not None
    assert done.id == job_id
    finished = await job(database, job_id)
    # 3 resolution clocks (3 working days: Tuesday now off) move; the 2 first-response
    # clocks (one working day, due Monday 18:00) do not
    assert (finished.state, finished.clocks_seen, finished.clocks_moved) == ("done", 5, 3)
    assert await recompute_batch(database=database, settings=settings, batch=100, now=T0) is None

    expected_calendar = china_calendar(extra_holidays=[HOLIDAY])
    after = await clocks(database)
    events = [e.data for e in await drain(database)]
    assert all(isinstance(e, SlaClockRescheduled) for e in events)
    rescheduled = {e.clock_id: e for e in events if isinstance(e, SlaClockRescheduled)}
    for clock_id, old in before.items():
        new = after[clock_id]
        if old.calendar_id == "24x7" or old.state == "stopped":
            assert new.due_at == old.due_at
            assert clock_id not in rescheduled
            continue
        # independently: the target counted in the calendar with the new holiday
        assert new.due_at == expected_calendar.add(T0, old.target_seconds)
        if old.metric == "first_response":
            assert new.due_at == old.due_at
            assert clock_id not in rescheduled
            continue
        # the holiday is a whole working day: the old deadline now comes 7.5 h of business
        # time early, and the new one a working day later (Wed 18:00 -> Thu 18:00)
        assert expected_calendar.elapsed(T0, old.due_at) == old.target_seconds - 27_000
        assert new.due_at - old.due_at == timedelta(days=1)
        event = rescheduled[clock_id]
        assert event.reason == "calendar_changed"
        assert (event.previous_due_at, event.due_at) == (old.due_at, new.due_at)
    assert len(rescheduled) == 3


async def test_a_job_resumes_from_its_cursor_after_a_crash(
    database: Database, settings: ClockSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    await arm(database, settings, "P3", 4)  # 8 open clocks
    await drain(database)
    job_id = await add_holiday(database, T0.date())  # the start day itself: every clock moves

    first = await recompute_batch(database=database, settings=settings, batch=3, now=T0)
    assert first is not None
    progress = await job(database, job_id)
    assert (progress.state, progress.clocks_seen, progress.clocks_moved) == ("running", 3, 3)
    cursor = progress.cursor
    assert cursor is not None
    sent_before_crash = await drain(database)
    assert len(sent_before_crash) == 3

    # The process dies half-way through the second batch (the database goes away).
    real = recompute.reschedule_clock
    calls = 0

    async def dies_on_the_second(**kwargs: Any) -> bool:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise ConnectionResetError("database connection lost")
        return await real(**kwargs)

    monkeypatch.setattr(recompute, "reschedule_clock", dies_on_the_second)
    with pytest.raises(ConnectionResetError):
        await recompute_batch(database=database, settings=settings, batch=3, now=T0)
    after_crash = await job(database, job_id)
    assert (after_crash.state, after_crash.cursor, after_crash.clocks_seen) == (
        "running",
        cursor,
        3,
    )
    assert await drain(database) == []  # the half batch staged nothing
    monkeypatch.setattr(recompute, "reschedule_clock", real)

    # A restarted loop picks the job up where its cursor says and finishes it.
    loop = RecomputeLoop(
        database=database, settings=settings, tick_s=0.01, batch=3, clock=lambda: T0
    )
    task = asyncio.create_task(loop.run())
    for _ in range(300):
        await asyncio.sleep(0.01)
        if (await job(database, job_id)).state == "done":
            break
    loop.stop()
    await asyncio.wait_for(task, 5)
    finished = await job(database, job_id)
    assert (finished.state, finished.clocks_seen, finished.clocks_moved) == ("done", 8, 8)
    resumed = await drain(database)
    moved = [e.data.clock_id for e in [*sent_before_crash, *resumed]]  # type: ignore[attr-defined]
    assert sorted(moved) == sorted(await clocks(database))  # each clock exactly once
    assert all(c.clock_id > cursor for c in (e.data for e in resumed))  # type: ignore[attr-defined]


async def test_a_policy_change_reaches_every_open_clock(
    database: Database, settings: ClockSettings
) -> None:
    await arm(database, settings, "P3", 2)
    await arm(database, settings, "P1", 1)
    await drain(database)
    async with database.unit_of_work() as uow:
        queued = await queue_recompute(uow.session, reason="policy_changed", calendar_id=None)
        row = await PolicyRepository(uow.session).policy_row("default-P3")
        assert row is not None
        row.first_response_s = 3600
        row.calendar_id = "24x7"
    await recompute_batch(database=database, settings=settings, batch=500, now=T0)
    done = await job(database, queued.id)
    # P3: first response gets a new target, both metrics a new calendar; P1 stays
    assert (done.state, done.clocks_seen, done.clocks_moved) == ("done", 6, 4)
    after = await clocks(database)
    p3 = {
        (c.metric, c.calendar_id, c.target_seconds, c.due_at)
        for c in after.values()
        if c.priority == "P3"
    }
    assert p3 == {
        ("first_response", "24x7", 3600, T0 + timedelta(hours=1)),
        ("resolution", "24x7", 81_000, T0 + timedelta(seconds=81_000)),
    }
    reasons = {e.data.reason for e in await drain(database)}  # type: ignore[attr-defined]
    assert reasons == {"policy_changed"}


async def test_a_job_that_cannot_run_is_marked_failed(
    database: Database, settings: ClockSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    await arm(database, settings, "P3", 1)
    job_id = await add_holiday(database, HOLIDAY)

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(ClockRepository, "open_for_recompute", broken)
    failed = await recompute_batch(database=database, settings=settings, batch=10, now=T0)
    assert failed is not None
    assert failed.id == job_id
    stored = await job(database, job_id)
    assert stored.state == "failed"
    assert "a bug" in (stored.error or "")
    # and the next job is not held back by it
    assert await recompute_batch(database=database, settings=settings, batch=10, now=T0) is None
