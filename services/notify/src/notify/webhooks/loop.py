"""The webhook dispatcher: claims due deliveries, signs and posts them, records each outcome.

Rounds of a :class:`PeriodicLoop` (the next one at once while the last claimed something,
else after ``NOTIFY_WEBHOOK_POLL_INTERVAL_S``; woken when the consumer or a redelivery
commits new work). Each round, when due (every 30 s and at start-up), declares abandoned
sends uncertain and cancels pending rows of deleted subscriptions; it then claims up to
``NOTIFY_WEBHOOK_CONCURRENCY`` rows (``sending``, committed) and
posts them all at once, each signed for this attempt (Standard Webhooks: ``webhook-id`` = the
delivery id, stable across retries; ``webhook-timestamp`` = now; ``webhook-signature`` with
every live secret, newest first). The body is the CloudEvent in structured mode with
``content-type: application/cloudevents+json``, the media type the CloudEvents HTTP binding
gives that mode (a JSON type: any JSON parser reads it).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import structlog
from complaint_runtime.consumer import is_transient
from complaint_runtime.database import Database, utcnow
from complaint_runtime.periodic import PeriodicLoop

from notify.config import NotifySettings
from notify.webhooks import outcomes
from notify.webhooks.cache import SubscriptionCache
from notify.webhooks.domain import schedule
from notify.webhooks.domain.signing import webhook_headers
from notify.webhooks.domain.subscriptions import CONTENT_TYPE, body_bytes
from notify.webhooks.outcomes import Attempt, Claimed, Policies
from notify.webhooks.sealing import Sealer, SealError, sealing_key
from notify.webhooks.service import SubscriptionChanges
from notify.webhooks.transport import Answered, NoAnswer, Resolver, WebhookClient, system_resolver

log = structlog.get_logger(__name__)

RECOVERY_EVERY_S = 30.0


class WebhookDispatcher:
    def __init__(
        self,
        *,
        database: Database,
        settings: NotifySettings,
        sealer: Sealer,
        cache: SubscriptionCache,
        clock: Callable[[], datetime] = utcnow,
        resolver: Resolver = system_resolver,
    ):
        self._database = database
        self._sealer = sealer
        self._cache = cache
        self._clock = clock
        self._settings = settings
        self.policy: Policies = outcomes.policies(settings)
        self._client = WebhookClient(
            policy=self.policy.destinations,
            timeout_s=settings.notify_webhook_timeout_s,
            max_connections=settings.notify_webhook_concurrency,
            resolver=resolver,
        )
        self.instance_id = ""
        self._last_recovery: datetime | None = None
        self._start_afresh()
        self._periodic = PeriodicLoop(
            self._round,
            name="webhook dispatcher",
            tick_s=settings.notify_webhook_poll_interval_s,
            max_backoff_s=10.0,
            is_expected=is_transient,
        )

    def wake(self) -> None:
        self._periodic.wake()

    def stop(self) -> None:
        self._periodic.stop()

    async def run(self) -> None:
        self._start_afresh()
        await self._periodic.run()
        await self._client.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    def _start_afresh(self) -> None:
        # A new claimer id at each start and after a failed round: rows a crashed run left
        # 'sending' are someone else's and become uncertain after the lease.
        self.instance_id = f"webhooks-{uuid.uuid4()}"
        self._last_recovery = None

    async def _round(self) -> bool:
        try:
            return await self.run_once() > 0
        except Exception:
            self._start_afresh()
            raise

    async def run_once(self) -> int:
        """One round: recovery when due, claim, post all, record; how many were claimed."""
        now = self._clock()
        last = self._last_recovery
        if last is None or (now - last).total_seconds() >= RECOVERY_EVERY_S:
            uncertain = await outcomes.recover_abandoned(
                database=self._database, claimer=self.instance_id, now=now, lease=self.policy.lease
            )
            if uncertain:
                log.warning("webhooks left sending are uncertain", count=len(uncertain))
            orphaned = await outcomes.cancel_orphaned(database=self._database, now=now)
            if orphaned:
                log.info("webhooks of deleted subscriptions cancelled", count=orphaned)
            self._last_recovery = now
        claimed = await outcomes.claim_due(
            database=self._database,
            now=now,
            limit=self._settings.notify_webhook_concurrency,
            claimer=self.instance_id,
            policy=self.policy,
        )
        results = await asyncio.gather(*(self._send(c) for c in claimed), return_exceptions=True)
        failed = [
            item
            for item, result in zip(claimed, results, strict=True)
            if isinstance(result, BaseException)
        ]
        for item, result in zip(claimed, results, strict=True):
            if isinstance(result, BaseException):
                # Not recorded (database down): the row stays 'sending', becomes uncertain.
                log.error(
                    "webhook outcome not recorded",
                    delivery_id=item.delivery_id,
                    error=repr(result)[:300],
                )
        if failed:
            # Recovery leaves this claimer's own rows alone: with a new claimer id, this
            # process recovers them too (the only dispatcher, on a small deployment).
            self._start_afresh()
        return len(claimed)

    async def _send(self, claimed: Claimed) -> None:
        attempt = await self._post(claimed)
        await outcomes.record_attempt(
            database=self._database,
            claimed=claimed,
            attempt=attempt,
            claimer=self.instance_id,
            now=self._clock(),
            policy=self.policy,
            on_deactivated=self._cache.invalidate,
        )

    async def _post(self, claimed: Claimed) -> Attempt:
        try:
            secrets = [
                self._sealer.open(sealed, subscription_id=claimed.subscription_id)
                for sealed in claimed.sealed_secrets
            ]
        except SealError:
            detail = "the signing secret cannot be read (was NOTIFY_WEBHOOK_SECRET_KEY changed?)"
            return Attempt(None, detail=detail)
        body = body_bytes(claimed.payload)
        headers = webhook_headers(secrets, msg_id=claimed.delivery_id, at=self._clock(), body=body)
        headers["content-type"] = CONTENT_TYPE
        result = await self._client.post(claimed.url, body=body, headers=headers)
        if isinstance(result, Answered):
            return Attempt(
                schedule.Answer(result.status, result.retry_after),
                latency_ms=result.latency_ms,
                body=result.body.decode("utf-8", "replace"),
                location=result.location,
            )
        if isinstance(result, NoAnswer):
            return Attempt(
                schedule.TransportFailure(result.kind),
                latency_ms=result.latency_ms,
                detail=result.detail,
            )
        return Attempt(None, detail=f"refused: {result.detail}")


@dataclass(frozen=True)
class Webhooks:
    """Everything of webhooks the routes and the consumer use; one per process."""

    dispatcher: WebhookDispatcher
    changes: SubscriptionChanges
    resolver: Resolver

    @property
    def cache(self) -> SubscriptionCache:
        return self.changes.cache


def make_webhooks(
    settings: NotifySettings,
    database: Database,
    *,
    clock: Callable[[], datetime] = utcnow,
    resolver: Resolver = system_resolver,
) -> Webhooks:
    """Built by the composition root; :class:`NotConfigured` without a sealing key."""
    sealer = Sealer(sealing_key(settings))
    cache = SubscriptionCache()
    dispatcher = WebhookDispatcher(
        database=database,
        settings=settings,
        sealer=sealer,
        cache=cache,
        clock=clock,
        resolver=resolver,
    )
    return Webhooks(dispatcher, SubscriptionChanges(database, sealer, cache), resolver)
