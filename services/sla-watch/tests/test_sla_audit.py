"""sla-watch's audit chain: an administrator's changes of policies and calendars are
recorded with who made them and their before and after, the auditor reads and verifies the
chain through the API every service shares, and no other role can (§10, finding 7)."""

from __future__ import annotations

from typing import Any

import httpx

from .conftest import bearer as token_headers


def bearer(subject: str, *roles: str) -> dict[str, str]:
    return token_headers(*roles, subject=subject)


ADMIN = bearer("admin-7", "admin")
AUDITOR = bearer("auditor-1", "auditor")


async def _entries(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    answer = await client.get("/v1/audit/links?limit=500", headers=AUDITOR)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["service"] == "sla-watch"
    return [entry for link in body["links"] for entry in link["entries"]]


async def test_admin_changes_are_audited_with_actor_before_and_after(
    admin_client: httpx.AsyncClient,
) -> None:
    changed = await admin_client.patch(
        "/v1/admin/policies/default-P3", json={"resolution_s": 30_000}, headers=ADMIN
    )
    assert changed.status_code == 200, changed.text
    holiday = await admin_client.put(
        "/v1/admin/calendars/cn-mainland/days/2027-03-08",
        json={"kind": "holiday", "name": "Women's day"},
        headers=ADMIN,
    )
    assert holiday.status_code == 200, holiday.text
    entries = await _entries(admin_client)
    policy = next(e for e in entries if e["action"] == "sla_policy.changed")
    assert (policy["actor"], policy["object_id"]) == ("admin-7", "default-P3")
    assert policy["after"]["resolution_s"] == 30_000
    assert policy["before"]["resolution_s"] != 30_000
    assert policy["origin"].startswith("http")
    day = next(e for e in entries if e["action"] == "sla_calendar.day_set")
    assert (day["actor"], day["object_id"]) == ("admin-7", "cn-mainland/2027-03-08")
    assert day["after"]["kind"] == "holiday"
    verified = await admin_client.get("/v1/audit/verify", headers=AUDITOR)
    assert verified.status_code == 200
    report = verified.json()
    assert report["ok"] is True
    assert report["links"] >= 2


async def test_only_the_auditor_reads_the_chain(admin_client: httpx.AsyncClient) -> None:
    for headers in ({}, ADMIN, bearer("m", "manager")):
        for path in ("/v1/audit/links", "/v1/audit/verify"):
            answer = await admin_client.get(path, headers=headers)
            assert answer.status_code in {401, 403}, (path, headers, answer.status_code)
