"""Live updates: the consumer records each event's change of its case with whose the case
is (fed with real records through the handler table), a stream sends a viewer only the
changes they may see, a hand-off is heard on both sides, a stream's cursor never skips a
change committed late, and old rows are pruned."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from complaint_contracts import topics
from complaint_contracts.events import (
    ComplaintAssigned,
    ComplaintClosed,
    ComplaintReceived,
    ComplaintResolved,
    ErasureRequested,
    SlaWarning,
)
from complaint_contracts.examples import example_for
from complaint_runtime.consumer import EventConsumer
from complaint_runtime.testing import FakeProducer, record_of
from console import messaging
from console.bootstrap import Dependencies
from console.live import service
from console.live.db import CaseChangeRow, LiveCase
from console.live.domain.changes import CaseChange, KnownCase, change_of
from console.live.domain.cursor import advance
from console.live.domain.visibility import Viewer, concerns, sees
from console_support import AGENT, LEAD, MANAGER, Browser, NewBrowser, NewDeps
from sqlalchemy import func, select

ID_A = "0192f3a4-5b6c-7d8e-9f00-00000000000a"
ID_B = "0192f3a4-5b6c-7d8e-9f00-00000000000b"
NOW = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)


def _consumer(deps: Dependencies) -> EventConsumer:
    return EventConsumer(
        database=deps.database,
        bootstrap_servers="127.0.0.1:1",  # run() is never called: batches are fed directly
        group_id="console",
        topics=[t.name for t in messaging.CONSUMED],
        handlers=messaging.handlers(deps),
        dead_letter_topic="complaints.dlq.console.v1",
        producer=FakeProducer(),  # type: ignore[arg-type]
        apply_batch_at_once=True,
    )


def assigned(complaint_id: str, team: str, assignee: str | None, **kw: object) -> ComplaintAssigned:
    return example_for(ComplaintAssigned).model_copy(
        update={"complaint_id": complaint_id, "team": team, "assignee": assignee, **kw}
    )


def resolved(complaint_id: str) -> ComplaintResolved:
    return example_for(ComplaintResolved).model_copy(update={"complaint_id": complaint_id})


async def _changes(deps: Dependencies) -> list[CaseChangeRow]:
    async with deps.database.sessions() as session:
        return list(await session.scalars(select(CaseChangeRow).order_by(CaseChangeRow.id)))


async def test_each_event_becomes_a_change_with_whose_the_case_is(make_deps: NewDeps) -> None:
    deps = await make_deps()
    consumer = _consumer(deps)
    about_a = {"complaint_id": ID_A}
    records = [
        record_of(example_for(ComplaintReceived).model_copy(update=about_a), topics.INTAKE),
        record_of(assigned(ID_A, "billing", "agent-billing"), topics.ROUTING),
        record_of(example_for(SlaWarning).model_copy(update=about_a), topics.SLA),
        record_of(resolved(ID_A), topics.ROUTING),
        record_of(example_for(ErasureRequested).model_copy(update=about_a), topics.INTAKE),
    ]
    await consumer._process_batch(records)  # type: ignore[arg-type]
    rows = await _changes(deps)
    assert [(r.event_type, r.team, r.assignee) for r in rows] == [
        ("complaint.received", None, None),
        ("complaint.assigned", "billing", "agent-billing"),
        ("sla.warning", "billing", "agent-billing"),
        ("complaint.resolved", "billing", "agent-billing"),
    ]  # the erasure changes nothing the read model holds
    await consumer._process_batch(records)  # type: ignore[arg-type]
    assert len(await _changes(deps)) == 4  # redelivered: applied once


async def test_a_hand_off_names_both_sides(make_deps: NewDeps) -> None:
    deps = await make_deps()
    consumer = _consumer(deps)
    await consumer._process_batch(  # type: ignore[arg-type]
        [
            record_of(assigned(ID_A, "billing", "agent-billing"), topics.ROUTING),
            record_of(assigned(ID_A, "quality", "agent-quality", handoff=True), topics.ROUTING),
        ]
    )
    last = (await _changes(deps))[-1]
    assert (last.team, last.assignee) == ("quality", "agent-quality")
    assert (last.previous_team, last.previous_assignee) == ("billing", "agent-billing")
    async with deps.database.sessions() as session:
        known = await session.get(LiveCase, ID_A)
    assert known is not None
    assert known.team == "quality"


def test_change_of_keeps_the_case_s_owner_for_events_that_do_not_carry_it() -> None:
    known = KnownCase(team="billing", assignee="agent-billing")
    change, after = change_of(resolved(ID_A), complaint_id=ID_A, occurred_at=NOW, known=known)
    assert after == known
    assert (change.team, change.assignee, change.previous_team) == (
        "billing",
        "agent-billing",
        None,
    )
    closed = example_for(ComplaintClosed).model_copy(update={"complaint_id": ID_A})
    _, after = change_of(closed, complaint_id=ID_A, occurred_at=NOW, known=known)
    assert after.closed


@pytest.mark.parametrize(
    ("viewer", "visible"),
    [
        (Viewer("agent-billing", frozenset({"agent"}), "billing"), True),
        (Viewer("agent-x", frozenset({"agent"}), "billing"), True),  # the team's case
        (Viewer("agent-q", frozenset({"agent"}), "quality"), False),
        (Viewer("agent-billing", frozenset({"agent"}), None), True),  # assigned to them
        (Viewer("lead-billing", frozenset({"lead"}), "billing"), True),
        (Viewer("lead-quality", frozenset({"lead"}), "quality"), False),
        (Viewer("agent-billing", frozenset({"lead"}), None), False),  # a lead sees by team
        (Viewer("manager-1", frozenset({"manager"}), None), True),
    ],
)
def test_who_sees_a_change(viewer: Viewer, visible: bool) -> None:
    change = CaseChange(ID_A, "complaint.resolved", NOW, team="billing", assignee="agent-billing")
    assert sees(viewer, change) is visible


def test_both_sides_of_a_hand_off_see_it() -> None:
    change = CaseChange(
        ID_A, "complaint.assigned", NOW, team="quality", assignee="agent-q",
        previous_team="billing", previous_assignee="agent-billing",
    )  # fmt: skip
    assert sees(Viewer("lead-billing", frozenset({"lead"}), "billing"), change)
    assert sees(Viewer("agent-billing", frozenset({"agent"}), None), change)
    assert concerns(change, ID_A)
    assert not concerns(change, ID_B)
    assert concerns(change, None)


def test_the_cursor_waits_at_a_gap_until_it_is_old() -> None:
    fresh, old = NOW - timedelta(seconds=1), NOW - timedelta(seconds=10)
    assert advance(10, {11: fresh, 12: fresh}, now=NOW, grace_s=3) == 12
    assert advance(10, {12: fresh, 13: fresh}, now=NOW, grace_s=3) == 10  # 11 may still commit
    assert advance(10, {12: old, 13: fresh}, now=NOW, grace_s=3) == 13  # 11 never will
    assert advance(10, {}, now=NOW, grace_s=3) == 10


async def test_a_late_commit_is_still_sent_once(make_deps: NewDeps) -> None:
    deps = await make_deps()
    viewer = Viewer("manager-1", frozenset({"manager"}), None)
    now = datetime.now(UTC)
    async with deps.database.unit_of_work() as uow:
        for i in (1, 3):  # id 2 is a transaction still running
            uow.session.add(_row(i, ID_A, now))
    position = service.StreamPosition(cursor=0)
    first = await service.visible_changes(
        database=deps.database, viewer=viewer, position=position, now=now
    )
    assert [i for i, _ in first] == [1, 3]
    assert position.cursor == 1
    async with deps.database.unit_of_work() as uow:
        uow.session.add(_row(2, ID_B, now))
    second = await service.visible_changes(
        database=deps.database, viewer=viewer, position=position, now=now
    )
    assert [i for i, _ in second] == [2]  # the late one, and 3 not again
    assert position.cursor == 3


async def test_a_backlog_longer_than_a_page_is_read_without_waiting_between_pages(
    make_deps: NewDeps,
) -> None:
    """A consumer catching up records changes faster than one page per poll: the stream
    reads page after page and sleeps only once it has caught up (else the change a user
    waits for would come minutes late)."""
    deps = await make_deps()
    viewer = Viewer("manager-1", frozenset({"manager"}), None)
    now = datetime.now(UTC)
    backlog = 2 * service.POLL_LIMIT + 7
    async with deps.database.unit_of_work() as uow:
        for i in range(1, backlog + 1):
            uow.session.add(_row(i, ID_A, now))
    sleeps: list[float] = []
    ticks = iter(range(10_000))

    def clock() -> datetime:
        return now + timedelta(milliseconds=next(ticks))

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    received = []
    async for change_id, _change in service.follow_changes(
        database=deps.database,
        viewer=viewer,
        position=service.StreamPosition(cursor=0),
        clock=clock,
        sleep=sleep,
        poll_s=1.0,
        until=now + timedelta(milliseconds=5),  # the clock ticks twice a poll: three polls
    ):
        received.append(change_id)
    assert received == list(range(1, backlog + 1))
    assert sleeps == [1.0]  # three pages, one sleep once caught up


def _row(change_id: int, complaint_id: str, at: datetime) -> CaseChangeRow:
    return CaseChangeRow(
        id=change_id,
        complaint_id=complaint_id,
        event_type="complaint.assigned",
        team="billing",
        assignee="agent-billing",
        occurred_at=at,
        recorded_at=at,
    )


async def _stream(
    signed_in: Browser, path: str, produce: Callable[[], Awaitable[None]]
) -> list[dict[str, Any]]:
    """Read the stream while ``produce`` records changes, until the stream ends (its
    lifetime is short in these tests; the ASGI transport hands the body over at the end)."""

    async def read() -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        async with signed_in.http.stream("GET", path) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            event: dict[str, Any] = {}
            async for line in response.aiter_lines():
                if line.startswith("event: "):
                    event["event"] = line[7:]
                elif line.startswith("id: "):
                    event["id"] = line[4:]
                elif line.startswith("data: "):
                    event["data"] = json.loads(line[6:])
                elif not line and event:
                    events.append(event)
                    event = {}
        return events

    events, _ = await asyncio.gather(read(), produce())
    return events


@pytest.fixture
async def live_console(make_deps: NewDeps, browser: NewBrowser) -> Dependencies:
    return await make_deps(console_live_poll_s=0.05, console_live_stream_max_s=0.7)


async def test_the_stream_sends_only_the_changes_the_user_may_see(
    live_console: Dependencies, browser: NewBrowser
) -> None:
    agent = await browser(live_console)
    await agent.sign_in_as(AGENT)
    consumer = _consumer(live_console)

    async def produce() -> None:
        await asyncio.sleep(0.1)
        await consumer._process_batch(  # type: ignore[arg-type]
            [
                record_of(assigned(ID_A, "billing", "agent-billing"), topics.ROUTING),
                record_of(assigned(ID_B, "quality", "agent-quality"), topics.ROUTING),
                record_of(resolved(ID_A), topics.ROUTING),
                record_of(resolved(ID_B), topics.ROUTING),
            ]
        )

    events = await _stream(agent, "/live/stream", produce)
    sent = [(e["event"], e["data"]) for e in events if "data" in e]
    assert sent == [
        ("case-changed", {"complaint_id": ID_A, "type": "complaint.assigned"}),
        ("case-changed", {"complaint_id": ID_A, "type": "complaint.resolved"}),
    ]


async def test_a_manager_hears_every_case_and_a_case_page_only_its_own(
    live_console: Dependencies, browser: NewBrowser
) -> None:
    manager = await browser(live_console)
    await manager.sign_in_as(MANAGER)
    consumer = _consumer(live_console)
    batch = [
        record_of(assigned(ID_A, "billing", "agent-billing"), topics.ROUTING),
        record_of(assigned(ID_B, "quality", "agent-quality"), topics.ROUTING),
    ]

    async def produce() -> None:
        await asyncio.sleep(0.1)
        await consumer._process_batch(batch)  # type: ignore[arg-type]

    everything = await _stream(manager, "/live/stream", produce)
    assert {e["data"]["complaint_id"] for e in everything if "data" in e} == {ID_A, ID_B}

    async def more() -> None:
        await asyncio.sleep(0.1)
        await consumer._process_batch(  # type: ignore[arg-type]
            [record_of(resolved(ID_A), topics.ROUTING), record_of(resolved(ID_B), topics.ROUTING)]
        )

    one_case = await _stream(manager, f"/live/stream?case={ID_B}", more)
    assert [e["data"] for e in one_case if "data" in e] == [
        {"complaint_id": ID_B, "type": "complaint.resolved"}
    ]


async def test_a_reconnecting_browser_resumes_after_its_last_event(
    live_console: Dependencies, browser: NewBrowser
) -> None:
    lead = await browser(live_console)
    await lead.sign_in_as(LEAD)
    await _consumer(live_console)._process_batch(  # type: ignore[arg-type]
        [
            record_of(assigned(ID_A, "billing", None), topics.ROUTING),
            record_of(resolved(ID_A), topics.ROUTING),
        ]
    )
    first_id = (await _changes(live_console))[0].id
    lead.http.headers["Last-Event-ID"] = str(first_id)

    async def nothing() -> None:
        return None

    events = await _stream(lead, "/live/stream", nothing)
    assert [e["data"] for e in events if "data" in e] == [
        {"complaint_id": ID_A, "type": "complaint.resolved"}
    ]


async def test_no_stream_without_a_session(live_console: Dependencies, browser: NewBrowser) -> None:
    visitor = await browser(live_console)
    response = await visitor.page("/live/stream")
    assert response.status_code == 303


async def test_old_changes_and_long_closed_cases_are_pruned(make_deps: NewDeps) -> None:
    deps = await make_deps()
    long_ago = datetime.now(UTC) - timedelta(hours=3)
    async with deps.database.unit_of_work() as uow:
        uow.session.add(_row(1, ID_A, long_ago))
        uow.session.add(_row(2, ID_B, datetime.now(UTC)))
        uow.session.add(
            LiveCase(complaint_id=ID_A, team="billing", closed_at=long_ago, updated_at=long_ago)
        )
        uow.session.add(LiveCase(complaint_id=ID_B, team="billing", updated_at=long_ago))
    removed = await service.prune(database=deps.database, now=datetime.now(UTC), retention_s=3600)
    assert removed == 2
    async with deps.database.sessions() as session:
        assert [r.id for r in await session.scalars(select(CaseChangeRow))] == [2]
        assert await session.scalar(select(func.count()).select_from(LiveCase)) == 1
