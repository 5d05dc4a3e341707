"""sla-watch's clock events through routing's handler table: the case file's clocks, the
case's SLA columns the lists use, a clock of a case routing does not hold yet, replays."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx
from complaint_contracts.events import (
    SlaBreached,
    SlaClockPaused,
    SlaClockRescheduled,
    SlaClockResumed,
    SlaClockStopped,
    SlaWarning,
)
from complaint_runtime.database import Database
from routing.casefile.db import CaseSlaClock
from routing.db import Case
from sqlalchemy import select

from .conftest import MANAGER, NOW, Receive, StartClock, seconds_until


async def _case(database: Database, complaint_id: str) -> Case:
    async with database.sessions() as session:
        case = await session.get(Case, complaint_id)
    assert case is not None
    return case


async def _clocks(database: Database, complaint_id: str) -> list[CaseSlaClock]:
    async with database.sessions() as session:
        rows = await session.scalars(
            select(CaseSlaClock).where(CaseSlaClock.complaint_id == complaint_id)
        )
        return list(rows)


async def test_every_clock_event_is_projected(
    database: Database, receive: Receive, start_clock: StartClock, feed: Any
) -> None:
    cid = await receive()
    first = await start_clock(cid, metric="first_response", due_in=timedelta(hours=1))
    resolution = await start_clock(cid, due_in=timedelta(hours=24))
    case = await _case(database, cid)
    assert (case.sla_due_at, case.sla_state, case.sla_at_risk) == (
        NOW + timedelta(hours=1),
        "on_track",
        False,
    )

    await feed(
        SlaWarning(
            complaint_id=cid,
            clock_id=first,
            metric="first_response",
            percent=75,
            reached_at=NOW,
            due_at=NOW + timedelta(hours=1),
            priority="P3",
        )
    )
    case = await _case(database, cid)
    assert (case.sla_at_risk, case.sla_state) == (True, "at_risk")

    await feed(
        SlaClockStopped(
            complaint_id=cid,
            clock_id=first,
            metric="first_response",
            stopped_at=NOW,
            elapsed_seconds=2_700,
            outcome="met",
        )
    )
    case = await _case(database, cid)
    assert (case.sla_due_at, case.sla_at_risk, case.sla_state) == (
        NOW + timedelta(hours=24),
        False,
        "on_track",
    )

    await feed(
        SlaClockPaused(
            complaint_id=cid,
            clock_id=resolution,
            metric="resolution",
            paused_at=NOW,
            elapsed_seconds=60,
        )
    )
    case = await _case(database, cid)
    assert (case.sla_due_at, case.sla_state) == (None, "paused")

    await feed(
        SlaClockResumed(
            complaint_id=cid,
            clock_id=resolution,
            metric="resolution",
            resumed_at=NOW,
            elapsed_seconds=60,
            due_at=NOW + timedelta(hours=30),
        )
    )
    assert (await _case(database, cid)).sla_due_at == NOW + timedelta(hours=30)

    await feed(
        SlaClockRescheduled(
            complaint_id=cid,
            clock_id=resolution,
            metric="resolution",
            reason="priority_changed",
            target_seconds=7_200,
            previous_due_at=NOW + timedelta(hours=30),
            due_at=NOW + timedelta(hours=2),
            calendar_id="24x7",
            policy_id="default-P2",
        )
    )
    assert (await _case(database, cid)).sla_due_at == NOW + timedelta(hours=2)

    await feed(
        SlaBreached(
            complaint_id=cid,
            clock_id=resolution,
            metric="resolution",
            due_at=NOW + timedelta(hours=2),
            priority="P2",
            breach_count=1,
        )
    )
    case = await _case(database, cid)
    assert (case.sla_breached, case.sla_at_risk, case.sla_state) == (True, False, "breached")
    assert case.sla_due_at == NOW + timedelta(hours=2)  # still running: first in the queue

    clocks = {c.clock_id: c for c in await _clocks(database, cid)}
    assert (clocks[first].state, clocks[first].outcome, clocks[first].warned_percent) == (
        "stopped",
        "met",
        75,
    )
    assert (clocks[resolution].state, clocks[resolution].target_seconds) == ("running", 7_200)
    assert clocks[resolution].breached is True


async def test_the_case_file_shows_each_clock_with_its_time_left(
    client: httpx.AsyncClient, receive: Receive, start_clock: StartClock, feed: Any
) -> None:
    cid = await receive()
    running = await start_clock(cid, due_in=timedelta(hours=4))
    paused = await start_clock(cid, metric="next_response", due_in=timedelta(hours=1))
    await feed(
        SlaClockPaused(
            complaint_id=cid,
            clock_id=paused,
            metric="next_response",
            paused_at=NOW,
            elapsed_seconds=10,
        )
    )
    response = await client.get(f"/v1/cases/{cid}", headers=MANAGER)
    assert response.status_code == 200, response.text
    sla = response.json()["sla"]
    assert (sla["state"], sla["at_risk"], sla["breached"]) == ("on_track", False, False)
    assert abs(sla["time_left_s"] - seconds_until(NOW + timedelta(hours=4))) <= 5
    by_id = {c["clock_id"]: c for c in sla["clocks"]}
    assert by_id[running]["state"] == "running"
    assert by_id[running]["target_seconds"] == 14_400
    assert abs(by_id[running]["time_left_s"] - seconds_until(NOW + timedelta(hours=4))) <= 5
    assert (by_id[paused]["state"], by_id[paused]["time_left_s"]) == ("paused", None)


async def test_a_clock_of_a_case_routing_does_not_hold_yet_is_kept_for_it(
    database: Database, receive: Receive, start_clock: StartClock
) -> None:
    """Not a poison record: no error (no retry, no dead letter); the case takes the clock
    into account when it is stored."""
    cid = str(uuid.uuid4())
    await start_clock(cid, due_in=timedelta(minutes=30))
    assert [c.state for c in await _clocks(database, cid)] == ["running"]

    await receive(complaint_id=cid)

    case = await _case(database, cid)
    assert (case.status, case.sla_due_at, case.sla_state) == (
        "assigned",
        NOW + timedelta(minutes=30),
        "on_track",
    )


async def test_a_replayed_clock_event_changes_nothing(
    database: Database, receive: Receive, start_clock: StartClock, feed: Any
) -> None:
    cid = await receive()
    clock = await start_clock(cid, clock_id="clk-replayed")
    stopped = SlaClockStopped(
        complaint_id=cid,
        clock_id=clock,
        metric="resolution",
        stopped_at=NOW,
        elapsed_seconds=60,
        outcome="met",
    )
    await feed(stopped)
    await start_clock(cid, clock_id="clk-replayed", due_in=timedelta(hours=1))  # replayed
    await feed(stopped)
    clocks = await _clocks(database, cid)
    assert [(c.clock_id, c.state, c.due_at) for c in clocks] == [
        ("clk-replayed", "stopped", NOW + timedelta(hours=4))
    ]
    case = await _case(database, cid)
    assert (case.sla_due_at, case.sla_state) == (None, "stopped")
