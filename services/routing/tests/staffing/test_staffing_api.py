"""The assignment APIs over HTTP: roles on every endpoint, problem documents, and the
admin → queue → availability → transfer round trip."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from routing.cases.api import router as cases_router
from routing.cases.api import transfer_router
from routing.staffing.api import admin_router
from routing.staffing.api import router as staffing_router

from ..conftest import staff_auth as auth

ADMIN = auth("root", "admin")
LEAD = auth("lead-zhao", "lead", team="billing")
OTHER_LEAD = auth("lead-qian", "lead", team="quality")
MANAGER = auth("mgr-sun", "manager")
LI = auth("li", "agent", team="billing")
WANG = auth("wang", "agent", team="billing")


@pytest.fixture
async def client(api_client: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(cases_router, staffing_router, transfer_router, admin_router) as c:
        yield c


def problem(response: httpx.Response, status: int, kind: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    if kind:
        assert body["type"].endswith(f"/{kind}"), body
    return body


async def test_admins_write_leads_and_managers_read(client: httpx.AsyncClient) -> None:
    team = {"name": "Finance", "categories": ["billing_refund"]}
    for headers in (LEAD, MANAGER, LI):
        problem(await client.put("/v1/admin/teams/finance", json=team, headers=headers), 403)
    problem(await client.put("/v1/admin/teams/finance", json=team), 401)
    created = await client.put("/v1/admin/teams/finance", json=team, headers=ADMIN)
    assert created.status_code == 200, created.text
    assert created.json()["categories"] == ["billing_refund"]
    for headers in (LEAD, MANAGER, ADMIN):
        listed = await client.get("/v1/admin/teams", headers=headers)
        assert listed.status_code == 200
        assert "finance" in {t["id"] for t in listed.json()}
    problem(await client.get("/v1/admin/teams", headers=LI), 403)
    agent = {"team": "finance", "level": "senior", "capacity": 2, "languages": ["zh-CN"]}
    put = await client.put("/v1/admin/agents/fin-1", json=agent, headers=ADMIN)
    assert put.status_code == 200, put.text
    assert (put.json()["open_load"], put.json()["availability"]) == (0, "online")
    problem(await client.put("/v1/admin/agents/fin-2", json=agent, headers=LEAD), 403)
    got = await client.get("/v1/admin/agents/fin-1", headers=MANAGER)
    assert got.json()["languages"] == ["zh-CN"]
    problem(await client.get("/v1/admin/agents/nobody", headers=MANAGER), 404, "not-found")


async def test_bad_admin_input_is_a_422_problem(client: httpx.AsyncClient) -> None:
    bad_team = {"name": "x", "categories": ["not_a_category"]}
    problem(await client.put("/v1/admin/teams/finance", json=bad_team, headers=ADMIN), 422)
    twice = {"name": "x", "categories": ["other", "other"]}
    problem(await client.put("/v1/admin/teams/finance", json=twice, headers=ADMIN), 422)
    unknown_team = {"team": "nowhere", "capacity": 1}
    body = problem(
        await client.put("/v1/admin/agents/a", json=unknown_team, headers=ADMIN),
        422,
        "unknown-target",
    )
    assert body["errors"][0]["field"] == "team"
    negative = {"team": "billing", "capacity": -1}
    problem(await client.put("/v1/admin/agents/a", json=negative, headers=ADMIN), 422)
    problem(await client.put("/v1/admin/teams/Bad%20Id", json={"name": "x"}, headers=ADMIN), 422)
    # The team's name signs its messages to customers: one line (a break broke the e-mail).
    two_lines = {"name": "Finance\r\nBcc: x@example.com"}
    problem(await client.put("/v1/admin/teams/finance", json=two_lines, headers=ADMIN), 422)
    manager = {"agent_id": "ghost"}
    problem(
        await client.put("/v1/admin/account-managers/c-1", json=manager, headers=ADMIN),
        422,
        "unknown-target",
    )
    problem(await client.delete("/v1/admin/account-managers/c-1", headers=ADMIN), 404)


async def test_queue_availability_and_transfer_round_trip(
    client: httpx.AsyncClient, new_case: Any
) -> None:
    for agent_id in ("li", "wang"):
        agent = {"team": "billing", "capacity": 1, "availability": "offline"}
        assert (
            await client.put(f"/v1/admin/agents/{agent_id}", json=agent, headers=ADMIN)
        ).is_success
    first, second = await new_case(), await new_case()
    queue = await client.get("/v1/teams/billing/queue", headers=LEAD)
    assert queue.status_code == 200, queue.text
    assert [c["complaint_id"] for c in queue.json()["cases"]] == [first, second]
    problem(await client.get("/v1/teams/billing/queue", headers=OTHER_LEAD), 403)
    problem(await client.get("/v1/teams/billing/queue", headers=LI), 403)
    problem(await client.get("/v1/teams/nowhere/queue", headers=MANAGER), 404)

    url = "/v1/agents/li/availability"
    problem(await client.put(url, json={"availability": "online"}, headers=WANG), 403)
    problem(await client.put(url, json={"availability": "away"}, headers=LI), 422)
    online = await client.put(url, json={"availability": "online"}, headers=LI)
    assert online.status_code == 200
    assert online.json()["open_load"] == 1
    remaining = (await client.get("/v1/teams/billing/queue", headers=MANAGER)).json()["cases"]
    assert [c["complaint_id"] for c in remaining] == [second]

    transfer = f"/v1/cases/{first}/transfer"
    to_wang = {"assignee": "wang", "reason": "language"}
    problem(await client.post(transfer, json=to_wang, headers=WANG), 403)
    problem(await client.post(transfer, json=to_wang, headers=LI), 409, "agent-offline")
    await client.put("/v1/agents/wang/availability", json={"availability": "online"}, headers=LEAD)
    # wang took the queued case on coming online: now full.
    problem(await client.post(transfer, json=to_wang, headers=LI), 409, "agent-at-capacity")
    problem(await client.post(transfer, json={"reason": "x", "assignee": "ghost"}, headers=LI), 422)
    to_queue = await client.post(transfer, json={"reason": "back to the queue"}, headers=LI)
    # Nobody else free: back in the team queue, and li (freed) is not handed it again.
    assert to_queue.status_code == 200, to_queue.text
    assert (to_queue.json()["assignee"], to_queue.json()["owner"]) == (None, "li")
    queued = (await client.get("/v1/teams/billing/queue", headers=LEAD)).json()["cases"]
    assert [c["complaint_id"] for c in queued] == [first]
    moved = await client.post(
        transfer, json={"team": "quality", "reason": "wrong team"}, headers=LEAD
    )
    assert moved.status_code == 200, moved.text
    body = moved.json()
    assert (body["team"], body["assignee"], body["owner"]) == ("quality", None, "li")
    assert body["actions"][-1]["action"] == "reassigned"


async def test_reconcile_is_admin_only(client: httpx.AsyncClient) -> None:
    problem(await client.post("/v1/admin/agents/reconcile-loads", headers=MANAGER), 403)
    done = await client.post("/v1/admin/agents/reconcile-loads", headers=ADMIN)
    assert done.status_code == 200
    assert done.json() == {"corrected": []}
