"""回访 follow-up calls through routing's resolve command and the task API: opened with a
P1/P2 resolution for the owner, one open per case (a second resolution moves it), listed by
kind and overdue with the overdue count, completed in the window with an outcome of its kind
and the customer's CSAT."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from complaint_contracts.events import ComplaintWithdrawn
from complaint_runtime.database import Database
from routing.cases import service as cases
from routing.db import CaseAction
from routing.duplicates.manual import link_by_hand
from routing.tasks.db import Task
from routing.tasks.domain.follow_up import FollowUpWindow
from sqlalchemy import select

from .conftest import AGENT_LI, BILLING_LEAD, LI, MA, MANAGER, SOLUTION, Reopen, requested

NOW_WINDOW = FollowUpWindow(after=timedelta(0), due=timedelta(days=30))
PAST_DUE = FollowUpWindow(after=timedelta(0), due=timedelta(microseconds=1))


async def _resolve(database: Database, cid: str, window: FollowUpWindow | None = None) -> None:
    await cases.record_first_response(database=database, complaint_id=cid, principal=AGENT_LI)
    extra = {"follow_up": window} if window is not None else {}
    await cases.resolve(
        database=database, complaint_id=cid, principal=AGENT_LI, **SOLUTION, **extra
    )


async def _follow_ups(database: Database, cid: str) -> list[Task]:
    async with database.sessions() as session:
        query = select(Task).where(Task.complaint_id == cid, Task.kind == "follow_up_call")
        return list(await session.scalars(query.order_by(Task.id)))


async def _actions(database: Database, cid: str, action: str) -> list[CaseAction]:
    async with database.sessions() as session:
        query = select(CaseAction).where(
            CaseAction.complaint_id == cid, CaseAction.action == action
        )
        return list(await session.scalars(query.order_by(CaseAction.id)))


async def _list(
    client: httpx.AsyncClient, headers: dict[str, str], **params: Any
) -> dict[str, Any]:
    response = await client.get("/v1/tasks", params=params, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_a_p2_resolution_opens_the_call_for_the_owner_in_its_window(
    database: Database, new_case: Any, agents: None
) -> None:
    cid = await new_case(tier="gold")  # billing refund, P3 raised to P2 for a gold customer
    await _resolve(database, cid)
    [task] = await _follow_ups(database, cid)
    assert (task.status, task.team, task.assignee, task.reason) == (
        "open",
        "billing",
        "agent-li",
        "resolved",
    )
    assert task.detail["priority"] == "P2"
    assert task.available_from is not None
    assert task.available_from - task.created_at == timedelta(days=15)
    assert task.due_at - task.created_at == timedelta(days=30)
    [created] = await _actions(database, cid, "task_created")
    assert created.detail["kind"] == "follow_up_call"
    assert created.event_id is not None  # the resolution's event


async def test_p3_and_p4_resolutions_open_no_call(
    database: Database, new_case: Any, agents: None
) -> None:
    cid = await new_case()  # P3
    await _resolve(database, cid)
    assert await _follow_ups(database, cid) == []


async def test_a_second_resolution_moves_the_open_call_instead_of_adding_one(
    database: Database, new_case: Any, reopen: Reopen
) -> None:
    cid = await reopen(await new_case(tier="gold"))  # resolved (P2), asked, reopened
    [first] = await _follow_ups(database, cid)
    await _resolve(database, cid)
    [again] = await _follow_ups(database, cid)
    assert again.id == first.id
    assert again.available_from is not None
    assert first.available_from is not None
    assert again.available_from > first.available_from
    [moved] = await _actions(database, cid, "task_rescheduled")
    assert moved.detail["task_id"] == first.id
    assert len(await _actions(database, cid, "task_created")) == 2  # the call, the review


async def test_a_reopened_p3_case_is_p2_and_its_next_resolution_opens_a_call(
    database: Database, reopen: Reopen
) -> None:
    cid = await reopen()
    assert await _follow_ups(database, cid) == []  # resolved as P3
    await _resolve(database, cid)
    [task] = await _follow_ups(database, cid)
    assert task.detail["priority"] == "P2"


async def test_listed_by_kind_for_the_owner_and_the_lead_and_completed_in_the_window(
    database: Database, client: httpx.AsyncClient, new_case: Any
) -> None:
    cid = await new_case(tier="gold")
    await _resolve(database, cid, NOW_WINDOW)
    [task] = await _follow_ups(database, cid)
    for headers in (LI, BILLING_LEAD, MANAGER):
        body = await _list(client, headers, kind="follow_up_call", status="open")
        assert [t["id"] for t in body["items"]] == [task.id]
        item = body["items"][0]
        assert (item["kind"], item["assignee"], item["overdue"]) == (
            "follow_up_call",
            "agent-li",
            False,
        )
        assert item["available_from"] is not None
    assert (await _list(client, MA, kind="follow_up_call"))["items"] == []  # not theirs
    wrong = await client.post(
        f"/v1/tasks/{task.id}/complete", json={"outcome": "coached"}, headers=LI
    )
    assert wrong.status_code == 422, wrong.text
    no_csat = await client.post(
        f"/v1/tasks/{task.id}/complete", json={"outcome": "not_reached", "csat": 3}, headers=LI
    )
    assert no_csat.status_code == 422, no_csat.text
    assert no_csat.json()["errors"][0]["field"] == "csat"
    done = await client.post(
        f"/v1/tasks/{task.id}/complete",
        json={"outcome": "reached", "csat": 4, "note": "Happy; call me on 13812345678"},
        headers=LI,
    )
    assert done.status_code == 200, done.text
    body = done.json()
    assert (body["status"], body["outcome"], body["csat"]) == ("done", "reached", 4)
    assert "13812345678" not in body["note"]
    [completed] = await _actions(database, cid, "task_completed")
    assert completed.detail["csat"] == 4


async def test_a_call_before_its_window_is_refused(
    database: Database, client: httpx.AsyncClient, new_case: Any
) -> None:
    cid = await new_case(tier="gold")
    await _resolve(database, cid)  # the default window: from 15 days on
    [task] = await _follow_ups(database, cid)
    early = await client.post(
        f"/v1/tasks/{task.id}/complete", json={"outcome": "reached"}, headers=LI
    )
    assert early.status_code == 409, early.text
    assert early.json()["type"].endswith("/task-not-available")
    assert early.json()["available_from"]
    [still] = await _follow_ups(database, cid)
    assert still.status == "open"


async def test_the_review_keeps_its_own_outcomes(
    database: Database, client: httpx.AsyncClient, reopen: Reopen
) -> None:
    cid = await reopen()
    async with database.sessions() as session:
        review = await session.scalar(select(Task.id).where(Task.complaint_id == cid))
    refused = await client.post(
        f"/v1/tasks/{review}/complete", json={"outcome": "reached"}, headers=BILLING_LEAD
    )
    assert refused.status_code == 422, refused.text
    done = await client.post(
        f"/v1/tasks/{review}/complete", json={"outcome": "coached"}, headers=BILLING_LEAD
    )
    assert done.status_code == 200, done.text
    assert done.json()["csat"] is None


async def test_overdue_tasks_are_filtered_and_counted(
    database: Database, client: httpx.AsyncClient, new_case: Any, reopen: Reopen
) -> None:
    late = await new_case(tier="gold")
    await _resolve(database, late, PAST_DUE)
    in_time = await new_case(tier="gold")
    await _resolve(database, in_time, NOW_WINDOW)
    review_case = await reopen()  # a review due in 24 h: not overdue
    [late_task] = await _follow_ups(database, late)
    everything = await _list(client, BILLING_LEAD)
    assert len(everything["items"]) == 3
    assert everything["overdue_count"] == 1
    overdue = await _list(client, BILLING_LEAD, overdue="true")
    assert [t["id"] for t in overdue["items"]] == [late_task.id]
    assert overdue["items"][0]["overdue"] is True
    others = await _list(client, BILLING_LEAD, overdue="false")
    assert late_task.id not in {t["id"] for t in others["items"]}
    assert len(others["items"]) == 2
    reviews = await _list(client, BILLING_LEAD, kind="review_reopen")
    assert [t["complaint_id"] for t in reviews["items"]] == [review_case]
    assert reviews["overdue_count"] == 0  # the count follows the kind filter
    mine = await _list(client, LI, assignee="me")
    assert mine["overdue_count"] == 1
    # Done, it is no longer overdue.
    done = await client.post(
        f"/v1/tasks/{late_task.id}/complete", json={"outcome": "not_reached"}, headers=LI
    )
    assert done.status_code == 200, done.text
    assert (await _list(client, BILLING_LEAD))["overdue_count"] == 0


async def test_the_overdue_cursor_is_bound_to_the_filter(
    database: Database, client: httpx.AsyncClient, new_case: Any
) -> None:
    for _ in range(3):
        cid = await new_case(tier="gold")
        await _resolve(database, cid, PAST_DUE)
    first = await _list(client, BILLING_LEAD, overdue="true", limit=2)
    assert len(first["items"]) == 2
    assert first["next"]
    second = await _list(client, BILLING_LEAD, overdue="true", limit=2, cursor=first["next"])
    assert len(second["items"]) == 1
    assert second["next"] is None
    other = await client.get(
        "/v1/tasks", params={"limit": 2, "cursor": first["next"]}, headers=BILLING_LEAD
    )
    assert other.status_code == 422


async def test_the_case_file_shows_the_call(
    database: Database, client: httpx.AsyncClient, new_case: Any
) -> None:
    cid = await new_case(tier="gold")
    await _resolve(database, cid)
    response = await client.get(f"/v1/cases/{cid}", headers=BILLING_LEAD)
    assert response.status_code == 200, response.text
    [task] = response.json()["tasks"]
    assert task["kind"] == "follow_up_call"
    assert task["available_from"] is not None


async def test_a_confirmation_request_keeps_the_call(
    database: Database, new_case: Any, feed: Any, agents: None
) -> None:
    cid = await new_case(tier="gold")
    await _resolve(database, cid)
    await feed(requested(cid))
    [task] = await _follow_ups(database, cid)
    assert task.status == "open"


async def _closed_by_routing(database: Database, cid: str, *, close_reason: str) -> None:
    [task] = await _follow_ups(database, cid)
    assert (task.status, task.outcome, task.completed_by) == ("done", "case_closed", "routing")
    assert task.completed_at is not None
    [entry] = await _actions(database, cid, "task_completed")
    assert (entry.actor, entry.from_status, entry.to_status) == ("routing", "closed", "closed")
    assert entry.detail == {
        "task_id": task.id,
        "kind": "follow_up_call",
        "assignee": "agent-li",
        "outcome": "case_closed",
        "close_reason": close_reason,
    }


async def test_a_withdrawal_completes_the_open_follow_up_call_as_case_closed(
    database: Database, new_case: Any, feed: Any, agents: None
) -> None:
    cid = await new_case(tier="gold")
    await _resolve(database, cid)
    [task] = await _follow_ups(database, cid)
    assert task.status == "open"
    await feed(
        ComplaintWithdrawn(
            complaint_id=cid,
            customer_ref=f"ref-{cid}",
            reason=None,
            withdrawn_at=datetime.now(UTC),
            actor="customer",
        )
    )
    await _closed_by_routing(database, cid, close_reason="withdrawn")


async def test_a_merge_completes_the_copy_s_open_follow_up_call_as_case_closed(
    database: Database, new_case: Any, agents: None
) -> None:
    original = await new_case()
    cid = await new_case(tier="gold")
    await _resolve(database, cid)
    await link_by_hand(
        database=database,
        complaint_id=cid,
        original_id=original,
        principal=AGENT_LI,
        reason="same refund",
    )
    await _closed_by_routing(database, cid, close_reason="duplicate")
    assert await _follow_ups(database, original) == []
