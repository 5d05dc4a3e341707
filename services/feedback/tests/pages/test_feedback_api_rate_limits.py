"""The survey's JSON API (``GET``/``POST /v1/surveys/{token}``) counts against the survey
page's limits: the same actions (view, answer), the same per-survey and per-client
counters, a 429 problem with ``Retry-After`` and ``RateLimit-*``."""

from __future__ import annotations

import httpx

from .conftest import BASE, MakeSite, Site

ANSWER = {"solved": True, "csat": 5}


async def _token(site: Site) -> str:
    _, link = await site.survey_link()
    return link.rsplit("/", 1)[1]


def _other_client(site: Site) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=site.app, client=("2001:db8:1::7", 40000))
    return httpx.AsyncClient(transport=transport, base_url=BASE)


def _assert_too_many(answer: httpx.Response, limit: int) -> None:
    assert answer.status_code == 429, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert problem["status"] == 429
    assert problem["title"] == "Too many requests"
    assert 1 <= int(answer.headers["retry-after"]) <= 600
    assert answer.headers["ratelimit-limit"] == str(limit)
    assert answer.headers["ratelimit-remaining"] == "0"
    assert answer.headers["ratelimit-policy"].startswith(f"{limit};w=")


async def test_viewing_is_limited_per_survey(make_site: MakeSite) -> None:
    site = await make_site(feedback_page_rate_limits={"view.link": "2/minute"})
    token, other = await _token(site), await _token(site)
    first = await site.client.get(f"/v1/surveys/{token}")
    assert first.status_code == 200, first.text
    assert first.headers["ratelimit-remaining"] == "1"
    assert (await site.client.get(f"/v1/surveys/{token}")).status_code == 200
    _assert_too_many(await site.client.get(f"/v1/surveys/{token}"), 2)
    assert (await site.client.get(f"/v1/surveys/{other}")).status_code == 200


async def test_the_page_and_the_api_share_one_count(make_site: MakeSite) -> None:
    site = await make_site(feedback_page_rate_limits={"view.link": "2/minute"})
    _, link = await site.survey_link()
    await site.open(link)  # view 1 on the page
    token = link.rsplit("/", 1)[1]
    assert (await site.client.get(f"/v1/surveys/{token}")).status_code == 200
    _assert_too_many(await site.client.get(f"/v1/surveys/{token}"), 2)


async def test_viewing_is_limited_per_client(make_site: MakeSite) -> None:
    site = await make_site(feedback_page_rate_limits={"view.client": "2/minute"})
    first, second = await _token(site), await _token(site)
    assert (await site.client.get(f"/v1/surveys/{first}")).status_code == 200
    assert (await site.client.get(f"/v1/surveys/{first}")).status_code == 200
    _assert_too_many(await site.client.get(f"/v1/surveys/{second}"), 2)
    async with _other_client(site) as elsewhere:
        assert (await elsewhere.get(f"/v1/surveys/{second}")).status_code == 200


async def test_forged_tokens_count_per_client(make_site: MakeSite) -> None:
    site = await make_site(feedback_page_rate_limits={"view.client": "2/minute"})
    for guess in ("guess-1", "guess-2"):
        assert (await site.client.get(f"/v1/surveys/{guess}")).status_code == 404
    _assert_too_many(await site.client.get("/v1/surveys/guess-3"), 2)


async def test_answering_is_limited_per_survey(make_site: MakeSite) -> None:
    site = await make_site(feedback_page_rate_limits={"answer.link": "1/10 minutes"})
    token, other = await _token(site), await _token(site)
    answered = await site.client.post(f"/v1/surveys/{token}", json=ANSWER)
    assert answered.status_code == 200, answered.text
    assert answered.headers["ratelimit-remaining"] == "0"
    _assert_too_many(await site.client.post(f"/v1/surveys/{token}", json=ANSWER), 1)
    assert (await site.client.post(f"/v1/surveys/{other}", json=ANSWER)).status_code == 200


async def test_answering_is_limited_per_client(make_site: MakeSite) -> None:
    site = await make_site(feedback_page_rate_limits={"answer.client": "1/10 minutes"})
    first, second = await _token(site), await _token(site)
    assert (await site.client.post(f"/v1/surveys/{first}", json=ANSWER)).status_code == 200
    _assert_too_many(await site.client.post(f"/v1/surveys/{second}", json=ANSWER), 1)
    async with _other_client(site) as elsewhere:
        answered = await elsewhere.post(f"/v1/surveys/{second}", json=ANSWER)
    assert answered.status_code == 200, answered.text


async def test_the_429_is_documented(site: Site) -> None:
    operations = site.app.openapi()["paths"]["/v1/surveys/{token}"]
    for method in ("get", "post"):
        too_many = operations[method]["responses"]["429"]
        assert "application/problem+json" in too_many["content"]
        assert set(too_many["headers"]) >= {"Retry-After", "RateLimit-Limit"}
        names = [p["name"] for p in operations[method]["parameters"]]
        assert names.count("token") == 1
