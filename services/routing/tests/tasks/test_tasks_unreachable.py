"""Decision (unreachable customers) in routing: notify's notification.failed with reason
no_channel for the confirmation request opens one customer_unreachable task for the lead of
the case's team, through routing's consumer handler; other failures open nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from complaint_contracts.events import (
    ComplaintAutoClosed,
    ComplaintConfirmationRequested,
    ComplaintResolved,
    NotificationFailed,
)
from complaint_contracts.examples import example_for
from complaint_runtime.database import Database
from routing.db import CaseAction
from routing.tasks.db import Task
from sqlalchemy import select

from .conftest import BILLING_LEAD, LI, requested, resolve


def _no_channel(complaint_id: str, **changes: object) -> NotificationFailed:
    base = example_for(NotificationFailed)
    assert isinstance(base, NotificationFailed)
    values = {
        "complaint_id": complaint_id,
        "template": "survey_invitation",
        "recipient": "138****5678",
        "cause_event_type": ComplaintConfirmationRequested.ce_type(),
        "error": "skipped: the customer has no e-mail address",
        "reason": "no_channel",
        "final": True,
        "next_attempt_at": None,
    }
    return base.model_copy(update=values | changes)


async def _unreachable(database: Database, cid: str) -> list[Task]:
    async with database.sessions() as session:
        query = select(Task).where(Task.complaint_id == cid, Task.kind == "customer_unreachable")
        return list(await session.scalars(query))


async def _awaiting(database: Database, new_case: Any, feed: Any) -> str:
    cid: str = await new_case()
    await resolve(database, cid)
    await feed(requested(cid))
    return cid


async def test_no_channel_opens_one_task_for_the_team_lead(
    database: Database, new_case: Any, feed: Any, client: httpx.AsyncClient
) -> None:
    cid = await _awaiting(database, new_case, feed)
    event_id = await feed(_no_channel(cid))
    [task] = await _unreachable(database, cid)
    assert (task.team, task.assignee, task.status, task.reason) == (
        "billing",
        None,
        "open",
        "no_channel",
    )
    assert task.source_event_id == event_id
    assert task.due_at - task.created_at == timedelta(hours=24)  # UNREACHABLE_TASK_DUE_H
    assert task.detail["recipient"] == "138****5678"
    # The reminder's failure, and a redelivery, add nothing.
    await feed(_no_channel(cid, notification_id="ntf-reminder"))
    assert len(await _unreachable(database, cid)) == 1
    async with database.sessions() as session:
        created = list(
            await session.scalars(
                select(CaseAction).where(
                    CaseAction.complaint_id == cid, CaseAction.action == "task_created"
                )
            )
        )
    assert [a.detail["kind"] for a in created] == ["customer_unreachable"]
    # The lead lists it and closes it with an outcome of its kind.
    listed = await client.get(
        "/v1/tasks", params={"kind": "customer_unreachable"}, headers=BILLING_LEAD
    )
    assert [t["id"] for t in listed.json()["items"]] == [task.id]
    assert (await client.get("/v1/tasks", headers=LI)).json()["items"] == []  # not assigned
    done = await client.post(
        f"/v1/tasks/{task.id}/complete", json={"outcome": "contacted"}, headers=BILLING_LEAD
    )
    assert done.status_code == 200, done.text


async def test_other_failures_open_nothing(
    database: Database, new_case: Any, feed: Any, agents: None
) -> None:
    cid = await _awaiting(database, new_case, feed)
    await feed(_no_channel(cid, reason=None, error="SMTP 550: mailbox unavailable"))
    await feed(_no_channel(cid, recipient_role="agent"))
    await feed(_no_channel(cid, cause_event_type=ComplaintResolved.ce_type()))
    assert await _unreachable(database, cid) == []


async def test_a_case_no_longer_waiting_for_the_customer_opens_nothing(
    database: Database, new_case: Any, feed: Any, agents: None
) -> None:
    cid = await new_case()  # assigned, never resolved
    await feed(_no_channel(cid))
    assert await _unreachable(database, cid) == []


async def test_the_auto_close_of_a_customer_not_reached_is_recorded_so(
    database: Database, new_case: Any, feed: Any, agents: None
) -> None:
    cid = await _awaiting(database, new_case, feed)
    await feed(_no_channel(cid))
    auto_closed = example_for(ComplaintAutoClosed)
    assert isinstance(auto_closed, ComplaintAutoClosed)
    await feed(
        auto_closed.model_copy(
            update={"complaint_id": cid, "request_id": "req-1", "not_reached": True}
        )
    )
    async with database.sessions() as session:
        [closed] = list(
            await session.scalars(
                select(CaseAction).where(
                    CaseAction.complaint_id == cid, CaseAction.action == "closed"
                )
            )
        )
    assert closed.detail["reason"] == "auto_closed"
    assert closed.detail["not_reached"] is True
