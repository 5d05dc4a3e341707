"""Escalation by hand: the pure rule (with a property over requests and breaches mixed) and
routing's ``complaint.escalation_requested`` through sla-watch's consumer table on SQLite:
the level sla-watch owns rises, ``complaint.escalated`` (trigger manual) is staged with it,
and a request that would not raise the level changes and sends nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from complaint_contracts import topics
from complaint_contracts.base import EventData
from complaint_contracts.envelope import Envelope, decode, encode
from complaint_contracts.events import (
    ComplaintEscalated,
    ComplaintEscalationRequested,
    ComplaintTriaged,
)
from complaint_runtime.context import caused_by
from complaint_runtime.database import Database, OutboxMessage
from hypothesis import given
from hypothesis import strategies as st
from sla_watch import messaging
from sla_watch.clocks.settings import ClockSettings
from sla_watch.db import Clock, ComplaintSla
from sla_watch.firing.domain.escalation import escalate_by_hand, escalate_on_breach
from sla_watch.firing.service import fire_due
from sla_watch.policies.terms_source import StaticTerms
from sqlalchemy import delete, select

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
CID = "0195f3c2-7a10-7c4e-9b2d-3f6a8e1d2c41"
SETTINGS = ClockSettings(
    terms=StaticTerms(
        first_response={"P1": 100, "P2": 200, "P3": 300, "P4": 400},
        resolution={"P1": 1000, "P2": 2000, "P3": 3000, "P4": 4000},
        next_response={"P1": 50, "P2": 60, "P3": 70, "P4": 80},
    ),
)
REASON = "customer threatens to go to the regulator"


# -- the pure rule


def test_a_request_above_the_current_level_raises_it_with_the_requesters_reason() -> None:
    rise = escalate_by_hand(0, requested=2, reason=REASON)
    assert rise is not None
    assert (rise.level, rise.previous_level, rise.trigger, rise.reason) == (
        2,
        0,
        "manual",
        REASON,
    )


@pytest.mark.parametrize(("current", "requested"), [(1, 1), (2, 1), (3, 3), (3, 2)])
def test_a_request_at_or_below_the_current_level_changes_nothing(
    current: int, requested: int
) -> None:
    assert escalate_by_hand(current, requested=requested, reason=REASON) is None


@pytest.mark.parametrize(
    ("current", "requested", "reason", "why"),
    [
        (0, 0, REASON, "not a level to escalate to"),
        (0, 4, REASON, "not a level to escalate to"),
        (4, 1, REASON, "not an escalation level"),
        (0, 1, " ", "needs a reason"),
    ],
)
def test_what_no_request_can_be(current: int, requested: int, reason: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        escalate_by_hand(current, requested=requested, reason=reason)


STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("manual"), st.sampled_from([1, 2, 3])),
        st.tuples(
            st.sampled_from(["first_response", "next_response", "resolution"]),
            st.sampled_from(["P1", "P2", "P3", "P4"]),
        ),
    ),
    max_size=15,
)


@given(steps=STEPS)
def test_the_level_never_goes_down_and_every_escalation_changes_it(
    steps: list[tuple[str, Any]],
) -> None:
    level, breaches = 0, 0
    for kind, value in steps:
        if kind == "manual":
            rise = escalate_by_hand(level, requested=value, reason=REASON)
            assert (rise is None) == (value <= level)
        else:
            breaches += 1
            rise = escalate_on_breach(level, metric=kind, priority=value, breach_count=breaches)  # type: ignore[arg-type]
        if rise is None:
            continue
        assert rise.previous_level == level
        assert rise.level > rise.previous_level  # an escalation always changes the level
        if kind == "manual":
            assert (rise.level, rise.trigger, rise.reason) == (value, "manual", REASON)
        level = rise.level
    assert level in (0, 1, 2, 3)


# -- through the consumer


async def deliver(db: Database, data: EventData) -> Envelope:
    _, record = encode(data, topic=topics.ROUTING.name, source="routing", subject=CID, time=T0)
    env = decode(record.key, record.value, list(record.headers))
    handler = messaging.handlers(SETTINGS).get(type(env.data))
    assert handler is not None, f"sla-watch does not consume {type(data).__name__}"
    async with db.unit_of_work() as uow:
        with caused_by(correlation_id=env.correlation_id, causation_id=env.id):
            await handler(uow, env)
    return env


async def escalations(db: Database) -> list[Envelope]:
    """The complaint.escalated events staged so far (the outbox is emptied)."""
    async with db.sessions() as session, session.begin():
        rows = list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        await session.execute(delete(OutboxMessage))
    envelopes = [decode(r.key, r.value, [(n, v.encode()) for n, v in r.headers]) for r in rows]
    return [e for e in envelopes if isinstance(e.data, ComplaintEscalated)]


async def level_of(db: Database) -> int | None:
    async with db.sessions() as session:
        row = await session.get(ComplaintSla, CID)
    return None if row is None else row.escalation_level


def triaged() -> ComplaintTriaged:
    return ComplaintTriaged(
        complaint_id=CID, category="other", confidence=0.9, priority="P3", emotion="blue"
    )


def requested(level: int, *, current: int = 0, actor: str = "lead-zhao") -> EventData:
    return ComplaintEscalationRequested.model_validate(
        {
            "complaint_id": CID,
            "level": level,
            "current_level": current,
            "reason": REASON,
            "actor": actor,
            "requested_at": T0,
        }
    )


async def test_a_request_raises_the_level_and_sends_the_escalation(database: Database) -> None:
    await deliver(database, triaged())
    await escalations(database)
    request = await deliver(database, requested(2))

    [sent] = await escalations(database)
    data = sent.data
    assert isinstance(data, ComplaintEscalated)
    assert (data.level, data.previous_level, data.trigger, data.actor, data.reason) == (
        2,
        0,
        "manual",
        "lead-zhao",
        REASON,
    )
    assert (data.clock_id, data.metric) == (None, None)
    assert (sent.source, sent.subject) == (topics.SLA.producer, CID)
    assert (sent.correlation_id, sent.causation_id) == (request.correlation_id, request.id)
    assert await level_of(database) == 2


async def test_a_request_that_would_not_raise_the_level_changes_nothing(
    database: Database,
) -> None:
    await deliver(database, triaged())
    await deliver(database, requested(2))
    await escalations(database)
    await deliver(database, requested(2, actor="mgr-sun"))  # the same level again
    await deliver(database, requested(1, current=0))  # routing's picture was behind
    assert await escalations(database) == []
    assert await level_of(database) == 2
    await deliver(database, requested(3, current=2, actor="mgr-sun"))
    [sent] = await escalations(database)
    assert isinstance(sent.data, ComplaintEscalated)
    assert (sent.data.previous_level, sent.data.level, sent.data.actor) == (2, 3, "mgr-sun")


async def test_a_breach_and_a_request_climb_one_ladder(database: Database) -> None:
    await deliver(database, triaged())
    await fire_due(database=database, settings=SETTINGS, now=T0 + timedelta(seconds=301))
    [breach] = await escalations(database)
    assert isinstance(breach.data, ComplaintEscalated)
    assert (breach.data.level, breach.data.trigger) == (1, "first_response_breach")
    await deliver(database, requested(3, current=0))
    [manual] = await escalations(database)
    assert isinstance(manual.data, ComplaintEscalated)
    assert (manual.data.previous_level, manual.data.level) == (1, 3)


async def test_a_complaint_armed_before_rows_existed_gets_its_row_from_a_clock(
    database: Database,
) -> None:
    await deliver(database, triaged())
    async with database.sessions() as session, session.begin():
        await session.execute(delete(ComplaintSla))
    await escalations(database)
    await deliver(database, requested(1))
    [sent] = await escalations(database)
    assert isinstance(sent.data, ComplaintEscalated)
    assert (sent.data.previous_level, sent.data.level) == (0, 1)
    async with database.sessions() as session:
        row = await session.get(ComplaintSla, CID)
        clock = (await session.scalars(select(Clock).limit(1))).one()
    assert row is not None
    assert (row.escalation_level, row.priority, row.category) == (1, "P3", clock.category)


async def test_a_complaint_never_triaged_here_is_not_made_up(database: Database) -> None:
    await deliver(database, requested(2))
    assert await escalations(database) == []
    assert await level_of(database) is None  # no row: a later triage still arms the clocks
    await deliver(database, triaged())
    async with database.sessions() as session:
        clocks = list(await session.scalars(select(Clock.metric).order_by(Clock.metric)))
    assert clocks == ["first_response", "resolution"]
