"""The firing round fires its clocks in one go: breach counts and escalations of several
clocks of one complaint in one round, and the fallback to clock by clock when a clock
cannot be fired."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from complaint_contracts.envelope import Envelope, decode
from complaint_contracts.events import ComplaintEscalated, SlaBreached, SlaWarning
from complaint_runtime.database import Database, OutboxMessage
from sla_watch import metrics
from sla_watch.clocks import service
from sla_watch.clocks.settings import ClockSettings
from sla_watch.db import Clock, ComplaintSla
from sla_watch.firing.service import fire_due
from sla_watch.policies.terms_source import StaticTerms
from sqlalchemy import delete, select, update

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
COMPLAINT = "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"
OTHER = "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c"
SETTINGS = ClockSettings(
    terms=StaticTerms(
        first_response={"P1": 100, "P2": 200, "P3": 300, "P4": 400},
        resolution={"P1": 1000, "P2": 2000, "P3": 3000, "P4": 4000},
    )
)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


async def triage(db: Database, complaint: str = COMPLAINT, priority: Any = "P1") -> None:
    async with db.unit_of_work() as uow:
        await service.start_clocks(
            uow=uow, settings=SETTINGS, complaint_id=complaint, priority=priority, at=T0, now=T0
        )


async def drain_outbox(db: Database) -> list[Envelope]:
    async with db.sessions() as session, session.begin():
        rows = list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        await session.execute(delete(OutboxMessage))
    return [
        decode(row.key, row.value, [(name, value.encode()) for name, value in row.headers])
        for row in rows
    ]


async def clocks(db: Database, complaint: str = COMPLAINT) -> list[Clock]:
    async with db.sessions() as session:
        return list(await session.scalars(select(Clock).where(Clock.complaint_id == complaint)))


async def test_two_breaches_of_one_complaint_in_one_round(database: Database) -> None:
    await triage(database, priority="P3")  # first response 300 s, resolution 3000 s
    await drain_outbox(database)
    assert await fire_due(database=database, settings=SETTINGS, now=at(5000)) == 2
    events = [
        (type(e.data).__name__, e.data.metric, getattr(e.data, "breach_count", None))
        for e in await drain_outbox(database)
        if isinstance(e.data, SlaBreached | ComplaintEscalated)
    ]
    assert events == [
        ("SlaBreached", "first_response", 1),
        ("ComplaintEscalated", "first_response", None),
        ("SlaBreached", "resolution", 2),
        ("ComplaintEscalated", "resolution", None),
    ]
    async with database.sessions() as session:
        row = await session.get(ComplaintSla, COMPLAINT)
    assert row is not None
    assert row.escalation_level == 3
    assert all(c.breached and c.next_fire_at is None for c in await clocks(database))


async def test_the_count_includes_breaches_of_earlier_rounds(database: Database) -> None:
    await triage(database, priority="P3")
    await fire_due(database=database, settings=SETTINGS, now=at(300))
    await drain_outbox(database)
    await fire_due(database=database, settings=SETTINGS, now=at(3000))
    [breach] = [e.data for e in await drain_outbox(database) if isinstance(e.data, SlaBreached)]
    assert (breach.metric, breach.breach_count) == ("resolution", 2)


async def test_a_clock_that_cannot_fire_does_not_hold_back_the_round(database: Database) -> None:
    await triage(database)
    await triage(database, complaint=OTHER)
    await drain_outbox(database)
    async with database.unit_of_work() as uow:  # a calendar that no longer exists
        await uow.session.execute(
            update(Clock).where(Clock.complaint_id == OTHER).values(calendar_id="gone")
        )
    failures = metrics.FIRE_FAILURES._value.get()
    fired = metrics.EVENTS_FIRED.labels("warning", "true")._value.get()

    assert await fire_due(database=database, settings=SETTINGS, now=at(60)) == 2
    events = await drain_outbox(database)
    assert [(e.data.metric, e.data.percent) for e in events if isinstance(e.data, SlaWarning)] == [
        ("first_response", 50)
    ]
    assert {e.subject for e in events} == {COMPLAINT}
    assert metrics.FIRE_FAILURES._value.get() == failures + 1
    # Counted once, by the round clock by clock, not by the attempt in one go as well.
    assert metrics.EVENTS_FIRED.labels("warning", "true")._value.get() == fired + 1
    assert all(c.fired_percents == [] for c in await clocks(database, OTHER))  # retried next round
