"""A reopen opens one review task for the lead of the case's team, in the reopen's own
transaction; a replayed reopen opens no second one; the due time is configurable."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from complaint_contracts.envelope import Envelope
from complaint_runtime.database import Database
from routing import messaging
from routing.bootstrap import build_dependencies
from routing.cases.reported_facts import apply_reopened
from routing.config import RoutingSettings
from routing.db import Case, CaseAction
from routing.tasks.db import Task
from routing.tasks.service import open_review_task
from sqlalchemy import select

from .conftest import NOW, Reopen, reopened, requested, resolve


async def _tasks(database: Database, cid: str) -> list[Task]:
    """The case's review tasks (a reopened case is P2 and its resolution opens a follow-up
    call too: see test_tasks_follow_up)."""
    async with database.sessions() as session:
        return list(
            await session.scalars(
                select(Task)
                .where(Task.complaint_id == cid, Task.kind == "review_reopen")
                .order_by(Task.id)
            )
        )


async def _actions(database: Database, cid: str) -> list[CaseAction]:
    async with database.sessions() as session:
        return list(
            await session.scalars(
                select(CaseAction).where(CaseAction.complaint_id == cid).order_by(CaseAction.id)
            )
        )


def _envelope(data: Any, event_id: str) -> Envelope:
    return Envelope(
        id=event_id,
        type=data.ce_type(),
        source="feedback",
        subject=data.complaint_id,
        time=NOW,
        data=data,
        correlation_id=event_id,
        causation_id=None,
    )


async def test_a_reopen_opens_one_review_task_for_the_teams_lead(
    database: Database, reopen: Reopen, outbox: Any
) -> None:
    cid = await reopen(reason="low_csat")
    [task] = await _tasks(database, cid)
    assert (task.kind, task.team, task.status, task.assignee) == (
        "review_reopen",
        "billing",
        "open",
        None,
    )
    assert task.reason == "low_csat"
    assert task.detail == {"csat": 2, "request_id": "req-1", "message_id": None}
    assert task.created_by == "routing"
    assert task.due_at - task.created_at == timedelta(hours=24)  # REVIEW_TASK_DUE_H default
    assert (task.outcome, task.completed_at) == (None, None)
    # In the history, right after the reopen and the return to the owner.
    actions = [(a.actor, a.action) for a in await _actions(database, cid)]
    assert actions[-3:] == [
        ("customer", "reopened"),
        ("routing", "assigned"),
        ("routing", "task_created"),
    ]
    created = (await _actions(database, cid))[-1]
    assert created.detail["task_id"] == task.id
    assert created.detail["reason"] == "low_csat"
    # Tasks are routing's own: no event on the routing topic.
    names = [type(e.data).event_name for e in await outbox(cid)]  # type: ignore[attr-defined]
    assert names[-2:] == ["complaint.recategorized", "complaint.assigned"]


async def test_the_due_time_is_configurable(
    database: Database, new_case: Any, agents: None
) -> None:
    deps = build_dependencies(RoutingSettings(review_task_due_h=2), database=database)
    handlers = messaging.handlers(deps)
    cid = await new_case()
    await resolve(database, cid)
    for data in (requested(cid), reopened(cid)):
        async with database.unit_of_work() as uow:
            await handlers[type(data)](uow, _envelope(data, str(uuid.uuid4())))
    [task] = await _tasks(database, cid)
    assert task.due_at - task.created_at == timedelta(hours=2)


async def test_the_task_is_in_the_reopens_transaction(
    database: Database, new_case: Any, feed: Any, agents: None
) -> None:
    cid = await new_case()
    await resolve(database, cid)
    await feed(requested(cid))

    class Crash(Exception):
        pass

    with pytest.raises(Crash):
        async with database.unit_of_work() as uow:
            await apply_reopened(uow=uow, reopened=reopened(cid), event_id="ev-reopen")
            await uow.session.flush()
            raise Crash  # the batch fails after the handler: nothing of it stays
    assert await _tasks(database, cid) == []
    async with database.sessions() as session:
        case = await session.get(Case, cid)
        assert case is not None
        assert (case.status, case.reopen_count) == ("awaiting_confirmation", 0)


async def test_a_replayed_reopen_opens_no_second_task(
    database: Database, reopen: Reopen, feed: Any
) -> None:
    cid = await reopen()
    # The same event applied again (its processed_events entry lost, say): the case is
    # assigned now, the state machine ignores the reopen, and no task is opened.
    async with database.unit_of_work() as uow:
        await apply_reopened(uow=uow, reopened=reopened(cid), event_id="ev-replayed")
    # Another reopen event on a case that is not resolved: ignored the same way.
    await feed(reopened(cid))
    assert len(await _tasks(database, cid)) == 1
    # And the table itself refuses a second task for one event (ON CONFLICT DO NOTHING).
    [task] = await _tasks(database, cid)
    async with database.unit_of_work() as uow:
        case = await uow.session.get(Case, cid)
        assert case is not None
        again = await open_review_task(
            uow=uow,
            case=case,
            reason="not_solved",
            detail={},
            event_id=str(task.source_event_id),
            within=timedelta(hours=1),
            at=NOW,
        )
    assert again is None
    assert len(await _tasks(database, cid)) == 1
    assert [a.action for a in await _actions(database, cid)].count("task_created") == 1


async def test_every_reopen_opens_its_own_task_and_none_moves_the_version(
    database: Database, reopen: Reopen
) -> None:
    cid = await reopen()
    async with database.sessions() as session:
        version = (await session.get(Case, cid)).version  # type: ignore[union-attr]
    await reopen(cid, reason="customer_message")
    tasks = await _tasks(database, cid)
    assert [t.reason for t in tasks] == ["not_solved", "customer_message"]
    assert all(t.status == "open" for t in tasks)
    actions = await _actions(database, cid)
    # The second round: first response, resolve, confirmation request, reopen, assigned.
    async with database.sessions() as session:
        case = await session.get(Case, cid)
        assert case is not None
        assert case.version == version + 5
    created = [
        a for a in actions if a.action == "task_created" and a.detail["kind"] == "review_reopen"
    ]
    assert [a.case_version for a in created] == [version, version + 5]
