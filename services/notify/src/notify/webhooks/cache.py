"""The active subscriptions, cached per process for the consumer's fan-out.

Every consumed event asks which subscriptions want it; a query per event would cost the
consumer a round trip each. The cache is read again at most every ``refresh_s`` seconds
(with the consumer's own session, inside its transaction) and at once after this process
changed a subscription (:meth:`SubscriptionCache.invalidate`). Another replica's change is
seen within ``refresh_s``: an event consumed in that interval follows the previous set of
subscriptions, as if it had been consumed a moment earlier. With no subscription at all the
fan-out costs a dictionary look-up per event and one small query per interval.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from notify.webhooks.db import WebhookSubscription
from notify.webhooks.domain.subscriptions import SubscriptionView, wanting

REFRESH_S = 2.0


class SubscriptionCache:
    def __init__(
        self, *, refresh_s: float = REFRESH_S, clock: Callable[[], float] = time.monotonic
    ):
        self._refresh_s = refresh_s
        self._clock = clock
        self._views: tuple[SubscriptionView, ...] = ()
        self._read_at: float | None = None

    def invalidate(self) -> None:
        """A subscription changed in this process: read them again before the next use."""
        self._read_at = None

    def might_want(self, event_name: str) -> bool:
        """Without reading: whether an active subscription as last read wants an event of
        this name; True while that read is missing or stale (the fan-out then reads them,
        so the consumer's check before applying an event never misses a new one for long)."""
        now = self._clock()
        if self._read_at is None or now - self._read_at >= self._refresh_s:
            return True
        return bool(self._views) and bool(wanting(self._views, event_name))

    async def wanting(self, session: AsyncSession, event_name: str) -> list[str]:
        """The ids of the active subscriptions that want an event of this name."""
        now = self._clock()
        if self._read_at is None or now - self._read_at >= self._refresh_s:
            rows = await session.execute(
                select(WebhookSubscription.id, WebhookSubscription.events).where(
                    WebhookSubscription.active.is_(True)
                )
            )
            self._views = tuple(SubscriptionView(i, tuple(e)) for i, e in rows)
            self._read_at = now
        return wanting(self._views, event_name) if self._views else []
