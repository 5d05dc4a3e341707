"""The JSON API a customer's tracking token opens (``GET /v1/complaints/{id}``, its messages,
its withdrawal) counts against the tracking page's limits: same actions, same per-complaint
and per-client counters, a 429 problem with ``Retry-After`` and ``RateLimit-*``. A front end
behind its API key is not limited."""

from __future__ import annotations

from typing import Any

import httpx

from .conftest import BASE, MakePages, Pages


def _token(accepted: dict[str, Any]) -> dict[str, str]:
    return {"X-Tracking-Token": accepted["tracking_token"]}


def _other_client(pages: Pages) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=pages.app, client=("203.0.113.7", 40000))
    return httpx.AsyncClient(transport=transport, base_url=BASE)


def _assert_too_many(answer: httpx.Response, limit: int) -> None:
    assert answer.status_code == 429, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert problem["status"] == 429
    assert problem["title"] == "Too many requests"
    assert 1 <= int(answer.headers["retry-after"]) <= 3600
    assert answer.headers["ratelimit-limit"] == str(limit)
    assert answer.headers["ratelimit-remaining"] == "0"
    assert answer.headers["ratelimit-policy"].startswith(f"{limit};w=")


async def test_viewing_with_the_token_is_limited_per_complaint(make_pages: MakePages) -> None:
    pages = await make_pages(tracking_rate_limits={"view.link": "2/minute"})
    accepted, other = await pages.post(), await pages.post()
    path = f"/v1/complaints/{accepted['id']}"
    first = await pages.client.get(path, params={"token": accepted["tracking_token"]})
    assert first.status_code == 200, first.text
    assert first.headers["ratelimit-remaining"] == "1"
    assert (await pages.client.get(path, headers=_token(accepted))).status_code == 200
    _assert_too_many(await pages.client.get(path, headers=_token(accepted)), 2)
    other_view = await pages.client.get(f"/v1/complaints/{other['id']}", headers=_token(other))
    assert other_view.status_code == 200
    for _ in range(3):
        staff = await pages.client.get(path, headers={"X-API-Key": pages.key})
        assert staff.status_code == 200
        assert "ratelimit-limit" not in staff.headers


async def test_the_page_and_the_api_share_one_count(make_pages: MakePages) -> None:
    pages = await make_pages(tracking_rate_limits={"view.link": "2/minute"})
    accepted = await pages.post()
    await pages.open(accepted)  # view 1
    path = f"/v1/complaints/{accepted['id']}"
    assert (await pages.client.get(path, headers=_token(accepted))).status_code == 200
    _assert_too_many(await pages.client.get(path, headers=_token(accepted)), 2)


async def test_viewing_is_limited_per_client(make_pages: MakePages) -> None:
    pages = await make_pages(tracking_rate_limits={"view.client": "2/minute"})
    first, second, third = await pages.post(), await pages.post(), await pages.post()
    for accepted in (first, second):
        answer = await pages.client.get(
            f"/v1/complaints/{accepted['id']}", headers=_token(accepted)
        )
        assert answer.status_code == 200
    _assert_too_many(
        await pages.client.get(f"/v1/complaints/{third['id']}", headers=_token(third)), 2
    )
    async with _other_client(pages) as elsewhere:
        answer = await elsewhere.get(f"/v1/complaints/{third['id']}", headers=_token(third))
    assert answer.status_code == 200


async def test_messages_with_the_token_are_limited(make_pages: MakePages) -> None:
    pages = await make_pages(tracking_rate_limits={"message.link": "2/10 minutes"})
    accepted, other = await pages.post(), await pages.post()
    path = f"/v1/complaints/{accepted['id']}/messages"
    for n in range(2):
        sent = await pages.client.post(path, json={"text": f"补充 {n}"}, headers=_token(accepted))
        assert sent.status_code == 201, sent.text
    _assert_too_many(
        await pages.client.post(path, json={"text": "再补充"}, headers=_token(accepted)), 2
    )
    elsewhere = await pages.client.post(
        f"/v1/complaints/{other['id']}/messages", json={"text": "补充"}, headers=_token(other)
    )
    assert elsewhere.status_code == 201
    async with _other_client(pages) as stranger:
        # the complaint's own count is spent, whoever asks
        _assert_too_many(
            await stranger.post(path, json={"text": "再补充"}, headers=_token(accepted)), 2
        )
    staff = await pages.client.post(
        path, json={"text": "客服代录"}, headers={"X-API-Key": pages.key}
    )
    assert staff.status_code == 201, staff.text


async def test_messages_are_limited_per_client(make_pages: MakePages) -> None:
    pages = await make_pages(tracking_rate_limits={"message.client": "1/10 minutes"})
    first, second = await pages.post(), await pages.post()
    sent = await pages.client.post(
        f"/v1/complaints/{first['id']}/messages", json={"text": "补充"}, headers=_token(first)
    )
    assert sent.status_code == 201
    path = f"/v1/complaints/{second['id']}/messages"
    _assert_too_many(
        await pages.client.post(path, json={"text": "补充"}, headers=_token(second)), 1
    )
    async with _other_client(pages) as elsewhere:
        answer = await elsewhere.post(path, json={"text": "补充"}, headers=_token(second))
    assert answer.status_code == 201


async def test_withdrawing_with_the_token_is_limited(make_pages: MakePages) -> None:
    pages = await make_pages(tracking_rate_limits={"withdraw.link": "1/hour"})
    first, second = await pages.post(), await pages.post()
    path = f"/v1/complaints/{first['id']}/withdraw"
    assert (await pages.client.post(path, json={}, headers=_token(first))).status_code == 200
    _assert_too_many(await pages.client.post(path, json={}, headers=_token(first)), 1)
    staff = await pages.client.post(path, json={}, headers={"X-API-Key": pages.key})
    assert staff.status_code == 409  # already withdrawn, not limited
    assert "ratelimit-limit" not in staff.headers
    second_path = f"/v1/complaints/{second['id']}/withdraw"
    assert (
        await pages.client.post(second_path, json={}, headers=_token(second))
    ).status_code == 200


async def test_withdrawing_is_limited_per_client(make_pages: MakePages) -> None:
    pages = await make_pages(tracking_rate_limits={"withdraw.client": "1/hour"})
    first, second = await pages.post(), await pages.post()
    assert (
        await pages.client.post(
            f"/v1/complaints/{first['id']}/withdraw", json={}, headers=_token(first)
        )
    ).status_code == 200
    path = f"/v1/complaints/{second['id']}/withdraw"
    _assert_too_many(await pages.client.post(path, json={}, headers=_token(second)), 1)
    async with _other_client(pages) as elsewhere:
        answer = await elsewhere.post(path, json={}, headers=_token(second))
    assert answer.status_code == 200


async def test_the_429_is_documented(pages: Pages) -> None:
    paths = pages.app.openapi()["paths"]
    for path, method in (
        ("/v1/complaints/{complaint_id}", "get"),
        ("/v1/complaints/{complaint_id}/messages", "post"),
        ("/v1/complaints/{complaint_id}/withdraw", "post"),
    ):
        operation = paths[path][method]
        too_many = operation["responses"]["429"]
        assert "application/problem+json" in too_many["content"]
        assert "Retry-After" in too_many["headers"]
        assert [p["name"] for p in operation["parameters"]].count("complaint_id") == 1
