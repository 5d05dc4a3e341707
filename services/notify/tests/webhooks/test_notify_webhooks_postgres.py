"""Webhook deliveries on the suite's PostgreSQL: two dispatchers claiming at once never take
the same row (SKIP LOCKED), the claim is committed as 'sending' before anything is sent,
the same event fanned out by two transactions at once is one row (ON CONFLICT DO NOTHING),
and a row fanned out from a stale cache to a deleted subscription is cancelled."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

from complaint_contracts import topics
from complaint_contracts.events import ComplaintAssigned
from complaint_contracts.examples import example_for
from complaint_runtime.database import Database, utcnow
from complaint_runtime.testing import envelope_of, record_of
from notify import messaging
from notify.bootstrap import Dependencies
from notify.config import NotifySettings
from notify.main import MIGRATIONS
from notify.webhooks import outcomes, service
from notify.webhooks.cache import SubscriptionCache
from notify.webhooks.db import WebhookDelivery, WebhookRepository, WebhookSubscription
from sqlalchemy import select

from .conftest import Receiver

NewDatabase = Callable[[Path], Awaitable[Database]]
POLICY = outcomes.policies(NotifySettings())


async def _subscription(database: Database) -> str:
    sub_id = str(uuid.uuid4())
    now = utcnow()
    async with database.unit_of_work() as uow:
        uow.session.add(
            WebhookSubscription(
                id=sub_id,
                url="http://127.0.0.1:9/hook",
                events=["*"],
                active=True,
                secret="v1.unused",
                breaker_state="closed",
                breaker_failures=0,
                created_by="admin",
                created_at=now,
                updated_at=now,
            )
        )
    return sub_id


def _row(sub_id: str, event_id: str) -> dict[str, object]:
    now = utcnow() - timedelta(seconds=1)
    return {
        "id": str(uuid.uuid4()),
        "subscription_id": sub_id,
        "event_id": event_id,
        "event_type": "org.opencomplaints.complaint.assigned.v1",
        "complaint_id": str(uuid.uuid4()),
        "payload": {"id": event_id},
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
        "updated_at": now,
    }


async def test_two_claims_at_once_never_take_the_same_row(
    postgres_database: NewDatabase,
) -> None:
    database = await postgres_database(MIGRATIONS)
    subs = [await _subscription(database) for _ in range(3)]
    async with database.unit_of_work() as uow:
        rows = [_row(subs[i % 3], str(uuid.uuid4())) for i in range(12)]
        assert await WebhookRepository(uow.session).add_new(rows) == 12

    async def claim(name: str) -> list[outcomes.Claimed]:
        return await outcomes.claim_due(
            database=database, now=utcnow(), limit=5, claimer=name, policy=POLICY
        )

    first, second = await asyncio.gather(claim("a"), claim("b"))
    ids = [c.delivery_id for c in first + second]
    assert len(ids) == len(set(ids)) == 10
    async with database.sessions() as session:
        sending = list(
            await session.scalars(
                select(WebhookDelivery).where(WebhookDelivery.status == "sending")
            )
        )
    assert {r.id for r in sending} == set(ids)


async def test_the_same_event_fanned_out_twice_at_once_is_one_row(
    postgres_database: NewDatabase,
) -> None:
    database = await postgres_database(MIGRATIONS)
    sub = await _subscription(database)
    event_id = str(uuid.uuid4())

    async def fan_out() -> int:
        async with database.unit_of_work() as uow:
            return await WebhookRepository(uow.session).add_new([_row(sub, event_id)])

    added = await asyncio.gather(fan_out(), fan_out())
    assert sorted(added) == [0, 1]
    async with database.sessions() as session:
        assert len(list(await session.scalars(select(WebhookDelivery)))) == 1


async def test_two_dispatchers_in_a_retry_storm_never_post_a_delivery_twice_at_once(
    pg_webhook_deps: Callable[..., Awaitable[list[Dependencies]]],
    receivers: Callable[..., Receiver],
) -> None:
    """Two notify processes on one database, a receiver failing its first 6 requests: every
    delivery ends delivered, and each was posted exactly as often as its attempts say
    (no attempt by both processes, none lost)."""
    first, second = await pg_webhook_deps(2, notify_webhook_breaker_failures=1000)
    assert first.webhooks is not None
    assert second.webhooks is not None
    receiver = receivers(mode="fail", failures=6)
    new = await service.create_subscription(
        ctx=first.webhooks.changes,
        url=receiver.url,
        events=["*"],
        description=None,
        created_by="admin-1",
        policy=first.webhooks.dispatcher.policy.destinations,
        resolver=first.webhooks.resolver,
        now=first.clock(),
    )
    receiver.secrets = [str(new.secret)]
    for _ in range(8):
        envelope = envelope_of(record_of(example_for(ComplaintAssigned), topics.ROUTING))
        async with first.database.unit_of_work() as uow:
            await messaging.handlers(first)[ComplaintAssigned](uow, envelope)

    async def rounds(deps: Dependencies) -> None:
        assert deps.webhooks is not None
        for _ in range(100):
            await deps.webhooks.dispatcher.run_once()
            await asyncio.sleep(0.01)

    await asyncio.gather(rounds(first), rounds(second))
    async with first.database.sessions() as session:
        rows = list(await session.scalars(select(WebhookDelivery)))
    assert [r.status for r in rows] == ["delivered"] * 8
    posted = Counter(r.headers["webhook-id"] for r in receiver.requests)
    assert posted == {r.id: r.attempts for r in rows}
    assert all(r.verified for r in receiver.requests)


async def test_a_delivery_from_a_replica_with_a_stale_cache_is_cancelled_not_stranded(
    pg_webhook_deps: Callable[..., Awaitable[list[Dependencies]]],
) -> None:
    first, second = await pg_webhook_deps(2)
    assert first.webhooks is not None
    new = await service.create_subscription(
        ctx=first.webhooks.changes,
        url="http://127.0.0.1:9/hook",
        events=["*"],
        description=None,
        created_by="admin-1",
        policy=first.webhooks.dispatcher.policy.destinations,
        resolver=first.webhooks.resolver,
        now=first.clock(),
    )
    # The second replica's cache, read before the delete and (its clock standing still) not
    # refreshed: as within its refresh interval.
    stale = SubscriptionCache(clock=lambda: 0.0)

    async def consume_on_second() -> str:
        envelope = envelope_of(record_of(example_for(ComplaintAssigned), topics.ROUTING))
        async with second.database.unit_of_work() as uow:
            await service.fan_out(
                uow=uow, envelope=envelope, cache=stale, now=second.clock(), on_new=lambda: None
            )
        return envelope.id

    await consume_on_second()
    await service.delete_subscription(
        ctx=first.webhooks.changes, subscription_id=new.subscription.id, actor="admin-1"
    )
    event_id = await consume_on_second()
    async with first.database.sessions() as session:
        (orphan,) = list(await session.scalars(select(WebhookDelivery)))
    assert (orphan.status, orphan.event_id) == ("pending", event_id)

    await first.webhooks.dispatcher.run_once()
    async with first.database.sessions() as session:
        (row,) = list(await session.scalars(select(WebhookDelivery)))
    assert (row.status, row.last_error) == ("cancelled", "subscription deleted")
