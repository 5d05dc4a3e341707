"""Webhooks end to end on SQLite against real loopback receivers: an event consumed by
notify's own handler table becomes one signed POST per subscription, verified by the
Standard Webhooks reference library; retries, timeouts, redirects, rotation, the breaker,
crashes, redelivery, 410 Gone and erasure."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from complaint_contracts import topics
from complaint_contracts.events import ComplaintAssigned, ErasureRequested, SlaClockPaused
from complaint_contracts.examples import COMPLAINT_ID, example_for
from complaint_runtime.testing import envelope_of, record_of
from notify import messaging
from notify.bootstrap import Dependencies
from notify.deliveries.db import Delivery
from notify.webhooks import outcomes, service
from notify.webhooks.db import WebhookDelivery, WebhookSubscription
from notify.webhooks.transport import WebhookClient
from sqlalchemy import select

from .conftest import Receiver, ShiftedClock

Deps = Callable[..., Awaitable[Dependencies]]
Receivers = Callable[..., Receiver]


async def _subscribe(deps: Dependencies, url: str, events: list[str] | None = None) -> str:
    assert deps.webhooks is not None
    new = await service.create_subscription(
        ctx=deps.webhooks.changes,
        url=url,
        events=events or ["*"],
        description=None,
        created_by="admin-1",
        policy=deps.webhooks.dispatcher.policy.destinations,
        resolver=deps.webhooks.resolver,
        now=deps.clock(),
    )
    return str(new.secret)


async def _consume(
    deps: Dependencies,
    data: Any,
    topic: topics.Topic = topics.ROUTING,
    *,
    event_id: str | None = None,
) -> None:
    """The event through notify's own consumer table, in one transaction."""
    envelope = envelope_of(record_of(data, topic, event_id=event_id))
    handler = messaging.handlers(deps)[type(envelope.data)]
    async with deps.database.unit_of_work() as uow:
        await handler(uow, envelope)


async def _rows(deps: Dependencies) -> list[WebhookDelivery]:
    async with deps.database.sessions() as session:
        return list(await session.scalars(select(WebhookDelivery)))


async def _until_finished(deps: Dependencies, *, rounds: int = 200) -> list[WebhookDelivery]:
    assert deps.webhooks is not None
    for _ in range(rounds):
        await deps.webhooks.dispatcher.run_once()
        rows = await _rows(deps)
        if all(r.status not in ("pending", "sending") for r in rows):
            return rows
        await asyncio.sleep(0.02)
    raise AssertionError("deliveries did not finish")


async def test_an_event_becomes_one_verified_post_and_the_existing_handler_still_runs(
    webhook_deps: Deps, receivers: Receivers
) -> None:
    deps = await webhook_deps()
    receiver = receivers()
    secret = await _subscribe(deps, receiver.url, ["complaint.assigned"])
    receiver.secrets = [secret]
    assigned = example_for(ComplaintAssigned)
    await _consume(deps, assigned, event_id="0195f3c2-7a10-7c4e-9b2d-3f6a8e1d2c99")
    # The same event again (a redelivery that passed the consumer's check): nothing more.
    await _consume(deps, assigned, event_id="0195f3c2-7a10-7c4e-9b2d-3f6a8e1d2c99")
    await _consume(deps, example_for(SlaClockPaused), topics.SLA)  # not subscribed

    rows = await _until_finished(deps)
    assert [r.status for r in rows] == ["delivered"]
    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    assert request.verified is True
    assert request.headers["webhook-id"] == rows[0].id
    assert request.headers["content-type"] == "application/cloudevents+json"
    event = json.loads(request.body)
    assert event["type"] == "org.opencomplaints.complaint.assigned.v1"
    assert event["subject"] == assigned.complaint_id
    assert event["data"] == assigned.model_dump(mode="json")
    assert rows[0].last_status_code == 204
    assert rows[0].last_latency_ms is not None
    async with deps.database.sessions() as session:  # notify's own handler ran as before
        assert list(await session.scalars(select(Delivery)))


