"""A complaint travels HTTP → intake's PostgreSQL + outbox → Kafka → routing → its
PostgreSQL + outbox → Kafka → intake's projection, and GET shows the result."""

from __future__ import annotations

from typing import Any

import httpx
from harness import lifecycle, wait_for, without_expected

from conftest import Platform


def _assigned(client: httpx.Client, complaint_id: str) -> dict[str, Any] | None:
    body = client.get(f"/v1/complaints/{complaint_id}").json()
    return body if body["status"] == "assigned" else None


def test_every_sample_reaches_assigned_with_expected_triage(
    platform: Platform, sample_complaints: list[dict[str, Any]]
) -> None:
    with platform.client() as client:
        posted = []
        for sample in sample_complaints:
            response = client.post("/v1/complaints", json=without_expected(sample))
            assert response.status_code == 201, response.text
            posted.append((sample, response.json()))
        mismatches = []
        for sample, accepted in posted:
            view = wait_for(
                lambda cid=accepted["id"]: _assigned(client, cid),
                timeout_s=30,
                what=f"{accepted['reference']} to be assigned",
            )
            expected = sample["expected"]
            got = {"category": view["category"], "priority": view["priority"]}
            if got != {"category": expected["category"], "priority": expected["priority"]}:
                mismatches.append((sample["subject"], expected, got))
            assert view["team"], view
            assert lifecycle(view)[:3] == ["received", "triaged", "assigned"], view["history"]
        assert not mismatches, mismatches


def test_customer_sees_only_their_complaint_with_the_tracking_token(
    platform: Platform, sample_complaints: list[dict[str, Any]]
) -> None:
    with platform.client() as client:
        first = client.post("/v1/complaints", json=without_expected(sample_complaints[0])).json()
        second = client.post("/v1/complaints", json=without_expected(sample_complaints[1])).json()
    anonymous = httpx.Client(base_url=platform.intake.url, timeout=10)
    own = anonymous.get(f"/v1/complaints/{first['id']}", params={"token": first["tracking_token"]})
    assert own.status_code == 200
    assert own.json()["reference"] == first["reference"]
    by_header = anonymous.get(
        f"/v1/complaints/{first['id']}", headers={"X-Tracking-Token": first["tracking_token"]}
    )
    assert by_header.status_code == 200
    other = anonymous.get(
        f"/v1/complaints/{second['id']}", params={"token": first["tracking_token"]}
    )
    assert other.status_code == 404
    assert other.headers["content-type"] == "application/problem+json"
    assert anonymous.get(f"/v1/complaints/{first['id']}").status_code == 401


def test_idempotency_key_replays_the_same_answer(
    platform: Platform, sample_complaints: list[dict[str, Any]]
) -> None:
    body = without_expected(sample_complaints[2])
    with platform.client() as client:
        headers = {"Idempotency-Key": "integration-idem-1"}
        first = client.post("/v1/complaints", json=body, headers=headers)
        again = client.post("/v1/complaints", json=body, headers=headers)
        assert first.status_code == again.status_code == 201
        assert again.json() == first.json()
        assert again.headers.get("Idempotent-Replayed") == "true"
        changed = {**body, "subject": body["subject"] + " (edited)"}
        conflict = client.post("/v1/complaints", json=changed, headers=headers)
        assert conflict.status_code == 422
        assert conflict.headers["content-type"] == "application/problem+json"
        assert conflict.json()["type"].endswith("idempotency-key-reused")
