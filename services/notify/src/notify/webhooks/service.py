"""Webhook use cases: subscriptions (admin API), the fan-out of consumed events into
deliveries (in the consumer's transaction), the delivery log and redelivery, and erasure.

Sending is the dispatcher's (``loop.py``); claiming and recording attempts ``outcomes.py``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from complaint_contracts import topics
from complaint_contracts.envelope import Envelope
from complaint_contracts.events import EVENTS_BY_TOPIC
from complaint_runtime.database import Database, UnitOfWork
from complaint_runtime.errors import Conflict, InvalidInput, NotFound, field_error

from notify.webhooks.cache import SubscriptionCache
from notify.webhooks.db import (
    REDELIVERABLE,
    WebhookDelivery,
    WebhookRepository,
    WebhookSubscription,
)
from notify.webhooks.domain.destinations import DestinationPolicy
from notify.webhooks.domain.signing import WebhookSecret, generate_secret
from notify.webhooks.domain.subscriptions import (
    MAX_SUBSCRIPTIONS,
    EventFilterError,
    body_bytes,
    normalise_filters,
    structured_event,
    subscribable,
)
from notify.webhooks.sealing import Sealer
from notify.webhooks.transport import DestinationRefused, Resolver, check_destination

# The topics notify consumes (messaging.CONSUMED; a test checks that they agree): every
# event of them can be subscribed to.
SUBSCRIBABLE_TOPICS: Final = (topics.INTAKE, topics.ROUTING, topics.SLA, topics.FEEDBACK)
KNOWN_EVENTS: Final = subscribable(m for t in SUBSCRIBABLE_TOPICS for m in EVENTS_BY_TOPIC[t.name])
MAX_GRACE: Final = timedelta(days=7)
CANCELLED_BY_ERASURE: Final = "cancelled: the complaint's data was erased"
ERASED_WHILE_SENDING: Final = "erased while being sent: the outcome is unknown"


@dataclass(frozen=True, slots=True)
class NewSecret:
    """A subscription and its signing secret in the clear: shown once, at creation or
    rotation, never stored so."""

    subscription: WebhookSubscription
    secret: WebhookSecret


@dataclass(frozen=True, slots=True)
class SubscriptionChanges:
    """What a change of subscriptions needs: the database, the sealer of secrets and the
    cache to invalidate once it committed."""

    database: Database
    sealer: Sealer
    cache: SubscriptionCache


def _problem(field: str, detail: str, code: str = "invalid") -> InvalidInput:
    return InvalidInput(detail, errors=[field_error(field, detail, code=code)])


async def create_subscription(
    *,
    ctx: SubscriptionChanges,
    url: str,
    events: Sequence[str],
    description: str | None,
    created_by: str,
    policy: DestinationPolicy,
    resolver: Resolver,
    now: datetime,
) -> NewSecret:
    """Checks the URL (form and every address its host resolves to now; refused kinds are
    named, never the addresses) and the event types; at most :data:`MAX_SUBSCRIPTIONS`."""
    try:
        filters = normalise_filters(events, known=KNOWN_EVENTS)
    except EventFilterError as exc:
        raise _problem("events", str(exc), "unknown-event-type") from None
    try:
        await check_destination(url, policy, resolver)
    except DestinationRefused as exc:
        raise _problem("url", exc.refusal.detail, f"url-{exc.refusal.code}") from None
    secret = generate_secret()
    subscription_id = str(uuid.uuid4())
    async with ctx.database.unit_of_work() as uow:
        repository = WebhookRepository(uow.session)
        if await repository.count_subscriptions() >= MAX_SUBSCRIPTIONS:
            raise Conflict(
                f"At most {MAX_SUBSCRIPTIONS} webhook subscriptions; delete one first.",
                kind="too-many-subscriptions",
            )
        subscription = WebhookSubscription(
            id=subscription_id,
            url=url,
            events=filters,
            active=True,
            secret=ctx.sealer.seal(secret, subscription_id=subscription_id),
            breaker_state="closed",
            breaker_failures=0,
            description=description,
            created_by=created_by,
            created_at=now,
            updated_at=now,
        )
        uow.session.add(subscription)
        uow.audit(
            actor=created_by,
            action="webhook.created",
            object_type="webhook_subscription",
            object_id=subscription_id,
            after={"url": url, "events": filters},
        )
        uow.after_commit(ctx.cache.invalidate)
    return NewSecret(subscription, secret)


async def list_subscriptions(*, database: Database) -> list[WebhookSubscription]:
    async with database.sessions() as session:
        return await WebhookRepository(session).subscriptions()


async def get_subscription(*, database: Database, subscription_id: str) -> WebhookSubscription:
    async with database.sessions() as session:
        found = await WebhookRepository(session).subscription(subscription_id)
    if found is None:
        raise NotFound("No such webhook subscription.")
    return found


async def _locked(uow: UnitOfWork, subscription_id: str) -> WebhookSubscription:
    found = await WebhookRepository(uow.session).subscription(subscription_id, lock=True)
    if found is None:
        raise NotFound("No such webhook subscription.")
    return found


async def set_active(
    *, ctx: SubscriptionChanges, subscription_id: str, active: bool, actor: str, now: datetime
) -> WebhookSubscription:
    """Pause or resume. A paused subscription gets no new deliveries; its pending ones wait
    and go once it is resumed. Resuming closes its breaker (an operator vouches for it)."""
    async with ctx.database.unit_of_work() as uow:
        subscription = await _locked(uow, subscription_id)
        before = subscription.active
        subscription.active = active
        subscription.updated_at = now
        if active:
            subscription.deactivated_reason = None
            if not before:
                subscription.breaker_state, subscription.breaker_failures = "closed", 0
                subscription.breaker_since = now
        uow.audit(
            actor=actor,
            action="webhook.resumed" if active else "webhook.paused",
            object_type="webhook_subscription",
            object_id=subscription_id,
            before={"active": before},
            after={"active": active},
        )
        uow.after_commit(ctx.cache.invalidate)
    return subscription


async def rotate_secret(
    *, ctx: SubscriptionChanges, subscription_id: str, grace: timedelta, actor: str, now: datetime
) -> NewSecret:
    """A new signing secret; the current one keeps signing (beside it) until ``now + grace``.
    A second rotation within the grace drops the oldest secret."""
    if not timedelta(0) <= grace <= MAX_GRACE:
        raise _problem("grace_s", f"The grace period is 0 to {int(MAX_GRACE.total_seconds())} s.")
    secret = generate_secret()
    async with ctx.database.unit_of_work() as uow:
        subscription = await _locked(uow, subscription_id)
        if grace > timedelta(0):
            subscription.previous_secret = subscription.secret
            subscription.previous_secret_until = now + grace
        else:
            subscription.previous_secret, subscription.previous_secret_until = None, None
        subscription.secret = ctx.sealer.seal(secret, subscription_id=subscription_id)
        subscription.updated_at = now
        uow.audit(
            actor=actor,
            action="webhook.secret_rotated",
            object_type="webhook_subscription",
            object_id=subscription_id,
            after={"grace_s": int(grace.total_seconds())},
        )
    return NewSecret(subscription, secret)


async def delete_subscription(
    *, ctx: SubscriptionChanges, subscription_id: str, actor: str
) -> None:
    """The subscription and its delivery log go; a send under way finishes unrecorded."""
    async with ctx.database.unit_of_work() as uow:
        await _locked(uow, subscription_id)
        await WebhookRepository(uow.session).delete_subscription(subscription_id)
        uow.audit(
            actor=actor,
            action="webhook.deleted",
            object_type="webhook_subscription",
            object_id=subscription_id,
        )
        uow.after_commit(ctx.cache.invalidate)


async def delivery_log(
    *, database: Database, subscription_id: str, status: str | None, limit: int
) -> list[WebhookDelivery]:
    """The subscription's deliveries, newest first."""
    async with database.sessions() as session:
        repository = WebhookRepository(session)
        if await repository.subscription(subscription_id) is None:
            raise NotFound("No such webhook subscription.")
        return await repository.log(subscription_id, status=status, limit=limit)


