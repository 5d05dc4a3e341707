"""routing's audit chain: administrators' changes of teams, agents, sub-categories and
canned replies are recorded with who made them and their before and after; a staff action
on a case is recorded through its event, with the staff member as the actor (§10,
finding 7)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from complaint_runtime.audit import links_after, verify_chain
from complaint_runtime.database import Database
from routing.canned_replies.api import admin_router as canned_admin_router
from routing.categories.api import router as categories_router
from routing.staffing.api import admin_router
from routing.staffing.api import router as staffing_router

from .conftest import staff_auth as auth

ADMIN = auth("admin-zhou", "admin")


@pytest.fixture
async def client(api_client: Any) -> AsyncIterator[httpx.AsyncClient]:
    routers = (admin_router, staffing_router, categories_router, canned_admin_router)
    async with api_client(*routers) as c:
        yield c


async def _entries(database: Database) -> list[dict[str, Any]]:
    return [entry for link in await links_after(database) for entry in link.entries]


async def test_admin_changes_name_their_actor_with_before_and_after(
    client: httpx.AsyncClient, database: Database
) -> None:
    team = {"name": "Finance", "categories": ["billing_refund"]}
    assert (await client.put("/v1/admin/teams/finance", json=team, headers=ADMIN)).is_success
    renamed = {"name": "Finance & refunds", "categories": ["billing_refund"]}
    assert (await client.put("/v1/admin/teams/finance", json=renamed, headers=ADMIN)).is_success
    agent = {"team": "finance", "display_name": "Li", "capacity": 5}
    answer = await client.put("/v1/admin/agents/li", json=agent, headers=ADMIN)
    assert answer.is_success, answer.text
    availability = await client.put(
        "/v1/agents/li/availability",
        json={"availability": "offline"},
        headers=auth("li", "agent", team="finance"),
    )
    assert availability.is_success, availability.text
    entries = await _entries(database)
    teams = [e for e in entries if e["action"] == "team.put"]
    assert [(e["actor"], e["object_id"]) for e in teams] == [("admin-zhou", "finance")] * 2
    assert "before" not in teams[0]  # created
    assert teams[1]["before"]["name"] == "Finance"
    assert teams[1]["after"]["name"] == "Finance & refunds"
    put_agent = next(e for e in entries if e["action"] == "agent.put")
    assert put_agent["after"]["capacity"] == 5
    offline = next(e for e in entries if e["action"] == "agent.availability_set")
    assert offline["actor"] == "li"
    assert offline["after"] == {"availability": "offline"}
    assert (await verify_chain(database)).ok


async def test_account_managers_are_audited_without_the_customer_reference(
    client: httpx.AsyncClient, database: Database, seed: Any
) -> None:
    await seed([{"id": "mgr", "team": "billing"}])
    ref = "cus_0123456789abcdef0123456789abcdef"
    answer = await client.put(
        f"/v1/admin/account-managers/{ref}", json={"agent_id": "mgr"}, headers=ADMIN
    )
    assert answer.is_success, answer.text
    deleted = await client.delete(f"/v1/admin/account-managers/{ref}", headers=ADMIN)
    assert deleted.status_code == 204
    audited = [e for e in await _entries(database) if e["object_type"] == "account_manager"]
    assert [e["action"] for e in audited] == ["account_manager.put", "account_manager.deleted"]
    assert all(ref not in str(e) for e in audited)
    assert audited[0]["object_id"] == audited[1]["object_id"]
