"""The firing loop: a round of :func:`~sla_watch.firing.service.fire_due` every tick,
straight away again while rounds come back full, with the clocks-running gauge recounted
now and then."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

from complaint_runtime.consumer import is_transient
from complaint_runtime.database import Database
from complaint_runtime.periodic import PeriodicLoop

from sla_watch import metrics
from sla_watch.clocks.settings import ClockSettings
from sla_watch.firing.service import count_running, fire_due


def _count_round(ok: bool) -> None:
    metrics.FIRE_ROUNDS.labels("ok" if ok else "failed").inc()


class FireLoop:
    """Runs :func:`fire_due` every tick, straight away again while rounds come back full."""

    def __init__(
        self,
        *,
        database: Database,
        settings: ClockSettings,
        tick_s: float = 0.5,
        batch: int = 500,
        metrics_refresh_s: float = 15.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ):
        self._database = database
        self._settings = settings
        self._batch = batch
        self._metrics_refresh_s = metrics_refresh_s
        self._clock = clock
        self._counted_at: float | None = None
        # The database down or a replica holding a lock too long: nothing was committed,
        # so the next round sends the same thresholds (late if need be).
        self._loop = PeriodicLoop(
            self._round,
            name="sla firing",
            tick_s=tick_s,
            max_backoff_s=10.0,
            on_outcome=_count_round,
            is_expected=is_transient,
        )

    def stop(self) -> None:
        self._loop.stop()

    async def run(self) -> None:
        await self._loop.run()

    async def _round(self) -> bool:
        handled = await fire_due(
            database=self._database,
            settings=self._settings,
            now=self._clock(),
            batch=self._batch,
        )
        loop_time = time.monotonic()
        if self._counted_at is None or loop_time - self._counted_at >= self._metrics_refresh_s:
            await count_running(database=self._database)
            self._counted_at = loop_time
        return handled >= self._batch
