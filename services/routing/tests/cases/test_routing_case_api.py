"""The case API over HTTP (httpx ASGITransport, no lifespan, no Kafka): auth, status codes,
problem documents and the case view with its history (the case file's read, with the
commands)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import jwt
import pytest
from complaint_runtime.dev_identity import DevIdentity
from complaint_runtime.identity import ISSUER, issue_token
from complaint_runtime.signing_keys import SigningKey
from routing.casefile.api import router as case_file_router
from routing.cases.api import router

from ..conftest import service_auth
from ..conftest import staff_auth as auth

SOLUTION = {"solution_summary": "refund re-sent", "solution_type": "refund", "root_cause": "bug"}


LI = auth("agent-li", "agent", team="billing")
WANG = auth("agent-wang", "agent", team="billing")
LEAD = auth("lead-zhao", "lead", team="billing")
OTHER_LEAD = auth("lead-qian", "lead", team="quality")
MANAGER = auth("mgr-sun", "manager")
SERVICE = service_auth("notify")


@pytest.fixture
async def client(api_client: Any, seed: Any) -> AsyncIterator[httpx.AsyncClient]:
    await seed(
        [
            {"id": "agent-li", "team": "billing", "capacity": 10},
            # Without the billing_refund skill: only a transfer target.
            {"id": "agent-wang", "team": "billing", "capacity": 5, "categories": ["other"]},
        ]
    )
    async with api_client(router, case_file_router) as c:
        yield c


def is_problem(response: httpx.Response, status: int, kind: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    if kind:
        assert body["type"].endswith(f"/{kind}"), body
    return body


async def test_get_needs_a_staff_or_service_token(client: httpx.AsyncClient, new_case: Any) -> None:
    complaint_id = await new_case()
    is_problem(await client.get(f"/v1/cases/{complaint_id}"), 401, "unauthorized")
    # Administrators read every case (per-object rules: routing.casefile.domain.visibility);
    # a token with no reading role is refused.
    is_problem(await client.get(f"/v1/cases/{complaint_id}", headers=auth("x")), 403)
    admin = await client.get(f"/v1/cases/{complaint_id}", headers=auth("x", "admin"))
    assert admin.status_code == 200, admin.text
    for headers in (LI, LEAD, MANAGER, SERVICE, WANG):
        response = await client.get(f"/v1/cases/{complaint_id}", headers=headers)
        assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["team"], body["assignee"], body["owner"]) == (
        "assigned",
        "billing",
        "agent-li",
        "agent-li",
    )
    assert body["priority"] == "P3"
    assert body["category"] == "billing_refund"
    assert [(a["actor"], a["action"]) for a in body["actions"]] == [
        ("intake", "received"),
        ("routing", "triaged"),
        ("routing", "assigned"),
    ]
    is_problem(await client.get("/v1/cases/unknown", headers=LI), 404, "not-found")


def forged(key: SigningKey, *, subject: str, roles: list[str]) -> dict[str, str]:
    """A token ``key`` signs for routing although it may not vouch for it (no check here)."""
    now = int(time.time())
    claims = {"iss": ISSUER, "sub": subject, "aud": "routing", "roles": roles}
    claims |= {"iat": now, "exp": now + 300}
    token = jwt.encode(claims, key.private_key, algorithm="EdDSA", headers={"kid": key.kid})
    return {"Authorization": f"Bearer {token}"}


async def test_a_token_for_another_services_audience_gets_401(
    client: httpx.AsyncClient, new_case: Any
) -> None:
    complaint_id = await new_case()
    for headers in (
        auth("mgr-sun", "manager", audience="sla-watch"),
        auth("agent-li", "agent", team="billing", audience="intake"),
        service_auth("notify", audience="intake"),
    ):
        response = await client.get(f"/v1/cases/{complaint_id}", headers=headers)
        is_problem(response, 401, "unauthorized")
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


async def test_a_services_key_cannot_sign_a_staff_role(
    client: httpx.AsyncClient, new_case: Any, identity: DevIdentity
) -> None:
    """A compromised service speaks only as itself: its key vouches for no staff member
    (refused when signing, and at routing when forged), and no staff issuer's key (the
    development identity provider, the console) vouches for a service."""
    notify = identity.services["notify"]
    with pytest.raises(ValueError, match="service:notify"):
        issue_token(key=notify, subject="mgr-sun", roles=["manager"], audience="routing")
    complaint_id = await new_case()
    url = f"/v1/cases/{complaint_id}"
    for headers in (
        forged(notify, subject="mgr-sun", roles=["manager"]),
        forged(notify, subject="notify", roles=["service", "admin"]),
        forged(notify, subject="routing", roles=["service"]),
        forged(identity.staff, subject="notify", roles=["service"]),
        forged(identity.services["console"], subject="notify", roles=["service"]),
    ):
        is_problem(await client.get(url, headers=headers), 401, "unauthorized")
    # The same service key, signing what it may: admitted.
    allowed = await client.get(url, headers=forged(notify, subject="notify", roles=["service"]))
    assert allowed.status_code == 200, allowed.text


async def test_the_whole_staff_flow(client: httpx.AsyncClient, new_case: Any) -> None:
    cid = await new_case()
    base = f"/v1/cases/{cid}"
    response = await client.post(
        f"{base}/first-response", json={"message": "we are on it", "channel": "sms"}, headers=LI
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "in_progress"
    assert (await client.post(f"{base}/replies", json={}, headers=LI)).status_code == 200
    response = await client.post(
        f"{base}/awaiting-customer", json={"reason": "bank receipt"}, headers=LI
    )
    assert response.json()["status"] == "awaiting_customer"
    response = await client.post(f"{base}/resume", headers=LI)
    assert response.json()["status"] == "in_progress"
    response = await client.post(f"{base}/resolve", json=SOLUTION, headers=LI)
    body = response.json()
    assert (body["status"], body["solution_type"], body["root_cause"]) == (
        "resolved",
        "refund",
        "bug",
    )
    assert body["actions"][-1]["actor"] == "agent-li"


async def test_resolve_without_the_three_fields_is_a_closure_guard_problem(
    client: httpx.AsyncClient, new_case: Any
) -> None:
    cid = await new_case()
    await client.post(f"/v1/cases/{cid}/first-response", headers=LI)
    body = is_problem(
        await client.post(f"/v1/cases/{cid}/resolve", json={"solution_summary": "  "}, headers=LI),
        422,
        "closure-guard",
    )
    assert [(e["field"], e["pointer"]) for e in body["errors"]] == [
        ("solution_summary", "/solution_summary"),
        ("solution_type", "/solution_type"),
        ("root_cause", "/root_cause"),
    ]
    assert all(e["detail"] for e in body["errors"])
    body = is_problem(await client.post(f"/v1/cases/{cid}/resolve", headers=LI), 422)
    assert len(body["errors"]) == 3
    is_problem(
        await client.post(
            f"/v1/cases/{cid}/resolve", json={**SOLUTION, "solution_type": "magic"}, headers=LI
        ),
        422,
        "validation",
    )


async def test_illegal_transition_is_409_with_state_and_command(
    client: httpx.AsyncClient, new_case: Any
) -> None:
    cid = await new_case()
    body = is_problem(
        await client.post(f"/v1/cases/{cid}/resume", headers=LI), 409, "illegal-transition"
    )
    assert (body["state"], body["command"]) == ("assigned", "Resume")


async def test_who_may_act(client: httpx.AsyncClient, new_case: Any) -> None:
    cid = await new_case()
    url = f"/v1/cases/{cid}/first-response"
    is_problem(await client.post(url, headers=WANG), 403, "forbidden")
    # Another team's lead may not even see the case: the same 404 as an unknown case.
    is_problem(await client.post(url, headers=OTHER_LEAD), 404, "not-found")
    is_problem(await client.post(url, headers=SERVICE), 403, "forbidden")
    is_problem(await client.post(url, headers=auth("li@example.com", "manager")), 403)
    assert (await client.post(url, headers=MANAGER)).status_code == 200
    is_problem(await client.post("/v1/cases/nope/first-response", headers=LI), 404)


async def test_reassign_by_a_lead(client: httpx.AsyncClient, new_case: Any) -> None:
    cid = await new_case()
    url = f"/v1/cases/{cid}/reassign"
    body = {"assignee": "agent-wang", "reason": "holiday"}
    is_problem(await client.post(url, json=body, headers=LI), 403, "forbidden")
    is_problem(await client.post(url, json=body, headers=OTHER_LEAD), 404, "not-found")
    is_problem(await client.post(url, json={"assignee": "agent-wang"}, headers=LEAD), 422)
    is_problem(
        await client.post(url, json={"assignee": "a@b.com", "reason": "x"}, headers=LEAD), 422
    )
    response = await client.post(url, json=body, headers=LEAD)
    assert response.status_code == 200, response.text
    case = response.json()
    assert (case["assignee"], case["owner"], case["status"]) == (
        "agent-wang",
        "agent-li",
        "assigned",
    )
    assert case["actions"][-1]["detail"]["previous_assignee"] == "agent-li"
    # the new assignee may now act, the previous one may not
    is_problem(await client.post(f"/v1/cases/{cid}/first-response", headers=LI), 403)
    ok = await client.post(f"/v1/cases/{cid}/first-response", headers=WANG)
    assert ok.status_code == 200


async def test_bodies_are_bounded(client: httpx.AsyncClient, new_case: Any) -> None:
    cid = await new_case()
    is_problem(
        await client.post(
            f"/v1/cases/{cid}/first-response", json={"message": "x" * 2001}, headers=LI
        ),
        422,
        "validation",
    )
    is_problem(
        await client.post(f"/v1/cases/{cid}/awaiting-customer", json={}, headers=LI),
        422,
        "validation",
    )
