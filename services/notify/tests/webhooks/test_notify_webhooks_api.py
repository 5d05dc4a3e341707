"""/v1/webhooks: admins create, list, pause, rotate and delete subscriptions and read the
delivery log; bad input is a problem+json naming the field, never a crash."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from complaint_runtime.dev_identity import DevIdentity
from fastapi import FastAPI
from notify.bootstrap import Dependencies
from notify.config import NotifySettings
from notify.main import MIGRATIONS, create_app
from notify.webhooks.domain.signing import parse_secret
from notify.webhooks.domain.subscriptions import MAX_SUBSCRIPTIONS

NewMigratedSqlite = Callable[[Path], Awaitable[str]]
HOOK = "http://127.0.0.1:9/hook"


async def _app(migrated_sqlite: NewMigratedSqlite, identity: DevIdentity, **values: Any) -> FastAPI:
    settings = NotifySettings(
        database_url=await migrated_sqlite(MIGRATIONS),
        **{k.lower(): v for k, v in identity.env("notify").items()},
        **values,
    )
    return create_app(settings)


@pytest.fixture
async def client(
    migrated_sqlite: NewMigratedSqlite, identity: DevIdentity
) -> AsyncIterator[httpx.AsyncClient]:
    app = await _app(migrated_sqlite, identity, notify_webhook_allowed_networks="127.0.0.0/8")
    deps: Dependencies = app.state.dependencies
    token = identity.token(subject="admin-1", roles=["admin"], audience="notify")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://notify",
        headers={"Authorization": f"Bearer {token}"},
    ) as http:
        yield http
    assert deps.webhooks is not None
    await deps.webhooks.dispatcher.aclose()
    await deps.internal_api.aclose()
    await deps.database.dispose()


async def test_the_whole_life_of_a_subscription(client: httpx.AsyncClient) -> None:
    created = await client.post(
        "/v1/webhooks",
        json={"url": HOOK, "events": ["complaint.assigned", "org.opencomplaints.sla.breached.v1"]},
    )
    assert created.status_code == 201, created.text
    body = created.json()
    parse_secret(body["secret"])  # the spec's whsec_ form
    assert body["events"] == ["complaint.assigned", "sla.breached"]
    assert body["active"] is True
    sub = body["id"]

    listed = (await client.get("/v1/webhooks")).json()["subscriptions"]
    assert [s["id"] for s in listed] == [sub]
    assert "secret" not in listed[0]
    assert "secret" not in (await client.get(f"/v1/webhooks/{sub}")).json()

    paused = await client.patch(f"/v1/webhooks/{sub}", json={"active": False})
    assert paused.status_code == 200
    assert paused.json()["active"] is False

    rotated = await client.post(f"/v1/webhooks/{sub}/rotate", json={"grace_s": 3600})
    assert rotated.status_code == 200
    assert rotated.json()["secret"] != body["secret"]
    assert rotated.json()["previous_secret_until"] is not None

    log = await client.get(f"/v1/webhooks/{sub}/deliveries", params={"status": "failed"})
    assert log.status_code == 200
    assert log.json()["deliveries"] == []

    assert (await client.delete(f"/v1/webhooks/{sub}")).status_code == 204
    missing = await client.get(f"/v1/webhooks/{sub}")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("ftp://example.com/hook", "url-scheme"),
        ("http://user:pw@example.com/hook", "url-credentials"),
        ("http://10.0.0.7/hook", "url-private"),
        ("http://169.254.169.254/latest/meta-data", "url-link_local"),
        ("http://[::1]/hook", "url-loopback"),
        ("http://[::ffff:192.168.0.1]/hook", "url-private"),
    ],
)
async def test_a_url_notify_may_not_call_is_refused(
    client: httpx.AsyncClient, url: str, code: str
) -> None:
    answer = await client.post("/v1/webhooks", json={"url": url, "events": ["*"]})
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    (error,) = answer.json()["errors"]
    assert error["field"] == "url"
    assert error["code"] == code
    assert "10.0.0.7" not in answer.text
    assert "192.168" not in answer.text


async def test_loopback_is_refused_unless_allowed(
    migrated_sqlite: NewMigratedSqlite, identity: DevIdentity
) -> None:
    app = await _app(migrated_sqlite, identity)
    token = identity.token(subject="admin-1", roles=["admin"], audience="notify")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://notify"
    ) as http:
        answer = await http.post(
            "/v1/webhooks",
            json={"url": HOOK, "events": ["*"]},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["code"] == "url-loopback"
    deps: Dependencies = app.state.dependencies
    assert deps.webhooks is not None
    await deps.webhooks.dispatcher.aclose()
    await deps.internal_api.aclose()
    await deps.database.dispose()


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"url": HOOK, "events": ["complaint.asigned"]}, 422),  # a typo names nothing
        ({"url": HOOK, "events": []}, 422),
        ({"url": HOOK, "events": ["*", "complaint.assigned"]}, 422),
        ({"url": HOOK, "events": ["notification.sent"]}, 422),  # not consumed by notify
        ({"url": HOOK + "x" * 3000, "events": ["*"]}, 422),
        ({"url": HOOK, "events": ["*"], "extra": 1}, 422),
    ],
)
async def test_bad_event_filters_and_bodies_are_problems(
    client: httpx.AsyncClient, body: dict[str, Any], status: int
) -> None:
    answer = await client.post("/v1/webhooks", json=body)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"


async def test_the_number_of_subscriptions_is_bounded(client: httpx.AsyncClient) -> None:
    for _ in range(MAX_SUBSCRIPTIONS):
        answer = await client.post("/v1/webhooks", json={"url": HOOK, "events": ["*"]})
        assert answer.status_code == 201
    refused = await client.post("/v1/webhooks", json={"url": HOOK, "events": ["*"]})
    assert refused.status_code == 409
    assert refused.json()["type"].endswith("too-many-subscriptions")


async def test_redelivery_of_a_pending_or_unknown_delivery_is_refused(
    client: httpx.AsyncClient,
) -> None:
    sub = (await client.post("/v1/webhooks", json={"url": HOOK, "events": ["*"]})).json()["id"]
    unknown = "0195f3c2-7a10-7c4e-9b2d-3f6a8e1d2c41"
    answer = await client.post(f"/v1/webhooks/{sub}/deliveries/{unknown}/redeliver")
    assert answer.status_code == 404
    bad_grace = await client.post(f"/v1/webhooks/{sub}/rotate", json={"grace_s": -1})
    assert bad_grace.status_code == 422


async def test_only_admins_manage_webhooks(
    client: httpx.AsyncClient, identity: DevIdentity
) -> None:
    token = identity.token(subject="m-1", roles=["manager"], audience="notify")
    answer = await client.get("/v1/webhooks", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 403
