"""The admin API of calendars, policies and recompute jobs: who may read and who may change."""

from __future__ import annotations

from typing import Any

import httpx

from .conftest import bearer

PROBLEM = "application/problem+json"


ADMIN = bearer("admin")
LEAD = bearer("lead")


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


async def test_roles(admin_client: httpx.AsyncClient) -> None:
    reads = ["/v1/admin/calendars", "/v1/admin/policies", "/v1/admin/recomputations"]
    for path in reads:
        assert (await admin_client.get(path)).status_code == 401
        for role in ("agent", "service"):
            problem(await admin_client.get(path, headers=bearer(role)), 403)
        for role in ("lead", "manager", "admin"):
            assert (await admin_client.get(path, headers=bearer(role))).status_code == 200
    writes = [
        ("POST", "/v1/admin/calendars", {}),
        ("PATCH", "/v1/admin/calendars/24x7", {"name": "x"}),
        ("PUT", "/v1/admin/calendars/cn-mainland/days/2027-01-01", {"kind": "holiday"}),
        ("DELETE", "/v1/admin/calendars/cn-mainland/days/2026-10-01", None),
        ("DELETE", "/v1/admin/calendars/24x7", None),
        ("POST", "/v1/admin/policies", {}),
        ("PATCH", "/v1/admin/policies/default-P1", {"name": "x"}),
        ("PUT", "/v1/admin/policies/order", {"policy_ids": ["default-P1"]}),
        ("DELETE", "/v1/admin/policies/default-P1", None),
    ]
    for method, path, body in writes:
        for role in ("lead", "manager"):
            answer = await admin_client.request(method, path, json=body, headers=bearer(role))
            problem(answer, 403)
    # nothing changed
    policies = (await admin_client.get("/v1/admin/policies", headers=LEAD)).json()
    assert policies["config_version"] == 1


async def test_a_token_for_another_services_audience_gets_401(
    admin_client: httpx.AsyncClient,
) -> None:
    """Tokens name the service they are for: routing's admin token is no key to sla-watch."""
    for headers in (
        bearer("admin", audience="routing"),
        bearer("manager", audience="console"),
        bearer("service", audience="intake"),
    ):
        for path in ("/v1/admin/calendars", "/v1/clocks/at-risk"):
            answer = await admin_client.get(path, headers=headers)
            assert problem(answer, 401)["type"].endswith("/unauthorized")
            assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    # The same roles for sla-watch: admitted.
    assert (await admin_client.get("/v1/admin/calendars", headers=ADMIN)).status_code == 200
    assert (
        await admin_client.get("/v1/clocks/at-risk", headers=bearer("service"))
    ).status_code == 200