async def test_a_500_is_retried_with_the_same_id_until_it_succeeds(
    webhook_deps: Deps, receivers: Receivers
) -> None:
    deps = await webhook_deps()
    receiver = receivers(mode="fail", failures=3)
    receiver.secrets = [await _subscribe(deps, receiver.url)]
    await _consume(deps, example_for(ComplaintAssigned))

    (row,) = await _until_finished(deps)
    assert row.status == "delivered"
    assert row.attempts == 4
    assert len({r.headers["webhook-id"] for r in receiver.requests}) == 1
    assert len(receiver.requests) == 4


async def test_a_receiver_that_keeps_failing_fails_at_the_end_of_the_window(
    webhook_deps: Deps, receivers: Receivers
) -> None:
    deps = await webhook_deps(
        notify_webhook_retry_window_s=0.3, notify_webhook_breaker_failures=1000
    )
    receiver = receivers(mode="fail", failures=10**6)
    await _subscribe(deps, receiver.url)
    await _consume(deps, example_for(ComplaintAssigned))

    (row,) = await _until_finished(deps, rounds=500)
    assert row.status == "failed"
    assert row.last_error is not None
    assert row.last_error.startswith("retry window ended")
    assert row.last_status_code == 500
    assert row.last_response_body is not None
    assert "13812345678" not in row.last_response_body


async def test_a_hanging_receiver_times_out_and_is_retried(
    webhook_deps: Deps, receivers: Receivers
) -> None:
    deps = await webhook_deps(notify_webhook_timeout_s=0.3, notify_webhook_retry_base_s=30)
    receiver = receivers(mode="hang", hang_s=3.0)
    await _subscribe(deps, receiver.url)
    await _consume(deps, example_for(ComplaintAssigned))
    assert deps.webhooks is not None
    await deps.webhooks.dispatcher.run_once()

    (row,) = await _rows(deps)
    assert row.status == "pending"
    assert row.attempts == 1
    assert row.last_error is not None
    assert "no answer within" in row.last_error


async def test_a_redirect_is_a_failure_naming_it_and_is_never_followed(
    webhook_deps: Deps, receivers: Receivers
) -> None:
    deps = await webhook_deps()
    inner = receivers()
    receiver = receivers(mode="redirect", location=inner.url)
    await _subscribe(deps, receiver.url)
    await _consume(deps, example_for(ComplaintAssigned))

    (row,) = await _until_finished(deps)
    assert row.status == "failed"
    assert row.last_status_code == 302
    assert row.last_error == f"status 302: redirects are not followed (Location: {inner.url})"
    assert inner.requests == []


async def test_rotation_signs_with_both_secrets_during_the_grace_then_only_the_new(
    webhook_deps: Deps, receivers: Receivers, clock: ShiftedClock
) -> None:
    deps = await webhook_deps()
    assert deps.webhooks is not None
    receiver = receivers()
    old = await _subscribe(deps, receiver.url)
    async with deps.database.sessions() as session:
        (sub_id,) = await session.scalars(select(WebhookSubscription.id))
    rotated = await service.rotate_secret(
        ctx=deps.webhooks.changes,
        subscription_id=sub_id,
        grace=timedelta(seconds=60),
        actor="admin-1",
        now=clock(),
    )
    new = str(rotated.secret)
    await _consume(deps, example_for(ComplaintAssigned))
    await _until_finished(deps)
    during = receiver.requests[-1]
    assert receiver.verified_by(old, during)
    assert receiver.verified_by(new, during)

    clock.offset = timedelta(seconds=120)  # past the grace, within the library's tolerance
    await _consume(deps, example_for(ComplaintAssigned))  # a new event id
    await _until_finished(deps)
    after = receiver.requests[-1]
    assert receiver.verified_by(new, after)
    assert not receiver.verified_by(old, after)


