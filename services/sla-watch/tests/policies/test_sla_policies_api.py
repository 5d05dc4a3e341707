"""The admin API of policies: matching order, validation, problems, recompute jobs."""

from __future__ import annotations

from typing import Any

import httpx

from ..conftest import bearer

PROBLEM = "application/problem+json"


ADMIN = bearer("admin")
LEAD = bearer("lead")


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


async def job_of(client: httpx.AsyncClient, job_id: int) -> dict[str, Any]:
    answer = await client.get(f"/v1/admin/recomputations/{job_id}", headers=LEAD)
    assert answer.status_code == 200
    body: dict[str, Any] = answer.json()
    return body


async def test_policies(admin_client: httpx.AsyncClient) -> None:
    listed = (await admin_client.get("/v1/admin/policies", headers=LEAD)).json()["policies"]
    assert [p["policy_id"] for p in listed] == [f"default-P{n}" for n in range(1, 5)]
    assert [p["position"] for p in listed] == [1, 2, 3, 4]

    vip = {
        "policy_id": "vip-p3",
        "name": "VIP P3: faster",
        "priority": "P3",
        "tier": "vip",
        "calendar_id": "cn-mainland",
        "first_response_s": 3600,
        "resolution_s": 27_000,
        "position": 1,
    }
    created = await admin_client.post("/v1/admin/policies", json=vip, headers=ADMIN)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["policy"]["next_response_s"] == 3600  # defaults to first response
    assert [p["policy_id"] for p in body["policies"]] == [
        "vip-p3",
        "default-P1",
        "default-P2",
        "default-P3",
        "default-P4",
    ]
    job = await job_of(admin_client, body["recompute_job_id"])
    assert (job["reason"], job["calendar_id"]) == ("policy_changed", None)
    generated = await admin_client.post(
        "/v1/admin/policies",
        json={**vip, "policy_id": None, "position": None, "channel": "weibo"},
        headers=ADMIN,
    )
    assert generated.json()["policy"]["policy_id"].startswith("policy-")
    assert generated.json()["policy"]["position"] == 6
    problem(await admin_client.post("/v1/admin/policies", json=vip, headers=ADMIN), 409)
    for bad in (
        {**vip, "policy_id": "b1", "tier": "platinum"},
        {**vip, "policy_id": "b2", "category": "weather"},
        {**vip, "policy_id": "b3", "channel": "pigeon"},
        {**vip, "policy_id": "b4", "priority": "P5"},
        {**vip, "policy_id": "b5", "first_response_s": 0},
        {**vip, "policy_id": "b7", "name": "VIP\nP3"},
    ):
        assert problem(await admin_client.post("/v1/admin/policies", json=bad, headers=ADMIN), 422)[
            "errors"
        ]
    unknown_calendar = await admin_client.post(
        "/v1/admin/policies", json={**vip, "policy_id": "b6", "calendar_id": "mars"}, headers=ADMIN
    )
    assert "unknown calendar 'mars'" in problem(unknown_calendar, 422)["detail"]

    patched = await admin_client.patch(
        "/v1/admin/policies/vip-p3", json={"tier": None, "priority": "P4"}, headers=ADMIN
    )
    assert patched.status_code == 200, patched.text
    assert (patched.json()["policy"]["tier"], patched.json()["policy"]["priority"]) == (None, "P4")
    problem(
        await admin_client.patch(
            "/v1/admin/policies/vip-p3", json={"calendar_id": None}, headers=ADMIN
        ),
        422,
    )
    problem(
        await admin_client.patch("/v1/admin/policies/nope", json={"name": "x"}, headers=ADMIN), 404
    )
    # Narrowing P2's only policy would leave P2 complaints without clocks.
    narrowed = await admin_client.patch(
        "/v1/admin/policies/default-P2", json={"channel": "phone"}, headers=ADMIN
    )
    assert "matches priority P2" in problem(narrowed, 422)["detail"]
    disabled = await admin_client.patch(
        "/v1/admin/policies/default-P1", json={"enabled": False}, headers=ADMIN
    )
    assert "P1" in problem(disabled, 422)["detail"]

    ids = [
        p["policy_id"]
        for p in (await admin_client.get("/v1/admin/policies", headers=LEAD)).json()["policies"]
    ]
    reordered = await admin_client.put(
        "/v1/admin/policies/order", json={"policy_ids": list(reversed(ids))}, headers=ADMIN
    )
    assert reordered.status_code == 200, reordered.text
    assert [p["policy_id"] for p in reordered.json()["policies"]] == list(reversed(ids))
    assert [p["position"] for p in reordered.json()["policies"]] == list(range(1, len(ids) + 1))
    for bad_order in (ids[:-1], [*ids, ids[0]], [*ids[:-1], "nope"]):
        problem(
            await admin_client.put(
                "/v1/admin/policies/order", json={"policy_ids": bad_order}, headers=ADMIN
            ),
            422,
        )

    refused = await admin_client.delete("/v1/admin/policies/default-P3", headers=ADMIN)
    assert "P3" in problem(refused, 422)["detail"]
    deleted = await admin_client.delete("/v1/admin/policies/vip-p3", headers=ADMIN)
    assert deleted.status_code == 200
    assert "vip-p3" not in [p["policy_id"] for p in deleted.json()["policies"]]
    problem(await admin_client.delete("/v1/admin/policies/vip-p3", headers=ADMIN), 404)
    problem(await admin_client.get("/v1/admin/recomputations/999999", headers=LEAD), 404)
    recent = (await admin_client.get("/v1/admin/recomputations", headers=LEAD)).json()["jobs"]
    # create x2, patch, reorder, delete; refused changes left no job behind
    assert len(recent) == 5
    assert recent[0]["id"] == deleted.json()["recompute_job_id"]
