"""Canned replies: administrators write them, leads and managers read the whole set, staff
read those for a category (plus the ones for any category) in a language; bounds and raw
contacts refused."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from routing.canned_replies.api import admin_router, router

from ..conftest import service_auth
from ..conftest import staff_auth as auth

ADMIN_URL = "/v1/admin/canned-replies"


ADMIN = auth("admin-1", "admin")
LEAD = auth("lead-zhao", "lead", team="billing")
MANAGER = auth("mgr-sun", "manager")
AGENT = auth("agent-li", "agent", team="billing")
SERVICE = service_auth("notify")


def reply(**fields: Any) -> dict[str, Any]:
    return {
        "category": "billing_refund",
        "language": "zh-CN",
        "title": "退款进度",
        "text": "您好，您的退款已重新发起，预计3个工作日内到账。",
        **fields,
    }


@pytest.fixture
async def client(api_client: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(admin_router, router) as c:
        yield c


async def _create(client: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    response = await client.post(ADMIN_URL, json=reply(**fields), headers=ADMIN)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_admins_create_replace_and_delete(client: httpx.AsyncClient) -> None:
    created = await _create(client)
    assert (created["category"], created["language"], created["title"]) == (
        "billing_refund",
        "zh-CN",
        "退款进度",
    )
    assert (created["created_by"], created["updated_by"]) == ("admin-1", "admin-1")
    url = f"{ADMIN_URL}/{created['id']}"
    fetched = await client.get(url, headers=LEAD)
    assert fetched.status_code == 200
    assert fetched.json() == created

    changed = await client.put(
        url,
        json=reply(category=None, language="en", title="Refund", text="Your refund was re-sent."),
        headers=ADMIN,
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["id"], body["category"], body["language"], body["title"]) == (
        created["id"],
        None,
        "en",
        "Refund",
    )
    assert body["created_at"] == created["created_at"]
    assert body["updated_at"] >= created["updated_at"]
    assert (await client.get(url, headers=MANAGER)).json() == body

    assert (await client.delete(url, headers=ADMIN)).status_code == 204
    for response in (
        await client.get(url, headers=ADMIN),
        await client.put(url, json=reply(), headers=ADMIN),
        await client.delete(url, headers=ADMIN),
    ):
        assert response.status_code == 404, response.text
        assert response.json()["title"] == "Canned reply not found"


async def test_only_admins_write_and_leads_and_managers_read_the_set(
    client: httpx.AsyncClient,
) -> None:
    created = await _create(client)
    url = f"{ADMIN_URL}/{created['id']}"
    for headers in (LEAD, MANAGER, AGENT, SERVICE):
        assert (await client.post(ADMIN_URL, json=reply(), headers=headers)).status_code == 403
        assert (await client.put(url, json=reply(), headers=headers)).status_code == 403
        assert (await client.delete(url, headers=headers)).status_code == 403
    for headers in (ADMIN, LEAD, MANAGER):
        assert (await client.get(ADMIN_URL, headers=headers)).status_code == 200
    for headers in (AGENT, SERVICE):
        assert (await client.get(ADMIN_URL, headers=headers)).status_code == 403
    assert (await client.get(ADMIN_URL)).status_code == 401
    # Any staff member reads the replies for a case.
    for headers in (AGENT, LEAD, MANAGER, ADMIN):
        assert (await client.get("/v1/canned-replies", headers=headers)).status_code == 200
    assert (await client.get("/v1/canned-replies", headers=SERVICE)).status_code == 403


async def test_the_replies_for_a_case_category_and_language(client: httpx.AsyncClient) -> None:
    refund_zh = await _create(client)
    refund_en = await _create(client, language="en", title="Refund", text="Refund re-sent.")
    any_zh = await _create(client, category=None, title="致歉", text="非常抱歉给您带来不便。")
    any_en = await _create(client, category=None, language="en", title="Sorry", text="Sorry.")
    parcel_zh = await _create(
        client, category="delivery_logistics", title="物流", text="我们已联系快递公司。"
    )

    async def ids(**params: Any) -> list[int]:
        response = await client.get("/v1/canned-replies", params=params, headers=AGENT)
        assert response.status_code == 200, response.text
        return [r["id"] for r in response.json()]

    # The category's own first, then those for any category.
    assert await ids(category="billing_refund", language="zh-CN") == [
        refund_zh["id"],
        any_zh["id"],
    ]
    assert await ids(category="billing_refund", language="en") == [refund_en["id"], any_en["id"]]
    assert await ids(category="delivery_logistics") == [parcel_zh["id"], any_en["id"], any_zh["id"]]
    assert await ids(category="other", language="en") == [any_en["id"]]
    assert set(await ids()) == {r["id"] for r in (refund_zh, refund_en, any_zh, any_en, parcel_zh)}
    admin_view = await client.get(ADMIN_URL, params={"language": "en"}, headers=MANAGER)
    assert {r["id"] for r in admin_view.json()} == {refund_en["id"], any_en["id"]}
    for params in ({"category": "refunds"}, {"language": "fr"}):
        response = await client.get("/v1/canned-replies", params=params, headers=AGENT)
        assert response.status_code == 422


async def test_bounds_and_raw_contacts_are_refused(client: httpx.AsyncClient) -> None:
    bad = [
        ({"title": ""}, "title"),
        ({"title": "t" * 101}, "title"),
        ({"text": "  "}, "text"),
        ({"text": "x" * 2001}, "text"),
        ({"text": "Call us on 13812345678"}, "text"),
        ({"text": "Write to service@example.com"}, "text"),
        ({"title": "Ask zhang.wei@example.com"}, "title"),
        ({"title": "Refund\r\nstatus"}, "title"),  # one line: a title is shown in lists
        ({"category": "refunds"}, "category"),
        ({"language": "zh"}, "language"),
        ({"language": None}, "language"),
        ({"extra": 1}, "extra"),
    ]
    for fields, field in bad:
        response = await client.post(ADMIN_URL, json=reply(**fields), headers=ADMIN)
        assert response.status_code == 422, (fields, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert [e["field"] for e in response.json()["errors"]] == [field], response.text
    assert (await client.get(ADMIN_URL, headers=ADMIN)).json() == []
    # Masked contacts are fine, and so are the bounds themselves.
    await _create(client, title="t" * 100, text="Call 138****5678 " + "x" * (2000 - 17))
    assert (await client.get(f"{ADMIN_URL}/0", headers=ADMIN)).status_code == 422
