"""The dispatcher's transactions: claim due deliveries (asking each endpoint's breaker),
record how an attempt ended, and declare abandoned sends uncertain.

Never twice, never abandoned:

- A claim moves a row straight to ``sending`` and commits before the POST. A process that
  dies after that leaves it ``sending``; :func:`recover_abandoned` (another process, or this
  one's next run, after ``NOTIFY_WEBHOOK_SENDING_LEASE_S``) makes it ``uncertain``: it may
  have arrived, so it is not sent again unless an admin redelivers it (same ``webhook-id``).
- A retryable failure (timeout, connection, 408, 429, 5xx) goes back to ``pending`` at a
  time drawn by :func:`~notify.webhooks.domain.schedule.next_attempt_at` (full jitter,
  ``Retry-After`` honoured) until the retry window that began with the first attempt ends.
- A pending row whose subscription was deleted (fanned out from another replica's stale
  subscription cache) is ``cancelled`` by :func:`cancel_orphaned`, never left pending.
- An open breaker lets nothing through: the row waits (no attempt counted) until the breaker
  may probe again, and fails only when its retry window has ended meanwhile.
"""

from __future__ import annotations

import ipaddress
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from complaint_contracts.privacy import redact_contacts
from complaint_runtime.database import Database

from notify.config import NotifySettings
from notify.webhooks.db import WebhookDelivery, WebhookRepository, WebhookSubscription
from notify.webhooks.domain import breaker as breakers
from notify.webhooks.domain import schedule
from notify.webhooks.domain.destinations import DestinationPolicy
from notify.webhooks.domain.schedule import RandomSource, RetryPolicy

UNCERTAIN: Final = "outcome unknown: notify stopped while sending"
SUBSCRIPTION_DELETED: Final = "subscription deleted"
RECOVERY_LIMIT: Final = 1000


@dataclass(frozen=True, slots=True)
class Policies:
    destinations: DestinationPolicy
    retry: RetryPolicy
    breaker: breakers.BreakerPolicy
    lease: timedelta


def policies(settings: NotifySettings) -> Policies:
    """The webhook settings as the domain's policies."""
    networks = tuple(
        ipaddress.ip_network(cidr, strict=False)
        for cidr in (p.strip() for p in settings.notify_webhook_allowed_networks.split(","))
        if cidr
    )
    timeout = timedelta(seconds=settings.notify_webhook_timeout_s)
    cool_down = timedelta(seconds=settings.notify_webhook_breaker_cool_down_s)
    base = timedelta(seconds=settings.notify_webhook_retry_base_s)
    return Policies(
        destinations=DestinationPolicy(allowed_networks=networks),
        retry=RetryPolicy(
            base=base,
            cap=max(base, timedelta(seconds=settings.notify_webhook_retry_cap_s)),
            window=timedelta(seconds=settings.notify_webhook_retry_window_s),
        ),
        breaker=breakers.BreakerPolicy(
            failure_threshold=settings.notify_webhook_breaker_failures,
            cool_down=cool_down,
            # A probe unanswered this long (its process died) counts as failed.
            probe_timeout=max(cool_down, 2 * timeout),
        ),
        lease=timedelta(seconds=settings.notify_webhook_sending_lease_s),
    )


@dataclass(frozen=True, slots=True)
class Claimed:
    """One claimed delivery, with what sending it needs (sealed secrets, newest first)."""

    delivery_id: str
    subscription_id: str
    url: str
    payload: dict[str, Any]
    attempt: int
    first_attempt_at: datetime
    sent_at: datetime
    sealed_secrets: tuple[str, ...]


def _breaker(sub: WebhookSubscription) -> breakers.Breaker:
    state = sub.breaker_state if sub.breaker_state in breakers.STATES else "closed"
    return breakers.Breaker(state, sub.breaker_failures, sub.breaker_since)


def _store(sub: WebhookSubscription, breaker: breakers.Breaker) -> None:
    sub.breaker_state, sub.breaker_failures = breaker.state, breaker.consecutive_failures
    sub.breaker_since = breaker.since


def _secrets(sub: WebhookSubscription, now: datetime) -> tuple[str, ...]:
    live = sub.previous_secret_until is not None and sub.previous_secret_until > now
    return (sub.secret, sub.previous_secret) if live and sub.previous_secret else (sub.secret,)


async def claim_due(
    *, database: Database, now: datetime, limit: int, claimer: str, policy: Policies
) -> list[Claimed]:
    """Up to ``limit`` due deliveries of active subscriptions, ``sending`` once this returns
    (committed); rows whose breaker refuses wait for its next probe."""
    claimed: list[Claimed] = []
    async with database.unit_of_work() as uow:
        repository = WebhookRepository(uow.session)
        rows = await repository.due_locked(now=now, limit=limit)
        subs = await repository.subscriptions_locked([r.subscription_id for r in rows])
        for row in rows:
            sub = subs.get(row.subscription_id)
            if sub is None or not sub.active:
                continue
            step = breakers.decide(_breaker(sub), breakers.Ask(now), policy.breaker)
            _store(sub, step.breaker)
            if not step.let_through:
                _wait_for_breaker(row, step.breaker, now=now, policy=policy)
                continue
            row.status, row.claimed_by, row.claimed_at = "sending", claimer, now
            row.attempts += 1
            row.first_attempt_at = row.first_attempt_at or now
            row.updated_at = now
            claimed.append(
                Claimed(
                    delivery_id=row.id,
                    subscription_id=sub.id,
                    url=sub.url,
                    payload=row.payload,
                    attempt=row.attempts,
                    first_attempt_at=row.first_attempt_at,
                    sent_at=now,
                    sealed_secrets=_secrets(sub, now),
                )
            )
    return claimed