async def test_the_breaker_opens_then_lets_one_probe_through(
    webhook_deps: Deps, receivers: Receivers, clock: ShiftedClock
) -> None:
    deps = await webhook_deps(
        notify_webhook_breaker_failures=2,
        notify_webhook_breaker_cool_down_s=60,
        notify_webhook_concurrency=1,
    )
    assert deps.webhooks is not None
    dispatcher = deps.webhooks.dispatcher
    receiver = receivers(mode="fail", failures=2)
    await _subscribe(deps, receiver.url)
    for _ in range(3):
        await _consume(deps, example_for(ComplaintAssigned))

    for _ in range(20):  # two failures open it; afterwards nothing goes out
        await dispatcher.run_once()
        await asyncio.sleep(0.03)
    assert len(receiver.requests) == 2
    async with deps.database.sessions() as session:
        sub = (await session.scalars(select(WebhookSubscription))).one()
    assert sub.breaker_state == "open"

    clock.offset = timedelta(seconds=61)  # the cool-down passed: one probe, then closed
    await dispatcher.run_once()
    assert len(receiver.requests) == 3
    rows = await _until_finished(deps)
    assert [r.status for r in rows] == ["delivered"] * 3
    async with deps.database.sessions() as session:
        sub = (await session.scalars(select(WebhookSubscription))).one()
    assert sub.breaker_state == "closed"


async def test_a_crash_while_sending_leaves_it_uncertain_never_resent_and_redelivery_keeps_the_id(
    webhook_deps: Deps, receivers: Receivers, clock: ShiftedClock
) -> None:
    deps = await webhook_deps(notify_webhook_sending_lease_s=30)
    assert deps.webhooks is not None
    receiver = receivers()
    await _subscribe(deps, receiver.url)
    await _consume(deps, example_for(ComplaintAssigned))
    # A process claims it (committed 'sending') and dies before recording anything.
    (claimed,) = await outcomes.claim_due(
        database=deps.database,
        now=clock(),
        limit=5,
        claimer="notify-that-died",
        policy=deps.webhooks.dispatcher.policy,
    )
    clock.offset = timedelta(seconds=31)
    for _ in range(3):
        await deps.webhooks.dispatcher.run_once()
    (row,) = await _rows(deps)
    assert row.status == "uncertain"
    assert row.last_error == outcomes.UNCERTAIN
    assert receiver.requests == []

    await service.redeliver(
        database=deps.database,
        subscription_id=claimed.subscription_id,
        delivery_id=row.id,
        actor="admin-1",
        now=clock(),
        wake=deps.webhooks.dispatcher.wake,
    )
    (row,) = await _until_finished(deps)
    assert row.status == "delivered"
    assert [r.headers["webhook-id"] for r in receiver.requests] == [claimed.delivery_id]


async def test_410_gone_pauses_the_subscription(webhook_deps: Deps, receivers: Receivers) -> None:
    deps = await webhook_deps()
    receiver = receivers(mode="gone")
    await _subscribe(deps, receiver.url)
    await _consume(deps, example_for(ComplaintAssigned))
    (row,) = await _until_finished(deps)
    assert row.status == "failed"
    async with deps.database.sessions() as session:
        sub = (await session.scalars(select(WebhookSubscription))).one()
    assert not sub.active
    assert sub.deactivated_reason == "the endpoint answered 410 Gone"
    await _consume(deps, example_for(ComplaintAssigned))  # no longer recorded
    assert len(await _rows(deps)) == 1


async def test_an_erasure_cancels_pending_deliveries_and_blanks_payloads(
    webhook_deps: Deps, receivers: Receivers
) -> None:
    deps = await webhook_deps()
    receiver = receivers()
    await _subscribe(deps, receiver.url, ["complaint.assigned"])
    await _consume(deps, example_for(ComplaintAssigned))
    erasure = example_for(ErasureRequested)
    assert erasure.complaint_id == COMPLAINT_ID == example_for(ComplaintAssigned).complaint_id
    await _consume(deps, erasure, topics.INTAKE)
    (row,) = await _rows(deps)
    assert row.status == "cancelled"
    assert row.payload == {}
    assert deps.webhooks is not None
    await deps.webhooks.dispatcher.run_once()
    assert receiver.requests == []


