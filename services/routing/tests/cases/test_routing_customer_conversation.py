"""What the agent tells and asks the customer reaches them: the first response, replies and
questions carry the masked text and how they are signed (the agent's display name, else
the team's name, else nothing: never a user id), set through the admin API or
``ROUTING_AGENTS``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from complaint_contracts.events import (
    ComplaintAgentReplied,
    ComplaintAwaitingCustomer,
    ComplaintFirstResponseSent,
)
from complaint_runtime.database import Database
from pydantic import ValidationError
from routing.cases.api import router as cases_router
from routing.config import AgentConfig
from routing.db import Agent
from routing.staffing.api import admin_router

from ..conftest import staff_auth as auth

LI_AGENT = {"team": "billing", "level": "senior", "capacity": 50}


LI = auth("agent-li", "agent", team="billing")
ADMIN = auth("root", "admin")


@pytest.fixture
async def client(api_client: Any, seed: Any) -> AsyncIterator[httpx.AsyncClient]:
    await seed([{"id": "agent-li", **LI_AGENT}])
    async with api_client(cases_router, admin_router) as c:
        yield c


async def _answers(outbox: Any, complaint_id: str) -> list[Any]:
    kinds = (ComplaintFirstResponseSent, ComplaintAgentReplied, ComplaintAwaitingCustomer)
    return [e.data for e in await outbox(complaint_id) if isinstance(e.data, kinds)]


async def _post(client: httpx.AsyncClient, path: str, body: dict[str, Any]) -> None:
    answer = await client.post(path, json=body, headers=LI)
    assert answer.status_code == 200, answer.text


async def test_answers_carry_the_masked_text_and_the_display_name(
    client: httpx.AsyncClient, new_case: Any, outbox: Any
) -> None:
    named = await client.put(
        "/v1/admin/agents/agent-li", json={**LI_AGENT, "display_name": " 李娜 "}, headers=ADMIN
    )
    assert named.status_code == 200, named.text
    assert named.json()["display_name"] == "李娜"
    cid = await new_case()
    path = f"/v1/cases/{cid}"
    await _post(client, f"{path}/first-response", {"message": "退款已提交，有问题请拨 13812345678"})
    await _post(client, f"{path}/replies", {"message": "Sent to z.wei@example.com as well"})
    await _post(client, f"{path}/awaiting-customer", {"reason": "请提供退款单号"})
    first, reply, question = await _answers(outbox, cid)
    assert isinstance(first, ComplaintFirstResponseSent)
    assert first.message == "退款已提交，有问题请拨 138****5678"
    assert isinstance(reply, ComplaintAgentReplied)
    assert reply.message == "Sent to z***@example.com as well"
    assert isinstance(question, ComplaintAwaitingCustomer)
    assert question.reason == "请提供退款单号"
    for answer in (first, reply, question):
        assert (answer.actor, answer.agent_name) == ("agent-li", "李娜")


async def test_without_a_display_name_the_named_team_signs_else_nobody(
    client: httpx.AsyncClient, new_case: Any, outbox: Any
) -> None:
    cid = await new_case()
    path = f"/v1/cases/{cid}"
    await _post(client, f"{path}/first-response", {"message": "您好"})
    # The billing team exists only implicitly (named after its id): no name worth showing.
    team = await client.put("/v1/admin/teams/billing", json={"name": "billing"}, headers=ADMIN)
    assert team.status_code == 200, team.text
    await _post(client, f"{path}/replies", {"message": "还在处理"})
    team = await client.put("/v1/admin/teams/billing", json={"name": "退款服务组"}, headers=ADMIN)
    assert team.status_code == 200, team.text
    await _post(client, f"{path}/awaiting-customer", {"reason": "请提供订单号"})
    first, reply, question = await _answers(outbox, cid)
    assert (first.agent_name, reply.agent_name, question.agent_name) == (None, None, "退款服务组")
    assert "agent-li" not in {first.agent_name, reply.agent_name, question.agent_name}


async def test_a_first_response_without_text_carries_none(
    client: httpx.AsyncClient, new_case: Any, outbox: Any
) -> None:
    cid = await new_case()
    await _post(client, f"/v1/cases/{cid}/first-response", {"channel": "phone"})
    [first] = await _answers(outbox, cid)
    assert isinstance(first, ComplaintFirstResponseSent)
    assert (first.message, first.channel) == (None, "phone")


@pytest.mark.parametrize(
    "display_name", ["", "   ", "x" * 101, "Li 13812345678", "li@example.com", "Li\nNa"]
)
async def test_a_display_name_is_bounded_and_never_a_contact(
    client: httpx.AsyncClient, display_name: str
) -> None:
    answer = await client.put(
        "/v1/admin/agents/agent-li", json={**LI_AGENT, "display_name": display_name}, headers=ADMIN
    )
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["errors"][0]["field"] == "display_name"


async def test_put_replaces_the_display_name(client: httpx.AsyncClient) -> None:
    await client.put(
        "/v1/admin/agents/agent-li", json={**LI_AGENT, "display_name": "李娜"}, headers=ADMIN
    )
    cleared = await client.put("/v1/admin/agents/agent-li", json=LI_AGENT, headers=ADMIN)
    assert cleared.json()["display_name"] is None
    listed = await client.get("/v1/admin/agents", headers=ADMIN)
    assert {a["id"]: a["display_name"] for a in listed.json()} == {"agent-li": None}


async def test_routing_agents_seed_display_names_and_a_restart_keeps_them(
    database: Database, seed: Any
) -> None:
    await seed([{"id": "agent-zhou", "team": "billing", "display_name": "周敏"}])
    await seed([{"id": "agent-zhou", "team": "billing", "capacity": 20}])  # a restart
    async with database.sessions() as session:
        agent = await session.get(Agent, "agent-zhou")
    assert agent is not None
    assert (agent.display_name, agent.capacity) == ("周敏", 20)
    with pytest.raises(ValidationError):
        AgentConfig(id="agent-zhou", team="billing", display_name="call 13812345678")
