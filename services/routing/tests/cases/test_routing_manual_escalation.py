"""A lead's or manager's escalation by hand over HTTP (httpx ASGITransport, SQLite, no
Kafka): who may ask, what is refused and why, the staged ``complaint.escalation_requested``
and the history entry; then sla-watch's answer (``complaint.escalated``, trigger manual)
sets the level."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from complaint_contracts.events import (
    ComplaintConfirmationRequested,
    ComplaintConfirmed,
    ComplaintEscalated,
    ComplaintEscalationRequested,
)
from complaint_contracts.privacy import find_contacts
from fastapi import FastAPI
from routing.casefile.api import router as case_file_router
from routing.cases.api import router

from ..conftest import staff_auth

SOLUTION = {"solution_summary": "refund re-sent", "solution_type": "refund", "root_cause": "bug"}
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def auth(
    sub: str, *roles: str, team: str | None = None, version: int | None = None
) -> dict[str, str]:
    headers = staff_auth(sub, *roles, team=team)
    if version is not None:
        headers["If-Match"] = f'"{version}"'
    return headers


AGENT = auth("agent-li", "agent", team="billing")
LEAD = auth("lead-zhao", "lead", team="billing")
OTHER_LEAD = auth("lead-qian", "lead", team="quality")
MANAGER = auth("mgr-sun", "manager")


@pytest.fixture
async def client(api_client: Any, seed: Any) -> AsyncIterator[httpx.AsyncClient]:
    await seed([{"id": "agent-li", "team": "billing", "capacity": 10}])
    async with api_client(router, case_file_router) as c:
        yield c


def problem(response: httpx.Response, status: int, kind: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["type"].endswith(f"/{kind}"), body
    return body


async def case_of(client: httpx.AsyncClient, complaint_id: str) -> dict[str, Any]:
    response = await client.get(f"/v1/cases/{complaint_id}", headers=MANAGER)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def escalate(
    client: httpx.AsyncClient,
    complaint_id: str,
    headers: dict[str, str],
    *,
    level: int = 2,
    reason: str = "customer threatens to go to the regulator",
) -> httpx.Response:
    return await client.post(
        f"/v1/cases/{complaint_id}/escalate",
        json={"level": level, "reason": reason},
        headers=headers,
    )


async def test_the_lead_asks_and_the_request_is_staged_and_recorded(
    client: httpx.AsyncClient, new_case: Any, outbox: Any
) -> None:
    cid = await new_case()
    before = await case_of(client, cid)

    response = await escalate(
        client, cid, auth("lead-zhao", "lead", team="billing", version=before["version"])
    )

    assert response.status_code == 202, response.text
    body = response.json()
    assert (body["complaint_id"], body["level"], body["current_level"], body["actor"]) == (
        cid,
        2,
        0,
        "lead-zhao",
    )
    assert body["reason"] == "customer threatens to go to the regulator"
    assert body["version"] == before["version"] + 1
    assert response.headers["ETag"] == f'"{body["version"]}"'
    [staged] = [e for e in await outbox(cid) if isinstance(e.data, ComplaintEscalationRequested)]
    assert staged.id == body["event_id"]
    assert (staged.data.level, staged.data.current_level, staged.data.actor) == (
        2,
        0,
        "lead-zhao",
    )
    assert staged.data.reason == body["reason"]
    case = await case_of(client, cid)
    # sla-watch decides: the level changes when complaint.escalated comes back.
    assert (case["escalation_level"], case["status"], case["version"]) == (
        0,
        "assigned",
        body["version"],
    )
    last = case["actions"][-1]
    assert (last["actor"], last["action"], last["event_id"]) == (
        "lead-zhao",
        "escalation_requested",
        body["event_id"],
    )
    assert (last["from_status"], last["to_status"]) == ("assigned", "assigned")
    assert last["detail"] == {
        "level": 2,
        "current_level": 0,
        "reason": "customer threatens to go to the regulator",
    }


async def test_contacts_in_the_reason_are_masked_everywhere(
    client: httpx.AsyncClient, new_case: Any, outbox: Any
) -> None:
    cid = await new_case()
    response = await escalate(
        client, cid, MANAGER, level=3, reason="  she wrote from zhang.wei@example.com, 13812345678 "
    )
    assert response.status_code == 202, response.text
    reason = response.json()["reason"]
    assert reason == "she wrote from z***@example.com, 138****5678"
    [staged] = [e for e in await outbox(cid) if isinstance(e.data, ComplaintEscalationRequested)]
    assert staged.data.reason == reason
    assert (await case_of(client, cid))["actions"][-1]["detail"]["reason"] == reason
    assert not find_contacts(staged.data.model_dump_json())


async def test_who_may_ask(client: httpx.AsyncClient, new_case: Any, outbox: Any) -> None:
    cid = await new_case()
    # An agent, even the case's own assignee, does not escalate.
    problem(await escalate(client, cid, AGENT), 403, "forbidden")
    # A lead who is only the assignee of another team's case acts there as an agent.
    lead_elsewhere = auth("agent-li", "agent", "lead", team="quality")
    problem(await escalate(client, cid, lead_elsewhere), 403, "forbidden")
    # Another team's lead does not see the case: the same answer as an unknown case.
    problem(await escalate(client, cid, OTHER_LEAD), 404, "not-found")
    problem(await escalate(client, "no-such-case", LEAD), 404, "not-found")
    problem(await escalate(client, cid, {}), 401, "unauthorized")
    assert not [e for e in await outbox(cid) if isinstance(e.data, ComplaintEscalationRequested)]
    assert (await escalate(client, cid, MANAGER, level=1)).status_code == 202


@pytest.mark.parametrize(
    "body",
    [
        {"level": 2, "reason": ""},
        {"level": 2, "reason": "   "},
        {"level": 2, "reason": "x" * 2001},
        {"level": 2},
        {"level": 0, "reason": "why"},
        {"level": 4, "reason": "why"},
        {"reason": "why"},
        {"level": 2, "reason": "why", "extra": 1},
    ],
)
async def test_a_bad_body_is_a_validation_problem(
    client: httpx.AsyncClient, new_case: Any, body: dict[str, Any]
) -> None:
    cid = await new_case()
    response = await client.post(f"/v1/cases/{cid}/escalate", json=body, headers=LEAD)
    problem(response, 422, "validation")


async def test_a_reason_too_long_once_masked_is_refused(
    client: httpx.AsyncClient, new_case: Any
) -> None:
    cid = await new_case()
    reason = "x" * 1992 + " a@b.cn"  # 1999 characters; masked (a***@b.cn) 2002
    body = problem(await escalate(client, cid, LEAD, reason=reason), 422, "validation")
    assert [e["field"] for e in body["errors"]] == ["reason"]


async def test_only_a_higher_level_is_asked_for(
    client: httpx.AsyncClient, new_case: Any, feed: Any, outbox: Any
) -> None:
    cid = await new_case()
    assert (await escalate(client, cid, LEAD, level=2)).status_code == 202
    # sla-watch's answer sets the level, with the requester as actor.
    await feed(
        ComplaintEscalated(
            complaint_id=cid,
            level=2,
            previous_level=0,
            trigger="manual",
            reason="customer threatens to go to the regulator",
            actor="lead-zhao",
        )
    )
    case = await case_of(client, cid)
    assert case["escalation_level"] == 2
    last = case["actions"][-1]
    assert (last["actor"], last["action"]) == ("lead-zhao", "escalated")
    assert (last["detail"]["trigger"], last["detail"]["level"]) == ("manual", 2)

    for level in (1, 2):
        body = problem(await escalate(client, cid, LEAD, level=level), 409, "escalation-not-higher")
        assert (body["level"], body["current_level"]) == (level, 2)
        assert "level 2 (manager)" in body["detail"]
    requests = [e for e in await outbox(cid) if isinstance(e.data, ComplaintEscalationRequested)]
    assert len(requests) == 1
    response = await escalate(client, cid, LEAD, level=3)
    assert response.status_code == 202, response.text
    assert response.json()["current_level"] == 2


async def test_a_request_on_an_old_version_is_stale(
    client: httpx.AsyncClient, new_case: Any
) -> None:
    cid = await new_case()
    version = (await case_of(client, cid))["version"]
    headers = auth("lead-zhao", "lead", team="billing", version=version)
    assert (await escalate(client, cid, headers, level=1)).status_code == 202
    # The double submit: the same form again.
    body = problem(await escalate(client, cid, headers, level=1), 409, "stale-case")
    assert [c["action"] for c in body["changes"]] == ["escalation_requested"]


async def test_a_closed_case_is_not_escalated(
    client: httpx.AsyncClient, new_case: Any, feed: Any
) -> None:
    cid = await new_case()
    agent = AGENT
    assert (await client.post(f"/v1/cases/{cid}/first-response", headers=agent)).status_code == 200
    resolved = await client.post(f"/v1/cases/{cid}/resolve", json=SOLUTION, headers=agent)
    assert resolved.status_code == 200, resolved.text
    await feed(
        ComplaintConfirmationRequested(
            complaint_id=cid,
            request_id="req-1",
            channel="sms",
            requested_at=NOW,
            expires_at=NOW + timedelta(days=7),
        )
    )
    await feed(ComplaintConfirmed(complaint_id=cid, request_id="req-1", answered_at=NOW))
    assert (await case_of(client, cid))["status"] == "closed"

    body = problem(await escalate(client, cid, MANAGER), 409, "illegal-transition")
    assert (body["state"], body["command"]) == ("closed", "Escalate")
    assert "closed" in body["detail"]


def test_the_endpoint_is_documented() -> None:
    app = FastAPI()
    app.include_router(router)
    operation = app.openapi()["paths"]["/v1/cases/{complaint_id}/escalate"]["post"]
    assert "202" in operation["responses"]
    assert {"403", "404", "409", "422"} <= set(operation["responses"])
    schema = app.openapi()["components"]["schemas"]["EscalateIn"]
    assert schema["properties"]["reason"]["maxLength"] == 2000