async def test_the_connection_goes_to_the_checked_address_with_the_host_name_kept(
    receivers: Receivers,
) -> None:
    """The resolver is asked once; the connection goes to the address it gave (loopback,
    allowed here) while the Host header keeps the name; a private answer is refused before
    any connection."""
    import ipaddress

    from notify.webhooks.domain.destinations import DestinationPolicy
    from notify.webhooks.transport import Answered, Refused

    receiver = receivers()
    asked: list[str] = []

    async def resolver(host: str, port: int) -> list[Any]:
        asked.append(host)
        return [ipaddress.ip_address("127.0.0.1" if host == "hooks.example" else "10.1.2.3")]

    allowed = DestinationPolicy(allowed_networks=(ipaddress.ip_network("127.0.0.0/8"),))
    client = WebhookClient(policy=allowed, timeout_s=2, max_connections=2, resolver=resolver)
    try:
        url = f"http://hooks.example:{receiver.port}/hook"
        result = await client.post(url, body=b"{}", headers={})
        assert isinstance(result, Answered)
        assert result.status == 204
        assert receiver.requests[0].headers["host"] == f"hooks.example:{receiver.port}"
        refused = await client.post(
            f"http://internal.example:{receiver.port}/hook", body=b"{}", headers={}
        )
        assert isinstance(refused, Refused)
        assert "private address" in refused.detail
        assert len(receiver.requests) == 1
        assert asked == ["hooks.example", "internal.example"]
    finally:
        await client.aclose()


async def test_with_no_subscription_an_event_costs_no_query_beyond_the_cache(
    webhook_deps: Deps,
) -> None:
    """An event only webhooks handle (a paused clock), five times: one read of the
    subscriptions (the cache's), then nothing per event."""
    from sqlalchemy import event

    deps = await webhook_deps()
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    event.listen(deps.database.engine.sync_engine, "before_cursor_execute", count)
    for _ in range(5):
        await _consume(deps, example_for(SlaClockPaused), topics.SLA)
    event.remove(deps.database.engine.sync_engine, "before_cursor_execute", count)
    webhook_statements = [s for s in statements if "webhook" in s]
    assert len(webhook_statements) == 1
    assert "webhook_subscriptions" in webhook_statements[0]
    assert await _rows(deps) == []


async def test_retry_after_is_honoured(
    webhook_deps: Deps, receivers: Receivers, clock: ShiftedClock
) -> None:
    deps = await webhook_deps()
    assert deps.webhooks is not None
    receiver = receivers(mode="busy")
    await _subscribe(deps, receiver.url)
    await _consume(deps, example_for(ComplaintAssigned))
    before = clock()
    await deps.webhooks.dispatcher.run_once()
    (row,) = await _rows(deps)
    assert row.status == "pending"
    assert row.last_status_code == 503
    assert row.next_attempt_at >= before + timedelta(seconds=120)


async def test_an_outcome_not_recorded_is_recovered_by_the_same_dispatcher(
    webhook_deps: Deps, receivers: Receivers, clock: ShiftedClock, monkeypatch: Any
) -> None:
    """With one dispatcher only: its own 'sending' row becomes uncertain after the lease
    once a failed recording made it take a new claimer id (recovery skips the claimer's
    own rows)."""
    deps = await webhook_deps(notify_webhook_sending_lease_s=30)
    assert deps.webhooks is not None
    dispatcher = deps.webhooks.dispatcher
    receiver = receivers()
    await _subscribe(deps, receiver.url)
    await _consume(deps, example_for(ComplaintAssigned))
    record_attempt = outcomes.record_attempt

    async def database_down(**kwargs: Any) -> None:
        raise ConnectionError("database unreachable")

    monkeypatch.setattr(outcomes, "record_attempt", database_down)
    first_claimer = dispatcher.instance_id
    await dispatcher.run_once()
    (row,) = await _rows(deps)
    assert (row.status, row.claimed_by) == ("sending", first_claimer)
    assert dispatcher.instance_id != first_claimer
    monkeypatch.setattr(outcomes, "record_attempt", record_attempt)
    clock.offset = timedelta(seconds=31)
    await dispatcher.run_once()
    (row,) = await _rows(deps)
    assert row.status == "uncertain"
    assert len(receiver.requests) == 1  # posted once, never again