async def deliveries_of_complaint(
    *, database: Database, complaint_id: str, limit: int
) -> list[WebhookDelivery]:
    """Every webhook delivery of one complaint (for its delivery log, beside the messages)."""
    async with database.sessions() as session:
        return await WebhookRepository(session).of_complaint(complaint_id, limit=limit)


async def redeliver(
    *,
    database: Database,
    subscription_id: str,
    delivery_id: str,
    actor: str,
    now: datetime,
    wake: Callable[[], None],
) -> WebhookDelivery:
    """A finished delivery (delivered, failed or uncertain) goes again, with the SAME
    ``webhook-id`` (receivers de-duplicate by it) and a new retry window; 409 while it is
    pending or being sent, or when an erasure blanked its payload."""
    async with database.unit_of_work() as uow:
        row = await WebhookRepository(uow.session).delivery(
            delivery_id, subscription_id=subscription_id, lock=True
        )
        if row is None:
            raise NotFound("No such delivery of this webhook subscription.")
        if row.status not in REDELIVERABLE:
            raise Conflict(
                f"The delivery is {row.status}; only a delivered, failed or uncertain one "
                "can be redelivered.",
                kind="not-redeliverable",
            )
        if not row.payload:
            raise Conflict("The complaint's data was erased.", kind="erased")
        row.status, row.next_attempt_at, row.updated_at = "pending", now, now
        row.attempts, row.first_attempt_at, row.finished_at = 0, None, None
        row.claimed_by = row.claimed_at = None
        uow.audit(
            actor=actor,
            action="webhook.redelivered",
            object_type="webhook_delivery",
            object_id=delivery_id,
        )
        uow.after_commit(wake)
    return row


