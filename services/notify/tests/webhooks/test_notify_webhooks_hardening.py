"""What a subscriber or a receiver sends can never crash notify or strand a delivery: a host
name that cannot be encoded is refused (422 at creation, a recorded failure when sending),
a receiver's answer (a huge ``Retry-After``, a status past 599) is always recorded, and a
delivery fanned out to a subscription deleted meanwhile is cancelled, never left pending."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from complaint_contracts import topics
from complaint_contracts.events import ComplaintAssigned
from complaint_contracts.examples import example_for
from complaint_runtime.dev_identity import DevIdentity
from complaint_runtime.testing import envelope_of, record_of
from notify.bootstrap import Dependencies
from notify.config import NotifySettings
from notify.main import MIGRATIONS, create_app
from notify.webhooks import service
from notify.webhooks.cache import SubscriptionCache
from notify.webhooks.db import WebhookDelivery, WebhookSubscription
from notify.webhooks.domain.signing import generate_secret
from sqlalchemy import select

from .conftest import Receiver

Deps = Callable[..., Awaitable[Dependencies]]
Receivers = Callable[..., Receiver]
NewMigratedSqlite = Callable[[Path], Awaitable[str]]

BAD_HOSTS = [
    "http://a..b/hook",  # an empty DNS label
    f"http://{'a' * 64}.example.com/hook",  # a label longer than 63 characters
    f"http://{'é' * 64}.example.com/hook",  # too long once IDNA-encoded
]


@pytest.fixture
async def api(
    migrated_sqlite: NewMigratedSqlite, identity: DevIdentity
) -> AsyncIterator[httpx.AsyncClient]:
    settings = NotifySettings(
        database_url=await migrated_sqlite(MIGRATIONS),
        **{k.lower(): v for k, v in identity.env("notify").items()},
    )
    app = create_app(settings)
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


@pytest.mark.parametrize("url", BAD_HOSTS)
async def test_a_host_name_that_cannot_be_encoded_is_a_422_not_a_500(
    api: httpx.AsyncClient, url: str
) -> None:
    answer = await api.post("/v1/webhooks", json={"url": url, "events": ["*"]})
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    (error,) = answer.json()["errors"]
    assert (error["field"], error["code"]) == ("url", "url-malformed")


async def _subscription_row(deps: Dependencies, url: str) -> str:
    """A subscription written straight to the table (the API would refuse a bad URL now;
    an older notify, or a DNS answer that changed, may have let one in)."""
    assert deps.webhooks is not None
    sub_id = str(uuid.uuid4())
    sealed = deps.webhooks.changes.sealer.seal(generate_secret(), subscription_id=sub_id)
    async with deps.database.unit_of_work() as uow:
        uow.session.add(
            WebhookSubscription(
                id=sub_id,
                url=url,
                events=["*"],
                active=True,
                secret=sealed,
                breaker_state="closed",
                breaker_failures=0,
                created_by="admin",
            )
        )
    return sub_id


async def _fan_out(deps: Dependencies, cache: SubscriptionCache) -> None:
    envelope = envelope_of(record_of(example_for(ComplaintAssigned), topics.ROUTING))
    async with deps.database.unit_of_work() as uow:
        await service.fan_out(
            uow=uow, envelope=envelope, cache=cache, now=deps.clock(), on_new=lambda: None
        )


async def _rows(deps: Dependencies) -> list[WebhookDelivery]:
    async with deps.database.sessions() as session:
        return list(await session.scalars(select(WebhookDelivery)))


@pytest.mark.parametrize("url", BAD_HOSTS)
async def test_sending_to_a_host_name_that_cannot_be_encoded_is_a_recorded_failure(
    webhook_deps: Deps, url: str
) -> None:
    deps = await webhook_deps()
    assert deps.webhooks is not None
    await _subscription_row(deps, url)
    await _fan_out(deps, deps.webhooks.cache)

    await deps.webhooks.dispatcher.run_once()
    (row,) = await _rows(deps)
    assert row.status == "failed"  # not left 'sending' (it would become uncertain)
    assert row.last_error == "refused: The URL's host is not a valid host name."


async def test_a_retry_after_too_long_to_read_is_ignored_and_the_answer_recorded(
    webhook_deps: Deps, receivers: Receivers
) -> None:
    deps = await webhook_deps()
    assert deps.webhooks is not None
    receiver = receivers(mode="busy", retry_after="9" * 5000)  # int() refuses > 4300 digits
    await _subscription_row(deps, receiver.url)
    await _fan_out(deps, deps.webhooks.cache)

    await deps.webhooks.dispatcher.run_once()
    (row,) = await _rows(deps)
    assert (row.status, row.last_status_code, row.last_error) == ("pending", 503, "status 503")
    assert len(receiver.requests) == 1


async def test_a_status_past_599_is_a_recorded_failure(
    webhook_deps: Deps, receivers: Receivers
) -> None:
    deps = await webhook_deps()
    assert deps.webhooks is not None
    receiver = receivers(mode="status", status=799)
    await _subscription_row(deps, receiver.url)
    await _fan_out(deps, deps.webhooks.cache)

    await deps.webhooks.dispatcher.run_once()
    (row,) = await _rows(deps)
    assert (row.status, row.last_status_code) == ("failed", 799)
    assert row.last_error == "status 799: not an HTTP status"


async def test_a_delivery_fanned_out_after_its_subscription_was_deleted_is_cancelled(
    webhook_deps: Deps,
) -> None:
    deps = await webhook_deps()
    assert deps.webhooks is not None
    sub_id = await _subscription_row(deps, "http://127.0.0.1:9/hook")
    # Another replica's cache: read before the delete, not refreshed (its clock stands still).
    stale = SubscriptionCache(clock=lambda: 0.0)
    await _fan_out(deps, stale)
    other_replica = dataclasses.replace(deps.webhooks.changes, cache=SubscriptionCache())
    await service.delete_subscription(ctx=other_replica, subscription_id=sub_id, actor="admin-1")
    assert await _rows(deps) == []  # the delete took its pending row along, in its transaction

    await _fan_out(deps, stale)  # the stale cache still names the deleted subscription
    (orphan,) = await _rows(deps)
    assert orphan.status == "pending"

    await deps.webhooks.dispatcher.run_once()
    (row,) = await _rows(deps)
    assert (row.status, row.last_error) == ("cancelled", "subscription deleted")
    assert row.finished_at is not None
    shown = await service.deliveries_of_complaint(
        database=deps.database, complaint_id=row.complaint_id, limit=10
    )
    assert [r.status for r in shown] == ["cancelled"]