def _wait_for_breaker(
    row: WebhookDelivery, breaker: breakers.Breaker, *, now: datetime, policy: Policies
) -> None:
    window_start = row.first_attempt_at or row.created_at
    row.updated_at = now
    if now >= window_start + policy.retry.window:
        row.status, row.finished_at = "failed", now
        row.last_error = "the endpoint's circuit stayed open until the retry window ended"
        return
    since = breaker.since or now
    wait = policy.breaker.cool_down if breaker.state == "open" else policy.breaker.probe_timeout
    row.next_attempt_at = max(since + wait, now + timedelta(milliseconds=100))
    row.last_error = f"circuit {breaker.state}: waiting for the endpoint to recover"


@dataclass(frozen=True, slots=True)
class Attempt:
    """How one POST ended, as the dispatcher saw it."""

    result: schedule.Answer | schedule.TransportFailure | None  # None: refused (SSRF)
    latency_ms: int | None = None
    body: str | None = None  # the answer's excerpt, decoded
    detail: str | None = None  # refusal or transport error, in words
    location: str | None = None


def _excerpt(body: str | None) -> str | None:
    if body is None:
        return None
    return redact_contacts(body)[:1024]


def _verdict(
    result: schedule.Answer | schedule.TransportFailure, *, now: datetime
) -> schedule.Outcome:
    """The attempt's outcome; whatever the receiver answered (a status past 599, a
    malformed header) is a verdict, never an exception that would leave the row
    ``sending`` and so make it uncertain."""
    try:
        return schedule.outcome(result, now=now)
    except ValueError:
        status = result.status if isinstance(result, schedule.Answer) else None
        return schedule.Failed(f"status {status}: not an HTTP status")


async def record_attempt(
    *,
    database: Database,
    claimed: Claimed,
    attempt: Attempt,
    claimer: str,
    now: datetime,
    policy: Policies,
    on_deactivated: Callable[[], None],
    draw: RandomSource = random.random,
) -> bool:
    """Record the attempt's outcome, the breaker's and (410 Gone) the subscription's pause
    (``on_deactivated`` is called once that committed); False when the row was no longer
    this claimer's (declared uncertain, cancelled or deleted meanwhile): nothing recorded."""
    values: dict[str, Any] = {
        "claimed_by": None,
        "updated_at": now,
        "last_latency_ms": attempt.latency_ms,
        "last_response_body": _excerpt(attempt.body),
        "last_status_code": None,
    }
    record: breakers.Command | None = None
    deactivate: str | None = None
    if attempt.result is None:
        values |= {"status": "failed", "finished_at": now, "last_error": attempt.detail}
    else:
        if isinstance(attempt.result, schedule.Answer):
            values["last_status_code"] = attempt.result.status
        verdict = _verdict(attempt.result, now=now)
        if isinstance(verdict, schedule.Delivered):
            values |= {"status": "delivered", "finished_at": now, "last_error": None}
            record = breakers.RecordSuccess(claimed.sent_at)
        elif isinstance(verdict, schedule.Failed):
            error = verdict.reason
            if attempt.location is not None and 300 <= (values["last_status_code"] or 0) < 400:
                error = f"{error}: redirects are not followed (Location: {attempt.location})"
            values |= {"status": "failed", "finished_at": now, "last_error": error[:500]}
            record = breakers.RecordSuccess(claimed.sent_at)  # the endpoint answered
            if verdict.unsubscribe:
                deactivate = "the endpoint answered 410 Gone"
        else:
            reason = verdict.reason if attempt.detail is None else attempt.detail
            record = breakers.RecordFailure(claimed.sent_at, now)
            later = schedule.next_attempt_at(
                first_attempt_at=claimed.first_attempt_at,
                failed_at=now,
                attempt=claimed.attempt,
                random=draw,
                policy=policy.retry,
                retry_after=verdict.retry_after,
            )
            if later is None:
                values |= {
                    "status": "failed",
                    "finished_at": now,
                    "last_error": f"retry window ended: {reason}"[:500],
                }
            else:
                values |= {"status": "pending", "next_attempt_at": later, "last_error": reason}
    async with database.unit_of_work() as uow:
        repository = WebhookRepository(uow.session)
        sub = await repository.subscription(claimed.subscription_id, lock=True)
        if not await repository.finish(
            delivery_id=claimed.delivery_id, claimer=claimer, values=values
        ):
            return False
        if sub is not None and record is not None:
            _store(sub, breakers.decide(_breaker(sub), record, policy.breaker).breaker)
        if sub is not None and deactivate is not None:
            sub.active, sub.deactivated_reason, sub.updated_at = False, deactivate, now
            uow.after_commit(on_deactivated)
    return True


async def recover_abandoned(
    *, database: Database, claimer: str, now: datetime, lease: timedelta
) -> Sequence[str]:
    """Rows another process left ``sending`` longer than the lease become ``uncertain``
    (never resent automatically); their ids."""
    async with database.unit_of_work() as uow:
        rows = await WebhookRepository(uow.session).abandoned_sending(
            not_claimer=claimer, claimed_before=now - lease, limit=RECOVERY_LIMIT
        )
        for row in rows:
            row.status, row.last_error, row.finished_at = "uncertain", UNCERTAIN, now
            row.claimed_by, row.updated_at = None, now
        return [row.id for row in rows]


async def cancel_orphaned(*, database: Database, now: datetime) -> int:
    """Pending rows of a deleted subscription become ``cancelled`` ("subscription deleted"):
    the claim never takes them, so without this they would stay pending for ever (another
    replica's subscription cache may still fan out to a subscription for ``REFRESH_S``
    after it was deleted). How many."""
    async with database.unit_of_work() as uow:
        return await WebhookRepository(uow.session).cancel_orphaned(
            now=now, reason=SUBSCRIPTION_DELETED
        )
