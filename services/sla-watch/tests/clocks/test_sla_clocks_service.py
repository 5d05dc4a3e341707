"""sla-watch's use cases and firing round on SQLite, with an injected clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from complaint_contracts.envelope import Envelope, decode
from complaint_contracts.events import (
    SlaBreached,
    SlaClockPaused,
    SlaClockResumed,
    SlaClockStarted,
    SlaClockStopped,
    SlaWarning,
)
from complaint_runtime.database import Database, OutboxMessage
from sla_watch.clocks import complaint_facts, service
from sla_watch.clocks.settings import ClockSettings
from sla_watch.db import Clock
from sla_watch.firing.service import fire_due
from sla_watch.policies.terms_source import StaticTerms
from sqlalchemy import delete, select

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
COMPLAINT = "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"
OTHER = "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c"

# Seconds, so a test walks through a whole clock: first response 100 s, resolution 1000 s.
SETTINGS = ClockSettings(
    terms=StaticTerms(
        first_response={"P1": 100, "P2": 200, "P3": 300, "P4": 400},
        resolution={"P1": 1000, "P2": 2000, "P3": 3000, "P4": 4000},
        next_response={"P1": 50, "P2": 60, "P3": 70, "P4": 80},
    ),
    warning_percents=(50, 75, 90),
    late_after_s=5.0,
)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


async def drain_outbox(db: Database) -> list[Envelope]:
    """The events staged so far, decoded, in commit order; the outbox is emptied."""
    async with db.sessions() as session, session.begin():
        rows = list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        await session.execute(delete(OutboxMessage))
    return [
        decode(row.key, row.value, [(name, value.encode()) for name, value in row.headers])
        for row in rows
    ]


def names(events: list[Envelope]) -> list[str]:
    return [type(e.data).event_name for e in events]


async def triage(db: Database, complaint: str = COMPLAINT, priority: Any = "P1") -> None:
    async with db.unit_of_work() as uow:
        await service.start_clocks(
            uow=uow, settings=SETTINGS, complaint_id=complaint, priority=priority, at=T0, now=T0
        )


async def clocks(db: Database, complaint: str = COMPLAINT) -> dict[str, Clock]:
    async with db.sessions() as session:
        rows = await session.scalars(
            select(Clock).where(Clock.complaint_id == complaint).order_by(Clock.started_at)
        )
        return {c.metric if c.state != "stopped" else f"{c.metric}:{c.clock_id}": c for c in rows}


def thresholds(events: list[Any]) -> list[tuple[str, int, bool]]:
    found = []
    for e in events:
        if isinstance(e.data, SlaWarning):
            found.append((e.data.metric, e.data.percent, e.data.late))
        elif isinstance(e.data, SlaBreached):
            found.append((e.data.metric, 100, e.data.late))
    return found


async def test_triage_arms_two_clocks_with_the_priority_targets(database: Database) -> None:
    await triage(database, priority="P2")
    armed = await clocks(database)
    assert set(armed) == {"first_response", "resolution"}
    assert armed["first_response"].due_at == at(200)
    assert armed["resolution"].due_at == at(2000)
    assert armed["first_response"].next_fire_at == at(100)
    events = await drain_outbox(database)
    assert names(events) == ["sla.clock_started", "sla.clock_started"]
    started = [e.data for e in events]
    assert all(isinstance(d, SlaClockStarted) for d in started)
    assert {(d.metric, d.target_seconds, d.priority) for d in started} == {  # type: ignore[union-attr]
        ("first_response", 200, "P2"),
        ("resolution", 2000, "P2"),
    }
    assert all(e.subject == COMPLAINT and e.source == "sla-watch" for e in events)


async def test_a_second_triage_arms_nothing_more(database: Database) -> None:
    await triage(database)
    await triage(database, priority="P3")
    assert len(await clocks(database)) == 2
    assert len(await drain_outbox(database)) == 2


async def test_each_threshold_fires_once_however_often_the_loop_runs(database: Database) -> None:
    await triage(database)
    await drain_outbox(database)
    fired = []
    for second in range(0, 1100, 5):
        for _ in range(3):  # several rounds at the same instant send nothing twice
            await fire_due(database=database, settings=SETTINGS, now=at(second))
        fired += await drain_outbox(database)
    assert thresholds(fired) == [
        ("first_response", 50, False),
        ("first_response", 75, False),
        ("first_response", 90, False),
        ("first_response", 100, False),
        ("resolution", 50, False),
        ("resolution", 75, False),
        ("resolution", 90, False),
        ("resolution", 100, False),
    ]
    breaches = [e.data for e in fired if isinstance(e.data, SlaBreached)]
    assert [b.breach_count for b in breaches] == [1, 2]
    assert all(b.priority == "P1" for b in breaches)
    warning = next(e for e in fired if isinstance(e.data, SlaWarning))
    assert warning.data.reached_at == at(50)  # type: ignore[union-attr]
    assert warning.time == at(50)
    assert all(c.next_fire_at is None for c in (await clocks(database)).values())


async def test_after_downtime_everything_due_goes_at_once_marked_late(database: Database) -> None:
    await triage(database)
    await triage(database, complaint=OTHER, priority="P4")
    await drain_outbox(database)
    assert await fire_due(database=database, settings=SETTINGS, now=at(5000)) == 4
    fired = await drain_outbox(database)
    assert sorted(thresholds(fired)) == sorted(
        [(m, p, True) for m in ("first_response", "resolution") for p in (50, 75, 90, 100)] * 2
    )
    for complaint in (COMPLAINT, OTHER):
        mine = [e for e in fired if e.subject == complaint]
        for metric in ("first_response", "resolution"):
            order = [p for m, p, _ in thresholds(mine) if m == metric]
            assert order == [50, 75, 90, 100]
    assert await fire_due(database=database, settings=SETTINGS, now=at(9000)) == 0
    assert await drain_outbox(database) == []


async def test_the_batch_bounds_a_round(database: Database) -> None:
    await triage(database)
    await triage(database, complaint=OTHER)
    await drain_outbox(database)
    assert await fire_due(database=database, settings=SETTINGS, now=at(60), batch=1) == 1
    assert await fire_due(database=database, settings=SETTINGS, now=at(60), batch=1) == 1
    assert await fire_due(database=database, settings=SETTINGS, now=at(60), batch=1) == 0
    assert len(thresholds(await drain_outbox(database))) == 2


async def test_pause_and_resume_shift_the_deadline_by_the_pause(database: Database) -> None:
    await triage(database)
    await drain_outbox(database)
    async with database.unit_of_work() as uow:
        await service.pause_clocks(
            uow=uow, settings=SETTINGS, complaint_id=COMPLAINT, at=at(100), reason="x", now=at(100)
        )
    # Paused: the old deadline passes without a breach of the resolution clock.
    await fire_due(database=database, settings=SETTINGS, now=at(1200))
    async with database.unit_of_work() as uow:
        await service.resume_clocks(uow=uow, settings=SETTINGS, complaint_id=COMPLAINT, at=at(400))
    events = await drain_outbox(database)
    assert ("resolution", 100, True) not in thresholds(events)
    paused = next(e.data for e in events if isinstance(e.data, SlaClockPaused))
    resumed = next(e.data for e in events if isinstance(e.data, SlaClockResumed))
    assert paused.elapsed_seconds == 100
    assert resumed.due_at == at(1300)
    assert resumed.elapsed_seconds == 100
    resolution = (await clocks(database))["resolution"]
    assert resolution.due_at == at(1300)
    assert resolution.paused_seconds == 300
    assert resolution.next_fire_at == at(800)  # 50 % of 1000 s plus the 300 s pause
    await fire_due(database=database, settings=SETTINGS, now=at(1299))
    assert ("resolution", 100, False) not in thresholds(await drain_outbox(database))
    await fire_due(database=database, settings=SETTINGS, now=at(1300))
    assert thresholds(await drain_outbox(database)) == [("resolution", 100, False)]


async def test_a_stopped_clock_never_fires_again(database: Database) -> None:
    await triage(database)
    await drain_outbox(database)
    async with database.unit_of_work() as uow:
        await service.stop_clocks(
            uow=uow,
            settings=SETTINGS,
            complaint_id=COMPLAINT,
            metric="first_response",
            at=at(30),
            reason="first response",
            now=at(30),
        )
    events = await drain_outbox(database)
    stopped = [e.data for e in events if isinstance(e.data, SlaClockStopped)]
    assert [(s.metric, s.outcome, s.elapsed_seconds) for s in stopped] == [
        ("first_response", "met", 30)
    ]
    await fire_due(database=database, settings=SETTINGS, now=at(100_000))
    assert {m for m, _, _ in thresholds(await drain_outbox(database))} == {"resolution"}


async def test_a_stop_found_late_reports_the_thresholds_it_passed(database: Database) -> None:
    await triage(database)
    await drain_outbox(database)
    async with database.unit_of_work() as uow:
        await service.stop_clocks(
            uow=uow,
            settings=SETTINGS,
            complaint_id=COMPLAINT,
            metric="first_response",
            at=at(150),
            reason="first response",
            now=at(900),
        )
    events = await drain_outbox(database)
    assert names(events) == [
        "sla.warning",
        "sla.warning",
        "sla.warning",
        "sla.breached",
        "complaint.escalated",  # a P1 breach: straight to level 3
        "sla.clock_stopped",
    ]
    assert all(late for _, _, late in thresholds(events))
    assert events[-1].data.outcome == "breached"  # type: ignore[attr-defined]


async def test_closing_cancels_every_open_clock(database: Database) -> None:
    await triage(database)
    await drain_outbox(database)
    async with database.unit_of_work() as uow:
        await service.stop_clocks(
            uow=uow,
            settings=SETTINGS,
            complaint_id=COMPLAINT,
            at=at(10),
            reason="closed",
            cancel=True,
        )
    stopped = [e.data for e in await drain_outbox(database)]
    assert [(s.metric, s.outcome) for s in stopped] == [  # type: ignore[union-attr]
        ("first_response", "cancelled"),
        ("resolution", "cancelled"),
    ]
    assert all(c.state == "stopped" for c in (await clocks(database)).values())


async def test_a_new_priority_restarts_the_resolution_clock(database: Database) -> None:
    await triage(database, priority="P3")
    await drain_outbox(database)
    async with database.unit_of_work() as uow:
        await complaint_facts.restart_resolution(
            uow=uow,
            settings=SETTINGS,
            complaint_id=COMPLAINT,
            priority="P2",
            at=at(60),
            reason="reopened",
            now=at(60),
        )
    events = await drain_outbox(database)
    assert names(events) == ["sla.clock_stopped", "sla.clock_started"]
    assert events[0].data.outcome == "cancelled"  # type: ignore[attr-defined]
    started = events[1].data
    assert isinstance(started, SlaClockStarted)
    assert (started.metric, started.priority, started.due_at) == ("resolution", "P2", at(2060))
    current = await clocks(database)
    assert current["first_response"].priority == "P3"
    assert current["resolution"].clock_id == started.clock_id


async def test_events_for_complaints_without_clocks_are_harmless(database: Database) -> None:
    async with database.unit_of_work() as uow:
        await service.stop_clocks(uow=uow, settings=SETTINGS, complaint_id=OTHER, at=T0, reason="x")
        await service.pause_clocks(
            uow=uow, settings=SETTINGS, complaint_id=OTHER, at=T0, reason="x"
        )
        await service.resume_clocks(uow=uow, settings=SETTINGS, complaint_id=OTHER, at=T0)
        assert (
            await complaint_facts.restart_resolution(
                uow=uow, settings=SETTINGS, complaint_id=OTHER, priority="P1", at=T0, reason="x"
            )
            is None
        )
    assert await drain_outbox(database) == []
