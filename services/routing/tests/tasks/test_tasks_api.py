"""The task API: who sees which task, filters and pages, assigning and completing (403, 404,
409, 422), every change in the case's history, and the case file's tasks."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
from complaint_contracts.events import ErasureRequested
from complaint_runtime.database import Database
from routing.tasks.db import Task
from sqlalchemy import select

from ..conftest import service_auth
from .conftest import (
    ADMIN,
    BILLING_LEAD,
    LI,
    MA,
    MANAGER,
    QUALITY_LEAD,
    WANG,
    Reopen,
    auth,
)


def _problem(response: httpx.Response, status: int, kind: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    if kind is not None:
        assert body["type"].endswith(f"/{kind}"), body
    return body


async def _task_id(database: Database, cid: str) -> int:
    async with database.sessions() as session:
        return int(await session.scalar(select(Task.id).where(Task.complaint_id == cid)) or 0)


async def _ids(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> set[int]:
    response = await client.get("/v1/tasks", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return {t["id"] for t in response.json()["items"]}


async def _quality_task(database: Database, billing_task: int) -> int:
    """A second task, of the quality team (a review its lead would get)."""
    async with database.unit_of_work() as uow:
        task = await uow.session.get(Task, billing_task)
        assert task is not None
        copy = Task(
            kind=task.kind,
            complaint_id=task.complaint_id,
            team="quality",
            status="open",
            reason="not_solved",
            detail={},
            source_event_id="ev-quality",
            created_by="routing",
            created_at=task.created_at,
            due_at=task.due_at,
            updated_at=task.updated_at,
        )
        uow.session.add(copy)
        await uow.session.flush()
        return copy.id


async def test_who_sees_which_task(
    database: Database, client: httpx.AsyncClient, reopen: Reopen
) -> None:
    billing = await _task_id(database, await reopen())
    quality = await _quality_task(database, billing)
    assert await _ids(client, MANAGER) == {billing, quality}
    assert await _ids(client, ADMIN) == {billing, quality}
    assert await _ids(client, BILLING_LEAD) == {billing}
    assert await _ids(client, QUALITY_LEAD) == {quality}
    assert await _ids(client, auth("lead-x", "lead")) == set()  # no team claim: none
    # Agents see the tasks assigned to them only, not their team's.
    assert await _ids(client, LI) == set()
    assign = await client.post(
        f"/v1/tasks/{billing}/assign", json={"assignee": "agent-li"}, headers=BILLING_LEAD
    )
    assert assign.status_code == 200, assign.text
    assert await _ids(client, LI) == {billing}
    assert await _ids(client, MA) == set()
    # A single task: the same rule, an invisible task is a 404 like an unknown one.
    assert (await client.get(f"/v1/tasks/{billing}", headers=LI)).status_code == 200
    for headers in (MA, QUALITY_LEAD, WANG):
        _problem(await client.get(f"/v1/tasks/{billing}", headers=headers), 404, "not-found")
    _problem(await client.get("/v1/tasks/999999", headers=MANAGER), 404)
    _problem(await client.get("/v1/tasks", headers=service_auth("notify")), 403)
    _problem(await client.get("/v1/tasks"), 401)


async def test_filters_and_pages(
    database: Database, client: httpx.AsyncClient, reopen: Reopen
) -> None:
    ids = [await _task_id(database, await reopen()) for _ in range(5)]
    first = ids[0]
    await client.post(f"/v1/tasks/{first}/assign", json={"assignee": "agent-li"}, headers=MANAGER)
    await client.post(f"/v1/tasks/{first}/complete", json={"outcome": "no_action"}, headers=MANAGER)
    await client.post(
        f"/v1/tasks/{ids[1]}/assign", json={"assignee": "lead-zhao"}, headers=BILLING_LEAD
    )
    assert await _ids(client, MANAGER, status="done") == {first}
    assert await _ids(client, MANAGER, status="open") == set(ids[1:])
    assert await _ids(client, MANAGER, team="billing", kind="review_reopen") == set(ids)
    assert await _ids(client, MANAGER, team="quality") == set()
    assert await _ids(client, BILLING_LEAD, assignee="me") == {ids[1]}
    assert await _ids(client, MANAGER, assignee="agent-li") == {first}
    # Pages of two, by due time then id, the cursor bound to its filters.
    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"status": "open", "limit": 2}
        if cursor:
            params["cursor"] = cursor
        body = (await client.get("/v1/tasks", params=params, headers=BILLING_LEAD)).json()
        seen += [t["id"] for t in body["items"]]
        dues = [t["due_at"] for t in body["items"]]
        assert dues == sorted(dues)
        cursor = body["next"]
        if cursor is None:
            break
        other = await client.get("/v1/tasks", params={"cursor": cursor}, headers=BILLING_LEAD)
        _problem(other, 422, "invalid-cursor")
    assert seen == ids[1:]
    for params in ({"limit": 101}, {"limit": 0}, {"status": "closed"}, {"kind": "call"}):
        _problem(await client.get("/v1/tasks", params=params, headers=MANAGER), 422)
    _problem(await client.get("/v1/tasks", params={"cursor": "x"}, headers=MANAGER), 422)


async def test_assigning_a_task(
    database: Database, client: httpx.AsyncClient, reopen: Reopen
) -> None:
    cid = await reopen()
    task = await _task_id(database, cid)
    url = f"/v1/tasks/{task}/assign"
    # The lead of the team assigns to an agent of the team, or picks it up themself.
    response = await client.post(url, json={"assignee": "agent-ma"}, headers=BILLING_LEAD)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["assignee"], body["assigned_by"], body["status"]) == (
        "agent-ma",
        "lead-zhao",
        "open",
    )
    response = await client.post(url, json={"assignee": "lead-zhao"}, headers=BILLING_LEAD)
    assert response.status_code == 200, response.text
    _problem(await client.post(url, json={"assignee": "lead-zhao"}, headers=BILLING_LEAD), 409)
    # A manager may too; not an agent (even the assignee), not another team's lead.
    response = await client.post(url, json={"assignee": "agent-li"}, headers=MANAGER)
    assert response.status_code == 200, response.text
    _problem(await client.post(url, json={"assignee": "agent-ma"}, headers=LI), 403, "forbidden")
    _problem(await client.post(url, json={"assignee": "agent-ma"}, headers=QUALITY_LEAD), 404)
    _problem(await client.post(url, json={"assignee": "agent-ma"}, headers=ADMIN), 403)
    # Someone who is no agent of the task's team: 422 like a transfer's unknown target.
    for assignee in ("agent-nobody", "agent-wang", "lead-qian"):
        problem = _problem(
            await client.post(url, json={"assignee": assignee}, headers=MANAGER),
            422,
            "unknown-target",
        )
        assert [e["field"] for e in problem["errors"]] == ["assignee"]
    for body in ({}, {"assignee": "a@b.example.com"}, {"assignee": "x", "extra": 1}):
        _problem(await client.post(url, json=body, headers=MANAGER), 422, "validation")
    _problem(await client.post("/v1/tasks/999999/assign", json=body, headers=MANAGER), 422)
    _problem(
        await client.post("/v1/tasks/999999/assign", json={"assignee": "x"}, headers=MANAGER),
        404,
    )
    # Every change in the case's history, with its actor.
    case = (await client.get(f"/v1/cases/{cid}", headers=MANAGER)).json()
    assigned = [
        (a["actor"], a["detail"]["assignee"], a["detail"]["previous_assignee"])
        for a in case["actions"]
        if a["action"] == "task_assigned"
    ]
    assert assigned == [
        ("lead-zhao", "agent-ma", None),
        ("lead-zhao", "lead-zhao", "agent-ma"),
        ("mgr-sun", "agent-li", "lead-zhao"),
    ]


async def test_completing_a_task(
    database: Database, client: httpx.AsyncClient, reopen: Reopen
) -> None:
    cid = await reopen()
    task = await _task_id(database, cid)
    version = (await client.get(f"/v1/cases/{cid}", headers=MANAGER)).json()["version"]
    await client.post(f"/v1/tasks/{task}/assign", json={"assignee": "agent-ma"}, headers=MANAGER)
    url = f"/v1/tasks/{task}/complete"
    # Not the assignee's colleague, not another team's lead, not an administrator.
    _problem(await client.post(url, json={"outcome": "coached"}, headers=LI), 404)
    _problem(await client.post(url, json={"outcome": "coached"}, headers=QUALITY_LEAD), 404)
    _problem(await client.post(url, json={"outcome": "coached"}, headers=ADMIN), 403)
    for body in ({}, {"outcome": "fixed"}, {"outcome": "coached", "note": "x" * 2001}):
        problem = _problem(await client.post(url, json=body, headers=MA), 422, "validation")
        assert problem["errors"][0]["field"] in {"outcome", "note"}
    # The assignee completes it, with a note (contacts masked).
    note = "Called back on 13812345678; refund confirmed"
    response = await client.post(url, json={"outcome": "confirmed_fix", "note": note}, headers=MA)
    assert response.status_code == 200, response.text
    done = response.json()
    assert (done["status"], done["outcome"], done["completed_by"]) == (
        "done",
        "confirmed_fix",
        "agent-ma",
    )
    assert done["note"] == "Called back on 138****5678; refund confirmed"
    assert done["completed_at"] is not None
    # Done is final: completing or assigning it again is a 409 that changes nothing.
    for headers in (MA, BILLING_LEAD, MANAGER):
        _problem(
            await client.post(url, json={"outcome": "no_action"}, headers=headers), 409, "task-done"
        )
    _problem(
        await client.post(
            f"/v1/tasks/{task}/assign", json={"assignee": "agent-li"}, headers=MANAGER
        ),
        409,
        "task-done",
    )
    again = (await client.get(f"/v1/tasks/{task}", headers=MANAGER)).json()
    assert (again["outcome"], again["assignee"]) == ("confirmed_fix", "agent-ma")
    # The case file shows the task; the history has each change; the version did not move.
    case = (await client.get(f"/v1/cases/{cid}", headers=BILLING_LEAD)).json()
    [shown] = case["tasks"]
    assert (shown["id"], shown["kind"], shown["status"], shown["assignee"]) == (
        task,
        "review_reopen",
        "done",
        "agent-ma",
    )
    assert (shown["outcome"], shown["reason"]) == ("confirmed_fix", "not_solved")
    assert shown["created_at"] <= shown["assigned_at"] <= shown["completed_at"]
    assert shown["due_at"] > shown["created_at"]
    changes = [(a["actor"], a["action"]) for a in case["actions"] if a["action"].startswith("task")]
    assert changes == [
        ("routing", "task_created"),
        ("mgr-sun", "task_assigned"),
        ("agent-ma", "task_completed"),
    ]
    assert case["actions"][-1]["detail"]["outcome"] == "confirmed_fix"
    assert note not in str(case["actions"])
    assert case["version"] == version


async def test_the_lead_or_a_manager_completes_an_unassigned_task(
    database: Database, client: httpx.AsyncClient, reopen: Reopen
) -> None:
    first = await _task_id(database, await reopen())
    second = await _task_id(database, await reopen())
    response = await client.post(
        f"/v1/tasks/{first}/complete", json={"outcome": "reassigned"}, headers=BILLING_LEAD
    )
    assert response.status_code == 200, response.text
    assert (response.json()["completed_by"], response.json()["note"]) == ("lead-zhao", None)
    response = await client.post(
        f"/v1/tasks/{second}/complete", json={"outcome": "coached", "note": "  "}, headers=MANAGER
    )
    assert response.status_code == 422  # a blank note is no note: leave it out


async def test_an_erasure_blanks_the_completion_notes(
    database: Database, client: httpx.AsyncClient, reopen: Reopen, feed: Any
) -> None:
    cid = await reopen()
    task = await _task_id(database, cid)
    response = await client.post(
        f"/v1/tasks/{task}/complete",
        json={"outcome": "coached", "note": "Mr Zhang was upset about the wait"},
        headers=BILLING_LEAD,
    )
    assert response.status_code == 200, response.text
    await feed(
        ErasureRequested(
            complaint_id=cid,
            erasure_id="era-1",
            customer_ref="cr_any",
            reason="customer_request",
            requested_at=datetime.now(UTC),
            actor="intake",
        )
    )
    erased = (await client.get(f"/v1/tasks/{task}", headers=MANAGER)).json()
    assert (erased["status"], erased["outcome"], erased["note"]) == ("done", "coached", None)
