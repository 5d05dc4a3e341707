"""Next-response clocks, escalation on breach, facts on clocks and rescheduling, through
the consumers' handlers on SQLite with fixed event times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from complaint_contracts import topics
from complaint_contracts.base import EventData
from complaint_contracts.envelope import Envelope, decode, encode
from complaint_contracts.events import (
    ComplaintAgentReplied,
    ComplaintAssigned,
    ComplaintEscalated,
    ComplaintFirstResponseSent,
    ComplaintRecategorized,
    ComplaintResolved,
    ComplaintTriaged,
    CustomerMessageReceived,
    SlaBreached,
    SlaClockRescheduled,
    SlaClockStarted,
    SlaClockStopped,
)
from complaint_runtime.context import caused_by
from complaint_runtime.database import Database, OutboxMessage
from sla_watch import messaging
from sla_watch.calendars.domain.calendar import BusinessCalendar
from sla_watch.clocks.reschedule import reschedule_clock
from sla_watch.clocks.settings import ClockSettings
from sla_watch.db import Clock, ComplaintSla
from sla_watch.firing.service import fire_due
from sla_watch.policies.domain.policy import Metric
from sla_watch.policies.domain.terms import ClockTerms, ComplaintFacts
from sla_watch.policies.terms_source import StaticTerms
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
CID = "0195f3c2-7a10-7c4e-9b2d-3f6a8e1d2c40"
STATIC = StaticTerms(
    first_response={"P1": 100, "P2": 200, "P3": 300, "P4": 400},
    resolution={"P1": 1000, "P2": 2000, "P3": 3000, "P4": 4000},
    next_response={"P1": 50, "P2": 60, "P3": 70, "P4": 80},
)


class CategoryTerms:
    """Billing complaints get half the targets under their own policy (to see re-matching)."""

    async def terms(
        self, session: AsyncSession, *, metric: Metric, facts: ComplaintFacts
    ) -> ClockTerms:
        terms = await STATIC.terms(session, metric=metric, facts=facts)
        if facts.category != "billing_refund":
            return terms
        return ClockTerms(terms.target_seconds // 2, "billing", terms.calendar)

    async def calendar(self, session: AsyncSession, calendar_id: str) -> BusinessCalendar:
        return await STATIC.calendar(session, calendar_id)


SETTINGS = ClockSettings(terms=CategoryTerms())


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


async def deliver(db: Database, data: EventData, time: datetime = T0) -> None:
    topic = topics.INTAKE if isinstance(data, CustomerMessageReceived) else topics.ROUTING
    _, record = encode(data, topic=topic.name, source=topic.producer, subject=CID, time=time)
    env = decode(record.key, record.value, list(record.headers))
    handler = messaging.handlers(SETTINGS).get(type(env.data))
    assert handler is not None
    async with db.unit_of_work() as uow:
        with caused_by(correlation_id=env.correlation_id, causation_id=env.id):
            await handler(uow, env)


async def drain(db: Database) -> list[Envelope]:
    async with db.sessions() as session, session.begin():
        rows = list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        await session.execute(delete(OutboxMessage))
    return [decode(r.key, r.value, [(n, v.encode()) for n, v in r.headers]) for r in rows]


def summary(events: list[Envelope]) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for e in events:
        data: Any = e.data
        detail = getattr(data, "outcome", None) or getattr(data, "percent", None)
        if isinstance(data, ComplaintEscalated):
            detail = (data.previous_level, data.level, data.trigger)
        out.append((f"{data.event_name}:{data.metric}", detail))
    return out


async def all_clocks(db: Database) -> list[Clock]:
    async with db.sessions() as session:
        return list(await session.scalars(select(Clock).order_by(Clock.started_at, Clock.metric)))


async def complaint_row(db: Database) -> ComplaintSla | None:
    async with db.sessions() as session:
        return await session.get(ComplaintSla, CID)


def triaged(priority: Any = "P3", category: Any = "other") -> ComplaintTriaged:
    return ComplaintTriaged(
        complaint_id=CID,
        category=category,
        confidence=0.9,
        priority=priority,
        emotion="blue",
        channel="web",
        customer_tier="gold",
    )


def message(message_id: str, seconds: float) -> CustomerMessageReceived:
    return CustomerMessageReceived(
        complaint_id=CID,
        message_id=message_id,
        channel="web",
        customer_ref="c-1",
        text="any news?",
        received_at=at(seconds),
    )


def reply(seconds: float) -> ComplaintAgentReplied:
    return ComplaintAgentReplied(complaint_id=CID, actor="agent-1", replied_at=at(seconds))


async def test_triage_and_assignment_put_the_facts_on_the_clocks(database: Database) -> None:
    await deliver(database, triaged())
    await deliver(database, ComplaintAssigned(complaint_id=CID, team="billing", actor="routing"))
    await deliver(
        database, ComplaintFirstResponseSent(complaint_id=CID, actor="a", responded_at=at(5))
    )
    await deliver(database, message("m-1", 10))
    clocks = await all_clocks(database)
    assert [(c.metric, c.category, c.tier, c.channel, c.team) for c in clocks] == [
        ("first_response", "other", "gold", "web", "billing"),
        ("resolution", "other", "gold", "web", "billing"),
        ("next_response", "other", "gold", "web", "billing"),
    ]
    row = await complaint_row(database)
    assert row is not None
    assert (row.priority, row.team, row.escalation_level) == (
        "P3",
        "billing",
        0,
    )


async def test_a_message_starts_a_clock_that_the_next_reply_stops(database: Database) -> None:
    await deliver(database, triaged())
    await deliver(
        database, ComplaintFirstResponseSent(complaint_id=CID, actor="a", responded_at=at(5))
    )
    await drain(database)
    await deliver(database, message("m-1", 10))
    await deliver(database, message("m-2", 20))
    await deliver(database, message("m-2", 20))  # the same message again: one clock
    await deliver(database, reply(30))
    await deliver(database, message("m-3", 40))
    events = await drain(database)
    assert summary(events) == [
        ("sla.clock_started:next_response", None),
        ("sla.clock_started:next_response", None),
        ("sla.clock_stopped:next_response", "met"),
        ("sla.clock_stopped:next_response", "met"),
        ("sla.clock_started:next_response", None),
    ]
    started = [e.data for e in events if isinstance(e.data, SlaClockStarted)]
    assert [(s.message_id, s.target_seconds, s.due_at) for s in started] == [
        ("m-1", 70, at(80)),
        ("m-2", 70, at(90)),
        ("m-3", 70, at(110)),
    ]
    stopped = [e.data for e in events if isinstance(e.data, SlaClockStopped)]
    assert [s.elapsed_seconds for s in stopped] == [20, 10]
    # m-3's clock runs on and breaches; a first breach of a P3 next response: level 1.
    await fire_due(database=database, settings=SETTINGS, now=at(111))
    fired = await drain(database)
    assert summary(fired)[-2:] == [
        ("sla.breached:next_response", None),
        ("complaint.escalated:next_response", (0, 1, "next_response_breach")),
    ]
    escalated = fired[-1].data
    assert isinstance(escalated, ComplaintEscalated)
    assert escalated.actor == "sla-watch"
    assert escalated.clock_id == started[-1].clock_id
    assert fired[-1].time == fired[-2].time == at(110)


async def test_a_reply_seen_before_the_message_it_answers(database: Database) -> None:
    await deliver(database, triaged())
    await drain(database)
    await deliver(database, reply(30))  # the routing topic ran ahead of the intake topic
    await deliver(database, message("m-1", 25))
    assert await drain(database) == []
    await deliver(database, message("m-2", 31))  # a later message still gets its clock
    assert summary(await drain(database)) == [("sla.clock_started:next_response", None)]
    row = await complaint_row(database)
    assert row is not None
    assert row.last_agent_reply_at == at(30)


async def test_the_first_response_answers_earlier_messages(database: Database) -> None:
    await deliver(database, triaged())
    await drain(database)
    await deliver(database, message("m-1", 10))
    await deliver(
        database, ComplaintFirstResponseSent(complaint_id=CID, actor="a", responded_at=at(20))
    )
    assert summary(await drain(database)) == [
        ("sla.clock_started:next_response", None),
        ("sla.clock_stopped:first_response", "met"),
        ("sla.clock_stopped:next_response", "met"),
    ]


async def test_messages_start_no_clock_before_triage_or_after_resolution(
    database: Database,
) -> None:
    await deliver(database, message("m-0", 1))  # not triaged: the first response covers it
    assert await all_clocks(database) == []
    await deliver(database, triaged())
    await deliver(database, message("m-1", 10))
    await drain(database)
    await deliver(
        database,
        ComplaintResolved(
            complaint_id=CID,
            solution_summary="refunded",
            solution_type="refund",
            root_cause="bug",
            actor="agent-1",
            resolved_at=at(20),
        ),
    )
    assert summary(await drain(database)) == [
        ("sla.clock_stopped:resolution", "met"),
        ("sla.clock_stopped:next_response", "cancelled"),
    ]
    await deliver(database, message("m-2", 30))
    assert await drain(database) == []


async def test_escalation_rises_on_breaches_and_only_rises(database: Database) -> None:
    await deliver(database, triaged("P3"))
    await drain(database)
    await fire_due(database=database, settings=SETTINGS, now=at(300))  # first response breached
    first = [s for s in summary(await drain(database)) if not s[0].startswith("sla.warning")]
    assert first == [
        ("sla.breached:first_response", None),
        ("complaint.escalated:first_response", (0, 1, "first_response_breach")),
    ]
    await fire_due(database=database, settings=SETTINGS, now=at(3000))  # resolution: second breach
    events = await drain(database)
    breach = next(e.data for e in events if isinstance(e.data, SlaBreached))
    assert breach.breach_count == 2
    assert summary(events)[-1] == (
        "complaint.escalated:resolution",
        (1, 3, "repeated_breach"),
    )
    row = await complaint_row(database)
    assert row is not None
    assert row.escalation_level == 3


async def test_a_category_change_rematches_the_policies(database: Database) -> None:
    await deliver(database, triaged("P3", "other"))
    await drain(database)
    change = ComplaintRecategorized(
        complaint_id=CID,
        old_category="other",
        new_category="billing_refund",
        old_priority="P3",
        new_priority="P3",
        reason="supervisor",
        actor="lead-1",
    )
    await deliver(database, change, at(10))
    events = await drain(database)
    assert summary(events) == [
        ("sla.clock_rescheduled:first_response", None),
        ("sla.clock_rescheduled:resolution", None),
    ]
    moved = [e.data for e in events]
    assert all(isinstance(m, SlaClockRescheduled) for m in moved)
    assert [
        (m.reason, m.policy_id, m.target_seconds, m.previous_due_at, m.due_at) for m in moved
    ] == [  # type: ignore[union-attr]
        ("policy_changed", "billing", 150, at(300), at(150)),
        ("policy_changed", "billing", 1500, at(3000), at(1500)),
    ]
    # The same category again: the terms stay, nothing is said.
    await deliver(database, change.model_copy(update={"old_category": "billing_refund"}), at(20))
    assert await drain(database) == []


async def test_reschedule_keeps_sent_thresholds_and_fires_passed_ones_late(
    database: Database,
) -> None:
    await deliver(database, triaged("P3"))
    await fire_due(database=database, settings=SETTINGS, now=at(160))  # 50 % of 300 s sent
    await drain(database)
    async with database.unit_of_work() as uow:
        clock = (
            await uow.session.scalars(select(Clock).where(Clock.metric == "first_response"))
        ).one()
        terms = ClockTerms(200, "tighter", await STATIC.calendar(uow.session, "24x7"))
        assert await reschedule_clock(
            uow=uow,
            settings=SETTINGS,
            clock=clock,
            terms=terms,
            reason="policy_changed",
            now=at(170),
        )
        same = ClockTerms(200, "tighter", terms.calendar)
        assert not await reschedule_clock(
            uow=uow,
            settings=SETTINGS,
            clock=clock,
            terms=same,
            reason="policy_changed",
            now=at(170),
        )
    events = await drain(database)
    assert summary(events) == [("sla.clock_rescheduled:first_response", None)]
    await fire_due(database=database, settings=SETTINGS, now=at(171))
    fired = [(e.data.percent, e.data.late) for e in await drain(database)]  # type: ignore[union-attr]
    assert fired == [(75, True)]  # 75 % of 200 s was at 150 s; 50 % is not sent again
