"""A consumer's batch of clock events locks its cases and clocks in two statements
(``messaging.preload``) and is then projected from memory: the same case and clocks as
event by event, without a round trip per event."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from complaint_contracts.base import EventData
from complaint_contracts.events import SlaClockStarted, SlaClockStopped, SlaWarning
from complaint_runtime.database import Database
from routing import messaging
from routing.bootstrap import Dependencies
from routing.casefile.db import CaseSlaClock
from routing.db import Case
from sqlalchemy import event, select

from ..conftest import consumed
from .conftest import NOW, Receive


def _started(cid: str, clock_id: str, metric: str, hours: int) -> SlaClockStarted:
    return SlaClockStarted(
        complaint_id=cid,
        clock_id=clock_id,
        metric=metric,
        target_seconds=3_600 * hours,
        started_at=NOW,
        due_at=NOW + timedelta(hours=hours),
        calendar_id="24x7",
        policy_id="default-P3",
        priority="P3",
    )


def _events(cid: str) -> list[EventData]:
    return [
        _started(cid, "first", "first_response", 1),
        _started(cid, "resolution", "resolution", 24),
        SlaWarning(
            complaint_id=cid,
            clock_id="first",
            metric="first_response",
            percent=75,
            reached_at=NOW,
            due_at=NOW + timedelta(hours=1),
            priority="P3",
        ),
        SlaClockStopped(
            complaint_id=cid,
            clock_id="first",
            metric="first_response",
            stopped_at=NOW,
            elapsed_seconds=2_700,
            outcome="met",
        ),
    ]


async def _state(database: Database, cid: str) -> tuple[Any, ...]:
    async with database.sessions() as session:
        case = await session.get(Case, cid)
        clocks = list(
            await session.scalars(
                select(CaseSlaClock)
                .where(CaseSlaClock.complaint_id == cid)
                .order_by(CaseSlaClock.clock_id)
            )
        )
    assert case is not None
    return (
        case.sla_due_at,
        case.sla_state,
        case.sla_at_risk,
        [(c.clock_id, c.state, c.outcome, c.warned_percent, c.due_at) for c in clocks],
    )


async def test_a_batch_of_clock_events_is_projected_as_one_by_one(
    deps: Dependencies, database: Database, receive: Receive, feed: Any
) -> None:
    one_by_one, batched = await receive(), await receive()
    for data in _events(one_by_one):
        await feed(data)

    handlers = messaging.handlers(deps)
    envelopes = [consumed(data, source="sla-watch") for data in _events(batched)]
    reads: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            reads.append(statement)

    engine = database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        async with database.unit_of_work() as uow:
            await messaging.preload(uow, envelopes)
            assert len(reads) == 2  # the cases, then their clocks
            for envelope in envelopes:
                await handlers[type(envelope.data)](uow, envelope)
            assert len(reads) == 2  # four events, no read of their own
    finally:
        event.remove(engine, "before_cursor_execute", count)

    expected = await _state(database, one_by_one)
    assert await _state(database, batched) == expected
    assert expected[0] == NOW + timedelta(hours=24)  # the first clock stopped: resolution's
    assert [c[:4] for c in expected[3]] == [
        ("first", "stopped", "met", 75),
        ("resolution", "running", None, None),
    ]