# -- the consumer's side


async def fan_out(
    *,
    uow: UnitOfWork,
    envelope: Envelope,
    cache: SubscriptionCache,
    now: datetime,
    on_new: Callable[[], None],
) -> int:
    """One pending delivery per active subscription that wants this event, written in the
    consumer's transaction; a redelivered event adds nothing (UNIQUE subscription, event).
    How many were new."""
    wanted = await cache.wanting(uow.session, type(envelope.data).event_name)
    if not wanted:
        return 0
    payload = structured_event(envelope)
    body_bytes(payload)  # fails here, in the consumer, if it could not be sent
    rows = [
        {
            "id": str(uuid.uuid4()),
            "subscription_id": subscription_id,
            "event_id": envelope.id,
            "event_type": envelope.type,
            "complaint_id": envelope.subject,
            "payload": payload,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
            "updated_at": now,
        }
        for subscription_id in wanted
    ]
    added = await WebhookRepository(uow.session).add_new(rows)
    if added:
        uow.after_commit(on_new)
    return added


async def erase_complaint(*, uow: UnitOfWork, complaint_id: str, now: datetime) -> int:
    """Erasure (§10): the complaint's unsent deliveries are cancelled and every stored
    payload and response excerpt of it blanked (they hold only masked data, but the right
    to erasure covers them). A send under way cannot be recalled: it becomes ``uncertain``
    and its answer is not recorded. How many deliveries were cancelled."""
    cancelled = 0
    for row in await WebhookRepository(uow.session).of_complaint_locked(complaint_id):
        row.payload, row.last_response_body, row.updated_at = {}, None, now
        if row.status == "pending":
            row.status, row.last_error, row.finished_at = "cancelled", CANCELLED_BY_ERASURE, now
            cancelled += 1
        elif row.status == "sending":
            # The dispatcher's outcome no longer matches the row (it would write the
            # receiver's answer back): it may have arrived, so uncertain.
            row.status, row.last_error, row.finished_at = "uncertain", ERASED_WHILE_SENDING, now
            row.claimed_by = None
    return cancelled
